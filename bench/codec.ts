/*
 * Codec benchmark: our encoder and decoder against mqtt-packet (the codec inside MQTT.js), same process,
 * same packets, alternating, several rounds, median operations per second.
 *
 * Like for like: "encode" is packet object -> new byte array (our `encode`, their `generate`); "decode" is
 * bytes -> packet object with framing (our FrameReader + decoder, their streaming parser). Both sides must
 * produce the same bytes for every case, or the run stops. Rows "encode into buffer" show the codec's own
 * encoding API, which writes into the caller's buffer (`encodeInto`; the client's hot path, `encodePublish`
 * with a string payload, straight into its outbox), against the same `generate`, which has no such variant.
 */
import mqttPacket from "mqtt-packet";
import type { Packet as PeerPacket } from "mqtt-packet";
import { median, opsPerSecond, round3 } from "./measure";
import { decodeFromBroker, decodeFromClient } from "../src/mqtt/codec/decode";
import { encode, encodeInto, encodePublish, publishLength } from "../src/mqtt/codec/encode";
import { FrameReader, NEED_MORE } from "../src/mqtt/codec/frame-reader";
import {
	CONNACK, CONNECT, DISCONNECT, PINGREQ, PINGRESP, PUBACK, PUBLISH, SUBACK, SUBSCRIBE,
} from "../src/mqtt/codec/packets";
import type { Packet, QoS } from "../src/mqtt/codec/packets";

export interface CodecOptions {
	rounds: number;
	/** Milliseconds each side of each case runs per round. */
	sliceMs: number;
}

export interface CodecRow {
	packet: string;
	operation: "encode" | "decode" | "encode into buffer";
	/** Median operations per second. */
	ours: number;
	mqttPacket: number;
	/** ours / mqttPacket. */
	ratio: number;
	/** The issue's target for this row (5x for the 64-byte QoS 1 PUBLISH), if any. */
	target?: number;
}

const TOPIC = "nodes/node-a1b2c3/telemetry";
const TARGET_PAYLOAD = 64;

interface Pair {
	name: string;
	ours: Packet;
	theirs: PeerPacket;
	/** Which side of the connection receives it: decides our decoder (a client must refuse CONNECT, etc.). */
	to: "client" | "broker";
}

function payloadOf(size: number): Uint8Array {
	const bytes = new Uint8Array(size);
	for (let i = 0; i < size; i++) bytes[i] = 0x20 + (i * 7) % 95;
	return bytes;
}

function publishPair(qos: QoS, size: number): Pair {
	const payload = payloadOf(size);
	const id = qos ? 4321 : 0;
	return {
		name: `PUBLISH QoS ${qos}, ${size >= 1024 ? `${size / 1024} KB` : `${size} B`}`,
		ours: { type: PUBLISH, topic: TOPIC, payload, qos, retain: false, dup: false, id },
		theirs: { cmd: "publish", topic: TOPIC, payload: Buffer.from(payload), qos, retain: false, dup: false, ...(qos ? { messageId: id } : {}) },
		to: "client",
	};
}

function pairs(): Pair[] {
	const will = { topic: "nodes/node-a1b2c3/status", payload: payloadOf(7), qos: 1 as QoS, retain: true };
	const list: Pair[] = [];
	for (const size of [16, TARGET_PAYLOAD, 256, 4096]) for (const qos of [0, 1] as const) list.push(publishPair(qos, size));
	list.push(
		{ name: "PUBACK", ours: { type: PUBACK, id: 4321 }, theirs: { cmd: "puback", messageId: 4321 }, to: "client" },
		{ name: "PINGREQ", ours: { type: PINGREQ }, theirs: { cmd: "pingreq" }, to: "broker" },
		{ name: "PINGRESP", ours: { type: PINGRESP }, theirs: { cmd: "pingresp" }, to: "client" },
		{
			name: "SUBSCRIBE (1 filter)",
			ours: { type: SUBSCRIBE, id: 7, filters: ["nodes/node-a1b2c3/config"], qos: [1] },
			theirs: { cmd: "subscribe", messageId: 7, subscriptions: [{ topic: "nodes/node-a1b2c3/config", qos: 1 }] },
			to: "broker",
		},
		{ name: "SUBACK", ours: { type: SUBACK, id: 7, codes: [1] }, theirs: { cmd: "suback", messageId: 7, granted: [1] }, to: "client" },
		{
			name: "CONNECT (id, will, keepalive)",
			ours: { type: CONNECT, clientId: "node-a1b2c3", clean: false, keepalive: 60, will },
			theirs: {
				cmd: "connect", protocolId: "MQTT", protocolVersion: 4, clean: false, clientId: "node-a1b2c3", keepalive: 60,
				will: { topic: will.topic, payload: Buffer.from(will.payload), qos: 1, retain: true },
			},
			to: "broker",
		},
		{ name: "CONNACK", ours: { type: CONNACK, sessionPresent: true, returnCode: 0 }, theirs: { cmd: "connack", sessionPresent: true, returnCode: 0 }, to: "client" },
		{ name: "DISCONNECT", ours: { type: DISCONNECT }, theirs: { cmd: "disconnect" }, to: "broker" },
	);
	return list;
}

