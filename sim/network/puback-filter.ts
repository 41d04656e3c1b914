/*
 * Follows the broker -> client byte stream of one connection frame by frame (src/mqtt/codec's FrameReader)
 * and can leave PUBACK packets out of it, as a link that loses them would. Everything else goes through
 * unchanged, split or merged at other boundaries than it came, which TCP allows.
 *
 * A frame is held only while it is incomplete, so at most `maxPacket` bytes. A PUBLISH larger than that
 * cannot be passed on (the reader skips its body): the stream is then declared broken, and the proxy
 * closes the connection rather than corrupt it.
 */
import { varintLength, writeVarint } from "../../src/mqtt/codec/encode";
import { FRAME, FrameReader, NEED_MORE } from "../../src/mqtt/codec/frame-reader";
import { PUBACK } from "../../src/mqtt/codec/packets";

export class PubackFilter {
	/** Whether PUBACKs are being left out now. */
	swallow = false;
	/** PUBACKs left out so far. */
	swallowed = 0;
	readonly #reader: FrameReader;

	constructor(maxPacket = 65_536) {
		this.#reader = new FrameReader(maxPacket);
	}

	/** The bytes to pass on for `chunk` (possibly none), or undefined when the stream cannot be followed. */
	filter(chunk: Uint8Array): Uint8Array | undefined {
		const reader = this.#reader;
		reader.push(chunk);
		const frames: Uint8Array[] = [];
		let length = 0;
		for (;;) {
			const result = reader.next();
			if (result === NEED_MORE) break;
			if (result !== FRAME) return undefined;
			if (this.swallow && reader.header >> 4 === PUBACK) {
				this.swallowed++;
				continue;
			}
			const body = reader.end - reader.start;
			const frame = new Uint8Array(1 + varintLength(body) + body);
			frame[0] = reader.header;
			frame.set(reader.bytes.subarray(reader.start, reader.end), writeVarint(frame, 1, body));
			frames.push(frame);
			length += frame.length;
		}
		if (frames.length === 1) return frames[0];
		const out = new Uint8Array(length);
		let offset = 0;
		for (const frame of frames) {
			out.set(frame, offset);
			offset += frame.length;
		}
		return out;
	}
}
