import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ascii, concat, connack, disconnect, hex, publish, puback, suback, subscribe, unsuback, unsubscribe } from "../helpers/mqtt-packets";
import { rig } from "../helpers/mqtt-client-rig";

describe("incoming PUBLISH", () => {
	it("reaches the app with topic, payload, QoS, retain and DUP, and QoS 1 is acknowledged as soon as its handler returns", () => {
		const order: string[] = [];
		const { clock, seen, connect, client } = rig();
		const connection = connect();
		const before = connection.writes.length;
		client.onMessage = (message) => {
			seen.messages.push({ ...message, payload: message.payload.slice() });
			order.push(`handler (${connection.writes.length - before} writes so far)`);
		};
		connection.send(
			publish({ topic: "cfg/a", payload: "on", qos: 1, retain: true, dup: true, id: 7 }),
			publish({ topic: "t/b", payload: hex("00 01"), qos: 0 }),
		);
		clock.advance(0);
		assert.deepEqual(seen.messages, [
			{ topic: "cfg/a", payload: ascii("on"), qos: 1, retain: true, dup: true },
			{ topic: "t/b", payload: hex("00 01"), qos: 0, retain: false, dup: false },
		]);
		assert.deepEqual(order, ["handler (0 writes so far)", "handler (1 writes so far)"]);
		connection.expect(puback(7));
		assert.equal(client.counters.received, 2);
	});

	it("hands over payloads the app may keep, even when a packet arrived in pieces", () => {
		const { clock, seen, connect, client } = rig();
		const kept: Uint8Array[] = [];
		client.onMessage = (message) => kept.push(message.payload);
		const connection = connect();
		const packet = publish({ topic: "t", payload: "first" });
		connection.send(packet.subarray(0, 4));
		clock.advance(0);
		connection.send(packet.subarray(4), publish({ topic: "t", payload: "other" }).subarray(0, 5));
		clock.advance(0);
		connection.send(publish({ topic: "t", payload: "other" }).subarray(5));
		clock.advance(0);
		assert.deepEqual(kept.map((p) => String.fromCharCode(...p)), ["first", "other"]);
		assert.equal(seen.errors.length, 0);
	});

	it("reads a burst from the socket in pieces of at most 512 bytes, delivering every message whole and in order", () => {
		const { clock, seen, connect } = rig();
		const connection = connect();
		const payloads = Array.from({ length: 12 }, (_, i) => String(i).repeat(100 + 37 * i));
		const burst = concat(...payloads.map((payload, i) => publish({ topic: "t/b", payload, qos: 1, id: i + 1 })));
		const before = connection.reads.length;
		connection.send(burst);
		clock.advance(0);
		assert.deepEqual(seen.messages.map((m) => m.payload), payloads.map(ascii));
		const reads = connection.reads.slice(before);
		assert.deepEqual(reads, [...Array(Math.floor(burst.length / 512)).fill(512), burst.length % 512]);
	});

	it("catches a throwing handler, logs and counts it, still acknowledges, and keeps going", () => {
		const { clock, seen, connect, client } = rig();
		client.onMessage = () => {
			throw new Error("app bug");
		};
		const connection = connect();
		connection.send(publish({ topic: "t", payload: "x", qos: 1, id: 3 }), publish({ topic: "t", payload: "y", qos: 1, id: 4 }));
		clock.advance(0);
		connection.expect(puback(3), puback(4));
		assert.equal(client.counters.handlerErrors, 2);
		assert.equal(client.connected, true);
		assert.ok(seen.logs.some((line) => line.startsWith("error:") && line.includes("app bug")));
	});

	it("lets the handler publish and subscribe (re-entrancy)", () => {
		const { clock, connect, client } = rig();
		const connection = connect();
		client.onMessage = ({ topic, payload }) => {
			client.publish(`echo/${topic}`, payload, { qos: 1 });
			client.subscribe("more/#", { qos: 1 });
		};
		connection.send(publish({ topic: "in", payload: "hi", qos: 1, id: 9 }));
		clock.advance(0);
		// What the handler queued goes out after its PUBACK, subscriptions ahead of the outbox as always.
		connection.expect(
			puback(9),
			subscribe(2, "more/#", 1),
			publish({ topic: "echo/in", payload: "hi", qos: 1, id: 1 }),
		);
	});

	it("lets the handler close the client; the rest of the chunk is not processed", () => {
		const { clock, seen, connect, client } = rig();
		const connection = connect();
		client.onMessage = () => client.close();
		connection.send(concat(publish({ topic: "a", payload: "1" }), publish({ topic: "b", payload: "2" })));
		clock.advance(0);
		connection.expect(disconnect());
		assert.equal(connection.closed, true);
		assert.equal(client.counters.received, 1);
		assert.deepEqual(seen.disconnects, ["closed"]);
	});
});

