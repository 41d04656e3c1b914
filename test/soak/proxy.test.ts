/*
 * The fault-injecting proxy (sim/network/proxy.ts) byte by byte, between a raw client socket and a raw
 * "broker" socket, with delays on a VirtualClock: each fault does what it says and nothing else.
 */
import assert from "node:assert/strict";
import net from "node:net";
import { after, before, describe, test } from "node:test";
import { RealClock } from "../../hosts/node/clock";
import { VirtualClock } from "../../hosts/node/virtual-clock";
import { FaultyProxy } from "../../sim/network/proxy";
import { freePort } from "../helpers/mosquitto";
import { concat, hex, pingresp, puback, suback } from "../helpers/mqtt-packets";

/** One end of a connection, collecting what it receives; waits end on the event they wait for. */
class End {
	received = Buffer.alloc(0);
	/** The peer closed cleanly (FIN), rather than with a reset. */
	ended = false;
	closed = false;
	readonly #waiters = new Set<() => void>();

	constructor(readonly socket: net.Socket) {
		socket.on("data", (chunk) => {
			this.received = Buffer.concat([this.received, chunk]);
			this.#notify();
		});
		socket.on("end", () => this.ended = true);
		socket.on("error", () => {});
		socket.on("close", () => {
			this.closed = true;
			this.#notify();
		});
	}

	until(done: () => boolean, what: string): Promise<void> {
		return new Promise((resolve, reject) => {
			const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), 5000);
			const check = () => {
				if (!done()) return;
				clearTimeout(timer);
				this.#waiters.delete(check);
				resolve();
			};
			this.#waiters.add(check);
			check();
		});
	}

	bytes(count: number): Promise<void> {
		return this.until(() => this.received.length >= count, `${count} bytes`);
	}

	#notify(): void {
		for (const waiter of [...this.#waiters]) waiter();
	}
}

