/*
 * MQTT 3.1.1 encoders. They write into a caller's Uint8Array at an offset and return the offset after the
 * packet, or a negative CodecError; they never allocate, except `encode`, which returns a new exact-size
 * array. Lengths are computed and checked before the first byte is written, so a failed call leaves the
 * buffer untouched.
 *
 * Strings are checked for having a UTF-8 form (no lone surrogates) and for fitting their 16-bit length;
 * topic and filter rules are the API's job (see ../topic).
 */
import { utf8Length, writeUtf8 } from "src/utf8";

/** Called as `charCodeAt.call(text, i)`, which does not box the string in XS (see src/utf8.ts). */
const charCodeAt = String.prototype.charCodeAt;
import {
	BAD_STRING, BUFFER_TOO_SHORT, CONNACK, CONNECT, DISCONNECT, MALFORMED, MAX_REMAINING_LENGTH,
	PACKET_TOO_LARGE, PINGREQ, PINGRESP, PUBACK, PUBCOMP, PUBLISH, PUBREC, PUBREL, SUBACK, SUBSCRIBE,
	UNSUBACK, UNSUBSCRIBE,
} from "./packets";
import type { CodecError, Packet, QoS } from "./packets";

const MAX_FIELD = 0xffff;

/** Bytes the remaining-length varint takes for `length` (§2.2.3), which must be <= MAX_REMAINING_LENGTH. */
export function varintLength(length: number): number {
	return length < 0x80 ? 1 : length < 0x4000 ? 2 : length < 0x200000 ? 3 : 4;
}

/** Writes the remaining-length varint; returns the offset after it. */
export function writeVarint(bytes: Uint8Array, offset: number, length: number): number {
	do {
		let digit = length % 0x80;
		length = Math.floor(length / 0x80);
		if (length > 0) digit |= 0x80;
		bytes[offset++] = digit;
	} while (length > 0);
	return offset;
}

/** Total size of a packet with this remaining length, or PACKET_TOO_LARGE. */
function frameLength(remaining: number): number {
	return remaining > MAX_REMAINING_LENGTH ? PACKET_TOO_LARGE : 1 + varintLength(remaining) + remaining;
}

function writeU16(bytes: Uint8Array, offset: number, value: number): number {
	bytes[offset] = value >> 8;
	bytes[offset + 1] = value & 0xff;
	return offset + 2;
}

function writeString(bytes: Uint8Array, offset: number, text: string, length: number): number {
	return writeUtf8(text, bytes, writeU16(bytes, offset, length));
}

function writeBinary(bytes: Uint8Array, offset: number, data: Uint8Array): number {
	bytes.set(data, writeU16(bytes, offset, data.length));
	return offset + 2 + data.length;
}

/** UTF-8 length of a string field, or a CodecError when it has no UTF-8 form or exceeds 65535 bytes. */
function fieldLength(text: string): number {
	const length = utf8Length(text);
	return length < 0 ? BAD_STRING : length > MAX_FIELD ? MALFORMED : length;
}

/**
 * Size of a PUBLISH whose topic takes `topicLength` UTF-8 bytes and whose payload `payloadLength` bytes,
 * or PACKET_TOO_LARGE.
 */
export function publishLength(topicLength: number, payloadLength: number, qos: QoS): number {
	return frameLength(2 + topicLength + (qos ? 2 : 0) + payloadLength);
}

/**
 * The hot path: a PUBLISH from parts. The topic is a string whose UTF-8 length the caller already knows
 * (the API computes it while validating), or its UTF-8 bytes encoded once ahead (a device publishing to a
 * fixed topic). A string payload is written as UTF-8 without an intermediate array. `payloadLength` is
 * `payload.length` for bytes and the UTF-8 length for a string.
 */
