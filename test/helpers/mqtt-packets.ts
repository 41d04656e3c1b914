/*
 * Byte helpers for MQTT tests: hex in and out, whole-stream decoding through the real FrameReader, and
 * builders for the packets a scripted broker sends or expects. The builders use the codec's encoder,
 * which test/mqtt/codec.test.ts pins to literal bytes.
 */
import { decodeFromBroker, decodeFromClient } from "../../src/mqtt/codec/decode";
import { encode } from "../../src/mqtt/codec/encode";
import { FrameReader, NEED_MORE, OVERSIZE } from "../../src/mqtt/codec/frame-reader";
import {
	CONNACK, DISCONNECT, PINGREQ, PINGRESP, PUBACK, PUBLISH, SUBACK, SUBSCRIBE, UNSUBACK, UNSUBSCRIBE,
} from "../../src/mqtt/codec/packets";
import type { Packet, QoS } from "../../src/mqtt/codec/packets";

/** "10 0d 00 04" (spaces and line breaks ignored) -> bytes. */
export function hex(text: string): Uint8Array {
	const digits = text.replace(/\s+/g, "");
	if (digits.length % 2) throw new Error(`odd hex: ${text}`);
	const bytes = new Uint8Array(digits.length / 2);
	for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(digits.slice(2 * i, 2 * i + 2), 16);
	return bytes;
}

export function toHex(bytes: Uint8Array): string {
	return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join(" ");
}

export function ascii(text: string): Uint8Array {
	return Uint8Array.from(text, (c) => c.charCodeAt(0));
}

function bytesOf(packet: Packet): Uint8Array {
	const bytes = encode(packet);
	if (typeof bytes === "number") throw new Error(`cannot encode ${JSON.stringify(packet)}: ${bytes}`);
	return bytes;
}

export function connack(returnCode = 0, sessionPresent = false): Uint8Array {
	return bytesOf({ type: CONNACK, sessionPresent, returnCode });
}

export function puback(id: number): Uint8Array {
	return bytesOf({ type: PUBACK, id });
}

export function suback(id: number, ...codes: number[]): Uint8Array {
	return bytesOf({ type: SUBACK, id, codes });
}

export function unsuback(id: number): Uint8Array {
	return bytesOf({ type: UNSUBACK, id });
}

export function pingreq(): Uint8Array {
	return bytesOf({ type: PINGREQ });
}

export function pingresp(): Uint8Array {
	return bytesOf({ type: PINGRESP });
}

export function disconnect(): Uint8Array {
	return bytesOf({ type: DISCONNECT });
}

export function subscribe(id: number, filter: string, qos: QoS): Uint8Array {
	return bytesOf({ type: SUBSCRIBE, id, filters: [filter], qos: [qos] });
}

export function unsubscribe(id: number, filter: string): Uint8Array {
	return bytesOf({ type: UNSUBSCRIBE, id, filters: [filter] });
}

export interface PublishFields {
	topic: string;
	payload?: Uint8Array | string;
	qos?: QoS;
	retain?: boolean;
	dup?: boolean;
	id?: number;
}

export function publish(fields: PublishFields): Uint8Array {
	const payload = typeof fields.payload === "string" ? ascii(fields.payload) : fields.payload ?? new Uint8Array(0);
	return bytesOf({
		type: PUBLISH, topic: fields.topic, payload, qos: fields.qos ?? 0, retain: fields.retain ?? false,
		dup: fields.dup ?? false, id: fields.id ?? 0,
	});
}

export function concat(...parts: Uint8Array[]): Uint8Array {
	const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
	let offset = 0;
	for (const part of parts) {
		out.set(part, offset);
		offset += part.length;
	}
	return out;
}

/** What decoding a stream produced: packets (payloads copied), error codes, and OVERSIZE markers. */
export type Decoded = Packet | number | { oversize: Packet | number; length: number };

/**
 * Feeds `chunks` through one FrameReader and decodes every frame in the given direction; stops at the
 * first reader error (which is recorded).
 */
export function decodeStream(chunks: Uint8Array[], from: "broker" | "client", maxPacket = 4096): Decoded[] {
	const reader = new FrameReader(maxPacket);
	const decode = from === "broker" ? decodeFromBroker : decodeFromClient;
	const out: Decoded[] = [];
	for (const chunk of chunks) {
		reader.push(chunk);
		for (;;) {
			const result = reader.next();
			if (result === NEED_MORE) break;
			if (result < 0) {
				out.push(result);
				return out;
			}
			const packet = decode(reader.header, reader.bytes, reader.start, reader.end);
			// Copy views, so the packets stand apart from the chunks they were read from.
			const copied = typeof packet === "number" ? packet : structuredClone(packet);
			out.push(result === OVERSIZE ? { oversize: copied, length: reader.length } : copied);
		}
	}
	return out;
}
