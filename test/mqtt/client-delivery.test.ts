import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Session } from "../../src/mqtt/session";
import type { SessionHost } from "../../src/mqtt/session";
import { connack, pingreq, pingresp, publish, puback, suback, subscribe, toHex } from "../helpers/mqtt-packets";
import { rig } from "../helpers/mqtt-client-rig";

describe("publishing", () => {
	it("writes a QoS 1 PUBLISH with packet identifier 1 and forgets it once PUBACKed", () => {
		const { clock, client, connect } = rig();
		const published: number[] = [];
		client.onPublished = (id) => published.push(id);
		const connection = connect();
		assert.equal(client.publish("s/t", "21.5", { qos: 1 }), 1);
		connection.expect("32 0b 00 03 73 2f 74 00 01 32 31 2e 35");
		assert.equal(client.queued, 1);
		connection.send(puback(1));
		clock.advance(0);
		assert.equal(client.queued, 0);
		assert.deepEqual(published, [1]);
		assert.equal(client.counters.sent, 1);
		assert.equal(client.counters.acked, 1);
	});

	it("writes QoS 0 and retained messages, with empty payloads allowed", () => {
		const { client, connect } = rig();
		const connection = connect();
		assert.equal(client.publish("a", new Uint8Array(0), { retain: true }), 0);
		connection.expect("31 03 00 01 61");
		assert.equal(client.queued, 0, "QoS 0 leaves the outbox once written");
	});

	it("checks the topic, QoS and payload at the call with a clear error", () => {
		const { client } = rig();
		assert.throws(() => client.publish("", "x"), /must not be empty/);
		assert.throws(() => client.publish("a/+/b", "x"), /wildcards/);
		assert.throws(() => client.publish("a/#", "x"), /wildcards/);
		assert.throws(() => client.publish("a\u0000", "x"), /U\+0000/);
		assert.throws(() => client.publish("\ud800", "x"), /lone surrogate/);
		assert.throws(() => client.publish("x".repeat(65_536), "x"), /more than 65535/);
		assert.throws(() => client.publish("a", "x", { qos: 2 as 1 }), /qos/);
		assert.throws(() => client.publish("a", 42 as unknown as string), /payload/);
		assert.throws(() => client.publish("a", new Uint8Array(5000)), /outbox/);
		assert.equal(client.queued, 0);
	});

	it("queues messages published while offline and sends them in order once connected", () => {
		const { client, open, clock } = rig();
		client.publish("q/0", "a");
		client.publish("q/1", "b", { qos: 1 });
		client.publish("q/0", "c");
		const connection = open();
		connection.send(connack(0));
		clock.advance(0);
		connection.expect(
			publish({ topic: "q/0", payload: "a" }),
			publish({ topic: "q/1", payload: "b", qos: 1, id: 1 }),
			publish({ topic: "q/0", payload: "c" }),
		);
	});

	it("keeps at most `inflight` QoS 1 messages unacknowledged, and QoS 0 behind them waits its turn", () => {
		const { clock, client, connect } = rig({ client: { inflight: 2 } });
		const connection = connect();
		client.publish("t", "1", { qos: 1 });
		client.publish("t", "2", { qos: 1 });
		client.publish("t", "3", { qos: 1 });
		client.publish("t", "4");
		connection.expect(publish({ topic: "t", payload: "1", qos: 1, id: 1 }), publish({ topic: "t", payload: "2", qos: 1, id: 2 }));
		connection.send(puback(2));
		clock.advance(0);
		connection.expect(publish({ topic: "t", payload: "3", qos: 1, id: 3 }), publish({ topic: "t", payload: "4" }));
	});

	it("ignores a PUBACK for an unknown packet identifier", () => {
		const { clock, client, seen, connect } = rig();
		const connection = connect();
		client.publish("t", "x", { qos: 1 });
		connection.take();
		connection.send(puback(99), puback(1), puback(1));
		clock.advance(0);
		assert.equal(client.connected, true);
		assert.equal(client.counters.acked, 1);
		assert.equal(client.counters.unknownAcks, 2);
		assert.deepEqual(seen.errors, []);
	});
});

