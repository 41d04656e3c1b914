/*
 * MQTT 3.1.1 decoders. They see whole frames only (the FrameReader's job): the first byte of the fixed
 * header and the body as `bytes[start, end)`. Each returns a packet object or a negative CodecError; no
 * input makes them throw or allocate beyond the packet they return. A PUBLISH payload is a view of
 * `bytes`, not a copy.
 *
 * Two entry points, one per direction: a client must close the connection on a packet only a broker may
 * receive, and the other way round. The per-type decoders are shared.
 */
import { readUtf8 } from "src/utf8";
import {
	BAD_FLAGS, BAD_STRING, CONNACK, CONNECT, DISCONNECT, MALFORMED, PINGREQ, PINGRESP, PUBACK, PUBCOMP,
	PUBLISH, PUBREC, PUBREL, REQUIRED_FLAGS, SUBACK, SUBACK_FAILURE, SUBSCRIBE, UNEXPECTED_TYPE, UNSUBACK,
	UNSUBSCRIBE,
} from "./packets";
import type {
	AckPacket, BrokerPacket, ClientPacket, CodecError, EmptyPacket, ConnackPacket, ConnectPacket, PublishPacket, QoS, SubackPacket,
	SubscribePacket, UnsubscribePacket, Will,
} from "./packets";

/**
 * Decodes `bytes[start, end)` as UTF-8 for an MQTT string: well-formed, no U+0000 [MQTT-1.5.3-1],
 * [MQTT-1.5.3-2]. ASCII, by far the common case for topics, goes eight bytes per step; anything else
 * falls back to the strict decoder in utf8.ts.
 */
function readString(bytes: Uint8Array, start: number, end: number): string | undefined {
	let text = "";
	let i = start;
	while (i + 8 <= end) {
		const b0 = bytes[i], b1 = bytes[i + 1], b2 = bytes[i + 2], b3 = bytes[i + 3];
		const b4 = bytes[i + 4], b5 = bytes[i + 5], b6 = bytes[i + 6], b7 = bytes[i + 7];
		// Any non-ASCII or zero byte leaves the fast path; the loop below sorts it out.
		if ((b0 | b1 | b2 | b3 | b4 | b5 | b6 | b7) & 0x80 || !b0 || !b1 || !b2 || !b3 || !b4 || !b5 || !b6 || !b7) break;
		text += String.fromCharCode(b0, b1, b2, b3, b4, b5, b6, b7);
		i += 8;
	}
	for (; i < end; i++) {
		const b = bytes[i];
		if (b === 0) return undefined;
		if (b & 0x80) {
			for (let j = i + 1; j < end; j++) if (bytes[j] === 0) return undefined;
			const rest = readUtf8(bytes, i, end);
			return rest === undefined ? undefined : text + rest;
		}
		text += String.fromCharCode(b);
	}
	return text;
}

/** Reads the length-prefixed string at `offset` (ending by `end`); returns it or a CodecError. */
function readField(bytes: Uint8Array, offset: number, end: number): string | CodecError {
	if (offset + 2 > end) return MALFORMED;
	const stop = offset + 2 + ((bytes[offset] << 8) | bytes[offset + 1]);
	if (stop > end) return MALFORMED;
	return readString(bytes, offset + 2, stop) ?? BAD_STRING;
}

/** Offset just past the length-prefixed field at `offset` (call only once its 2-byte length is known to be there). */
function fieldEnd(bytes: Uint8Array, offset: number): number {
	return offset + 2 + ((bytes[offset] << 8) | bytes[offset + 1]);
}

function readId(bytes: Uint8Array, offset: number): number {
	return (bytes[offset] << 8) | bytes[offset + 1];
}

