import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { decodeFromBroker, decodeFromClient } from "../../src/mqtt/codec/decode";
import { encode, encodeInto, encodedLength, publishLength, varintLength, writeVarint } from "../../src/mqtt/codec/encode";
import { FRAME, FrameReader, NEED_MORE, OVERSIZE } from "../../src/mqtt/codec/frame-reader";
import {
	BAD_FLAGS, BAD_STRING, BUFFER_TOO_SHORT, CONNACK, CONNECT, DISCONNECT, MALFORMED, PACKET_TOO_LARGE, PINGREQ,
	PINGRESP, PUBACK, PUBCOMP, PUBLISH, PUBREC, PUBREL, SUBACK, SUBSCRIBE, UNEXPECTED_TYPE, UNSUBACK, UNSUBSCRIBE,
	VARINT_OVERFLOW, codecErrorText,
} from "../../src/mqtt/codec/packets";
import type { Packet } from "../../src/mqtt/codec/packets";
import { ascii, concat, decodeStream, hex, toHex } from "../helpers/mqtt-packets";

interface Fixture {
	name: string;
	/** Which side receives this packet: "broker" packets are decoded with decodeFromClient, and so on. */
	from: "broker" | "client" | "both";
	packet: Packet;
	bytes: Uint8Array;
}

