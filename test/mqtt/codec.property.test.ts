/*
 * Property-based tests of the codec and the receive path. Seeded for reproducible CI runs; set FC_SEED
 * to explore other seeds.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { decodeFromBroker, decodeFromClient } from "../../src/mqtt/codec/decode";
import { encode } from "../../src/mqtt/codec/encode";
import { FrameReader, NEED_MORE } from "../../src/mqtt/codec/frame-reader";
import {
	CONNACK, CONNECT, DISCONNECT, PINGREQ, PINGRESP, PUBACK, PUBCOMP, PUBLISH, PUBREC, PUBREL, SUBACK, SUBSCRIBE,
	UNSUBACK, UNSUBSCRIBE,
} from "../../src/mqtt/codec/packets";
import type { BrokerPacket, ClientPacket, Packet, QoS } from "../../src/mqtt/codec/packets";
import { Session } from "../../src/mqtt/session";
import type { SessionHost } from "../../src/mqtt/session";
import { concat, connack, decodeStream, publish } from "../helpers/mqtt-packets";

const seed = Number(process.env.FC_SEED ?? 20240611);

/** Any MQTT string: well-formed UTF-16 (so it has a UTF-8 form), no U+0000. */
const text = fc.string({ unit: "binary", maxLength: 12 }).filter((s) => !s.includes("\u0000"));
const nonEmpty = text.filter((s) => s.length > 0);
const topicName = nonEmpty.filter((s) => !s.includes("+") && !s.includes("#"));
const id = fc.integer({ min: 1, max: 0xffff });
const qos = fc.constantFrom<QoS>(0, 1, 2);
const bytes = fc.uint8Array({ maxLength: 40 });

const publishPacket = fc.record({ topic: topicName, payload: bytes, qos, retain: fc.boolean(), dup: fc.boolean(), id })
	.map(({ topic, payload, qos, retain, dup, id }) => ({
		type: PUBLISH, topic, payload, qos, retain, dup: qos ? dup : false, id: qos ? id : 0,
	}) as const);

function ack<T extends number>(type: T) {
	return id.map((id) => ({ type, id }));
}

const brokerPacket: fc.Arbitrary<BrokerPacket> = fc.oneof(
	fc.record({ sessionPresent: fc.boolean(), returnCode: fc.integer({ min: 0, max: 5 }) })
		.map(({ sessionPresent, returnCode }) => ({ type: CONNACK, sessionPresent: returnCode ? false : sessionPresent, returnCode }) as const),
	publishPacket,
	ack(PUBACK), ack(PUBREC), ack(PUBREL), ack(PUBCOMP), ack(UNSUBACK),
	fc.record({ id, codes: fc.array(fc.constantFrom(0, 1, 2, 0x80), { minLength: 1, maxLength: 5 }) })
		.map(({ id, codes }) => ({ type: SUBACK, id, codes }) as const),
	fc.constant({ type: PINGRESP } as const),
);

const clientPacket: fc.Arbitrary<ClientPacket> = fc.oneof(
	fc.record({
		clientId: text, clean: fc.boolean(), keepalive: fc.integer({ min: 0, max: 0xffff }),
		will: fc.option(fc.record({ topic: topicName, payload: bytes, qos, retain: fc.boolean() }), { nil: undefined }),
		username: fc.option(text, { nil: undefined }),
		password: fc.option(bytes, { nil: undefined }),
	}).map(({ clientId, clean, keepalive, will, username, password }) => {
		const packet: Packet = { type: CONNECT, clientId, clean, keepalive };
		if (will) packet.will = { ...will };
		if (username !== undefined) {
			packet.username = username;
			if (password) packet.password = password;
		}
		return packet;
	}),
	publishPacket,
	ack(PUBACK), ack(PUBREC), ack(PUBREL), ack(PUBCOMP),
	fc.record({ id, subscriptions: fc.array(fc.tuple(nonEmpty, qos), { minLength: 1, maxLength: 4 }) })
		.map(({ id, subscriptions }) => ({ type: SUBSCRIBE, id, filters: subscriptions.map((s) => s[0]), qos: subscriptions.map((s) => s[1]) }) as const),
	fc.record({ id, filters: fc.array(nonEmpty, { minLength: 1, maxLength: 4 }) })
		.map(({ id, filters }) => ({ type: UNSUBSCRIBE, id, filters }) as const),
	fc.constant({ type: PINGREQ } as const),
	fc.constant({ type: DISCONNECT } as const),
);

function encoded(packet: Packet): Uint8Array {
	const out = encode(packet);
	assert.ok(out instanceof Uint8Array, `encodes ${JSON.stringify(packet)}`);
	return out;
}

/** Cuts `stream` at the given (unsorted, possibly repeated) offsets. */
function cut(stream: Uint8Array, offsets: number[]): Uint8Array[] {
	const points = [0, ...offsets.map((o) => o % (stream.length + 1)).sort((a, b) => a - b), stream.length];
	const chunks: Uint8Array[] = [];
	for (let i = 1; i < points.length; i++) chunks.push(stream.subarray(points[i - 1], points[i]));
	return chunks;
}

