/*
 * A Node stand-in for ECMA-419's `embedded:io/socket/tcp` that keeps the device's limits:
 *
 * - the constructor takes an IP address only (names are resolved outside the socket, as on the device);
 * - the connection is reported by the first `onWritable(bytes)`, with the free send-buffer space;
 * - `write` throws when given more than the space announced by `onWritable`, less what was written since,
 *   and space comes back only as the peer drains it (like lwIP's send buffer, 5744 bytes on ESP32);
 * - received bytes wait in a bounded buffer; when it is full the socket stops reading, so a slow reader
 *   pushes back on the peer instead of growing memory; `read(byteLength)` takes part of them, and throws
 *   when asked for more than is waiting, as the SDK's does;
 * - a refused connect, a reset and a clean remote close all reach `onError`, once, with the cause when
 *   there is one (an extension: ECMA-419 passes none, and a board's log just says "connection lost");
 *   nothing is called after `close()`, which is idempotent;
 * - callbacks run later on the event loop, never from inside the call that caused them, with `this` set
 *   to the socket;
 * - the writes of one event-loop turn reach the kernel together (one writev), as lwIP queues tcp_write()
 *   calls and sends them with one tcp_output(): a system call per packet would make the desktop host,
 *   not the firmware, the cost in every benchmark.
 */
import net from "node:net";
import type { Tcp, TcpConstructor, TcpOptions } from "../../src/io";

/** Opens the Node socket for one stand-in socket; `connected` is the event that means "ready to write". */
export interface Opener {
	open(options: TcpOptions): net.Socket;
	readonly connected: "connect" | "secureConnect";
	/** Checks a just-connected socket; an Error here fails it as a connect failure would. */
	check?(socket: net.Socket, options: TcpOptions): Error | undefined;
}

const PLAIN: Opener = Object.freeze({
	open: (options: TcpOptions) => net.connect({ host: options.address, port: options.port, noDelay: options.nodelay ?? false }),
	connected: "connect" as const,
});

export interface TcpLimits {
	/** Send-buffer bytes: lwIP's TCP_SND_BUF (ESP32 default 4 x 1436). */
	sendBuffer?: number;
	/** Receive bytes held before the socket stops reading: lwIP's TCP_WND (ESP32 default 5744). */
	receiveBuffer?: number;
}

export const ESP32_TCP_LIMITS = Object.freeze({ sendBuffer: 5744, receiveBuffer: 5744 });
export const ESP8266_TCP_LIMITS = Object.freeze({ sendBuffer: 2920, receiveBuffer: 5840 });

/** Makes a TCP `io` class with the given buffer limits. */
export function makeTcpClass(limits: TcpLimits = ESP32_TCP_LIMITS): TcpConstructor {
	return makeSocketClass(PLAIN, limits);
}

