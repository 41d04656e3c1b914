/*
 * The MQTT 3.1.1 client session, sans I/O: no socket, no timer, no DNS. The owner (client.ts) feeds it
 * what happened, with the current tick, and carries out what it asks through `SessionHost`: open or close
 * the transport, write one packet. Time is only ever compared with `elapsed()`, so ticks may wrap.
 *
 * State transitions (every "-> WAITING" closes the transport, requeues unacknowledged QoS 1 with DUP set
 * and waits a backoff delay before opening again):
 *
 *   state          input                                   next           action
 *   IDLE           start / reconnect                       CONNECTING     host.open()
 *   WAITING        backoff deadline / reconnect            CONNECTING     host.open()
 *   CONNECTING     onConnected                             AWAIT_CONNACK  write CONNECT
 *   CONNECTING     connectTimeout / transport lost         WAITING
 *   AWAIT_CONNACK  CONNACK accepted                        ACTIVE         re-send outbox, (re)subscribe, onConnect
 *   AWAIT_CONNACK  CONNACK refused (1-5)                   WAITING        onError(named refusal)
 *   AWAIT_CONNACK  connackTimeout / lost / any other bytes WAITING
 *   ACTIVE         keepalive / ack probe unanswered        WAITING        onDisconnect
 *   ACTIVE         protocol error / lost                   WAITING        onDisconnect
 *   ACTIVE         close()                                 CLOSING        write owed PUBACKs, outbox, DISCONNECT
 *   CLOSING        DISCONNECT written / timeout / lost     IDLE           onDisconnect("closed")
 *   ACTIVE         reconnect() (reconfigure)               SWITCHING      write owed PUBACKs, then DISCONNECT
 *   SWITCHING      DISCONNECT written / timeout / lost     CONNECTING     host.close(), host.open(), onDisconnect("reconfigure")
 *   other          close()                                 IDLE
 *   other          reconnect() (reconfigure)               CONNECTING     host.close(), host.open()
 *
 * Neither CLOSING nor SWITCHING leaves the connection while a message handler runs or a PUBACK is owed:
 * a message that made the app reconnect (new broker settings, a restart) is acknowledged first, so the
 * broker never sends it again. Both stop taking frames from the socket: what the app has not seen is
 * not acknowledged, and the broker keeps it for the next connection.
 *
 * Calls from the app only queue: publish, subscribe, unsubscribe, and reconnect or close of a live
 * connection set `nextDeadline` to now, and the owner's next `tick`, from a timer turn of its own, writes;
 * so does what incoming frames make due (PUBACKs aside, written as each handler returns).
 * Incoming messages go the other way round: the session stops at each PUBLISH, and at CONNACK, and holds
 * it as `inbound`; the owner hands it to the app from its own frame, then calls `delivered`. So no app call stack (a
 * config document applied inside a message handler, a sensor found) also holds the session's frames or
 * the socket's write: on the ESP8266 that depth is what sizes the XS stack.
 *
 * Backpressure: each PUBACK is written as soon as its handler returns. When the socket has no room, it
 * waits in a ring of MAX_OWED_ACKS; with the ring full the session stops taking frames (`receiving`
 * turns false and the owner stops reading the socket), so TCP flow control holds the broker back until
 * onWritable makes room. A burst of any size costs time, never the connection.
 *
 * Link liveness, with k the keepalive: a PINGREQ goes out when nothing was sent for k [MQTT-3.1.2-23] and
 * when nothing was received for k/2; nothing received for k means the link is dead. A PUBACK overdue by
 * ackTimeout (with nothing else received meanwhile) sends a PINGREQ as a probe; no answer within
 * ackTimeout means the link is dead. QoS 1 is never re-sent on a live link, only after a reconnect.
 */
import { elapsed } from "../io";
import type { Log } from "../io";
import { readUtf8, utf8Length } from "../utf8";
import { decodeFromBroker } from "./codec/decode";
import { encode, encodeAck, encodePublish, publishLength } from "./codec/encode";
import { FrameReader, NEED_MORE, OVERSIZE } from "./codec/frame-reader";
import {
	CONNACK, CONNECT, DISCONNECT, PINGREQ, PINGRESP, PUBACK, PUBLISH, SUBACK, SUBACK_FAILURE, UNSUBACK,
	codecErrorText,
} from "./codec/packets";
import type { BrokerPacket, PublishPacket, QoS, Will } from "./codec/packets";
import { Backoff } from "./backoff";
import type { BackoffOptions } from "./backoff";
import { MqttError, REFUSALS } from "./errors";
import type { MqttReason } from "./errors";
import type { MqttCounters, MqttDrop, MqttEvents, MqttMessage, MqttOversize } from "./events";
import { Outbox, REFUSED } from "./outbox";
import type { OutboxOptions, OutboxOwner } from "./outbox";
import { Subscriptions } from "./subscriptions";
import type { SubscriptionsOwner } from "./subscriptions";
import { checkTopicName } from "./topic";

