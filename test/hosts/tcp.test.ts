import assert from "node:assert/strict";
import net from "node:net";
import { after, before, describe, test } from "node:test";
import { makeTcpClass, TCP } from "../../hosts/node/tcp";
import type { Tcp, TcpOptions } from "../../src/io";

/** A local server that hands each accepted socket to the test. */
function listen(): Promise<{ port: number; next: () => Promise<net.Socket>; close: () => Promise<void> }> {
	const waiting: ((socket: net.Socket) => void)[] = [];
	const accepted: net.Socket[] = [];
	const server = net.createServer((socket) => {
		const take = waiting.shift();
		if (take) take(socket);
		else accepted.push(socket);
	});
	return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve({
		port: (server.address() as net.AddressInfo).port,
		next: () => new Promise((take) => {
			const socket = accepted.shift();
			if (socket) take(socket);
			else waiting.push(take);
		}),
		close: () => new Promise((done) => server.close(() => done())),
	})));
}

/** Collects a socket's callbacks as events the test can await. */
function connect(port: number, Class = TCP, extra: Partial<TcpOptions> = {}) {
	const events: { type: string; bytes?: number; self?: unknown }[] = [];
	const waiters: { type: string; resolve: () => void }[] = [];
	const record = (type: string, self: unknown, bytes?: number) => {
		events.push({ type, bytes, self });
		for (const waiter of waiters.filter((w) => w.type === type)) {
			waiters.splice(waiters.indexOf(waiter), 1);
			waiter.resolve();
		}
	};
	const socket: Tcp = new Class({
		address: "127.0.0.1",
		port,
		onReadable(bytes) { record("readable", this, bytes); },
		onWritable(bytes) { record("writable", this, bytes); },
		onError() { record("error", this); },
		...extra,
	});
	const when = (type: string) => events.some((e) => e.type === type)
		? Promise.resolve()
		: new Promise<void>((resolve) => waiters.push({ type, resolve }));
	const count = (type: string) => events.filter((e) => e.type === type).length;
	return { socket, events, when, count };
}