function decodePublish(header: number, bytes: Uint8Array, start: number, end: number): PublishPacket | CodecError {
	const qos = (header >> 1) & 3;
	const dup = (header & 0x08) !== 0;
	if (qos === 3) return MALFORMED; // [MQTT-3.3.1-4]
	if (dup && !qos) return BAD_FLAGS; // [MQTT-3.3.1-2]
	if (start + 2 > end) return MALFORMED;
	const topicEnd = start + 2 + ((bytes[start] << 8) | bytes[start + 1]);
	const offset = qos ? topicEnd + 2 : topicEnd;
	if (offset > end || topicEnd === start + 2) return MALFORMED; // [MQTT-4.7.3-1] a topic has at least one character
	for (let i = start + 2; i < topicEnd; i++) {
		const b = bytes[i];
		if (b === 0x2b || b === 0x23) return BAD_STRING; // [MQTT-3.3.2-2] no '+' or '#' in a topic name
	}
	const topic = readString(bytes, start + 2, topicEnd);
	if (topic === undefined) return BAD_STRING;
	let id = 0;
	if (qos) {
		id = readId(bytes, topicEnd);
		if (!id) return MALFORMED; // [MQTT-2.3.1-1]
	}
	return {
		type: PUBLISH, topic, payload: bytes.subarray(offset, end), qos: qos as QoS,
		retain: (header & 1) !== 0, dup, id,
	};
}

/** PUBACK, PUBREC, PUBREL, PUBCOMP and UNSUBACK: exactly a non-zero packet identifier. */
function decodeAck<T extends number>(type: T, bytes: Uint8Array, start: number, end: number): AckPacket<T> | CodecError {
	if (end - start !== 2) return MALFORMED;
	const id = readId(bytes, start);
	return id ? { type, id } : MALFORMED;
}

function decodeConnack(bytes: Uint8Array, start: number, end: number): ConnackPacket | CodecError {
	if (end - start !== 2) return MALFORMED;
	const flags = bytes[start];
	const returnCode = bytes[start + 1];
	// Bits 7-1 of the acknowledge flags are reserved (§3.2.2.1); 6-255 are reserved return codes (§3.2.2.3);
	// [MQTT-3.2.2-4] a refusal has session present 0.
	if (flags > 1 || returnCode > 5 || (returnCode && flags)) return MALFORMED;
	return { type: CONNACK, sessionPresent: flags === 1, returnCode };
}

function decodeSuback(bytes: Uint8Array, start: number, end: number): SubackPacket | CodecError {
	if (end - start < 3) return MALFORMED;
	const id = readId(bytes, start);
	if (!id) return MALFORMED;
	const codes: number[] = [];
	for (let i = start + 2; i < end; i++) {
		const code = bytes[i];
		if (code > 2 && code !== SUBACK_FAILURE) return MALFORMED; // [MQTT-3.9.3-2]
		codes.push(code);
	}
	return { type: SUBACK, id, codes };
}

function decodeEmpty<T extends number>(type: T, start: number, end: number): EmptyPacket<T> | CodecError {
	return start === end ? { type } : MALFORMED;
}

function decodeConnect(bytes: Uint8Array, start: number, end: number): ConnectPacket | CodecError {
	// Protocol name "MQTT" and level 4 (§3.1.2.1, §3.1.2.2).
	if (end - start < 12 || bytes[start] !== 0 || bytes[start + 1] !== 4 || bytes[start + 2] !== 0x4d
		|| bytes[start + 3] !== 0x51 || bytes[start + 4] !== 0x54 || bytes[start + 5] !== 0x54 || bytes[start + 6] !== 4) return MALFORMED;
	const flags = bytes[start + 7];
	const willQos = (flags >> 3) & 3;
	const hasWill = (flags & 0x04) !== 0;
	if (flags & 1) return MALFORMED; // [MQTT-3.1.2-3]
	if (!hasWill && flags & 0x38) return MALFORMED; // [MQTT-3.1.2-13], [MQTT-3.1.2-15]
	if (willQos === 3) return MALFORMED; // [MQTT-3.1.2-14]
	if (flags & 0x40 && !(flags & 0x80)) return MALFORMED; // [MQTT-3.1.2-22]
	const keepalive = readId(bytes, start + 8);
	let offset = start + 10;
	const clientId = readField(bytes, offset, end);
	if (typeof clientId === "number") return clientId;
	offset = fieldEnd(bytes, offset);
	let will: Will | undefined;
	if (hasWill) {
		const topic = readField(bytes, offset, end);
		if (typeof topic === "number") return topic;
		offset = fieldEnd(bytes, offset);
		if (offset + 2 > end || fieldEnd(bytes, offset) > end) return MALFORMED;
		will = { topic, payload: bytes.subarray(offset + 2, fieldEnd(bytes, offset)), qos: willQos as QoS, retain: (flags & 0x20) !== 0 };
		offset = fieldEnd(bytes, offset);
	}
	const packet: ConnectPacket = { type: CONNECT, clientId, clean: (flags & 0x02) !== 0, keepalive };
	if (will) packet.will = will;
	if (flags & 0x80) {
		const username = readField(bytes, offset, end);
		if (typeof username === "number") return username;
		packet.username = username;
		offset = fieldEnd(bytes, offset);
	}
	if (flags & 0x40) {
		if (offset + 2 > end || fieldEnd(bytes, offset) > end) return MALFORMED;
		packet.password = bytes.subarray(offset + 2, fieldEnd(bytes, offset));
		offset = fieldEnd(bytes, offset);
	}
	return offset === end ? packet : MALFORMED;
}