const IDLE = 0;
const WAITING = 1;
const CONNECTING = 2;
const AWAIT_CONNACK = 3;
const ACTIVE = 4;
const CLOSING = 5;

const SWITCHING = 6;

/** PUBACKs that may wait for socket space; at the bound, reading stops until onWritable (see above). */
const MAX_OWED_ACKS = 32;

/** What the session asks of its owner. `close` and `write` must not call back into the session. */
export interface SessionHost {
	/** Resolve the broker and open a socket; report with onConnected/onWritable or onTransportLost (even from inside this call). */
	open(): void;
	/** Close the socket, if any; no more reports from it. */
	close(): void;
	/** Write one whole packet; the session never exceeds the budget from the last onWritable. */
	write(frame: Uint8Array): void;
}

/** What goes into CONNECT; changeable between connections. */
export interface ConnectOptions {
	clientId: string;
	clean: boolean;
	/** Seconds, 0-65535; 0 turns keepalive (and dead-link detection without traffic) off. */
	keepalive: number;
	username?: string;
	password?: Uint8Array;
	will?: Will;
}

export interface SessionOptions extends ConnectOptions {
	/** Most QoS 1 messages awaiting PUBACK at once (default 8). */
	inflight?: number;
	outbox?: OutboxOptions;
	/** Largest incoming packet accepted whole, in bytes (default 2048). */
	maxPacket?: number;
	/** Most subscription filters remembered, pending unsubscribes included (default 16). */
	maxSubscriptions?: number;
	backoff?: BackoffOptions;
	/** ms a connection must stay up before the backoff starts again from its minimum (default 60 000). */
	stableAfter?: number;
	/** ms for name resolution and TCP connect (default 10 000). */
	connectTimeout?: number;
	/** ms from TCP connect to CONNACK (default 10 000); also how long close() waits to write DISCONNECT. */
	connackTimeout?: number;
	/** ms a PUBACK may be overdue before the link is probed, and the probe's own timeout (default 10 000). */
	ackTimeout?: number;
	/** Uniform [0, 1) source for the backoff jitter (default Math.random). */
	random?: () => number;
	log?: Log;
}

/** What the owner hands to the app: a message, the head of one over maxPacket (`length`), or an accepted connection (`sessionPresent`). */
export type Inbound = MqttMessage | MqttOversize | { sessionPresent: boolean };

function positive(value: number | undefined, fallback: number, name: string): number {
	const result = value ?? fallback;
	if (!(result > 0) || !Number.isFinite(result)) throw new RangeError(`${name} must be a positive number`);
	return result;
}

export class Session {
	readonly counters: MqttCounters = {
		sent: 0, resent: 0, acked: 0, dropped: 0, received: 0, oversize: 0, reconnects: 0, handlerErrors: 0, unknownAcks: 0,
	};

	readonly #host: SessionHost;
	readonly #events: MqttEvents;
	readonly #log: Log | undefined;
	readonly #reader: FrameReader;
	readonly #outbox: Outbox;
	readonly #backoff: Backoff;
	readonly #window: number;
	readonly #stableAfter: number;
	readonly #connectTimeout: number;
	readonly #connackTimeout: number;
	readonly #ackTimeout: number;
	readonly #subscriptions: Subscriptions;
	/** PUBACKs owed, as a ring of packet identifiers. */
	readonly #owed = new Uint16Array(MAX_OWED_ACKS);
	readonly #scratch = new Uint8Array(4);
	readonly #drops: MqttDrop[] = [];
	#connect: ConnectOptions;

