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
 * that chunk (no copy); one that spans chunks is assembled in a buffer made for it alone, the frame's
 * exact size, and handed out as it is: nothing else ever writes to it, so a caller may keep a view of it.
 * The reader keeps no buffer of its own between frames (a maxPacket one would be over 1 KB for the life of
 * the client on a 32 KB heap); a large frame needs its buffer only while it is in flight. At NEED_MORE it
 * also lets go of the chunk and the last frame, so they can be collected before the next read.
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
/** An oversize PUBLISH: its topic length, then (PREFIX) its topic and packet identifier, then (SKIP) the rest. */
const TOPIC_LENGTH = 2;
const PREFIX = 3;
const SKIP = 4;

const EMPTY: Uint8Array = new Uint8Array(0);

export class FrameReader {
	/** First byte of the fixed header of the frame just returned. */
	header = 0;
	bytes = EMPTY;
	start = 0;
	end = 0;
	/** Size in bytes of the packet just returned, fixed header included. */
	length = 0;

	readonly #maxPacket: number;
	#input = EMPTY;
	#offset = 0;
	#state = HEADER;
	#headerBytes = 0;
	#remaining = 0;
	#multiplier = 1;
	/** BODY/PREFIX: the frame's own buffer, #filled of its bytes in; TOPIC_LENGTH: bytes of it read; SKIP: bytes still to skip. */
	#frame = EMPTY;
	#filled = 0;
	#needed = 0;
	#skip = 0;
	#error = 0;

	/** `maxPacket`: the largest packet, fixed header included, that is accepted whole. */
	constructor(maxPacket: number) {
		this.#maxPacket = maxPacket;
	}

	/** Bytes held between chunks (never more than maxPacket). */
	get buffered(): number {
		return this.#state === BODY || this.#state === PREFIX ? this.#filled : 0;
	}

	/** Hands the reader the next chunk; the previous one must have been read to NEED_MORE (or the reader reset). */
	push(chunk: Uint8Array): void {
		this.#input = chunk;
		this.#offset = 0;
	}

	/** Forgets everything, for a new connection. */
	reset(): void {
		this.needMore();
		this.#frame = EMPTY;
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
					if (!available) return this.needMore();
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
					if (length > this.#maxPacket) {
						if (this.header >> 4 !== PUBLISH) return this.#error = PACKET_TOO_LARGE;
						this.#state = TOPIC_LENGTH;
						this.#filled = this.#needed = 0;
						continue;
					}
					if (remaining <= input.length - this.#offset) {
						this.bytes = input;
						this.start = this.#offset;
						this.end = this.#offset += remaining;
						return FRAME;
					}
					this.#state = BODY;
					this.begin(remaining);
					continue;
				}
				case BODY: {
					if (!this.fill(input, available)) return this.needMore();
					this.#state = HEADER;
					return this.deliver(FRAME);
				}
				case TOPIC_LENGTH: {
					if (!available) return this.needMore();
					this.#needed = (this.#needed << 8) | input[this.#offset++];
					if (++this.#filled < 2) continue;
					const topicLength = this.#needed;
					// The topic, and (QoS > 0) the packet identifier.
					const needed = 2 + topicLength + (this.header & 0x06 ? 2 : 0);
					if (needed > this.#remaining) return this.#error = MALFORMED;
					if (needed > this.#maxPacket) return this.#error = PACKET_TOO_LARGE;
					this.#state = PREFIX;
					this.begin(needed);
					this.#frame[0] = topicLength >> 8;
					this.#frame[1] = topicLength & 0xff;
					this.#filled = 2;
					continue;
				}
				case PREFIX: {
					if (!this.fill(input, available)) return this.needMore();
					this.#state = SKIP;
					this.#skip = this.#remaining - this.#frame.length;
					continue;
				}
				default: {
					const take = Math.min(available, this.#skip);
					this.#offset += take;
					this.#skip -= take;
					if (this.#skip) return this.needMore();
					this.#state = HEADER;
					return this.deliver(OVERSIZE);
				}
			}
		}
	}

	/** Makes the buffer a frame (or an oversize PUBLISH's head) of `size` bytes is assembled in. */
	private begin(size: number): void {
		this.#frame = new Uint8Array(size);
		this.#filled = 0;
	}

	/** Copies what `input` has of the frame being assembled; true once it is whole. */
	private fill(input: Uint8Array, available: number): boolean {
		const frame = this.#frame;
		const take = Math.min(available, frame.length - this.#filled);
		frame.set(input.subarray(this.#offset, this.#offset + take), this.#filled);
		this.#offset += take;
		this.#filled += take;
		return this.#filled === frame.length;
	}

	/** Hands out the frame just assembled; the reader lets go of it, and never writes to it again. */
	private deliver(result: number): number {
		this.bytes = this.#frame;
		this.start = 0;
		this.end = this.#frame.length;
		this.#frame = EMPTY;
		return result;
	}

	/** Everything pushed has been read: lets go of the chunk and of the last frame handed out. */
	private needMore(): number {
		this.bytes = this.#input = EMPTY;
		this.#offset = 0;
		return NEED_MORE;
	}
}