describe("the Node TCP stand-in", () => {
	let server: Awaited<ReturnType<typeof listen>>;
	before(async () => (server = await listen()));
	after(() => server.close());

	test("announces the connection with onWritable and the whole send buffer, with this set to the socket", async () => {
		const client = connect(server.port);
		await client.when("writable");
		const first = client.events[0];
		assert.equal(first.type, "writable");
		assert.equal(first.bytes, 5744);
		assert.equal(first.self, client.socket);
		client.socket.close();
		(await server.next()).destroy();
	});

	test("refuses a write larger than the announced space and accepts one that fits", async () => {
		const client = connect(server.port, makeTcpClass({ sendBuffer: 100 }));
		await client.when("writable");
		assert.throws(() => client.socket.write(new Uint8Array(101)), /exceeds/);
		client.socket.write(new Uint8Array(60));
		assert.throws(() => client.socket.write(new Uint8Array(41)), /exceeds the 40 writable/);
		client.socket.write(new Uint8Array(40));
		const peer = await server.next();
		let received = 0;
		await new Promise<void>((resolve) => peer.on("data", (chunk) => {
			received += chunk.length;
			if (received === 100) resolve();
		}));
		client.socket.close();
		peer.destroy();
	});

	test("gives the space back through onWritable once the bytes have left", async () => {
		const client = connect(server.port, makeTcpClass({ sendBuffer: 100 }));
		await client.when("writable");
		client.socket.write(new Uint8Array(100));
		const before = client.count("writable");
		await new Promise<void>((resolve) => {
			const check = () => (client.count("writable") > before ? resolve() : setImmediate(check));
			check();
		});
		assert.equal(client.events.at(-1)!.bytes, 100);
		client.socket.write(new Uint8Array(100));
		client.socket.close();
		(await server.next()).destroy();
	});

	test("delivers received bytes through onReadable and read()", async () => {
		const client = connect(server.port);
		await client.when("writable");
		const peer = await server.next();
		peer.write(Buffer.from("hello"));
		await client.when("readable");
		assert.equal(client.events.find((e) => e.type === "readable")!.bytes, 5);
		assert.deepEqual(new Uint8Array(client.socket.read()!), new Uint8Array(Buffer.from("hello")));
		assert.equal(client.socket.read(), undefined);
		client.socket.close();
		peer.destroy();
	});

	test("reads a given number of bytes across what arrived, and refuses more than is waiting, as the SDK does", async () => {
		const client = connect(server.port);
		await client.when("writable");
		const peer = await server.next();
		peer.write(Buffer.from("hel"));
		await client.when("readable");
		peer.write(Buffer.from("lo!"));
		await new Promise<void>((resolve) => {
			const wait = () => client.events.at(-1)!.bytes === 6 ? resolve() : setImmediate(wait);
			wait();
		});
		assert.throws(() => client.socket.read(7), /invalid/);
		assert.equal(Buffer.from(client.socket.read(4)!).toString(), "hell");
		assert.equal(Buffer.from(client.socket.read(2)!).toString(), "o!");
		assert.equal(client.socket.read(1), undefined);
		client.socket.close();
		peer.destroy();
	});

	test("stops reading when its receive buffer is full, and resumes once the firmware reads", async () => {
		const client = connect(server.port, makeTcpClass({ receiveBuffer: 1000 }));
		await client.when("writable");
		const peer = await server.next();
		const total = 200_000;
		peer.write(Buffer.alloc(total, 7));
		await client.when("readable");
		// Let the event loop run dry: a paused socket must not keep buffering what the peer sends.
		await new Promise((resolve) => setTimeout(resolve, 50));
		const last = client.events.filter((e) => e.type === "readable").at(-1)!.bytes!;
		assert.ok(last < total, `buffered ${last} of ${total} bytes without reading`);
		let received = 0;
		await new Promise<void>((resolve) => {
			const drain = () => {
				received += client.socket.read()?.byteLength ?? 0;
				if (received === total) resolve();
				else setImmediate(drain);
			};
			drain();
		});
		client.socket.close();
		peer.destroy();
	});

	test("delivers what was written before close(), as lwIP's tcp_close does", async () => {
		const client = connect(server.port);
		await client.when("writable");
		const peer = await server.next();
		client.socket.write(Uint8Array.of(1, 2));
		client.socket.write(Uint8Array.of(3));
		client.socket.close();
		const received: number[] = [];
		await new Promise<void>((resolve) => {
			peer.on("data", (chunk) => received.push(...chunk));
			peer.on("end", resolve);
		});
		assert.deepEqual(received, [1, 2, 3]);
		peer.destroy();
	});

	test("reports a clean remote close through onError, once", async () => {
		const client = connect(server.port);
		await client.when("writable");
		(await server.next()).end();
		await client.when("error");
		await new Promise((resolve) => setImmediate(resolve));
		assert.equal(client.count("error"), 1);
		assert.throws(() => client.socket.write(new Uint8Array(1)), /not connected/);
		client.socket.close();
	});

	test("reports a refused connection through onError", async () => {
		const refused = await listen();
		await refused.close();
		const client = connect(refused.port);
		await client.when("error");
		assert.equal(client.count("writable"), 0);
		client.socket.close();
	});

	test("takes an IP address only, like the device", () => {
		assert.throws(() => new TCP({ address: "localhost", port: 1883 }), /invalid address/);
		assert.throws(() => new TCP({ address: "127.0.0.1", port: 0 }), /invalid port/);
	});

	test("calls nothing after close, which may be called twice, and refuses use after close", async () => {
		const client = connect(server.port);
		await client.when("writable");
		const peer = await server.next();
		client.socket.close();
		client.socket.close();
		peer.end(Buffer.from("late"));
		await new Promise((resolve) => peer.on("close", resolve));
		assert.equal(client.count("readable"), 0);
		assert.equal(client.count("error"), 0);
		assert.throws(() => client.socket.read(), /closed/);
		assert.throws(() => client.socket.write(new Uint8Array(1)), /closed/);
	});
});