/** The device-faithful socket over whatever `opener` connects: plain TCP here, TLS in ./tls. */
export function makeSocketClass(opener: Opener, limits: TcpLimits): TcpConstructor {
	const sendBuffer = limits.sendBuffer ?? ESP32_TCP_LIMITS.sendBuffer;
	const receiveBuffer = limits.receiveBuffer ?? ESP32_TCP_LIMITS.receiveBuffer;

	return class NodeTcp implements Tcp {
		readonly #options: TcpOptions;
		readonly #socket: net.Socket;
		#received: Buffer[] = [];
		#receivedBytes = 0;
		#writable = 0;
		#inFlight = 0;
		#connected = false;
		#dead = false;
		#closed = false;
		#corked = false;
		#announcing = false;
		/** Lengths of the writes Node has not completed yet, oldest first. */
		readonly #lengths: number[] = [];

		constructor(options: TcpOptions) {
			if (net.isIP(options.address) === 0) throw new RangeError(`invalid address: ${options.address}`);
			if (!Number.isInteger(options.port) || options.port < 1 || options.port > 65535) throw new RangeError("invalid port");
			this.#options = options;
			const socket = this.#socket = opener.open(options);
			socket.on(opener.connected, () => {
				const problem = opener.check?.(socket, options);
				if (problem) {
					socket.destroy(problem);
					return;
				}
				this.#connected = true;
				this.#writable = sendBuffer;
				this.#options.onWritable?.call(this, this.#writable);
			});
			socket.on("data", (chunk) => this.#onData(chunk));
			socket.on("end", () => this.#fail());
			socket.on("close", () => this.#fail());
			// "error" comes before "close": the cause is kept, and the close after it changes nothing.
			socket.on("error", (error) => this.#fail(error));
		}

		read(byteLength = this.#receivedBytes): ArrayBuffer | undefined {
			this.#checkOpen();
			if (!this.#receivedBytes) return undefined;
			// As the SDK's tcp.c: a count past what is waiting is the caller's error, not a short read.
			if (!(byteLength > 0 && byteLength <= this.#receivedBytes)) throw new RangeError("invalid");
			const bytes = new Uint8Array(byteLength);
			let offset = 0;
			while (offset < byteLength) {
				const chunk = this.#received[0];
				const take = Math.min(chunk.length, byteLength - offset);
				bytes.set(chunk.subarray(0, take), offset);
				offset += take;
				if (take === chunk.length) this.#received.shift();
				else this.#received[0] = chunk.subarray(take);
			}
			this.#receivedBytes -= byteLength;
			if (this.#socket.isPaused() && !this.#dead && this.#receivedBytes < receiveBuffer) this.#socket.resume();
			return bytes.buffer;
		}

		write(data: Uint8Array): void {
			this.#checkOpen();
			if (!this.#connected || this.#dead) throw new Error("not connected");
			const length = data.byteLength;
			if (length > this.#writable) throw new Error(`write of ${length} bytes exceeds the ${this.#writable} writable`);
			this.#writable -= length;
			this.#inFlight += length;
			if (!this.#corked) {
				this.#corked = true;
				this.#socket.cork();
				process.nextTick(this.#uncork);
			}
			// Copy: the caller may reuse its buffer as soon as write returns, as on the device.
			this.#lengths.push(length);
			this.#socket.write(Buffer.from(data), this.#written);
		}

		/** Node completes writes in order: each completion frees the oldest write's bytes. */
		readonly #written = (): void => {
			this.#inFlight -= this.#lengths.shift()!;
			if (this.#closed || this.#dead) return;
			this.#writable = sendBuffer - this.#inFlight;
			// One announcement for all the writes completed in this turn, like an ACK covering several segments.
			if (!this.#announcing) {
				this.#announcing = true;
				process.nextTick(this.#announce);
			}
		};

		readonly #announce = (): void => {
			this.#announcing = false;
			if (!this.#closed && !this.#dead) this.#options.onWritable?.call(this, this.#writable);
		};

		close(): void {
			if (this.#closed) return;
			this.#closed = true;
			// Like lwIP's tcp_close: what was written still goes out (a DISCONNECT, the last PUBACKs), then the
			// FIN. destroy() at once would discard what Node still buffers while the peer is slow to read.
			this.#uncork();
			this.#socket.end(() => this.#socket.destroy());
			this.#received = [];
			this.#receivedBytes = 0;
		}

		readonly #uncork = (): void => {
			if (!this.#corked) return;
			this.#corked = false;
			this.#socket.uncork();
		};

		#onData(chunk: Buffer): void {
			if (this.#closed) return;
			this.#received.push(chunk);
			this.#receivedBytes += chunk.length;
			if (this.#receivedBytes >= receiveBuffer) this.#socket.pause();
			this.#options.onReadable?.call(this, this.#receivedBytes);
		}

		#fail(cause?: Error): void {
			if (this.#dead) return;
			this.#dead = true;
			if (!this.#closed) this.#options.onError?.call(this, cause);
		}

		#checkOpen(): void {
			if (this.#closed) throw new Error("closed");
		}
	};
}

/** The TCP `io` class with ESP32's buffer sizes. */
export const TCP: TcpConstructor = makeTcpClass();
