/*
 * A broker in memory, for measuring the firmware alone: a TCP `io` class whose far end accepts every
 * CONNECT, grants every SUBSCRIBE, acknowledges every QoS 1 PUBLISH and answers PINGREQ, all through 0 ms
 * timers on the given clock (callbacks never run inside the call that caused them, as on the device). With
 * a VirtualClock, a reading cycle runs to its PUBACK inside one `advance`, with no event loop and no
 * sockets in the figures. Answers are built in reused buffers; each read() returns a new ArrayBuffer, as a
 * device socket's read does.
 */
import type { Clock, Tcp, TcpConstructor, TcpOptions, TimerId } from "../src/io";
import { encodeAck } from "../src/mqtt/codec/encode";
import { FrameReader, NEED_MORE } from "../src/mqtt/codec/frame-reader";
import { CONNACK, CONNECT, PINGREQ, PINGRESP, PUBACK, PUBLISH, SUBACK, SUBSCRIBE, UNSUBACK, UNSUBSCRIBE } from "../src/mqtt/codec/packets";

/** ESP32's lwIP send buffer, as hosts/node/tcp.ts announces it. */
const SEND_BUFFER = 5744;

export function loopbackBroker(clock: Clock): TcpConstructor {
	return class LoopbackTcp implements Tcp {
		readonly #options: TcpOptions;
		readonly #reader = new FrameReader(4096);
		#reply = new Uint8Array(256);
		#replyLength = 0;
		#readable: TimerId | undefined;
		#writable: TimerId | undefined;
		#closed = false;

		constructor(options: TcpOptions) {
			this.#options = options;
			this.#writable = clock.set(() => this.#announce(), 0);
		}

		read(byteLength = this.#replyLength): ArrayBuffer | undefined {
			if (!this.#replyLength) return undefined;
			const bytes = this.#reply.slice(0, byteLength);
			this.#reply.copyWithin(0, byteLength, this.#replyLength);
			this.#replyLength -= byteLength;
			return bytes.buffer;
		}

		write(data: Uint8Array): void {
			if (this.#closed) throw new Error("closed");
			const reader = this.#reader;
			reader.push(data);
			for (let result = reader.next(); result !== NEED_MORE; result = reader.next()) {
				if (result < 0) throw new Error(`the loopback broker cannot parse what the client wrote (${result})`);
				this.#answer(reader.header, reader.bytes, reader.start);
			}
			this.#writable ??= clock.set(() => this.#announce(), 0);
		}

		close(): void {
			this.#closed = true;
			clock.clear(this.#readable);
			clock.clear(this.#writable);
		}

		#announce(): void {
			this.#writable = undefined;
			if (!this.#closed) this.#options.onWritable?.call(this, SEND_BUFFER);
		}

		#answer(header: number, body: Uint8Array, start: number): void {
			const type = header >> 4;
			const id = (body[start] << 8) | body[start + 1];
			switch (type) {
				case CONNECT: return this.#send(CONNACK << 4, 0, 0);
				case SUBSCRIBE: return this.#suback(id);
				case UNSUBSCRIBE: return this.#ack(UNSUBACK, id);
				case PINGREQ: return this.#send(PINGRESP << 4, -1, 0);
				case PUBLISH: {
					if (!(header & 0x06)) return;
					const topicEnd = start + 2 + id;
					return this.#ack(PUBACK, (body[topicEnd] << 8) | body[topicEnd + 1]);
				}
			}
		}

		#room(bytes: number): number {
			if (this.#replyLength + bytes > this.#reply.length) {
				const larger = new Uint8Array(2 * (this.#replyLength + bytes));
				larger.set(this.#reply.subarray(0, this.#replyLength));
				this.#reply = larger;
			}
			const at = this.#replyLength;
			this.#replyLength += bytes;
			this.#readable ??= clock.set(() => this.#deliver(), 0);
			return at;
		}

		/** A 2-byte packet, or with `second` >= 0 a 4-byte one whose body is [second, third]. */
		#send(first: number, second: number, third: number): void {
			const at = this.#room(second < 0 ? 2 : 4);
			this.#reply[at] = first;
			this.#reply[at + 1] = second < 0 ? 0 : 2;
			if (second >= 0) {
				this.#reply[at + 2] = second;
				this.#reply[at + 3] = third;
			}
		}

		#ack(type: number, id: number): void {
			encodeAck(this.#reply, this.#room(4), type, id);
		}

		/** Grants QoS 1 to the one filter the client puts in each SUBSCRIBE. */
		#suback(id: number): void {
			const at = this.#room(5);
			this.#reply.set([SUBACK << 4, 3, id >> 8, id & 0xff, 1], at);
		}

		#deliver(): void {
			this.#readable = undefined;
			if (!this.#closed && this.#replyLength) this.#options.onReadable?.call(this, this.#replyLength);
		}
	};
}