	#state = IDLE;
	/** Made and neither started nor closed yet: IDLE, but publish queues for the first connection. */
	#unstarted = true;
	/** Bumped whenever the transport is torn down, so a loop that called out can tell it must stop. */
	#generation = 0;
	#now = 0;
	/** Tick the current state's timeout counts from: opening, TCP up, close() called, or the backoff deadline. */
	#since = 0;
	#connectedAt = 0;
	#everConnected = false;
	#budget = 0;
	/** The most socket space announced on this connection: the socket's whole send buffer. */
	#capacity = 0;
	#connectFrame: Uint8Array | undefined;
	#owedHead = 0;
	#owedCount = 0;
	#lastSent = 0;
	#lastReceived = 0;
	#pingDue = false;
	#pingPending = false;
	#pingSentAt = 0;
	#probing = false;
	#nextId = 0;
	#dropReason: MqttDrop["reason"] = "full";
	#flushing = false;
	/** The reader holds frames not yet handled: the owner must not push more. */
	#holding = false;
	/** `inbound` is with the app: the connection must outlive its handler, to acknowledge. */
	#delivering = false;
	#inbound: Inbound | undefined;
	/** The packet identifier `inbound` is acknowledged with; 0 for QoS 0. */
	#inboundId = 0;
	/** Something was queued or made due: the next tick pumps (see above). */
	#owesPump = false;
	/**
	 * What the outbox and the subscriptions call back into: a class of the session's own, so it reaches its
	 * private methods, with its methods shared on the prototype. Closures would be three per session, about
	 * 21 slots (336 bytes on a 32-bit board); made per pump, garbage on a 32 KB heap.
	 */
	static readonly #Owner = class implements OutboxOwner, SubscriptionsOwner {
		readonly #session: Session;

		constructor(session: Session) {
			this.#session = session;
		}

		evicted(offset: number): void {
			// A tail call: one frame less under a publish that evicts.
			return this.#session.evicted(offset);
		}

		allocateId(): number {
			return this.#session.allocateId();
		}