describe("codec properties", () => {
	it("round-trips every packet a broker sends", () => {
		fc.assert(fc.property(brokerPacket, (packet) => {
			assert.deepEqual(decodeStream([encoded(packet)], "broker"), [packet]);
		}), { seed, numRuns: 3000 });
	});

	it("round-trips every packet a client sends", () => {
		fc.assert(fc.property(clientPacket, (packet) => {
			assert.deepEqual(decodeStream([encoded(packet)], "client"), [packet]);
		}), { seed, numRuns: 3000 });
	});

	it("decodes a stream of packets the same however it is split", () => {
		fc.assert(fc.property(fc.array(brokerPacket, { minLength: 1, maxLength: 8 }), fc.array(fc.nat(), { maxLength: 12 }), (packets, offsets) => {
			const stream = concat(...packets.map(encoded));
			assert.deepEqual(decodeStream(cut(stream, offsets), "broker"), packets);
		}), { seed, numRuns: 2000 });
	});
});

/** Feeds `chunks` to a reader and both decoders; any exception fails the test. Returns how many frames came out. */
function survive(reader: FrameReader, chunks: Uint8Array[], maxPacket: number): number {
	let frames = 0;
	reader.reset();
	for (const chunk of chunks) {
		reader.push(chunk);
		for (let result = reader.next(); result !== NEED_MORE; result = reader.next()) {
			if (result < 0) return frames;
			decodeFromBroker(reader.header, reader.bytes, reader.start, reader.end);
			decodeFromClient(reader.header, reader.bytes, reader.start, reader.end);
			frames++;
			assert.ok(reader.buffered <= maxPacket);
		}
		assert.ok(reader.buffered <= maxPacket);
	}
	return frames;
}

/** What a broker sends a connected client in normal operation. */
const trafficPacket: fc.Arbitrary<BrokerPacket> = fc.oneof(
	publishPacket.filter((p) => p.qos < 2), publishPacket.filter((p) => p.qos < 2), ack(PUBACK), ack(UNSUBACK),
	fc.record({ id, code: fc.constantFrom(0, 1, 0x80) }).map(({ id, code }): BrokerPacket => ({ type: SUBACK, id, codes: [code] })),
	fc.constant({ type: PINGRESP } as const),
);

/** Valid traffic with random damage: flipped bits, overwritten, inserted and deleted bytes, truncation. */
const mutated = (packet: fc.Arbitrary<BrokerPacket>) => fc.record({
	packets: fc.array(packet, { minLength: 1, maxLength: 4 }),
	edits: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 4 }), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }),
	splits: fc.array(fc.nat(), { maxLength: 4 }),
}).map(({ packets, edits, splits }) => {
	const stream = Array.from(concat(...packets.map(encoded)));
	for (const [at, kind, value] of edits) {
		const i = at % (stream.length + 1);
		if (kind === 0) stream[i] ^= 1 << (value & 7);
		else if (kind === 1) stream[i] = value;
		else if (kind === 2) stream.splice(i, 0, value);
		else if (kind === 3) stream.splice(i, 1);
		else stream.length = i;
	}
	return cut(Uint8Array.from(stream.filter((b) => b !== undefined)), splits);
});

const random = fc.array(fc.uint8Array({ maxLength: 48 }), { minLength: 1, maxLength: 3 });

describe("hostile input", () => {
	const MAX = 64;

	it("never makes the frame reader or the decoders throw or hold more than maxPacket (100 000 inputs)", () => {
		const reader = new FrameReader(MAX);
		let frames = 0;
		fc.assert(fc.property(random, (chunks) => {
			frames += survive(reader, chunks, MAX);
		}), { seed, numRuns: 50_000 });
		fc.assert(fc.property(mutated(brokerPacket), (chunks) => {
			frames += survive(reader, chunks, MAX);
		}), { seed, numRuns: 50_000 });
		assert.ok(frames > 10_000, `only ${frames} frames decoded: the inputs are too rarely well-framed to exercise the decoders`);
	});

	it("never makes a connected session throw, and keeps its queues within their bounds (100 000 inputs)", () => {
		let now = 0;
		let last = "";
		const host: SessionHost = { open() {}, close() {}, write() {} };
		const session = new Session({ clientId: "fuzz", clean: false, keepalive: 30, maxPacket: MAX, backoff: { min: 1, max: 1 }, log: (_l, m) => { last = m; } }, host, {});
		// The owner's part: hand each message to an app that publishes from its handler, to churn the outbox under hostile input.
		const bytes = (chunk: Uint8Array) => {
			session.onBytes(chunk, now);
			for (let inbound = session.inbound; inbound; inbound = session.inbound) {
				if ("topic" in inbound && inbound.topic.length % 3 === 0) session.publish("echo", "x", 1, false, now);
				session.delivered(now);
			}
		};
		session.start(now);
		// Each input gets a fresh connection, as after a reconnect, so inputs do not spill into each other.
		const connect = () => {
			now += 10;
			// Reconnecting a live connection only queues its DISCONNECT: the tick writes it and opens again.
			if (session.connected) session.reconnect(now);
			session.tick(now);
			session.onConnected(now);
			session.onWritable(1 << 20, now);
			bytes(connack(0, true));
			assert.equal(session.connected, true, last);
		};
		const feed = (chunks: Uint8Array[]) => {
			connect();
			for (const chunk of chunks) {
				now += 1;
				bytes(chunk);
				if (!session.connected) break;
			}
			assert.ok(session.queued <= 16);
		};
		fc.assert(fc.property(random, feed), { seed, numRuns: 50_000 });
		fc.assert(fc.property(mutated(trafficPacket), feed), { seed, numRuns: 50_000 });
		// Still a working client afterwards.
		connect();
		bytes(publish({ topic: "after", payload: "ok" }));
		assert.equal(session.connected, true);
		assert.ok(session.counters.received > 5000, JSON.stringify(session.counters));
	});
});
