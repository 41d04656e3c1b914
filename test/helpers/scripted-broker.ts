/*
 * A scripted broker for byte-exact client tests: an in-memory TCP `io` class (src/io.ts's Tcp) and a
 * Resolver, both driven by a VirtualClock. Every callback reaches the client through a 0 ms timer, never
 * from inside the call that caused it, as on the device; `clock.advance(0)` delivers what is pending.
 *
 * A test plays the broker: it reads what the client wrote (each `write` call recorded as one packet),
 * asserts it byte for byte, and answers with `send`. The socket keeps the device's rules: the first
 * onWritable announces the connection, a write larger than the announced space throws, and space comes
 * back (onWritable) only when the test releases it, by default at once.
 */
import assert from "node:assert/strict";
import type { Resolver, Tcp, TcpConstructor, TcpOptions } from "../../src/io";
import type { VirtualClock } from "../../hosts/node/virtual-clock";
import { decodeFromClient } from "../../src/mqtt/codec/decode";
import { FrameReader, FRAME } from "../../src/mqtt/codec/frame-reader";
import { CONNECT, PINGREQ, PUBLISH, SUBSCRIBE, UNSUBSCRIBE } from "../../src/mqtt/codec/packets";
import type { ClientPacket, PublishPacket } from "../../src/mqtt/codec/packets";
import { connack, pingresp, puback, suback, toHex, unsuback } from "./mqtt-packets";

export interface ScriptedOptions {
	/** Send-buffer space announced on connect and restored after writes (default 5744, ESP32's). */
	sendBuffer?: number;
	/** When false, space used by writes comes back only through `release()` (default true). */
	autoDrain?: boolean;
}

/** What happens to the next connection attempts. */
export type ConnectBehaviour = "accept" | "refuse" | "silent";

export class ScriptedConnection {
	/** Everything the client wrote, one entry per write call. */
	readonly writes: Uint8Array[] = [];
	/** The size of each read the client made. */
	readonly reads: number[] = [];
	/** Set when the client closed the socket. */
	closed = false;
	/** Set when the broker side dropped the connection. */
	dropped = false;
	/** Virtual time (clock.now) at which the client opened this socket. */
	readonly openedAt: number;
	#read = 0;
	#pending: Uint8Array[] = [];
	#writable = 0;

	constructor(
		readonly address: string,
		readonly port: number,
		readonly options: TcpOptions,
		readonly socket: Tcp,
		private readonly network: ScriptedNetwork,
	) {
		this.openedAt = network.clock.now;
	}

