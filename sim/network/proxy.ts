/*
 * A fault-injecting TCP proxy between nodes and a broker, for soak tests: connect the nodes to the proxy's
 * port and it forwards to the broker, until told to
 *
 *   drop(fraction)        cut connections at random, with a reset, as a NAT timeout or a radio loss does;
 *   delay(ms)             add latency to every chunk, both ways, order kept;
 *   blackhole(true)       forward nothing either way and close nothing: bytes wait, senders see no error,
 *                         only silence (a dead route); blackhole(false) lets what waited flow on;
 *   swallowPubacks(true)  leave PUBACK packets out of the broker -> node stream (./puback-filter).
 *
 * A connection whose broker side cannot be reached (a broker restarting) is closed at once, as the broker's
 * host would refuse it. A clean close (FIN) is passed on after the bytes ahead of it, so a DISCONNECT arrives
 * and the broker discards the will; a reset is passed on as a reset. Delays run on an injected Clock, so a
 * soak on an accelerated clock delays in simulated time.
 */
import net from "node:net";
import { PubackFilter } from "./puback-filter";
import { elapsed } from "../../src/io";
import type { Clock, TimerId } from "../../src/io";

export interface FaultyProxyOptions {
	target: { host: string; port: number };
	/** Time for delays: a host's real-time clock, or a soak's accelerated one. */
	clock: Clock;
	/** Uniform [0, 1) source that picks the connections drop() cuts (default Math.random). */
	random?: () => number;
}

export interface ProxyCounters {
	/** Connections accepted from nodes. */
	accepted: number;
	/** Connections cut by drop(). */
	cut: number;
	/** Connections closed because the broker could not be reached. */
	refused: number;
	/** PUBACKs left out. */
	swallowed: number;
	/** Connections closed because the broker's stream could not be followed (a packet over the filter's size). */
	broken: number;
}

/** What every link reads from the proxy: the fault settings in force. */
interface Faults {
	readonly clock: Clock;
	readonly latency: number;
	readonly blackholed: boolean;
}

/** One direction of a link: chunks wait here for their due time and for the end of a blackhole. */
class Pipe {
	readonly #faults: Faults;
	readonly #to: net.Socket;
	readonly #queue: { due: number; bytes: Uint8Array }[] = [];
	#timer: TimerId | undefined;
	/** The sender closed its side cleanly: pass that on once everything before it has gone. */
	#finishing = false;
	/** Bytes waiting here. */
	held = 0;

	constructor(faults: Faults, to: net.Socket) {
		this.#faults = faults;
		this.#to = to;
	}

	push(bytes: Uint8Array): void {
		if (!bytes.length) return;
		const { clock, latency, blackholed } = this.#faults;
		if (!latency && !blackholed && !this.#queue.length) {
			this.#to.write(bytes);
			return;
		}
		const now = clock.ticks();
		const last = this.#queue.at(-1)?.due;
		// Never before the chunk ahead of it: a latency that drops must not reorder the stream.
		const due = last !== undefined && elapsed(now + latency, last) > 0 ? last : now + latency;
		this.#queue.push({ due, bytes });
		this.held += bytes.length;
		this.pump();
	}