/** SUBSCRIBE (`withQos`) and UNSUBSCRIBE: a packet identifier and at least one filter. */
function decodeFilters(withQos: boolean, bytes: Uint8Array, start: number, end: number): SubscribePacket | UnsubscribePacket | CodecError {
	if (end - start < 2) return MALFORMED;
	const id = readId(bytes, start);
	if (!id) return MALFORMED;
	const filters: string[] = [];
	const qos: QoS[] = [];
	let offset = start + 2;
	while (offset < end) {
		const filter = readField(bytes, offset, end);
		if (typeof filter === "number") return filter;
		if (!filter) return MALFORMED; // [MQTT-4.7.3-1]
		filters.push(filter);
		offset = fieldEnd(bytes, offset);
		if (withQos) {
			if (offset >= end || bytes[offset] > 2) return MALFORMED; // [MQTT-3-8.3-4] reserved bits and QoS 3
			qos.push(bytes[offset++] as QoS);
		}
	}
	if (!filters.length) return MALFORMED; // [MQTT-3.8.3-3], [MQTT-3.10.3-2]
	return withQos ? { type: SUBSCRIBE, id, filters, qos } : { type: UNSUBSCRIBE, id, filters };
}

/** Decodes a packet a broker sent; CONNECT, SUBSCRIBE, PINGREQ and the like are UNEXPECTED_TYPE. */
export function decodeFromBroker(header: number, bytes: Uint8Array, start: number, end: number): BrokerPacket | CodecError {
	const type = header >> 4;
	const required = REQUIRED_FLAGS[type];
	if (required >= 0 && (header & 0x0f) !== required) return BAD_FLAGS;
	switch (type) {
		case PUBLISH: return decodePublish(header, bytes, start, end);
		case PUBACK: return decodeAck(PUBACK, bytes, start, end);
		case CONNACK: return decodeConnack(bytes, start, end);
		case SUBACK: return decodeSuback(bytes, start, end);
		case UNSUBACK: return decodeAck(UNSUBACK, bytes, start, end);
		case PINGRESP: return decodeEmpty(PINGRESP, start, end);
		case PUBREC: return decodeAck(PUBREC, bytes, start, end);
		case PUBREL: return decodeAck(PUBREL, bytes, start, end);
		case PUBCOMP: return decodeAck(PUBCOMP, bytes, start, end);
		default: return UNEXPECTED_TYPE;
	}
}

/** Decodes a packet a client sent (the broker's side: test brokers, bridges); CONNACK and the like are UNEXPECTED_TYPE. */
export function decodeFromClient(header: number, bytes: Uint8Array, start: number, end: number): ClientPacket | CodecError {
	const type = header >> 4;
	const required = REQUIRED_FLAGS[type];
	if (required >= 0 && (header & 0x0f) !== required) return BAD_FLAGS;
	switch (type) {
		case CONNECT: return decodeConnect(bytes, start, end);
		case PUBLISH: return decodePublish(header, bytes, start, end);
		case SUBSCRIBE: return decodeFilters(true, bytes, start, end);
		case UNSUBSCRIBE: return decodeFilters(false, bytes, start, end);
		case PINGREQ: return decodeEmpty(PINGREQ, start, end);
		case DISCONNECT: return decodeEmpty(DISCONNECT, start, end);
		case PUBACK: return decodeAck(PUBACK, bytes, start, end);
		case PUBREC: return decodeAck(PUBREC, bytes, start, end);
		case PUBREL: return decodeAck(PUBREL, bytes, start, end);
		case PUBCOMP: return decodeAck(PUBCOMP, bytes, start, end);
		default: return UNEXPECTED_TYPE;
	}
}