describe("QoS 1 across reconnects", () => {
	for (const sessionPresent of [true, false]) {
		it(`re-sends every unacknowledged PUBLISH with DUP and its original identifier, first and in order (session present ${sessionPresent})`, () => {
			const { clock, client, net, connect } = rig();
			const first = connect();
			client.publish("t", "1", { qos: 1 });
			client.publish("t", "2", { qos: 1 });
			client.publish("t", "3", { qos: 1 });
			first.expect(
				publish({ topic: "t", payload: "1", qos: 1, id: 1 }),
				publish({ topic: "t", payload: "2", qos: 1, id: 2 }),
				publish({ topic: "t", payload: "3", qos: 1, id: 3 }),
			);
			first.send(puback(2));
			first.drop();
			clock.advance(0);
			client.publish("t", "4", { qos: 1 });
			clock.advance(750);
			const second = net.last;
			assert.notEqual(second, first);
			second.take();
			second.send(connack(0, sessionPresent));
			clock.advance(0);
			second.expect(
				"3a 06 00 01 74 00 01 31", // DUP | QoS 1, id 1
				"3a 06 00 01 74 00 03 33", // DUP | QoS 1, id 3
				publish({ topic: "t", payload: "4", qos: 1, id: 4 }),
			);
			assert.equal(client.counters.resent, 2);
			assert.equal(client.counters.reconnects, 1);
			second.send(puback(1), puback(3), puback(4));
			clock.advance(0);
			assert.equal(client.queued, 0);
		});
	}

	it("keeps nothing from expiring by age: a message queued for hours goes out on the next connection", () => {
		const { clock, client, net } = rig({ client: { backoff: { min: 1000, max: 1000 } } });
		net.behaviours.push(...Array<"refuse">(10_000).fill("refuse"));
		client.publish("t", "old", { qos: 1 });
		clock.advance(3 * 3600_000);
		net.behaviours.length = 0;
		clock.advance(1000);
		const connection = net.last;
		connection.take();
		connection.send(connack(0));
		clock.advance(0);
		connection.expect(publish({ topic: "t", payload: "old", qos: 1, id: 1 }));
	});
});

describe("overdue PUBACK probe", () => {
	it("probes with PINGREQ when a PUBACK is overdue and does not re-send on a healthy link", () => {
		const { clock, client, connect } = rig({ client: { ackTimeout: 2000 } });
		const connection = connect();
		client.publish("t", "x", { qos: 1 });
		connection.take();
		clock.advance(1999);
		connection.expect();
		clock.advance(1);
		connection.expect(pingreq());
		connection.send(pingresp());
		clock.advance(0);
		clock.advance(1999);
		connection.expect();
		clock.advance(1);
		connection.expect(pingreq());
		connection.send(pingresp(), puback(1));
		clock.advance(20_000);
		assert.equal(client.connected, true);
		assert.equal(client.counters.resent, 0);
		assert.equal(client.queued, 0);
	});

	it("closes and reconnects when the probe goes unanswered, then re-sends", () => {
		const { clock, client, net, seen, connect } = rig({ client: { ackTimeout: 2000 } });
		const first = connect();
		client.publish("t", "x", { qos: 1 });
		first.take();
		clock.advance(2000);
		first.expect(pingreq());
		clock.advance(1999);
		assert.equal(first.closed, false);
		clock.advance(1);
		assert.equal(first.closed, true);
		assert.equal(seen.errors[0]?.code, "ack-timeout");
		assert.deepEqual(seen.disconnects, ["ack-timeout"]);
		clock.advance(750);
		const second = net.last;
		second.take();
		second.send(connack(0, true));
		clock.advance(0);
		second.expect("3a 06 00 01 74 00 01 78");
		assert.equal(client.counters.resent, 1);
	});
});

describe("outbox bound", () => {
	it("drops the oldest QoS 0 first, then the oldest QoS 1, refuses QoS 0 when only QoS 1 could make room, and reports each drop", () => {
		const { clock, client, seen, open } = rig({ client: { outbox: { messages: 4, bytes: 4096 } } });
		client.publish("a", "0");
		client.publish("b", "1", { qos: 1 });
		client.publish("c", "0");
		client.publish("d", "1", { qos: 1 });
		assert.deepEqual(seen.drops, []);
		client.publish("e", "1", { qos: 1 });
		client.publish("f", "1", { qos: 1 });
		client.publish("g", "1", { qos: 1 });
		assert.equal(client.publish("h", "0"), -1);
		assert.equal(client.counters.dropped, 4);
		assert.equal(client.queued, 4);
		// Reported from the client's next timer turn (the one that also opens the connection), like everything a publish causes.
		assert.deepEqual(seen.drops, []);
		const connection = open();
		assert.deepEqual(seen.drops, [
			{ topic: "a", qos: 0, id: 0, reason: "full" },
			{ topic: "c", qos: 0, id: 0, reason: "full" },
			{ topic: "b", qos: 1, id: 1, reason: "full" },
			{ topic: "h", qos: 0, id: 0, reason: "full" },
		]);
		connection.send(connack(0));
		clock.advance(0);
		assert.deepEqual(connection.take(), [
			publish({ topic: "d", payload: "1", qos: 1, id: 2 }),
			publish({ topic: "e", payload: "1", qos: 1, id: 3 }),
			publish({ topic: "f", payload: "1", qos: 1, id: 4 }),
			publish({ topic: "g", payload: "1", qos: 1, id: 5 }),
		].map(toHex));
	});

	it("bounds the outbox by bytes as well, compacting as it goes, with order preserved", () => {
		const { clock, client, seen, open } = rig({ client: { outbox: { messages: 100, bytes: 64 } } });
		const payload = "x".repeat(13); // 2 + 2 + 1 topic + 2 id + 13 = 20 bytes per QoS 1 message
		for (let i = 0; i < 5; i++) client.publish(String(i), payload, { qos: 1 });
		assert.equal(client.queued, 3);
		const connection = open();
		assert.deepEqual(seen.drops.map((d) => d.topic), ["0", "1"]);
		connection.send(connack(0));
		clock.advance(0);
		assert.deepEqual(connection.take(), ["2", "3", "4"].map((t, i) => toHex(publish({ topic: t, payload, qos: 1, id: 3 + i }))));
	});

	it("lets onDrop publish again without breaking the outbox", () => {
		const { clock, client, seen } = rig({ client: { outbox: { messages: 2 } } });
		client.onDrop = (drop) => {
			seen.drops.push(drop);
			if (drop.topic !== "dropped") client.publish("dropped", drop.topic);
		};
		client.publish("a", "0");
		client.publish("b", "0");
		client.publish("c", "0");
		clock.advance(0);
		// c evicts a; onDrop's "dropped" evicts b; the next one evicts c, and then the first "dropped".
		assert.deepEqual(seen.drops.map((d) => d.topic), ["a", "b", "c", "dropped"]);
		assert.equal(client.queued, 2);
		assert.equal(client.counters.dropped, 4);
	});
});