const FIXTURES: Fixture[] = [
	{
		name: "CONNECT, clean session, no will, no credentials",
		from: "client",
		packet: { type: CONNECT, clientId: "a", clean: true, keepalive: 60 },
		bytes: hex(`
			10 0d           # CONNECT, remaining length 13
			00 04 4d 51 54 54 # protocol name "MQTT"
			04              # protocol level 4 (3.1.1)
			02              # flags: clean session
			00 3c           # keepalive 60 s
			00 01 61        # client id "a"
		`.replace(/#.*$/gm, "")),
	},
	{
		name: "CONNECT with will (QoS 1, retained), user name and password",
		from: "client",
		packet: {
			type: CONNECT, clientId: "c1", clean: false, keepalive: 10,
			will: { topic: "w", payload: hex("01"), qos: 1, retain: true }, username: "u", password: hex("70"),
		},
		bytes: hex(`
			10 1a           # CONNECT, remaining length 26
			00 04 4d 51 54 54 04 # "MQTT" level 4
			ec              # flags: user 80 | password 40 | will retain 20 | will QoS 1 08 | will 04
			00 0a           # keepalive 10 s
			00 02 63 31     # client id "c1"
			00 01 77        # will topic "w"
			00 01 01        # will payload 01
			00 01 75        # user name "u"
			00 01 70        # password 70
		`.replace(/#.*$/gm, "")),
	},
	{
		name: "CONNACK accepted with a session present",
		from: "broker",
		packet: { type: CONNACK, sessionPresent: true, returnCode: 0 },
		bytes: hex("20 02 01 00"), // CONNACK, length 2, session present, accepted
	},
	{
		name: "CONNACK refused: not authorized",
		from: "broker",
		packet: { type: CONNACK, sessionPresent: false, returnCode: 5 },
		bytes: hex("20 02 00 05"), // CONNACK, length 2, no session, return code 5
	},
	{
		name: "PUBLISH QoS 0",
		from: "both",
		packet: { type: PUBLISH, topic: "a/b", payload: ascii("hi"), qos: 0, retain: false, dup: false, id: 0 },
		bytes: hex(`
			30 07           # PUBLISH QoS 0, remaining length 7
			00 03 61 2f 62  # topic "a/b"
			68 69           # payload "hi"
		`.replace(/#.*$/gm, "")),
	},
	{
		name: "PUBLISH QoS 1, DUP and RETAIN set",
		from: "both",
		packet: { type: PUBLISH, topic: "a/b", payload: hex("01 02"), qos: 1, retain: true, dup: true, id: 10 },
		bytes: hex(`
			3b 09           # PUBLISH DUP 08 | QoS 1 02 | RETAIN 01, remaining length 9
			00 03 61 2f 62  # topic "a/b"
			00 0a           # packet identifier 10
			01 02           # payload
		`.replace(/#.*$/gm, "")),
	},
	{
		name: "PUBLISH QoS 2 with an empty payload and a multi-byte UTF-8 topic",
		from: "both",
		packet: { type: PUBLISH, topic: "é/€", payload: new Uint8Array(0), qos: 2, retain: false, dup: false, id: 0xffff },
		bytes: hex(`
			34 0a           # PUBLISH QoS 2, remaining length 10
			00 06 c3 a9 2f e2 82 ac # topic "é/€"
			ff ff           # packet identifier 65535
		`.replace(/#.*$/gm, "")),
	},
	{ name: "PUBACK", from: "both", packet: { type: PUBACK, id: 0x1234 }, bytes: hex("40 02 12 34") },
	{ name: "PUBREC", from: "both", packet: { type: PUBREC, id: 1 }, bytes: hex("50 02 00 01") },
	{ name: "PUBREL (flags 0010)", from: "both", packet: { type: PUBREL, id: 1 }, bytes: hex("62 02 00 01") },
	{ name: "PUBCOMP", from: "both", packet: { type: PUBCOMP, id: 1 }, bytes: hex("70 02 00 01") },
	{
		name: "SUBSCRIBE to two filters",
		from: "client",
		packet: { type: SUBSCRIBE, id: 1, filters: ["a/+", "#"], qos: [1, 0] },
		bytes: hex(`
			82 0c           # SUBSCRIBE (flags 0010), remaining length 12
			00 01           # packet identifier 1
			00 03 61 2f 2b 01 # "a/+" QoS 1
			00 01 23 00     # "#" QoS 0
		`.replace(/#.*$/gm, "")),
	},
	{
		name: "SUBACK with a grant and a failure",
		from: "broker",
		packet: { type: SUBACK, id: 1, codes: [1, 0x80] },
		bytes: hex("90 04 00 01 01 80"), // SUBACK, length 4, id 1, granted QoS 1, failure
	},
	{
		name: "UNSUBSCRIBE",
		from: "client",
		packet: { type: UNSUBSCRIBE, id: 2, filters: ["a/+"] },
		bytes: hex("a2 07 00 02 00 03 61 2f 2b"), // UNSUBSCRIBE (flags 0010), length 7, id 2, "a/+"
	},
	{ name: "UNSUBACK", from: "broker", packet: { type: UNSUBACK, id: 2 }, bytes: hex("b0 02 00 02") },
	{ name: "PINGREQ", from: "client", packet: { type: PINGREQ }, bytes: hex("c0 00") },
	{ name: "PINGRESP", from: "broker", packet: { type: PINGRESP }, bytes: hex("d0 00") },
	{ name: "DISCONNECT", from: "client", packet: { type: DISCONNECT }, bytes: hex("e0 00") },
];

/** Decodes one whole frame in `bytes` as received by a client ("broker" sent it) or by a broker. */
function decodeOne(bytes: Uint8Array, sender: "broker" | "client"): Packet | number {
	const reader = new FrameReader(4096);
	reader.push(bytes);
	const result = reader.next();
	if (result < 0) return result;
	assert.equal(result, FRAME);
	assert.equal(reader.end, bytes.length, "one frame spans the whole input");
	return (sender === "broker" ? decodeFromBroker : decodeFromClient)(reader.header, reader.bytes, reader.start, reader.end);
}

function senders(fixture: Fixture): ("broker" | "client")[] {
	return fixture.from === "both" ? ["broker", "client"] : [fixture.from];
}

describe("codec fixtures", () => {
	for (const fixture of FIXTURES) {
		describe(fixture.name, () => {
			it("decodes to the packet", () => {
				for (const sender of senders(fixture)) assert.deepEqual(decodeOne(fixture.bytes, sender), fixture.packet);
			});
			it("encodes to the bytes", () => {
				const bytes = encode(fixture.packet);
				assert.ok(bytes instanceof Uint8Array);
				assert.equal(toHex(bytes), toHex(fixture.bytes));
				assert.equal(encodedLength(fixture.packet), fixture.bytes.length);
			});
			it("round-trips through encode and decode", () => {
				for (const sender of senders(fixture)) assert.deepEqual(decodeOne(encode(fixture.packet) as Uint8Array, sender), fixture.packet);
			});
			it("decodes the same when split at every offset", () => {
				for (const sender of senders(fixture)) {
					for (let at = 0; at <= fixture.bytes.length; at++) {
						const decoded = decodeStream([fixture.bytes.subarray(0, at), fixture.bytes.subarray(at)], sender);
						assert.deepEqual(decoded, [fixture.packet], `split at ${at}`);
					}
				}
			});
		});
	}

	it("decodes all fixtures merged into one chunk, and byte by byte", () => {
		for (const sender of ["broker", "client"] as const) {
			const mine = FIXTURES.filter((f) => f.from === sender || f.from === "both");
			const stream = concat(...mine.map((f) => f.bytes));
			assert.deepEqual(decodeStream([stream], sender), mine.map((f) => f.packet));
			const bytes = Array.from(stream, (b) => Uint8Array.of(b));
			assert.deepEqual(decodeStream(bytes, sender), mine.map((f) => f.packet));
		}
	});

	it("decodes merged fixtures split at every offset", () => {
		const mine = FIXTURES.filter((f) => f.from !== "client");
		const stream = concat(...mine.map((f) => f.bytes));
		for (let at = 0; at <= stream.length; at++)
			assert.deepEqual(decodeStream([stream.subarray(0, at), stream.subarray(at)], "broker"), mine.map((f) => f.packet));
	});
});

describe("decoder errors (one or more per decoder)", () => {
	const cases: [string, "broker" | "client", string, number][] = [
		["CONNACK with a length of 3", "broker", "20 03 00 00 00", MALFORMED],
		["CONNACK with reserved acknowledge flags set", "broker", "20 02 02 00", MALFORMED],
		["CONNACK with a reserved return code", "broker", "20 02 00 06", MALFORMED],
		["CONNACK refusing but claiming a session [MQTT-3.2.2-4]", "broker", "20 02 01 05", MALFORMED],
		["CONNACK with header flags 0001 [MQTT-2.2.2-1]", "broker", "21 02 00 00", BAD_FLAGS],
		["PUBLISH at QoS 3 [MQTT-3.3.1-4]", "broker", "36 05 00 01 61 00 01", MALFORMED],
		["PUBLISH QoS 0 with DUP [MQTT-3.3.1-2]", "broker", "38 03 00 01 61", BAD_FLAGS],
		["PUBLISH with a wildcard in the topic [MQTT-3.3.2-2]", "broker", "30 03 00 01 2b", BAD_STRING],
		["PUBLISH with an overlong UTF-8 topic", "broker", "30 04 00 02 c0 80", BAD_STRING],
		["PUBLISH with U+0000 in the topic [MQTT-1.5.3-2]", "broker", "30 04 00 02 61 00", BAD_STRING],
		["PUBLISH with a lone surrogate encoded in the topic", "broker", "30 05 00 03 ed a0 80", BAD_STRING],
		["PUBLISH with an empty topic [MQTT-4.7.3-1]", "broker", "30 02 00 00", MALFORMED],
		["PUBLISH whose topic runs past the packet", "broker", "30 03 00 05 61", MALFORMED],
		["PUBLISH QoS 1 with packet identifier 0 [MQTT-2.3.1-1]", "broker", "32 05 00 01 61 00 00", MALFORMED],
		["PUBLISH QoS 1 without room for the packet identifier", "broker", "32 04 00 01 61 00", MALFORMED],
		["PUBACK with a length of 3", "broker", "40 03 00 01 00", MALFORMED],
		["PUBACK with packet identifier 0", "broker", "40 02 00 00", MALFORMED],
		["PUBREL with header flags 0000 [MQTT-3.6.1-1]", "broker", "60 02 00 01", BAD_FLAGS],
		["PUBREC with header flags 0010", "broker", "52 02 00 01", BAD_FLAGS],
		["PUBCOMP with a length of 1", "broker", "70 01 00", MALFORMED],
		["SUBACK with return code 3 [MQTT-3.9.3-2]", "broker", "90 03 00 01 03", MALFORMED],
		["SUBACK without return codes", "broker", "90 02 00 01", MALFORMED],
		["UNSUBACK with packet identifier 0", "broker", "b0 02 00 00", MALFORMED],
		["PINGRESP with a body", "broker", "d0 01 00", MALFORMED],
		["CONNECT sent to a client", "broker", "10 0d 00 04 4d 51 54 54 04 02 00 3c 00 01 61", UNEXPECTED_TYPE],
		["SUBSCRIBE sent to a client", "broker", "82 06 00 01 00 01 23 00", UNEXPECTED_TYPE],
		["PINGREQ sent to a client", "broker", "c0 00", UNEXPECTED_TYPE],
		["packet type 0", "broker", "00 00", UNEXPECTED_TYPE],
		["packet type 15", "client", "f0 00", UNEXPECTED_TYPE],
		["CONNACK sent to a broker", "client", "20 02 00 00", UNEXPECTED_TYPE],
		["CONNECT with protocol name MQIsdp", "client", "10 0f 00 06 4d 51 49 73 64 70 03 02 00 3c 00 01 61", MALFORMED],
		["CONNECT with protocol level 5", "client", "10 0d 00 04 4d 51 54 54 05 02 00 3c 00 01 61", MALFORMED],
		["CONNECT with the reserved flag set [MQTT-3.1.2-3]", "client", "10 0d 00 04 4d 51 54 54 04 03 00 3c 00 01 61", MALFORMED],
		["CONNECT with a password but no user name [MQTT-3.1.2-22]", "client", "10 10 00 04 4d 51 54 54 04 42 00 3c 00 01 61 00 01 70", MALFORMED],
		["CONNECT with will QoS but no will [MQTT-3.1.2-13]", "client", "10 0d 00 04 4d 51 54 54 04 0a 00 3c 00 01 61", MALFORMED],
		["CONNECT with trailing bytes", "client", "10 0e 00 04 4d 51 54 54 04 02 00 3c 00 01 61 00", MALFORMED],
		["CONNECT with a truncated client id", "client", "10 0d 00 04 4d 51 54 54 04 02 00 3c 00 02 61", MALFORMED],
		["SUBSCRIBE with header flags 0000 [MQTT-3.8.1-1]", "client", "80 06 00 01 00 01 23 00", BAD_FLAGS],
		["SUBSCRIBE without filters [MQTT-3.8.3-3]", "client", "82 02 00 01", MALFORMED],
		["SUBSCRIBE asking for QoS 3 [MQTT-3-8.3-4]", "client", "82 06 00 01 00 01 23 03", MALFORMED],
		["SUBSCRIBE missing the QoS byte", "client", "82 05 00 01 00 01 23", MALFORMED],
		["UNSUBSCRIBE with an empty filter", "client", "a2 04 00 01 00 00", MALFORMED],
		["UNSUBSCRIBE without filters [MQTT-3.10.3-2]", "client", "a2 02 00 01", MALFORMED],
		["DISCONNECT with a body", "client", "e0 01 00", MALFORMED],
	];
	for (const [name, sender, bytes, error] of cases) {
		it(`rejects ${name} as "${codecErrorText(error)}"`, () => {
			assert.equal(decodeOne(hex(bytes), sender), error);
		});
	}
});

describe("remaining length", () => {
	const edges: [number, string][] = [
		[0, "00"], [127, "7f"], [128, "80 01"], [16_383, "ff 7f"], [16_384, "80 80 01"],
		[2_097_151, "ff ff 7f"], [2_097_152, "80 80 80 01"], [268_435_455, "ff ff ff 7f"],
	];
	for (const [value, bytes] of edges) {
		it(`encodes ${value} as ${bytes}`, () => {
			const out = new Uint8Array(4);
			const end = writeVarint(out, 0, value);
			assert.equal(toHex(out.subarray(0, end)), bytes);
			assert.equal(varintLength(value), end);
		});
		it(`reads ${value} from a header split byte by byte and knows it within 5 bytes`, () => {
			// A PUBLISH this size is oversize for a 16-byte reader, so the reader must have the length to decide.
			const reader = new FrameReader(value + 5 <= 4096 ? 4096 : 16);
			const header = concat(hex("90"), hex(bytes));
			for (let i = 0; i < header.length; i++) {
				reader.push(header.subarray(i, i + 1));
				const result = reader.next();
				if (i < header.length - 1) assert.equal(result, NEED_MORE);
				else if (value + header.length > 4096) assert.equal(result, PACKET_TOO_LARGE);
				else if (value === 0) assert.equal(result, FRAME);
				else assert.equal(result, NEED_MORE);
			}
		});
	}

	it("refuses 268435456, which needs 5 bytes, when encoding", () => {
		assert.equal(publishLength(1, 268_435_456 - 3, 0), PACKET_TOO_LARGE);
		assert.equal(publishLength(1, 268_435_455 - 3, 0), 268_435_455 + 5);
	});

	it("rejects a remaining length encoded in more than 4 bytes as soon as the 5th byte arrives", () => {
		const reader = new FrameReader(64);
		reader.push(hex("30 80 80 80 80"));
		assert.equal(reader.next(), VARINT_OVERFLOW);
		reader.push(hex("00"));
		assert.equal(reader.next(), VARINT_OVERFLOW, "the error sticks until reset");
		reader.reset();
		reader.push(hex("d0 00"));
		assert.equal(reader.next(), FRAME);
	});
});

describe("frame reader bounds", () => {
	it("refuses a non-PUBLISH packet larger than maxPacket before reading its body", () => {
		const reader = new FrameReader(16);
		reader.push(hex("90 0f 00 01"));
		assert.equal(reader.next(), PACKET_TOO_LARGE);
		assert.equal(reader.buffered, 0);
	});

	it("streams an oversize PUBLISH past without buffering it, keeping its topic and packet identifier", () => {
		const reader = new FrameReader(32);
		const body = new Uint8Array(100).fill(0x55);
		const stream = concat(hex("33 6b 00 03 61 2f 62 00 07"), body, hex("d0 00"));
		const results: number[] = [];
		for (let i = 0; i < stream.length; i += 7) {
			reader.push(stream.subarray(i, i + 7));
			for (let r = reader.next(); r !== NEED_MORE; r = reader.next()) {
				results.push(r);
				if (r < 0) break;
				if (r === OVERSIZE) {
					assert.equal(reader.length, 2 + 0x6b);
					const prefix = decodeFromBroker(reader.header, reader.bytes, reader.start, reader.end);
					assert.deepEqual(prefix, { type: PUBLISH, topic: "a/b", payload: new Uint8Array(0), qos: 1, retain: true, dup: false, id: 7 });
				}
			}
			assert.ok(reader.buffered <= 32);
		}
		assert.deepEqual(results, [OVERSIZE, FRAME]);
	});

	it("lets a 268435455-byte PUBLISH stream past with nothing but its topic held", () => {
		const reader = new FrameReader(64);
		reader.push(hex("30 ff ff ff 7f 00 01 74"));
		assert.equal(reader.next(), NEED_MORE);
		const chunk = new Uint8Array(1 << 20);
		let left = 268_435_455 - 3;
		while (left > 0) {
			const part = chunk.subarray(0, Math.min(left, chunk.length));
			left -= part.length;
			reader.push(part);
			const result = reader.next();
			assert.equal(result, left ? NEED_MORE : OVERSIZE);
			assert.equal(reader.buffered, 0);
		}
		assert.equal(reader.length, 268_435_460);
	});

	it("rejects an oversize PUBLISH whose topic alone exceeds maxPacket", () => {
		const reader = new FrameReader(16);
		reader.push(hex("30 40 00 20"));
		assert.equal(reader.next(), PACKET_TOO_LARGE);
	});

	it("rejects an oversize PUBLISH whose topic length runs past the packet", () => {
		const reader = new FrameReader(8);
		reader.push(hex("30 0a 00 0c"));
		assert.equal(reader.next(), MALFORMED);
	});

	it("hands out a frame that arrived whole as a view of the chunk, and a split one in a buffer of its own", () => {
		const reader = new FrameReader(64);
		const chunk = hex("30 04 00 01 61 62");
		reader.push(chunk);
		assert.equal(reader.next(), FRAME);
		assert.equal(reader.bytes, chunk);
		const frames: Uint8Array[] = [];
		for (let i = 0; i < 2; i++) {
			reader.push(chunk.subarray(0, 3));
			assert.equal(reader.next(), NEED_MORE);
			reader.push(chunk.subarray(3));
			assert.equal(reader.next(), FRAME);
			assert.equal(reader.bytes.length, 4, "the body's exact size");
			frames.push(reader.bytes);
		}
		assert.notEqual(frames[0], frames[1], "a frame's buffer is never reused");
		assert.equal(toHex(frames[0]), "00 01 61 62");
	});

	it("lets go of the chunk and the last frame once everything pushed is read", () => {
		const reader = new FrameReader(64);
		reader.push(hex("30 04 00 01 61 62"));
		assert.equal(reader.next(), FRAME);
		assert.equal(reader.next(), NEED_MORE);
		assert.equal(reader.bytes.length, 0);
	});
});

describe("encoder bounds", () => {
	it("returns BUFFER_TOO_SHORT and writes nothing when the buffer is too small", () => {
		const out = new Uint8Array(3).fill(0xee);
		assert.equal(encodeInto({ type: PUBACK, id: 1 }, out, 0), BUFFER_TOO_SHORT);
		assert.equal(toHex(out), "ee ee ee");
	});

	it("refuses strings without a UTF-8 form and fields over 65535 bytes", () => {
		assert.equal(encode({ type: PUBLISH, topic: "\ud800", payload: new Uint8Array(0), qos: 0, retain: false, dup: false, id: 0 }), BAD_STRING);
		assert.equal(encode({ type: CONNECT, clientId: "x".repeat(65_536), clean: true, keepalive: 0 }), MALFORMED);
		const will = { topic: "w", qos: 0 as const, retain: false };
		assert.equal(encode({ type: CONNECT, clientId: "c", clean: true, keepalive: 0, will: { ...will, payload: "\udc00" } }), BAD_STRING);
		assert.equal(encode({ type: CONNECT, clientId: "c", clean: true, keepalive: 0, will: { ...will, payload: "x".repeat(65_536) } }), MALFORMED);
		assert.equal(encode({ type: CONNECT, clientId: "x", clean: true, keepalive: 0, password: hex("00") }), MALFORMED);
		assert.equal(encode({ type: SUBSCRIBE, id: 1, filters: [], qos: [] }), MALFORMED);
	});

	it("encodes into a buffer at an offset", () => {
		const out = new Uint8Array(8);
		assert.equal(encodeInto({ type: PINGREQ }, out, 3), 5);
		assert.equal(toHex(out), "00 00 00 c0 00 00 00 00");
	});
});
