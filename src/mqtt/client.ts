/*
 * The MQTT 3.1.1 client: thin glue between the sans-I/O Session and the host. It owns the socket (an
 * ECMA-419 TCP `io` class), resolves the broker's name through the injected Resolver, keeps ONE timer on
 * the injected Clock at the session's next deadline, and passes every socket event to the session with
 * the current tick. Nothing blocks and nothing spins. The app's handlers run from this client's frames and
 * its writes go out from its timer, so the session's frames are never under the app's (see session.ts).
 *
 *	const client = new MqttClient({ host: "broker.local", id: "node-1", socket: { io: TCP }, dns, clock,
 *		onMessage({ topic, payload }) { ... } });
 *	client.subscribe("config/node-1/#", { qos: 1 });
 *	client.publish("sensors/node-1", "21.5", { qos: 1 });
 */
import { elapsed } from "../io";
import type { Clock, Resolver, SecureOptions, Tcp, TcpConstructor, TimerId } from "../io";
import { encodeUtf8 } from "../utf8";
import type { QoS } from "./codec/packets";
import type { MqttReason } from "./errors";
import { Session } from "./session";
import type { ConnectOptions, SessionHost, SessionOptions } from "./session";
import type { MqttCounters, MqttDrop, MqttEvents, MqttMessage, MqttOversize, MqttSubscribeResult } from "./events";
import type { MqttError } from "./errors";

export type { MqttCounters, MqttDrop, MqttEvents, MqttMessage, MqttOversize, MqttSubscribeResult } from "./events";
export { MqttError } from "./errors";
export type { MqttReason } from "./errors";

export interface MqttWill {
	topic: string;
	payload?: Uint8Array | string;
	qos?: 0 | 1 | 2;
	retain?: boolean;
}

/** Broker and CONNECT settings: what `reconfigure` may change. */
export interface MqttConnectSettings {
	host?: string;
	/** Default 1883. */
	port?: number;
	id?: string;
	/** Default false: a persistent session, so the broker queues QoS 1 messages for us while we are away. */
	clean?: boolean;
	/** Seconds (default 60); 0 turns keepalive off. */
	keepalive?: number;
	/** "" means none (and removes it in reconfigure). */
	user?: string;
	/** Needs a user name (MQTT 3.1.1); empty means none. */
	password?: Uint8Array | string;
	/** Published by the broker if the connection dies without DISCONNECT; `null` removes it in reconfigure. */
	will?: MqttWill | null;
}

/** Connection settings and callbacks, the injected I/O, and the session's bounds and timeouts (see SessionOptions). */
export interface MqttClientOptions extends MqttConnectSettings, MqttEvents, Omit<SessionOptions, keyof ConnectOptions> {
	host: string;
	id: string;
	socket: SocketOptions;
	dns: Resolver;
	clock: Clock;
	/**
	 * Default false: the client starts connecting at once. True: it waits for connect(), so the app can finish
	 * its own start-up first (on a 32 KB heap, a sensor search and the connect's burst of retained messages
	 * should not need room at the same time).
	 */
	manualConnect?: boolean;
}

/** The socket `io` class (TCP or TLS) and, for TLS, how to trust the broker; the client adds `host` for SNI. */
export interface SocketOptions {
	io: TcpConstructor;
	secure?: SecureOptions;
}

export interface PublishOptions {
	qos?: 0 | 1;
	retain?: boolean;
}

/** A socket's failure for the log and `state`: the message and, when the host gives one, its code (CERT_HAS_EXPIRED). */
function describeCause(cause: Error): string {
	const code = (cause as { code?: unknown }).code;
	return typeof code === "string" && !cause.message.includes(code) ? `${cause.message} (${code})` : cause.message;
}

/** A socket the client opened, and the client it belongs to, for its shared callbacks. */
interface ClientSocket extends Tcp {
	mqttClient?: MqttClient;
}

function bytesOf(value: Uint8Array | string): Uint8Array {
	return typeof value === "string" ? encodeUtf8(value) : value;
}