export function encodePublish(
	bytes: Uint8Array, offset: number, topic: string | Uint8Array, topicLength: number,
	payload: Uint8Array | string, payloadLength: number, qos: QoS, retain: boolean, dup: boolean, id: number,
): number {
	const remaining = 2 + topicLength + (qos ? 2 : 0) + payloadLength;
	const total = frameLength(remaining);
	if (total < 0) return total;
	if (offset + total > bytes.length) return BUFFER_TOO_SHORT;
	bytes[offset++] = (PUBLISH << 4) | (dup ? 0x08 : 0) | (qos << 1) | (retain ? 1 : 0);
	if (remaining < 0x80) bytes[offset++] = remaining;
	else offset = writeVarint(bytes, offset, remaining);
	offset = writeU16(bytes, offset, topicLength);
	if (typeof topic !== "string") bytes.set(topic, offset);
	else if (topicLength === topic.length) {
		// All ASCII (one byte per UTF-16 unit): no branches per character.
		for (let i = 0; i < topicLength; i++) bytes[offset + i] = charCodeAt.call(topic, i);
	}
	else writeUtf8(topic, bytes, offset);
	offset += topicLength;
	if (qos) offset = writeU16(bytes, offset, id);
	if (typeof payload === "string") return writeUtf8(payload, bytes, offset);
	bytes.set(payload, offset);
	return offset + payloadLength;
}

/** A 4-byte acknowledgement (PUBACK, PUBREC, PUBREL, PUBCOMP, UNSUBACK) for packet `id`. */
export function encodeAck(bytes: Uint8Array, offset: number, type: number, id: number): number {
	if (offset + 4 > bytes.length) return BUFFER_TOO_SHORT;
	bytes[offset] = (type << 4) | (type === PUBREL ? 2 : 0);
	bytes[offset + 1] = 2;
	return writeU16(bytes, offset + 2, id);
}

/** Remaining length of `packet`, or a CodecError. */
function remainingLength(packet: Packet): number {
	switch (packet.type) {
		case CONNECT: {
			let length = 10 + 2;
			let field = fieldLength(packet.clientId);
			if (field < 0) return field;
			length += field;
			if (packet.will) {
				field = fieldLength(packet.will.topic);
				if (field < 0) return field;
				length += 2 + field;
				const { payload } = packet.will;
				field = typeof payload === "string" ? fieldLength(payload) : payload.length > MAX_FIELD ? MALFORMED : payload.length;
				if (field < 0) return field;
				length += 2 + field;
			}
			if (packet.username !== undefined) {
				field = fieldLength(packet.username);
				if (field < 0) return field;
				length += 2 + field;
			}
			if (packet.password !== undefined) {
				// [MQTT-3.1.2-22] no password without a user name.
				if (packet.username === undefined || packet.password.length > MAX_FIELD) return MALFORMED;
				length += 2 + packet.password.length;
			}
			return length;
		}
		case PUBLISH: {
			const topic = fieldLength(packet.topic);
			return topic < 0 ? topic : 2 + topic + (packet.qos ? 2 : 0) + packet.payload.length;
		}
		case SUBSCRIBE:
		case UNSUBSCRIBE: {
			// [MQTT-3.8.3-3], [MQTT-3.10.3-2]: at least one filter; one requested QoS per filter.
			if (!packet.filters.length || (packet.type === SUBSCRIBE && packet.qos.length !== packet.filters.length)) return MALFORMED;
			let length = 2;
			for (const filter of packet.filters) {
				const field = fieldLength(filter);
				if (field < 0) return field;
				length += 2 + field + (packet.type === SUBSCRIBE ? 1 : 0);
			}
			return length;
		}
		case SUBACK:
			return 2 + packet.codes.length;
		case CONNACK:
		case PUBACK:
		case PUBREC:
		case PUBREL:
		case PUBCOMP:
		case UNSUBACK:
			return 2;
		case PINGREQ:
		case PINGRESP:
		case DISCONNECT:
			return 0;
	}
}

/** Size of `packet` once encoded, or a CodecError. */
export function encodedLength(packet: Packet): number {
	const remaining = remainingLength(packet);
	return remaining < 0 ? remaining : frameLength(remaining);
}