	/**
	 * Packets written since the last call, as hex strings, after the timer turn due now: the client
	 * writes what the app queued from a 0 ms timer of its own.
	 */
	take(): string[] {
		this.network.clock.advance(0);
		const out = this.writes.slice(this.#read).map(toHex);
		this.#read = this.writes.length;
		return out;
	}

	/** Asserts the client wrote exactly these packets (hex) since the last take/expect. */
	expect(...packets: (Uint8Array | string)[]): void {
		assert.deepEqual(this.take(), packets.map((p) => typeof p === "string" ? p : toHex(p)));
	}

	/** Bytes from the broker, delivered through onReadable on the next timer turn. */
	send(...chunks: Uint8Array[]): void {
		for (const chunk of chunks) this.#pending.push(chunk.slice());
		this.network.later(() => {
			if (this.closed || this.dropped || !this.#pending.length) return;
			this.options.onReadable?.call(this.socket, this.#pending.reduce((n, c) => n + c.length, 0));
		});
	}

	/** The broker side closes or the link resets: onError on the next timer turn. */
	drop(): void {
		this.network.later(() => {
			if (this.closed || this.dropped) return;
			this.dropped = true;
			this.options.onError?.call(this.socket);
		});
	}

	/** Announces `bytes` of send-buffer space (replacing what was left). */
	release(bytes = this.network.sendBuffer): void {
		this.network.later(() => {
			if (this.closed || this.dropped) return;
			this.#writable = bytes;
			this.options.onWritable?.call(this.socket, bytes);
		});
	}

	get writable(): number {
		return this.#writable;
	}

	/** @internal the socket's side */
	connect(): void {
		this.#writable = this.network.sendBuffer;
		this.options.onWritable?.call(this.socket, this.#writable);
	}

	/** @internal */
	readPending(byteLength?: number): ArrayBuffer | undefined {
		if (!this.#pending.length) return undefined;
		const total = this.#pending.reduce((n, c) => n + c.length, 0);
		// As the device's socket: asking for more than is waiting is an error.
		if (byteLength !== undefined && !(byteLength > 0 && byteLength <= total)) throw new RangeError("invalid");
		const all = new Uint8Array(total);
		let offset = 0;
		for (const chunk of this.#pending) {
			all.set(chunk, offset);
			offset += chunk.length;
		}
		const length = byteLength ?? total;
		this.reads.push(length);
		this.#pending = length < total ? [all.slice(length)] : [];
		return all.slice(0, length).buffer;
	}

	/** @internal */
	write(data: Uint8Array): void {
		if (this.closed) throw new Error("closed");
		if (this.dropped) throw new Error("not connected");
		if (data.length > this.#writable) throw new Error(`write of ${data.length} bytes exceeds the ${this.#writable} writable`);
		this.#writable -= data.length;
		this.writes.push(data.slice());
		if (this.network.autoDrain) this.release();
	}
}

export class ScriptedNetwork {
	readonly connections: ScriptedConnection[] = [];
	/** Behaviour of each next connection attempt; "accept" once the list is empty. */
	readonly behaviours: ConnectBehaviour[] = [];
	/** While set, every new connection is refused (a broker that is down). */
	down = false;
	/** Host names that fail to resolve. */
	readonly unresolvable = new Set<string>();
	readonly sendBuffer: number;
	autoDrain: boolean;
	/** Names resolved, in order. */
	readonly resolved: string[] = [];
	readonly io: TcpConstructor;
	readonly dns: Resolver;

	constructor(readonly clock: VirtualClock, options: ScriptedOptions = {}) {
		this.sendBuffer = options.sendBuffer ?? 5744;
		this.autoDrain = options.autoDrain ?? true;
		const network = this;
		this.io = class ScriptedTcp implements Tcp {
			readonly #connection: ScriptedConnection;
			constructor(options: TcpOptions) {
				this.#connection = new ScriptedConnection(options.address, options.port, options, this, network);
				network.connections.push(this.#connection);
				const behaviour = network.down ? "refuse" : network.behaviours.shift() ?? "accept";
				if (behaviour === "accept") network.later(() => this.#connection.closed || this.#connection.connect());
				else if (behaviour === "refuse") this.#connection.drop();
			}
			read(byteLength?: number): ArrayBuffer | undefined {
				if (this.#connection.closed) throw new Error("closed");
				return this.#connection.readPending(byteLength);
			}
			write(data: Uint8Array): void {
				this.#connection.write(data);
			}
			close(): void {
				this.#connection.closed = true;
			}
		};
		this.dns = {
			resolve: ({ host, onResolved, onError }) => {
				network.resolved.push(host);
				network.later(() => network.unresolvable.has(host) ? onError(host) : onResolved(host, "192.0.2.1"));
			},
		};
	}

	/** The newest connection. */
	get last(): ScriptedConnection {
		const last = this.connections.at(-1);
		assert.ok(last, "no connection was opened");
		return last;
	}

	/** @internal runs `callback` on the next timer turn. */
	later(callback: () => void): void {
		this.clock.set(callback, 0);
	}
}

/**
 * A broker that answers by itself: CONNACK (session present after the first), PUBACK, SUBACK (granting what
 * was asked), UNSUBACK, PINGRESP. Call `serve()` after moving the clock; it reads what each open connection
 * wrote since the last call. Every PUBLISH it receives is recorded, duplicates included.
 */
export class AutoBroker {
	/** Every PUBLISH received, in arrival order (payloads copied). */
	readonly received: PublishPacket[] = [];
	/** When set, PUBLISHes are recorded but not acknowledged (a broker about to crash). */
	withholdAcks = false;
	readonly #seen = new Map<ScriptedConnection, number>();
	#sessions = 0;

	constructor(readonly network: ScriptedNetwork) {}

	serve(): void {
		for (const connection of this.network.connections) {
			if (connection.closed || connection.dropped) continue;
			const from = this.#seen.get(connection) ?? 0;
			this.#seen.set(connection, connection.writes.length);
			for (const write of connection.writes.slice(from)) this.#answer(connection, this.#decode(write));
		}
	}

	#decode(frame: Uint8Array): ClientPacket {
		const reader = new FrameReader(1 << 16);
		reader.push(frame);
		assert.equal(reader.next(), FRAME);
		assert.equal(reader.end, frame.length, "one packet per write");
		const packet = decodeFromClient(reader.header, reader.bytes, reader.start, reader.end);
		assert.ok(typeof packet !== "number", `client sent an invalid packet: ${toHex(frame)}`);
		return packet;
	}

	#answer(connection: ScriptedConnection, packet: ClientPacket): void {
		switch (packet.type) {
			case CONNECT:
				connection.send(connack(0, this.#sessions++ > 0));
				return;
			case PUBLISH:
				this.received.push({ ...packet, payload: packet.payload.slice() });
				if (packet.qos && !this.withholdAcks) connection.send(puback(packet.id));
				return;
			case SUBSCRIBE:
				connection.send(suback(packet.id, ...packet.qos));
				return;
			case UNSUBSCRIBE:
				connection.send(unsuback(packet.id));
				return;
			case PINGREQ:
				connection.send(pingresp());
				return;
			default:
				return;
		}
	}
}