function connectOptions(settings: MqttConnectSettings, previous?: Readonly<ConnectOptions>): ConnectOptions {
	const will = settings.will === undefined ? previous?.will : settings.will === null ? undefined : {
		topic: settings.will.topic,
		payload: settings.will.payload ?? "",
		qos: (settings.will.qos ?? 0) as QoS,
		retain: settings.will.retain ?? false,
	};
	return {
		clientId: settings.id ?? previous?.clientId ?? "",
		clean: settings.clean ?? previous?.clean ?? false,
		keepalive: settings.keepalive ?? previous?.keepalive ?? 60,
		// In reconfigure, undefined keeps the previous value and "" removes it.
		username: settings.user === undefined ? previous?.username : settings.user || undefined,
		password: settings.password === undefined ? previous?.password : settings.password.length ? bytesOf(settings.password) : undefined,
		will,
	};
}

/** The most bytes taken from the socket at once (see read). */
const READ_BYTES = 512;

function checkPort(port: number): number {
	if (!Number.isInteger(port) || port < 1 || port > 65535) throw new RangeError("port must be 1-65535");
	return port;
}

export class MqttClient implements MqttEvents {
	// Declared, not fields: a client given an events object has none of them, rather than nine left undefined.
	declare onConnect?: (info: { sessionPresent: boolean }) => void;
	declare onMessage?: (message: MqttMessage) => void;
	declare onOversize?: (message: MqttOversize) => void;
	declare onSubscribe?: (result: MqttSubscribeResult) => void;
	declare onUnsubscribe?: (result: { filter: string }) => void;
	declare onDisconnect?: (reason: MqttReason) => void;
	declare onError?: (error: MqttError) => void;
	declare onDrop?: (drop: MqttDrop) => void;
	declare onPublished?: (id: number) => void;

	/**
	 * The session's host: a class of the client's own, so it reaches its private methods, with its methods
	 * shared on the prototype rather than three closures per client (about 21 slots, 336 bytes on a board).
	 */
	static readonly #Host = class implements SessionHost {
		readonly #client: MqttClient;

		constructor(client: MqttClient) {
			this.#client = client;
		}

		open(): void {
			this.#client.lookUp();
		}

		close(): void {
			this.#client.closeSocket();
		}