	/** Writes what is due, and waits for the rest. */
	pump(): void {
		const { clock, blackholed } = this.#faults;
		this.#faults.clock.clear(this.#timer);
		this.#timer = undefined;
		if (blackholed) return;
		const now = clock.ticks();
		while (this.#queue.length && elapsed(this.#queue[0].due, now) >= 0) {
			const { bytes } = this.#queue.shift()!;
			this.held -= bytes.length;
			this.#to.write(bytes);
		}
		if (this.#queue.length) this.#timer = clock.set(() => this.pump(), elapsed(now, this.#queue[0].due));
		else if (this.#finishing) this.#to.end();
	}

	/** The sender closed cleanly (a FIN, after a DISCONNECT perhaps): close the far side the same way, in turn. */
	finish(): void {
		this.#finishing = true;
		this.pump();
	}

	stop(): void {
		this.#faults.clock.clear(this.#timer);
		this.#queue.length = 0;
		this.held = 0;
	}
}

class Link {
	readonly client: net.Socket;
	readonly broker: net.Socket;
	readonly filter = new PubackFilter();
	readonly #up: Pipe;
	readonly #down: Pipe;
	#ended = false;

	constructor(client: net.Socket, target: FaultyProxyOptions["target"], faults: Faults, onEnd: (link: Link, reason: "closed" | "refused" | "broken") => void) {
		this.client = client;
		this.broker = net.connect({ host: target.host, port: target.port, noDelay: true });
		client.setNoDelay(true);
		this.#up = new Pipe(faults, this.broker);
		this.#down = new Pipe(faults, client);
		let connected = false;
		const end = (reason: "closed" | "refused" | "broken") => {
			if (this.#ended) return;
			this.#ended = true;
			this.#up.stop();
			this.#down.stop();
			client.destroy();
			this.broker.destroy();
			onEnd(this, reason);
		};
		this.broker.on("connect", () => connected = true);
		client.on("data", (chunk) => this.#up.push(chunk));
		this.broker.on("data", (chunk) => {
			const bytes = this.filter.filter(chunk);
			if (bytes) this.#down.push(bytes);
			else end("broken");
		});
		client.on("end", () => this.#up.finish());
		this.broker.on("end", () => this.#down.finish());
		// A reset or a refusal ends both sides at once; a clean close ends the link when both sides have closed.
		let closed = 0;
		for (const socket of [client, this.broker]) {
			socket.on("error", () => end(connected || socket === client ? "closed" : "refused"));
			socket.on("close", () => {
				if (!connected && socket === this.broker) end("refused");
				else if (++closed === 2) end("closed");
			});
		}
	}

	/** Both ends reset, as a link that went away. */
	cut(): void {
		this.client.resetAndDestroy();
		this.broker.resetAndDestroy();
	}

	pump(): void {
		this.#up.pump();
		this.#down.pump();
	}

	get held(): number {
		return this.#up.held + this.#down.held;
	}
}

export class FaultyProxy implements Faults {
	readonly host = "127.0.0.1";
	readonly clock: Clock;
	readonly #counters: ProxyCounters = { accepted: 0, cut: 0, refused: 0, swallowed: 0, broken: 0 };
	readonly #server: net.Server;
	readonly #target: FaultyProxyOptions["target"];
	readonly #random: () => number;
	readonly #links = new Set<Link>();
	#latency = 0;
	#blackholed = false;
	#swallow = false;
	#port = 0;

	static async start(options: FaultyProxyOptions): Promise<FaultyProxy> {
		const proxy = new FaultyProxy(options);
		await proxy.#listen();
		return proxy;
	}

	private constructor(options: FaultyProxyOptions) {
		this.clock = options.clock;
		this.#target = options.target;
		this.#random = options.random ?? Math.random;
		this.#server = net.createServer((client) => this.#accept(client));
	}

	get port(): number {
		return this.#port;
	}

	/** Latency in force, ms. */
	get latency(): number {
		return this.#latency;
	}

	get blackholed(): boolean {
		return this.#blackholed;
	}

	get swallowing(): boolean {
		return this.#swallow;
	}

	/** Bytes waiting in the proxy (for a delay or the end of a blackhole), both ways. */
	get held(): number {
		let held = 0;
		for (const link of this.#links) held += link.held;
		return held;
	}

	/** Connections open now. */
	get connections(): number {
		return this.#links.size;
	}

	get counters(): Readonly<ProxyCounters> {
		let swallowed = this.#counters.swallowed;
		for (const link of this.#links) swallowed += link.filter.swallowed;
		return { ...this.#counters, swallowed };
	}

	/** Cuts each open connection with probability `fraction`; returns how many were cut. */
	drop(fraction = 1): number {
		let cut = 0;
		for (const link of [...this.#links]) {
			if (this.#random() >= fraction) continue;
			this.#counters.cut++;
			cut++;
			link.cut();
		}
		return cut;
	}

	/** Latency added to every chunk from now on, in the clock's milliseconds (0: none). */
	delay(ms: number): void {
		this.#latency = Math.max(0, ms);
		for (const link of this.#links) link.pump();
	}

	blackhole(on: boolean): void {
		this.#blackholed = on;
		if (!on) for (const link of this.#links) link.pump();
	}

	swallowPubacks(on: boolean): void {
		this.#swallow = on;
		for (const link of this.#links) link.filter.swallow = on;
	}

	/** Stops listening and closes every connection. */
	close(): Promise<void> {
		for (const link of [...this.#links]) link.cut();
		return new Promise((resolve) => this.#server.close(() => resolve()));
	}

	#listen(): Promise<void> {
		return new Promise((resolve, reject) => {
			this.#server.once("error", reject);
			this.#server.listen(0, this.host, () => {
				this.#port = (this.#server.address() as net.AddressInfo).port;
				resolve();
			});
		});
	}

	#accept(client: net.Socket): void {
		this.#counters.accepted++;
		const link = new Link(client, this.#target, this, (ended, reason) => {
			this.#links.delete(ended);
			this.#counters.swallowed += ended.filter.swallowed;
			if (reason !== "closed") this.#counters[reason]++;
		});
		link.filter.swallow = this.#swallow;
		this.#links.add(link);
	}
}