describe("oversize incoming PUBLISH", () => {
	it("skips the body without closing, acknowledges it at QoS 1 and reports topic and size", () => {
		const { clock, seen, connect, client } = rig({ client: { maxPacket: 64 } });
		const connection = connect();
		const big = publish({ topic: "cfg/node-1", payload: new Uint8Array(500).fill(0x7b), qos: 1, retain: true, id: 12 });
		for (let i = 0; i < big.length; i += 100) {
			connection.send(big.subarray(i, i + 100));
			clock.advance(0);
		}
		connection.send(publish({ topic: "cfg/next", payload: "ok" }));
		clock.advance(0);
		assert.deepEqual(seen.oversize, [{ topic: "cfg/node-1", qos: 1, retain: true, dup: false, length: big.length }]);
		assert.deepEqual(seen.messages.map((m) => m.topic), ["cfg/next"]);
		connection.expect(puback(12));
		assert.equal(client.connected, true);
		assert.equal(client.counters.oversize, 1);
		assert.ok(seen.logs.some((line) => line.includes("skipped")));
	});

	it("closes the connection for any other packet over maxPacket", () => {
		const { clock, seen, connect } = rig({ client: { maxPacket: 16 } });
		const connection = connect();
		connection.send(suback(1, ...new Array<number>(20).fill(0)));
		clock.advance(0);
		assert.equal(connection.closed, true);
		assert.equal(seen.errors[0]?.code, "protocol");
		assert.match(seen.errors[0].message, /too large/);
	});
});

describe("protocol violations close the connection with a logged reason and reconnect", () => {
	const cases: [string, Uint8Array, RegExp][] = [
		["a QoS 2 PUBLISH (we never subscribe above QoS 1)", publish({ topic: "t", payload: "x", qos: 2, id: 1 }), /QoS 2/],
		["a remaining length over 4 bytes", hex("30 ff ff ff ff 01"), /4 bytes/],
		["an unknown packet type", hex("f0 00"), /unexpected packet type/],
		["a CONNECT sent to the client", hex("10 0d 00 04 4d 51 54 54 04 02 00 3c 00 01 61"), /unexpected packet type/],
		["a PINGREQ sent to the client", hex("c0 00"), /unexpected packet type/],
		["wrong reserved header flags", hex("41 02 00 01"), /reserved header flags/],
		["a truncated PUBLISH topic", hex("30 03 00 09 61"), /malformed/],
		["invalid UTF-8 in a topic", hex("30 04 00 02 c3 28"), /UTF-8/],
		["a second CONNACK", connack(0), /unexpected packet type 2/],
		["a PUBREL (QoS 2 flow)", hex("62 02 00 01"), /unexpected packet type 6/],
	];
	for (const [name, bytes, message] of cases) {
		it(`on ${name}`, () => {
			const { clock, net, seen, connect } = rig();
			const connection = connect();
			connection.send(bytes);
			clock.advance(0);
			assert.equal(connection.closed, true);
			assert.equal(seen.errors[0]?.code, "protocol");
			assert.match(seen.errors[0].message, message);
			assert.deepEqual(seen.disconnects, ["protocol"]);
			assert.ok(seen.logs.some((line) => line.startsWith("error: mqtt: protocol")));
			clock.advance(750);
			assert.equal(net.connections.length, 2);
		});
	}

	it("on anything but CONNACK as the first packet", () => {
		const { clock, seen, open } = rig();
		const connection = open();
		connection.send(puback(1));
		clock.advance(0);
		assert.equal(connection.closed, true);
		assert.match(seen.errors[0]?.message ?? "", /before CONNACK/);
	});
});