function ourBytes(packet: Packet): Uint8Array {
	const bytes = encode(packet);
	if (typeof bytes === "number") throw new Error(`our encoder refused ${JSON.stringify(packet)}: ${bytes}`);
	return bytes;
}

/** Bytes -> packet, framing included, the way a connection sees one packet arrive in one chunk. */
function ourDecoder(to: Pair["to"]): (bytes: Uint8Array) => unknown {
	const reader = new FrameReader(8192);
	const decode = to === "client" ? decodeFromBroker : decodeFromClient;
	return (bytes) => {
		reader.push(bytes);
		reader.next();
		const packet = decode(reader.header, reader.bytes, reader.start, reader.end);
		if (reader.next() !== NEED_MORE || typeof packet === "number") throw new Error("our decoder failed");
		return packet;
	};
}

function theirDecoder(): (bytes: Buffer) => unknown {
	const parser = mqttPacket.parser({ protocolVersion: 4 });
	let last: unknown;
	parser.on("packet", (packet) => {
		last = packet;
	});
	parser.on("error", (error) => {
		throw error;
	});
	return (bytes) => {
		last = undefined;
		parser.parse(bytes);
		if (last === undefined) throw new Error("mqtt-packet's parser failed");
		return last;
	};
}

interface Contest {
	packet: string;
	operation: CodecRow["operation"];
	ours: () => unknown;
	theirs: () => unknown;
	target?: number;
}

function contests(): Contest[] {
	const list: Contest[] = [];
	for (const pair of pairs()) {
		const mine = ourBytes(pair.ours);
		const theirs = mqttPacket.generate(pair.theirs);
		if (Buffer.compare(Buffer.from(mine), theirs) !== 0)
			throw new Error(`${pair.name}: the two encoders disagree:\n ours   ${Buffer.from(mine).toString("hex")}\n theirs ${theirs.toString("hex")}`);
		const target = pair.name === `PUBLISH QoS 1, ${TARGET_PAYLOAD} B` ? 5 : undefined;
		list.push({ packet: pair.name, operation: "encode", ours: () => encode(pair.ours), theirs: () => mqttPacket.generate(pair.theirs), target });
		if (target) {
			// The codec's own encoding API writes into the caller's buffer; `encode` adds a fresh array around it.
			const buffer = new Uint8Array(8192);
			list.push({ packet: pair.name, operation: "encode into buffer", ours: () => encodeInto(pair.ours, buffer, 0), theirs: () => mqttPacket.generate(pair.theirs), target });
		}
		const decodeOurs = ourDecoder(pair.to);
		const decodeTheirs = theirDecoder();
		const input = Uint8Array.from(mine);
		list.push({ packet: pair.name, operation: "decode", ours: () => decodeOurs(input), theirs: () => decodeTheirs(theirs), target });
	}
	// The client's own path: the telemetry JSON string encoded straight into the outbox arena, nothing allocated.
	const payload = JSON.stringify({ seq: 1234, boot: "9f3a61c2", uptime: 3600, temperature: 21.53, humidity: 45.2 });
	const arena = new Uint8Array(4096);
	const length = publishLength(TOPIC.length, payload.length, 1);
	const peer = { cmd: "publish", topic: TOPIC, payload, qos: 1, retain: false, dup: false, messageId: 4321 } as const;
	list.push({
		packet: `PUBLISH QoS 1, ${payload.length} B JSON string (client path)`,
		operation: "encode into buffer",
		ours: () => encodePublish(arena, 0, TOPIC, TOPIC.length, payload, payload.length, 1, false, false, 4321),
		theirs: () => mqttPacket.generate(peer),
	});
	if (mqttPacket.generate(peer).length !== length) throw new Error("the JSON PUBLISH sizes disagree");
	return list;
}

/** Runs every case, alternating which side goes first, and reports medians. */
export function benchCodec(options: CodecOptions, progress: (line: string) => void = () => {}): CodecRow[] {
	const list = contests();
	for (const contest of list) {
		opsPerSecond(contest.ours, options.sliceMs);
		opsPerSecond(contest.theirs, options.sliceMs);
	}
	const ours = list.map((): number[] => []);
	const theirs = list.map((): number[] => []);
	for (let round = 0; round < options.rounds; round++) {
		list.forEach((contest, i) => {
			if (round % 2) {
				theirs[i].push(opsPerSecond(contest.theirs, options.sliceMs));
				ours[i].push(opsPerSecond(contest.ours, options.sliceMs));
			}
			else {
				ours[i].push(opsPerSecond(contest.ours, options.sliceMs));
				theirs[i].push(opsPerSecond(contest.theirs, options.sliceMs));
			}
		});
		progress(`codec: round ${round + 1}/${options.rounds}`);
	}
	return list.map((contest, i) => {
		const mine = median(ours[i]);
		const peer = median(theirs[i]);
		const row: CodecRow = { packet: contest.packet, operation: contest.operation, ours: Math.round(mine), mqttPacket: Math.round(peer), ratio: round3(mine / peer) };
		if (contest.target) row.target = contest.target;
		return row;
	});
}