/** Encodes any packet into `bytes` at `offset`; returns the offset after it, or a CodecError. */
export function encodeInto(packet: Packet, bytes: Uint8Array, offset: number): number {
	if (packet.type === PUBLISH) {
		// encodePublish sizes and bounds-checks the frame itself: the topic is measured once.
		const { topic, payload } = packet;
		const topicLength = fieldLength(topic);
		if (topicLength < 0) return topicLength;
		return encodePublish(bytes, offset, topic, topicLength, payload, payload.length, packet.qos, packet.retain, packet.dup, packet.id);
	}
	const remaining = remainingLength(packet);
	if (remaining < 0) return remaining;
	const total = frameLength(remaining);
	if (total < 0) return total;
	if (offset + total > bytes.length) return BUFFER_TOO_SHORT;
	switch (packet.type) {
		case PUBACK:
		case PUBREC:
		case PUBREL:
		case PUBCOMP:
		case UNSUBACK:
			return encodeAck(bytes, offset, packet.type, packet.id);
		case PINGREQ:
		case PINGRESP:
		case DISCONNECT:
			bytes[offset] = packet.type << 4;
			bytes[offset + 1] = 0;
			return offset + 2;
		case CONNACK:
			bytes[offset] = CONNACK << 4;
			bytes[offset + 1] = 2;
			bytes[offset + 2] = packet.sessionPresent ? 1 : 0;
			bytes[offset + 3] = packet.returnCode;
			return offset + 4;
		case CONNECT: {
			const { will, username, password } = packet;
			bytes[offset] = CONNECT << 4;
			offset = writeString(bytes, writeVarint(bytes, offset + 1, remaining), "MQTT", 4);
			bytes[offset++] = 4; // protocol level 4 = 3.1.1
			bytes[offset++] = (username !== undefined ? 0x80 : 0) | (password !== undefined ? 0x40 : 0)
				| (will ? (will.retain ? 0x20 : 0) | (will.qos << 3) | 0x04 : 0) | (packet.clean ? 0x02 : 0);
			offset = writeU16(bytes, offset, packet.keepalive);
			offset = writeString(bytes, offset, packet.clientId, utf8Length(packet.clientId));
			if (will) {
				offset = writeString(bytes, offset, will.topic, utf8Length(will.topic));
				const { payload } = will;
				offset = typeof payload === "string" ? writeString(bytes, offset, payload, utf8Length(payload)) : writeBinary(bytes, offset, payload);
			}
			if (username !== undefined) offset = writeString(bytes, offset, username, utf8Length(username));
			if (password !== undefined) offset = writeBinary(bytes, offset, password);
			return offset;
		}
		case SUBSCRIBE:
		case UNSUBSCRIBE: {
			bytes[offset] = (packet.type << 4) | 2;
			offset = writeU16(bytes, writeVarint(bytes, offset + 1, remaining), packet.id);
			const { filters } = packet;
			for (let i = 0; i < filters.length; i++) {
				offset = writeString(bytes, offset, filters[i], utf8Length(filters[i]));
				if (packet.type === SUBSCRIBE) bytes[offset++] = packet.qos[i];
			}
			return offset;
		}
		case SUBACK:
			bytes[offset] = SUBACK << 4;
			offset = writeU16(bytes, writeVarint(bytes, offset + 1, remaining), packet.id);
			for (const code of packet.codes) bytes[offset++] = code;
			return offset;
	}
}

/** `packet` as a new exact-size array, or a CodecError. */
export function encode(packet: Packet): Uint8Array | CodecError {
	if (packet.type === PUBLISH) {
		// The common case, without measuring the topic twice.
		const { topic, payload } = packet;
		const topicLength = fieldLength(topic);
		if (topicLength < 0) return topicLength as CodecError;
		const length = publishLength(topicLength, payload.length, packet.qos);
		if (length < 0) return length as CodecError;
		const bytes = new Uint8Array(length);
		encodePublish(bytes, 0, topic, topicLength, payload, payload.length, packet.qos, packet.retain, packet.dup, packet.id);
		return bytes;
	}
	const length = encodedLength(packet);
	if (length < 0) return length as CodecError;
	const bytes = new Uint8Array(length);
	encodeInto(packet, bytes, 0);
	return bytes;
}