describe("the fault-injecting proxy", () => {
	let server: net.Server;
	let brokerPort: number;
	const brokers: End[] = [];
	let arrived: (() => void) | undefined;

	before(async () => {
		server = net.createServer((socket) => {
			brokers.push(new End(socket));
			arrived?.();
		});
		await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
		brokerPort = (server.address() as net.AddressInfo).port;
	});
	after(() => new Promise<void>((resolve) => server.close(() => resolve())));

	/** A client connected through `proxy`, and the broker side of its connection. */
	async function connect(proxy: FaultyProxy): Promise<{ client: End; broker: End }> {
		const count = brokers.length;
		const reached = new Promise<void>((resolve) => arrived = () => {
			if (brokers.length > count) resolve();
		});
		const socket = net.connect({ host: proxy.host, port: proxy.port });
		await new Promise((resolve) => socket.once("connect", resolve));
		await reached;
		return { client: new End(socket), broker: brokers.at(-1)! };
	}

	test("forwards both ways unchanged when no fault is set", async () => {
		const proxy = await FaultyProxy.start({ target: { host: "127.0.0.1", port: brokerPort }, clock: new RealClock() });
		const { client, broker } = await connect(proxy);
		client.socket.write(hex("c0 00"));
		await broker.bytes(2);
		broker.socket.write(concat(pingresp(), puback(7)));
		await client.bytes(6);
		assert.deepEqual([...client.received], [...concat(pingresp(), puback(7))]);
		assert.deepEqual([...broker.received], [0xc0, 0x00]);
		await proxy.close();
	});

	test("leaves out PUBACKs while swallowing, and lets them through again after", async () => {
		const proxy = await FaultyProxy.start({ target: { host: "127.0.0.1", port: brokerPort }, clock: new RealClock() });
		const { client, broker } = await connect(proxy);
		proxy.swallowPubacks(true);
		broker.socket.write(concat(puback(1), suback(2, 1), puback(3), pingresp()));
		const kept = concat(suback(2, 1), pingresp());
		await client.bytes(kept.length);
		proxy.swallowPubacks(false);
		broker.socket.write(puback(4));
		await client.bytes(kept.length + 4);
		assert.deepEqual([...client.received], [...concat(kept, puback(4))]);
		assert.equal(proxy.counters.swallowed, 2);
		await proxy.close();
	});

	test("holds bytes during a blackhole, new connections' too, without closing anything, then lets them flow", async () => {
		const proxy = await FaultyProxy.start({ target: { host: "127.0.0.1", port: brokerPort }, clock: new RealClock() });
		const { client, broker } = await connect(proxy);
		proxy.blackhole(true);
		client.socket.write(hex("c0 00"));
		broker.socket.write(pingresp());
		const { client: late, broker: lateBroker } = await connect(proxy);
		late.socket.write(hex("e0 00"));
		await until(() => proxy.held === 6, "all six bytes to reach the proxy");
		assert.equal(client.received.length + broker.received.length + lateBroker.received.length, 0);
		assert.equal(client.closed || broker.closed || late.closed || lateBroker.closed, false);
		proxy.blackhole(false);
		await broker.bytes(2);
		await client.bytes(2);
		await lateBroker.bytes(2);
		assert.deepEqual([...lateBroker.received], [0xe0, 0x00]);
		assert.equal(proxy.held, 0);
		await proxy.close();
	});

	test("delays every chunk by the latency on its clock, keeping the order", async () => {
		const clock = new VirtualClock();
		const proxy = await FaultyProxy.start({ target: { host: "127.0.0.1", port: brokerPort }, clock });
		const { client, broker } = await connect(proxy);
		proxy.delay(500);
		broker.socket.write(puback(1));
		await until(() => proxy.held === 4, "the chunk to wait in the proxy");
		clock.advance(499);
		proxy.delay(0);
		broker.socket.write(puback(2));
		await until(() => proxy.held === 8, "the second chunk to reach the proxy");
		assert.equal(client.received.length, 0, "the second chunk waits behind the first");
		clock.advance(1);
		await client.bytes(8);
		assert.deepEqual([...client.received], [...concat(puback(1), puback(2))]);
		await proxy.close();
	});

	test("passes a clean close on after the bytes ahead of it, even when they are delayed", async () => {
		const clock = new VirtualClock();
		const proxy = await FaultyProxy.start({ target: { host: "127.0.0.1", port: brokerPort }, clock });
		const { client, broker } = await connect(proxy);
		proxy.delay(100);
		client.socket.end(hex("e0 00"));
		await until(() => proxy.held === 2, "the DISCONNECT to wait in the proxy");
		assert.equal(broker.ended, false, "the close waits behind the DISCONNECT");
		clock.advance(100);
		await broker.until(() => broker.ended, "the broker side's clean close");
		assert.deepEqual([...broker.received], [0xe0, 0x00]);
		await until(() => proxy.connections === 0, "the link to go");
		assert.equal(proxy.counters.cut, 0);
		await proxy.close();
	});

	test("cuts connections with a reset and counts them", async () => {
		const proxy = await FaultyProxy.start({ target: { host: "127.0.0.1", port: brokerPort }, clock: new RealClock() });
		const first = await connect(proxy);
		const second = await connect(proxy);
		assert.equal(proxy.drop(1), 2);
		await first.client.until(() => first.client.closed, "the first client's close");
		await second.broker.until(() => second.broker.closed, "the second broker side's close");
		assert.equal(first.client.ended || second.broker.ended, false, "a reset, not a clean close");
		assert.equal(proxy.counters.cut, 2);
		await until(() => proxy.connections === 0, "the links to go");
		await proxy.close();
	});

	test("closes a connection at once when the broker cannot be reached", async () => {
		const proxy = await FaultyProxy.start({ target: { host: "127.0.0.1", port: await freePort() }, clock: new RealClock() });
		const socket = net.connect({ host: proxy.host, port: proxy.port });
		const client = new End(socket);
		await client.until(() => client.closed, "the close");
		await until(() => proxy.counters.refused === 1, "the refusal to be counted");
		await proxy.close();
	});
});

/** Polls state that changes on socket events the test cannot subscribe to; the deadline only fails the test. */
function until(done: () => boolean, what: string): Promise<void> {
	return new Promise((resolve, reject) => {
		const started = Date.now();
		const check = () => {
			if (done()) resolve();
			else if (Date.now() - started > 5000) reject(new Error(`timed out waiting for ${what}`));
			else setImmediate(check);
		};
		check();
	});
}