		write(frame: Uint8Array): void {
			this.#client.#socket!.write(frame);
		}
	};

	readonly #session: Session;
	/** What handles the events: the client's own onX properties, or the object given to the constructor. */
	readonly #events: MqttEvents;
	readonly #clock: Clock;
	readonly #dns: Resolver;
	#socketOptions: SocketOptions;
	#host: string;
	#port: number;
	#socket: ClientSocket | undefined;
	/** Identifies the current connection attempt, so that a name resolved for an older one is ignored. */
	#attempt = 0;
	#timer: TimerId | undefined;
	#timerAt = 0;
	/** Bytes the socket holds that the session has not taken: read once it does (backpressure). */
	#unread = 0;

	/**
	 * `events`, when given, handles the events in place of the onX options and properties, its methods called
	 * on it: an app class's handlers are then shared on its prototype, where each option is a closure of its
	 * own (about 7 slots, 112 bytes on a board, each).
	 */
	constructor(options: MqttClientOptions, events: MqttEvents = this) {
		this.#events = events;
		this.#clock = options.clock;
		this.#dns = options.dns;
		this.#socketOptions = options.socket;
		this.#host = options.host;
		this.#port = checkPort(options.port ?? 1883);
		if (events === this) {
			this.onConnect = options.onConnect;
			this.onMessage = options.onMessage;
			this.onOversize = options.onOversize;
			this.onSubscribe = options.onSubscribe;
			this.onUnsubscribe = options.onUnsubscribe;
			this.onDisconnect = options.onDisconnect;
			this.onError = options.onError;
			this.onDrop = options.onDrop;
			this.onPublished = options.onPublished;
		}
		const { inflight, outbox, maxPacket, maxSubscriptions, backoff, stableAfter, connectTimeout, connackTimeout, ackTimeout, random, log } = options;
		this.#session = new Session({
			...connectOptions(options), inflight, outbox, maxPacket, maxSubscriptions, backoff, stableAfter, connectTimeout,
			connackTimeout, ackTimeout, random, log,
		}, new MqttClient.#Host(this), events);
		if (!options.manualConnect) this.connect();
	}

	/** Starts connecting, when the client was made with manualConnect; nothing otherwise, or once started. */
	connect(): void {
		this.#session.start(this.#clock.ticks());
		this.arm();
	}

	/** Whether a CONNACK accepted the current connection. */
	get connected(): boolean {
		return this.#session.connected;
	}

	/** Live counters (read-only for the app). */
	get counters(): Readonly<MqttCounters> {
		return this.#session.counters;
	}

	/** Messages in the outbox, awaiting PUBACK included. */
	get queued(): number {
		return this.#session.queued;
	}

	/**
	 * Queues a message; it goes out on the client's next timer turn, or later when the connection, the
	 * in-flight window and the socket allow, and is kept across reconnects until acknowledged (QoS 1).
	 * Returns the packet identifier (QoS 1), 0 (QoS 0), or -1 when a QoS 0 message was dropped at once
	 * because the outbox is full of QoS 1. Throws a RangeError/TypeError for an invalid topic, QoS or
	 * payload, and after close().
	 */
	publish(topic: string, payload: Uint8Array | string, options: PublishOptions = {}): number {
		try {
			return this.#session.publish(topic, payload, options.qos ?? 0, options.retain ?? false, this.#clock.ticks());
		}
		finally {
			this.arm();
		}
	}

	/**
	 * Whether a QoS 1 message goes into the outbox now without evicting an older one, so that messages an app
	 * can make again later (a state, a retained document) wait for room instead of pushing out what is queued.
	 * Room comes back as PUBACKs arrive (onPublished). An empty outbox always takes a message.
	 */
	fits(topic: string, payload: string): boolean {
		return this.#session.fits(topic, payload);
	}

	/** Subscribes (QoS 0 or 1, default 0); results arrive per filter through onSubscribe. Restored after reconnects. */
	subscribe(filters: string | readonly string[], options: { qos?: 0 | 1 } = {}): void {
		this.#session.subscribe(typeof filters === "string" ? [filters] : filters, options.qos ?? 0, this.#clock.ticks());
		this.arm();
	}

	unsubscribe(filters: string | readonly string[]): void {
		this.#session.unsubscribe(typeof filters === "string" ? [filters] : filters, this.#clock.ticks());
		this.arm();
	}

	/**
	 * Changes broker and CONNECT settings (only those given) and reconnects at once with them, keeping
	 * the outbox and the subscriptions. Throws, changing nothing, when they are invalid.
	 */
	reconfigure(settings: MqttConnectSettings, socket?: SocketOptions): void {
		const connect = connectOptions(settings, this.#session.connectOptions);
		const port = checkPort(settings.port ?? this.#port);
		this.#session.configure(connect);
		this.#socketOptions = socket ?? this.#socketOptions;
		this.#host = settings.host ?? this.#host;
		this.#port = port;
		this.#session.reconnect(this.#clock.ticks());
		this.arm();
	}

	/**
	 * Writes what is queued, then DISCONNECT (so the broker discards the will), and stops for good. What the
	 * socket could not take within connackTimeout goes to onDrop with reason "closed".
	 */
	close(): void {
		this.#session.close(this.#clock.ticks());
		this.arm();
	}

	private lookUp(): void {
		const attempt = ++this.#attempt;
		this.#dns.resolve({
			host: this.#host,
			onResolved: (_host, address) => {
				if (attempt === this.#attempt) this.openSocket(address);
			},
			onError: () => {
				if (attempt !== this.#attempt) return;
				this.#session.onTransportLost(this.#clock.ticks(), "dns");
				this.arm();
			},
		});
	}

	private openSocket(address: string): void {
		try {
			const { io, secure } = this.#socketOptions;
			const socket: ClientSocket = this.#socket = new io({
				address,
				host: this.#host,
				port: this.#port,
				secure,
				nodelay: true,
				onWritable: MqttClient.#onWritable,
				onReadable: MqttClient.#onReadable,
				onError: MqttClient.#onError,
			});
			socket.mqttClient = this;
		}
		catch (error) {
			// A TLS socket that cannot be made (no memory for a handshake, bad trust material) throws here.
			this.#session.onTransportLost(this.#clock.ticks(), "transport", describeCause(error as Error));
		}
		this.arm();
	}

	/*
	 * The socket's callbacks, shared by every connection rather than three closures made for each (about 21
	 * slots). They are called on the socket (ECMA-419, the SDK's tcp.c, and every host and test socket here),
	 * which carries its client; a socket the client has let go of is no longer its #socket, and is ignored.
	 */

	static #onWritable(this: ClientSocket, bytes: number): void {
		const client = this.mqttClient;
		if (!client || client.#socket !== this) return;
		const now = client.#clock.ticks();
		// The first call says the connection is up; the session ignores the later ones.
		client.#session.onConnected(now);
		client.#session.onWritable(bytes, now);
		client.read();
		client.arm();
	}

	static #onReadable(this: ClientSocket, bytes: number): void {
		const client = this.mqttClient;
		if (!client || client.#socket !== this) return;
		client.#unread = bytes;
		client.read();
		client.arm();
	}

	static #onError(this: ClientSocket, cause?: Error): void {
		const client = this.mqttClient;
		if (!client || client.#socket !== this) return;
		client.#session.onTransportLost(client.#clock.ticks(), "transport", cause && describeCause(cause));
		client.arm();
	}

	/**
	 * Hands the app each message, and each accepted connection, the session holds, from this frame, so its
	 * handler (a config document applied, then announced) has nothing of the session's under it; then reads
	 * from the socket if the session takes bytes now (otherwise they stay there and TCP holds the broker
	 * back), and so on. It reads at most READ_BYTES at a time: at a connect, or after an outage, the socket
	 * may hold KBs of queued and retained messages (up to 5,840 bytes on the ESP8266), which one read would
	 * have made into one ArrayBuffer, alive until its last message is handled.
	 */
	private read(): void {
		const session = this.#session;
		for (;;) {
			for (let inbound = session.inbound; inbound; inbound = session.inbound) {
				try {
					const events = this.#events;
					if ("sessionPresent" in inbound) events.onConnect?.(inbound);
					else if ("length" in inbound) events.onOversize?.(inbound);
					else events.onMessage?.(inbound);
				}
				catch (error) {
					session.handlerThrew(error);
				}
				session.delivered(this.#clock.ticks());
			}
			if (!this.#unread || !session.receiving) return;
			const data = this.#socket!.read(Math.min(this.#unread, READ_BYTES));
			if (!data) {
				this.#unread = 0;
				return;
			}
			this.#unread -= data.byteLength;
			session.onBytes(new Uint8Array(data), this.#clock.ticks());
		}
	}

	private closeSocket(): void {
		this.#attempt++;
		this.#unread = 0;
		const socket = this.#socket;
		this.#socket = undefined;
		socket?.close();
	}

	/**
	 * Keeps one timer at or before the session's next deadline. A timer already due no later than the
	 * deadline is left alone (firing early only costs a tick() with nothing to do), so the many small
	 * deadline moves that traffic causes do not re-arm it.
	 */
	private arm(): void {
		const deadline = this.#session.nextDeadline();
		if (deadline === undefined) {
			this.#clock.clear(this.#timer);
			this.#timer = undefined;
			return;
		}
		if (this.#timer && elapsed(this.#timerAt, deadline) >= 0) return;
		this.#clock.clear(this.#timer);
		this.#timerAt = deadline;
		this.#timer = this.#clock.set(this.#fire, Math.max(0, elapsed(this.#clock.ticks(), deadline)));
	}

	// Made once: the timer is re-armed for most messages, and a closure each time is garbage on a 32 KB heap.
	readonly #fire = (): void => {
		this.#timer = undefined;
		this.#session.tick(this.#clock.ticks());
		this.arm();
	};
}