		send(frame: Uint8Array): boolean {
			return this.#session.send(frame);
		}
	};

	readonly #owner = new Session.#Owner(this);

	constructor(options: SessionOptions, host: SessionHost, events: MqttEvents) {
		this.#host = host;
		this.#events = events;
		this.#log = options.log;
		this.#connect = Session.#checkConnect(options);
		this.#reader = new FrameReader(positive(options.maxPacket, 2048, "maxPacket"));
		this.#outbox = new Outbox(options.outbox ?? {}, this.#owner);
		this.#backoff = new Backoff(options.backoff, options.random);
		this.#window = positive(options.inflight, 8, "inflight");
		this.#subscriptions = new Subscriptions(positive(options.maxSubscriptions, 16, "maxSubscriptions"));
		this.#stableAfter = positive(options.stableAfter, 60_000, "stableAfter");
		this.#connectTimeout = positive(options.connectTimeout, 10_000, "connectTimeout");
		this.#connackTimeout = positive(options.connackTimeout, 10_000, "connackTimeout");
		this.#ackTimeout = positive(options.ackTimeout, 10_000, "ackTimeout");
	}

	static #checkConnect(options: ConnectOptions): ConnectOptions {
		const { clientId, keepalive, username, password, will } = options;
		if (typeof clientId !== "string") throw new TypeError("client id must be a string");
		const idLength = utf8Length(clientId);
		if (idLength < 0 || idLength > 0xffff || clientId.includes("\u0000")) throw new RangeError("invalid client id");
		if (!clientId && !options.clean) throw new RangeError("an empty client id needs clean: true"); // [MQTT-3.1.3-7]
		if (!Number.isInteger(keepalive) || keepalive < 0 || keepalive > 0xffff) throw new RangeError("keepalive must be 0-65535 seconds");
		if (username !== undefined && (utf8Length(username) < 0 || utf8Length(username) > 0xffff)) throw new RangeError("invalid user name");
		if (password !== undefined && (username === undefined || password.length > 0xffff)) throw new RangeError("a password needs a user name, and at most 65535 bytes"); // [MQTT-3.1.2-22]
		if (will) {
			checkTopicName(will.topic);
			// QoS 2 asks nothing of the client: the broker alone publishes the will.
			if (will.qos !== 0 && will.qos !== 1 && will.qos !== 2) throw new RangeError("will qos must be 0, 1 or 2");
			const payloadLength = typeof will.payload === "string" ? utf8Length(will.payload) : will.payload.length;
			if (payloadLength < 0 || payloadLength > 0xffff) throw new RangeError("will payload over 65535 bytes, or a string without a UTF-8 form");
		}
		return { clientId, clean: options.clean, keepalive, username, password, will };
	}

	/** Whether a CONNACK accepted the current connection. */
	get connected(): boolean {
		return this.#state === ACTIVE;
	}

	/** Whether the session takes bytes now; while false the owner leaves them in the socket (backpressure). */
	get receiving(): boolean {
		return this.#state >= AWAIT_CONNACK && !this.#holding;
	}

	/** Messages waiting in the outbox, in flight included. */
	get queued(): number {
		return this.#outbox.count;
	}

	/** Starts connecting. */
	start(now: number): void {
		this.#now = now;
		this.#unstarted = false;
		if (this.#state === IDLE) this.open();
	}

	/** The CONNECT settings in force (the client's reconfigure starts from them). */
	get connectOptions(): Readonly<ConnectOptions> {
		return this.#connect;
	}

	/** New CONNECT settings, used from the next connection on. Throws (and changes nothing) when they are invalid. */
	configure(options: ConnectOptions): void {
		this.#connect = Session.#checkConnect(options);
	}

	/**
	 * Drops the current connection or attempt and connects again, keeping the outbox: at once, or for a
	 * live connection as soon as the PUBACKs owed are written (at most connackTimeout later).
	 */
	reconnect(now: number): void {
		this.#now = now;
		const state = this.#state;
		if (state === IDLE || state === CLOSING || state === SWITCHING) return;
		// New settings deserve a prompt first attempt, not the delay the old ones had built up.
		this.#backoff.reset();
		if (state === ACTIVE) {
			this.#state = SWITCHING;
			this.#since = now;
			this.#owesPump = true;
			return;
		}
		this.teardown();
		this.open();
	}

	/**
	 * Graceful close: writes what is queued (as far as the socket allows within connackTimeout), then
	 * DISCONNECT (so the broker discards the will), then IDLE for good. Messages not handed over before a
	 * DISCONNECT are dropped and reported.
	 */
	close(now: number): void {
		this.#now = now;
		this.#unstarted = false;
		if (this.#state === IDLE || this.#state === CLOSING) return;
		if (this.#state === ACTIVE || this.#state === SWITCHING) {
			this.#state = CLOSING;
			this.#since = now;
			this.#owesPump = true;
			return;
		}
		this.teardown();
		this.finish(false);
	}

	onConnected(now: number): void {
		this.#now = now;
		if (this.#state !== CONNECTING) return;
		const { clientId, clean, keepalive, username, password, will } = this.#connect;
		this.#state = AWAIT_CONNACK;
		this.#since = now;
		this.#connectFrame = encode({ type: CONNECT, clientId, clean, keepalive, username, password, will }) as Uint8Array;
	}

	onWritable(bytes: number, now: number): void {
		this.#now = now;
		this.#budget = bytes;
		if (bytes > this.#capacity) this.#capacity = bytes;
		this.pump();
		if (this.#holding && this.#owedCount < MAX_OWED_ACKS) this.processInbound();
	}

	/** `cause`, when the socket gave one (a refused certificate), is what the error and the log say. */
	onTransportLost(now: number, reason: "dns" | "transport" = "transport", cause?: string): void {
		this.#now = now;
		if (this.#state === CLOSING) {
			this.teardown();
			this.finish(true);
		}
		else if (this.#state === SWITCHING) this.switch();
		else if (this.#state >= CONNECTING) this.fail(reason, cause ? `connection lost: ${cause}` : "connection lost");
	}

	onBytes(chunk: Uint8Array, now: number): void {
		this.#now = now;
		if (this.#state < AWAIT_CONNACK) return;
		this.#lastReceived = now;
		this.#pingPending = false;
		this.#probing = false;
		this.#reader.push(chunk);
		this.#holding = true;
		this.processInbound();
	}

	/** Handles the frames the reader holds while PUBACKs can be owed and the connection is not being left. */
	private processInbound(): void {
		const generation = this.#generation;
		const reader = this.#reader;
		while (this.#owedCount < MAX_OWED_ACKS && this.#state <= ACTIVE) {
			const result = reader.next();
			if (result === NEED_MORE) {
				this.#holding = false;
				break;
			}
			if (result < 0) return this.fail("protocol", codecErrorText(result));
			const packet = decodeFromBroker(reader.header, reader.bytes, reader.start, reader.end);
			if (typeof packet === "number") return this.fail("protocol", codecErrorText(packet));
			if (result === OVERSIZE) this.take(packet as PublishPacket, reader.length);
			else this.receive(packet);
			if (this.#inbound || generation !== this.#generation || this.#state < AWAIT_CONNACK) return;
		}
		// What the frames made due (subscriptions after CONNACK, the next messages a PUBACK let into the window,
		// a DISCONNECT once handlers are done) is written on the owner's next tick, not under the socket's read.
		this.#owesPump = true;
	}

	/** Acts on every deadline that has passed. */
	tick(now: number): void {
		this.#now = now;
		if (this.#drops.length) this.flushDrops();
		switch (this.#state) {
			case WAITING:
				if (this.due(this.#since)) this.open();
				return;
			case CONNECTING:
				if (this.due(this.#since + this.#connectTimeout)) this.fail("connect-timeout", "no connection");
				return;
			case AWAIT_CONNACK:
				if (this.due(this.#since + this.#connackTimeout)) this.fail("connack-timeout", "no CONNACK");
				else return this.pump();
				return;
			case CLOSING:
				if (this.due(this.#since + this.#connackTimeout)) {
					this.teardown();
					this.finish(true);
				}
				else return this.pump();
				return;
			case SWITCHING:
				if (this.due(this.#since + this.#connackTimeout)) this.switch();
				else return this.pump();
				return;
			case ACTIVE:
				break;
			default:
				return;
		}
		const k = this.#connect.keepalive * 1000;
		if (k && this.due(this.#lastReceived + k)) return this.fail("keepalive", `nothing received for ${k} ms`);
		if (this.#probing && this.due(this.#pingSentAt + this.#ackTimeout)) return this.fail("ack-timeout", "PUBACK overdue and PINGREQ unanswered");
		if (k && (this.due(this.#lastSent + k) || (!this.#pingPending && this.due(this.#lastReceived + k / 2)))) this.#pingDue = true;
		if (this.#outbox.inflight && !this.#probing && this.due(this.ackDeadline())) {
			this.#probing = true;
			if (!this.#pingPending) {
				this.#pingDue = true;
				this.#pingSentAt = now;
			}
		}
		// A tail call, run in this frame: the frames a pump writes from (subscriptions after CONNACK) sized the XS stack.
		return this.pump();
	}

	/** The earliest tick at which `tick` has something to do, or undefined. */
	nextDeadline(): number | undefined {
		if (this.#drops.length || (this.#owesPump && this.#state >= AWAIT_CONNACK)) return this.#now;
		switch (this.#state) {
			case WAITING: return this.#since;
			case CONNECTING: return this.#since + this.#connectTimeout;
			case AWAIT_CONNACK:
			case CLOSING:
			case SWITCHING: return this.#since + this.#connackTimeout;
			case ACTIVE: break;
			default: return undefined;
		}
		let deadline: number | undefined;
		const k = this.#connect.keepalive * 1000;
		if (k) {
			deadline = this.#lastReceived + k;
			// A ping already due is waiting for socket space (onWritable), not for time: no deadline, no spinning.
			if (!this.#pingDue) {
				deadline = this.earliest(deadline, this.#lastSent + k);
				if (!this.#pingPending) deadline = this.earliest(deadline, this.#lastReceived + k / 2);
			}
		}
		if (this.#probing) deadline = this.earliest(deadline, this.#pingSentAt + this.#ackTimeout);
		else if (this.#outbox.inflight) deadline = this.earliest(deadline, this.ackDeadline());
		return deadline;
	}

	/**
	 * Queues a PUBLISH and writes it when the link, the in-flight window and the socket allow. Returns the
	 * packet identifier (QoS 1), 0 (QoS 0), or -1 when a QoS 0 message was dropped at once because only
	 * QoS 1 messages could have made room. Throws on an invalid topic, QoS or payload, or after close().
	 */
	publish(topic: string, payload: Uint8Array | string, qos: number, retain: boolean, now: number): number {
		this.#now = now;
		const topicLength = checkTopicName(topic);
		if (qos !== 0 && qos !== 1) throw new RangeError("qos must be 0 or 1");
		let payloadLength: number;
		if (typeof payload === "string") {
			payloadLength = utf8Length(payload);
			if (payloadLength < 0) throw new RangeError("payload string is not valid UTF-16");
		}
		else if (payload instanceof Uint8Array) payloadLength = payload.length;
		else throw new TypeError("payload must be a Uint8Array or a string");
		const length = publishLength(topicLength, payloadLength, qos);
		if (length < 0 || length > this.#outbox.bytes.length)
			throw new RangeError(`a ${topicLength + payloadLength} byte message does not fit the ${this.#outbox.bytes.length} byte outbox`);
		if ((this.#state === IDLE && !this.#unstarted) || this.#state === CLOSING) throw new Error("client is closed");
		const id = qos ? this.allocateId() : 0;
		const offset = this.#outbox.append(length, qos, id);
		if (offset === REFUSED) {
			this.counters.dropped++;
			this.#drops.push({ topic, qos, id: 0, reason: "full" });
		}
		else {
			encodePublish(this.#outbox.bytes, offset, topic, topicLength, payload, payloadLength, qos, retain, false, id);
			this.#owesPump = true;
		}
		return offset === REFUSED ? -1 : id;
	}

	/**
	 * Whether a QoS 1 `payload` to `topic` would go into the outbox now without evicting anything. An empty
	 * outbox always takes it (or publish() says why it cannot). Assumes a valid topic and payload.
	 */
	fits(topic: string, payload: string): boolean {
		return this.#outbox.fits(publishLength(utf8Length(topic), utf8Length(payload), 1));
	}

	/** Subscribes to `filters` (checked first; nothing changes if one is invalid); remembered and restored after reconnects. */
	subscribe(filters: readonly string[], qos: number, now: number): void {
		this.#now = now;
		if (qos !== 0 && qos !== 1) throw new RangeError("qos must be 0 or 1");
		this.#subscriptions.subscribe(filters, qos);
		this.#owesPump = true;
	}

	/** Unsubscribes from `filters`, now or as soon as connected. */
	unsubscribe(filters: readonly string[], now: number): void {
		this.#now = now;
		this.#subscriptions.unsubscribe(filters);
		this.#owesPump = true;
	}

	private due(deadline: number): boolean {
		return elapsed(deadline, this.#now) >= 0;
	}

	private earliest(a: number | undefined, b: number): number {
		return a === undefined || elapsed(a, b) < 0 ? b : a;
	}

	/** When the oldest in-flight PUBACK is overdue: ackTimeout after it was sent or after the last bytes received, whichever is later. */
	private ackDeadline(): number {
		const sent = this.#outbox.oldestSentAt;
		return (elapsed(sent, this.#lastReceived) > 0 ? this.#lastReceived : sent) + this.#ackTimeout;
	}

	private open(): void {
		this.#state = CONNECTING;
		this.#since = this.#now;
		// Last: the host may report a synchronous failure, which moves the state on.
		this.#host.open();
	}

	/** Closes the transport and forgets everything that belonged to the connection. */
	private teardown(): void {
		if (this.#state >= CONNECTING) this.#host.close();
		this.#generation++;
		this.#reader.reset();
		this.#outbox.requeue();
		this.#connectFrame = undefined;
		this.#budget = this.#capacity = 0;
		this.#owedCount = 0;
		this.#holding = false;
		this.#pingDue = this.#pingPending = this.#probing = false;
	}

	private fail(reason: MqttReason, message: string, returnCode = 0): void {
		const wasActive = this.#state === ACTIVE;
		if (wasActive && elapsed(this.#connectedAt, this.#now) >= this.#stableAfter) this.#backoff.reset();
		this.teardown();
		this.#state = WAITING;
		const delay = this.#backoff.next();
		this.#since = this.#now + delay;
		this.#log?.(reason === "protocol" ? "error" : "warn", `mqtt: ${reason}: ${message}; reconnecting in ${delay} ms`);
		this.#events.onError?.(new MqttError(reason, message, returnCode));
		if (wasActive && this.#state === WAITING) this.#events.onDisconnect?.(reason);
	}

	/** Leaves the connection for a new one with the settings now configured. */
	private switch(): void {
		this.teardown();
		this.open();
		this.#events.onDisconnect?.("reconfigure");
	}

	/** Ends in IDLE after close(): reports the abandoned outbox. */
	private finish(wasActive: boolean): void {
		this.#state = IDLE;
		this.#dropReason = "closed";
		this.#outbox.clear();
		this.flushDrops();
		if (wasActive) this.#events.onDisconnect?.("closed");
	}

	private receive(packet: BrokerPacket): void {
		if (this.#state === AWAIT_CONNACK) {
			if (packet.type !== CONNACK) return this.fail("protocol", `packet type ${packet.type} before CONNACK`);
			if (packet.returnCode) {
				const reason = REFUSALS[packet.returnCode];
				return this.fail(reason, `connection refused: ${reason}`, packet.returnCode);
			}
			return this.accepted(packet.sessionPresent);
		}
		switch (packet.type) {
			case PUBLISH:
				return this.take(packet, 0);
			case PUBACK:
				if (!this.#outbox.ack(packet.id)) {
					this.counters.unknownAcks++;
					return;
				}
				this.counters.acked++;
				this.#events.onPublished?.(packet.id);
				return;
			case SUBACK:
			case UNSUBACK:
				return this.subscriptionAck(packet.id, packet.type === SUBACK ? packet.codes : undefined);
			case PINGRESP:
				return;
			default:
				// A second CONNACK, or QoS 2 flow packets we never asked for.
				return this.fail("protocol", `unexpected packet type ${packet.type}`);
		}
	}

	private accepted(sessionPresent: boolean): void {
		this.#state = ACTIVE;
		this.#connectedAt = this.#lastReceived = this.#now;
		if (this.#everConnected) this.counters.reconnects++;
		this.#everConnected = true;
		this.#subscriptions.connected(sessionPresent);
		this.#log?.("debug", `mqtt: connected (session present: ${sessionPresent})`);
		// onConnect publishes a burst (into a full outbox after an outage): from the owner's frame, like a message.
		this.#inboundId = 0;
		this.#inbound = { sessionPresent };
	}

	/** Holds an incoming PUBLISH (`oversize`: its length when only its head was kept) as `inbound` for the app. */
	private take(packet: PublishPacket, oversize: number): void {
		if (packet.qos === 2) return this.fail("protocol", "QoS 2 PUBLISH, but nothing was subscribed above QoS 1");
		const { topic, payload, qos, retain, dup } = packet;
		this.#delivering = true;
		this.#inboundId = qos ? packet.id : 0;
		if (oversize) {
			this.counters.oversize++;
			this.#log?.("warn", `mqtt: skipped a ${oversize} byte PUBLISH on "${topic}" (maxPacket is smaller)`);
			this.#inbound = { topic, qos, retain, dup, length: oversize };
		}
		else {
			this.counters.received++;
			// No copy: the payload lies in the chunk read or in the buffer its frame was assembled in, never reused.
			this.#inbound = { topic, payload, qos, retain, dup };
		}
	}

	/** What the owner is to hand to the app now (onConnect, onMessage or onOversize), held until `delivered`. */
	get inbound(): Inbound | undefined {
		return this.#inbound;
	}

	/** The app's handler for `inbound` threw `error`: counted and logged; a message is acknowledged all the same. */
	handlerThrew(error: unknown): void {
		const inbound = this.#inbound!;
		this.counters.handlerErrors++;
		const handler = "sessionPresent" in inbound ? "onConnect" : `${"length" in inbound ? "onOversize" : "onMessage"} for "${inbound.topic}"`;
		this.#log?.("error", `mqtt: ${handler} threw: ${error}`);
	}

	/** The app's handler for `inbound` returned: acknowledges it (on the same connection), then goes on with what the reader holds. */
	delivered(now: number): void {
		this.#now = now;
		this.#inbound = undefined;
		this.#delivering = false;
		// A handler cannot bring a new connection up, so a live state is the same connection.
		if (this.#state < ACTIVE) return;
		if (this.#inboundId) {
			this.#owed[(this.#owedHead + this.#owedCount++) % MAX_OWED_ACKS] = this.#inboundId;
			this.writeAcks();
		}
		this.processInbound();
	}

	/** Writes owed PUBACKs, oldest first, while the socket has room; true when none is left. */
	private writeAcks(): boolean {
		while (this.#owedCount) {
			if (!this.writeFixed(PUBACK << 4, this.#owed[this.#owedHead])) return false;
			this.#owedHead = (this.#owedHead + 1) % MAX_OWED_ACKS;
			this.#owedCount--;
		}
		return true;
	}

	private subscriptionAck(id: number, codes: number[] | undefined): void {
		let result;
		try {
			result = this.#subscriptions.acknowledged(id, codes);
		}
		catch (error) {
			return this.fail("protocol", (error as Error).message);
		}
		if (!result) this.#log?.("debug", `mqtt: ${codes ? "SUBACK" : "UNSUBACK"} for unknown packet identifier ${id}`);
		else if (codes) {
			if (result.code === SUBACK_FAILURE) this.#log?.("warn", `mqtt: subscription to "${result.filter}" refused`);
			this.#events.onSubscribe?.({ filter: result.filter, qos: result.code });
		}
		else this.#events.onUnsubscribe?.({ filter: result.filter });
	}

	private allocateId(): number {
		for (;;) {
			this.#nextId = this.#nextId === 0xffff ? 1 : this.#nextId + 1;
			const id = this.#nextId;
			if (!this.#outbox.holds(id) && !this.#subscriptions.holds(id)) return id;
		}
	}

	/**
	 * Notes what onDrop will report about the PUBLISH the outbox is evicting at `offset` (well-formed: this
	 * session encoded it). Read here, inside the outbox's append, and not in a helper: a publish that evicts
	 * is the deepest call under the app's own stack.
	 */
	private evicted(offset: number): void {
		const bytes = this.#outbox.bytes;
		const qos = ((bytes[offset] >> 1) & 3) as QoS;
		let i = offset + 1;
		while (bytes[i++] & 0x80);
		const topicEnd = i + 2 + ((bytes[i] << 8) | bytes[i + 1]);
		this.counters.dropped++;
		this.#drops.push({
			topic: readUtf8(bytes, i + 2, topicEnd) ?? "",
			qos,
			id: qos ? (bytes[topicEnd] << 8) | bytes[topicEnd + 1] : 0,
			reason: this.#dropReason,
		});
	}

	/**
	 * Reports drops after the call that caused them (from the owner's next tick for a publish, after a write
	 * or close), so onDrop may publish again.
	 */
	private flushDrops(): void {
		if (this.#flushing) return;
		this.#flushing = true;
		const drops = this.#drops;
		while (drops.length) {
			const drop = drops.shift()!;
			this.#log?.("warn", `mqtt: dropped ${drop.reason === "full" ? "at the outbox bound" : "at close"}: QoS ${drop.qos} on "${drop.topic}"`);
			this.#events.onDrop?.(drop);
		}
		this.#flushing = false;
		this.#dropReason = "full";
	}

	/** Writes `frame` if the socket has room for it. */
	private send(frame: Uint8Array): boolean {
		if (frame.length > this.#budget) return false;
		this.#budget -= frame.length;
		this.#lastSent = this.#now;
		this.#host.write(frame);
		return true;
	}

	/** Writes a 2-byte packet, or a 4-byte one with packet identifier `id`, from the scratch buffer. */
	private writeFixed(first: number, id: number): boolean {
		const frame = id ? this.#scratch : this.#scratch.subarray(0, 2);
		if (id) encodeAck(frame, 0, first >> 4, id);
		else {
			frame[0] = first;
			frame[1] = 0;
		}
		return this.send(frame);
	}

	/** Writes what is due, then reports any message that had to go. */
	private pump(): void {
		this.#owesPump = false;
		this.writeDue();
		if (this.#drops.length) this.flushDrops();
	}

	/** Writes everything that is due, in priority order, as far as the socket budget allows. */
	private writeDue(): void {
		const state = this.#state;
		if (state < AWAIT_CONNACK) return;
		if (this.#connectFrame) {
			if (!this.send(this.#connectFrame)) return;
			this.#connectFrame = undefined;
		}
		if (state === AWAIT_CONNACK || !this.writeAcks()) return;
		if (state === SWITCHING) {
			if (!this.#delivering && this.writeFixed(DISCONNECT << 4, 0)) this.switch();
			return;
		}
		if (this.#pingDue) {
			if (!this.writeFixed(PINGREQ << 4, 0)) return;
			this.#pingDue = false;
			this.#pingPending = true;
			this.#pingSentAt = this.#now;
		}
		if (state === ACTIVE && !this.#subscriptions.flush(this.#owner)) return;
		const outbox = this.#outbox;
		for (let i = outbox.next; i >= 0; i = outbox.next) {
			const qos = outbox.qos(i);
			// Closing waits for no more acks, so the window no longer matters: everything queued goes out before DISCONNECT.
			if (qos && outbox.inflight >= this.#window && state === ACTIVE) return;
			const dup = outbox.dup(i);
			const frame = outbox.frame(i);
			if (!this.send(frame)) {
				// Bigger than the socket's whole send buffer (2920 bytes on ESP8266): it can never be written and
				// would hold up everything behind it, so it goes, reported.
				if (frame.length <= this.#capacity || this.#budget < this.#capacity) return;
				this.#dropReason = "too-large";
				outbox.discard(i);
				this.#dropReason = "full";
				continue;
			}
			if (dup) this.counters.resent++;
			else this.counters.sent++;
			outbox.markSent(this.#now);
		}
		if (state === CLOSING && !this.#delivering && this.writeFixed(DISCONNECT << 4, 0)) {
			// Written ahead of DISCONNECT on a working connection, so handed to the broker: not reported as dropped.
			outbox.forgetSent();
			this.teardown();
			this.finish(true);
		}
	}
}
