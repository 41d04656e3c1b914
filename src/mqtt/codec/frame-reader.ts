/*
 * Cuts a TCP byte stream into whole MQTT frames. Chunks may be split or merged at any boundary; the
 * remaining length is known within 5 bytes of the frame's start, and a frame larger than `maxPacket` is
 * refused before its body is read, so the reader never holds more than `maxPacket` bytes.
 *
 * One exception to refusing: an oversize PUBLISH is not an error, because a retained one would come back
 * on every reconnect. Its topic and packet identifier are kept, the rest of its body is skipped as it
 * streams past, and it is reported as OVERSIZE once the whole packet has gone by.
 *
 * Pull style, so nothing is called back from inside the reader: `push(chunk)`, then call `next()` until it
 * returns NEED_MORE or an error. A frame that arrived whole inside one chunk is handed out as a view of
 * that chunk (no copy); one that spans chunks is assembled in the reader's own buffer and is valid only
 * until the next call to `next()`.
 */
import { PACKET_TOO_LARGE, PUBLISH, VARINT_OVERFLOW, MALFORMED } from "./packets";

/** `next()` results; errors are the negative CodecErrors. */
export const NEED_MORE = 0;
/** A whole frame: `header`, body in `bytes[start, end)`. */
export const FRAME = 1;
/** An oversize PUBLISH went by: `header`, its topic and packet identifier in `bytes[start, end)` (a PUBLISH body without payload), `length`. */
export const OVERSIZE = 2;

const HEADER = 0;
const BODY = 1;
const PREFIX = 2;
const SKIP = 3;

export class FrameReader {
	/** First byte of the fixed header of the frame just returned. */
	header = 0;
	bytes: Uint8Array;
	start = 0;
	end = 0;
	/** Size in bytes of the packet just returned, fixed header included. */
	length = 0;

	readonly #buffer: Uint8Array;
	#input: Uint8Array;
	#offset = 0;
	#state = HEADER;
	#headerBytes = 0;
	#remaining = 0;
	#multiplier = 1;
	/** BODY/PREFIX: bytes assembled in #buffer; PREFIX: how many it needs; SKIP: bytes still to skip. */
	#filled = 0;
	#needed = 0;
	#skip = 0;
	#error = 0;

	/** `maxPacket`: the largest packet, fixed header included, that is accepted whole. */
	constructor(maxPacket: number) {
		this.#buffer = new Uint8Array(maxPacket);
		this.bytes = this.#input = this.#buffer.subarray(0, 0);
	}

	/** Bytes held between chunks (never more than maxPacket). */
	get buffered(): number {
		return this.#state === BODY || this.#state === PREFIX ? this.#filled : 0;
	}

	/** Whether the frame just returned was assembled in the reader's buffer (so is overwritten by the next) rather than lying in the pushed chunk. */
	get reassembled(): boolean {
		return this.bytes === this.#buffer;
	}

	/** Hands the reader the next chunk; the previous one must have been read to NEED_MORE (or the reader reset). */
	push(chunk: Uint8Array): void {
		this.#input = chunk;
		this.#offset = 0;
	}

	/** Forgets everything, for a new connection. */
	reset(): void {
		this.bytes = this.#input = this.#buffer.subarray(0, 0);
		this.#offset = 0;
		this.#state = HEADER;
		this.#headerBytes = 0;
		this.#error = 0;
	}

	/** The next frame, NEED_MORE, or a CodecError (VARINT_OVERFLOW, PACKET_TOO_LARGE, MALFORMED), which sticks until reset. */
	next(): number {
		if (this.#error) return this.#error;
		const input = this.#input;
		for (;;) {
			const available = input.length - this.#offset;
			switch (this.#state) {
				case HEADER: {
					if (!available) return NEED_MORE;
					const b = input[this.#offset++];
					if (!this.#headerBytes) {
						this.header = b;
						this.#headerBytes = 1;
						this.#remaining = 0;
						this.#multiplier = 1;
						continue;
					}
					this.#remaining += (b & 0x7f) * this.#multiplier;
					this.#multiplier *= 0x80;
					if (b & 0x80) {
						if (++this.#headerBytes === 5) return this.#error = VARINT_OVERFLOW; // [MQTT-2.2.3] at most 4 bytes
						continue;
					}
					const remaining = this.#remaining;
					const length = this.length = this.#headerBytes + 1 + remaining;
					this.#headerBytes = 0;
					if (length > this.#buffer.length) {
						if (this.header >> 4 !== PUBLISH) return this.#error = PACKET_TOO_LARGE;
						this.#state = PREFIX;
						this.#filled = 0;
						this.#needed = 2;
						continue;
					}
					if (remaining <= input.length - this.#offset) {
						this.bytes = input;
						this.start = this.#offset;
						this.end = this.#offset += remaining;
						return FRAME;
					}
					this.#state = BODY;
					this.#filled = 0;
					continue;
				}
				case BODY: {
					const take = Math.min(available, this.#remaining - this.#filled);
					this.#buffer.set(input.subarray(this.#offset, this.#offset + take), this.#filled);
					this.#offset += take;
					this.#filled += take;
					if (this.#filled < this.#remaining) return NEED_MORE;
					this.#state = HEADER;
					this.bytes = this.#buffer;
					this.start = 0;
					this.end = this.#remaining;
					return FRAME;
				}
				case PREFIX: {
					// Topic length first, then the topic and (QoS > 0) the packet identifier.
					const take = Math.min(available, this.#needed - this.#filled);
					this.#buffer.set(input.subarray(this.#offset, this.#offset + take), this.#filled);
					this.#offset += take;
					this.#filled += take;
					if (this.#filled < this.#needed) return NEED_MORE;
					if (this.#needed === 2) {
						this.#needed = 2 + ((this.#buffer[0] << 8) | this.#buffer[1]) + (this.header & 0x06 ? 2 : 0);
						if (this.#needed > this.#remaining) return this.#error = MALFORMED;
						if (this.#needed > this.#buffer.length) return this.#error = PACKET_TOO_LARGE;
						if (this.#needed > 2) continue;
					}
					this.#state = SKIP;
					this.#skip = this.#remaining - this.#needed;
					continue;
				}
				default: {
					const take = Math.min(available, this.#skip);
					this.#offset += take;
					this.#skip -= take;
					if (this.#skip) return NEED_MORE;
					this.#state = HEADER;
					this.bytes = this.#buffer;
					this.start = 0;
					this.end = this.#needed;
					return OVERSIZE;
				}
			}
		}
	}
}