describe("socket write budget", () => {
	it("never writes more than onWritable announced, one whole packet per write, resuming on the next onWritable", () => {
		const { clock, client, open } = rig({ network: { sendBuffer: 40, autoDrain: false } });
		const connection = open();
		connection.release(40);
		connection.send(connack(0));
		clock.advance(0);
		const payload = "y".repeat(13); // 20-byte packets
		for (let i = 0; i < 4; i++) client.publish("t", payload, { qos: 1 });
		assert.equal(connection.take().length, 2);
		assert.equal(connection.writable, 0);
		connection.release(30);
		clock.advance(0);
		assert.equal(connection.take().length, 1, "30 bytes fit one 20-byte packet, not two");
		connection.release(40);
		clock.advance(0);
		assert.equal(connection.take().length, 1);
		assert.equal(client.counters.sent, 4);
	});

	it("drops, and reports, a message larger than the socket's whole send buffer instead of stalling behind it", () => {
		const { clock, client, seen, open } = rig({ network: { sendBuffer: 40 } });
		const connection = open();
		client.publish("big", "z".repeat(50), { qos: 1 });
		client.publish("small", "ok", { qos: 1 });
		connection.send(connack(0));
		clock.advance(0);
		connection.expect(publish({ topic: "small", payload: "ok", qos: 1, id: 2 }));
		assert.deepEqual(seen.drops, [{ topic: "big", qos: 1, id: 1, reason: "too-large" }]);
		assert.equal(client.counters.dropped, 1);
	});
});

describe("packet identifiers", () => {
	function session() {
		const writes: Uint8Array[] = [];
		const host: SessionHost = { open() {}, close() {}, write: (frame) => writes.push(frame.slice()) };
		const s = new Session({ clientId: "x", clean: true, keepalive: 0, inflight: 100 }, host, {});
		s.start(0);
		s.onConnected(0);
		s.onWritable(1 << 30, 0);
		s.onBytes(connack(0), 0);
		writes.length = 0;
		return { s, writes };
	}

	it("start at 1 and are shared by PUBLISH and SUBSCRIBE", () => {
		const { s, writes } = session();
		assert.equal(s.publish("t", "", 1, false, 0), 1);
		s.subscribe(["f"], 1, 0);
		// A SUBSCRIBE takes its identifier when written, on the owner's next tick.
		s.tick(0);
		assert.equal(s.publish("t", "", 1, false, 0), 3);
		assert.equal(toHex(writes[0]), toHex(subscribe(2, "f", 1)));
		s.onBytes(suback(2, 1), 0);
	});

	it("wrap from 65535 to 1, never use 0, and skip identifiers still in flight", () => {
		const { s } = session();
		assert.equal(s.publish("t", "", 1, false, 0), 1); // stays in flight
		for (let id = 2; id <= 65_535; id++) {
			assert.equal(s.publish("t", "", 1, false, 0), id);
			s.tick(0);
			s.onBytes(puback(id), 0);
		}
		assert.equal(s.publish("t", "", 1, false, 0), 2, "1 is still in flight");
		s.tick(0);
		s.onBytes(puback(2), 0);
		s.onBytes(puback(1), 0);
		assert.equal(s.publish("t", "", 1, false, 0), 3);
	});
});