describe("subscriptions", () => {
	it("sends one SUBSCRIBE per filter and reports each SUBACK result, failures (0x80) included", () => {
		const { clock, seen, connect, client } = rig();
		const connection = connect();
		client.subscribe(["a/#", "b/+/c"], { qos: 1 });
		connection.expect(subscribe(1, "a/#", 1), subscribe(2, "b/+/c", 1));
		connection.send(suback(1, 1), suback(2, 0x80));
		clock.advance(0);
		assert.deepEqual(seen.subscribes, [{ filter: "a/#", qos: 1 }, { filter: "b/+/c", qos: 0x80 }]);
		assert.ok(seen.logs.some((line) => line.includes('"b/+/c" refused')));
	});

	it("checks filters at the call", () => {
		const { client } = rig();
		assert.throws(() => client.subscribe("a/#/b"), /# must be the last/);
		assert.throws(() => client.subscribe("a#"), /# must be the last/);
		assert.throws(() => client.subscribe("a/b+"), /\+ must fill/);
		assert.throws(() => client.subscribe(""), /empty/);
		assert.throws(() => client.subscribe(["ok", "bad+"]), /\+ must fill/);
		assert.throws(() => client.subscribe("a", { qos: 2 as 1 }), /qos/);
		client.subscribe(["#", "+", "+/+/#", "a/+/b"]);
	});

	it("restores remembered subscriptions after a reconnect without a session, but not refused ones or when the session is present", () => {
		const { clock, net, connect, client } = rig();
		const first = connect();
		client.subscribe("a/#", { qos: 1 });
		client.subscribe("refused");
		first.take();
		first.send(suback(1, 1), suback(2, 0x80));
		first.drop();
		clock.advance(750);
		const second = net.last;
		second.take();
		second.send(connack(0, true));
		clock.advance(0);
		second.expect();
		second.drop();
		clock.advance(1250);
		const third = net.last;
		third.take();
		third.send(connack(0, false));
		clock.advance(0);
		third.expect(subscribe(3, "a/#", 1));
	});

	it("sends subscriptions made while offline once connected, and re-sends one whose SUBACK was lost", () => {
		const { clock, net, client, open } = rig();
		client.subscribe("x", { qos: 1 });
		const first = open();
		first.send(connack(0, true));
		clock.advance(0);
		first.expect(subscribe(1, "x", 1));
		first.drop();
		clock.advance(750);
		const second = net.last;
		second.take();
		second.send(connack(0, true));
		clock.advance(0);
		second.expect(subscribe(2, "x", 1));
	});

	it("unsubscribes, stops restoring the filter, re-sends an UNSUBSCRIBE lost with the connection, and reports the UNSUBACK", () => {
		const { clock, net, connect, client } = rig();
		const unsubscribed: { filter: string }[] = [];
		client.onUnsubscribe = (result) => unsubscribed.push(result);
		const first = connect();
		client.subscribe("a");
		first.send(suback(1, 0));
		clock.advance(0);
		client.unsubscribe("a");
		first.expect(subscribe(1, "a", 0), unsubscribe(2, "a"));
		first.drop();
		clock.advance(750);
		const second = net.last;
		second.take();
		second.send(connack(0, true));
		clock.advance(0);
		second.expect(unsubscribe(3, "a"));
		second.send(unsuback(3));
		clock.advance(0);
		assert.deepEqual(unsubscribed, [{ filter: "a" }], "UNSUBACK is reported");
		second.drop();
		clock.advance(1250);
		const third = net.last;
		third.take();
		third.send(connack(0, false));
		clock.advance(0);
		third.expect();
	});

	it("bounds the number of remembered filters", () => {
		const { client } = rig({ client: { maxSubscriptions: 2 } });
		client.subscribe(["a", "b"]);
		client.subscribe("a", { qos: 1 });
		assert.throws(() => client.subscribe("c"), /more than 2 subscriptions/);
	});
});
