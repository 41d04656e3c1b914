/*
 * Drives an @agoric/xsnap worker binary directly (its JS API needs SES, which would lock down the whole
 * Node realm). The protocol: netstrings (`<length>:<bytes>,`) on fd 3 (to XS) and fd 4 (from XS).
 *   to XS:   `e<script>` evaluates a script; `?<bytes>` calls the XS global handleCommand(ArrayBuffer).
 *   from XS: `.<meter json>\x01<reply>` ends a crank; `!<message>` ends it with an error;
 *            `?<bytes>` is XS calling issueCommand(ArrayBuffer), blocked until we answer `/<bytes>`.
 * One crank runs at a time: evaluations and deliveries wait in a queue.
 */
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import type { Readable, Writable } from "node:stream";

/** The stock worker, built by @agoric/xsnap's install script. */
export const STOCK_WORKER = path.resolve(import.meta.dirname, "../../../node_modules/@agoric/xsnap/xsnap-native/xsnap/build/bin/lin/release/xsnap-worker");

/** What the worker reports at the end of each crank. */
export interface Meter {
	/** Live slots. */
	currentHeapCount: number;
	/** Computrons this crank. */
	compute: number;
	/** Bytes of arena the worker has reserved. */
	allocate: number;
}

export interface Crank {
	reply: Uint8Array;
	meter: Meter;
}

export interface XsWorkerOptions {
	binary?: string;
	/** Computrons one crank may take before the worker gives up (a guard against endless loops). */
	meterLimit?: number;
	/** Answers XS's issueCommand; runs synchronously while XS waits. */
	onRequest(message: Uint8Array): Uint8Array;
	/** What XS prints (its `print`) and the worker's own diagnostics. */
	onOutput?(text: string): void;
}

interface Pending {
	message: Buffer;
	resolve(crank: Crank): void;
	reject(error: Error): void;
}

export class XsWorker {
	readonly #child: ChildProcess;
	readonly #toXs: Writable;
	readonly #onRequest: (message: Uint8Array) => Uint8Array;
	readonly #queue: Pending[] = [];
	readonly #exited: Promise<void>;
	#received: Buffer = Buffer.alloc(0);
	#running: Pending | undefined;
	#stderr = "";
	#dead: Error | undefined;

	constructor(options: XsWorkerOptions) {
		this.#onRequest = options.onRequest;
		const binary = options.binary ?? STOCK_WORKER;
		this.#child = spawn(binary, ["xs", "-l", String(options.meterLimit ?? 1e9)], { stdio: ["ignore", "pipe", "pipe", "pipe", "pipe"] });
		this.#toXs = this.#child.stdio[3] as Writable;
		const fromXs = this.#child.stdio[4] as Readable;
		fromXs.on("data", (chunk: Buffer) => this.#onData(chunk));
		const output = (chunk: Buffer) => options.onOutput?.(chunk.toString());
		this.#child.stdout!.on("data", output);
		this.#child.stderr!.on("data", (chunk: Buffer) => {
			// The end is what explains a death; keep that much.
			this.#stderr = (this.#stderr + chunk.toString()).slice(-8192);
			output(chunk);
		});
		// A write to a worker that just died fails here; the exit handler reports it.
		this.#toXs.on("error", () => {});
		this.#exited = new Promise((resolve) => {
			this.#child.once("error", (error) => {
				this.#die(new Error(`cannot run the XS worker ${binary}: ${error.message}`));
				resolve();
			});
			this.#child.once("exit", (code, signal) => {
				this.#die(new Error(`the XS worker exited (${signal ?? `code ${code}`})${this.#stderr ? `:\n${this.#stderr}` : ""}`));
				resolve();
			});
		});
	}

	/** Evaluates a script in XS's global scope. */
	evaluate(script: string): Promise<Crank> {
		return this.#enqueue(Buffer.concat([Buffer.from("e"), Buffer.from(script)]));
	}

	/** Hands `message` to XS's handleCommand; resolves with its answer. */
	deliver(message: Uint8Array): Promise<Crank> {
		return this.#enqueue(Buffer.concat([Buffer.from("?"), message]));
	}

	/** Ends the worker; pending cranks fail. */
	async close(): Promise<void> {
		if (this.#child.exitCode === null && this.#child.signalCode === null) this.#child.kill();
		await this.#exited;
	}

	#enqueue(message: Buffer): Promise<Crank> {
		if (this.#dead) return Promise.reject(this.#dead);
		return new Promise((resolve, reject) => {
			this.#queue.push({ message, resolve, reject });
			this.#next();
		});
	}

	#next(): void {
		if (this.#running || this.#dead) return;
		const pending = this.#queue.shift();
		if (!pending) return;
		this.#running = pending;
		this.#send(pending.message);
	}

	#send(message: Uint8Array): void {
		this.#toXs.write(Buffer.concat([Buffer.from(`${message.length}:`), message, Buffer.from(",")]));
	}

	#onData(chunk: Buffer): void {
		this.#received = this.#received.length ? Buffer.concat([this.#received, chunk]) : chunk;
		for (;;) {
			const colon = this.#received.indexOf(0x3a);
			if (colon < 0) return;
			const length = Number(this.#received.subarray(0, colon).toString());
			const end = colon + 1 + length;
			if (this.#received.length < end + 1) return;
			const message = this.#received.subarray(colon + 1, end);
			this.#received = this.#received.subarray(end + 1);
			this.#onMessage(message);
		}
	}

	#onMessage(message: Buffer): void {
		const kind = String.fromCharCode(message[0]);
		if (kind === "?") {
			let reply: Uint8Array;
			try {
				reply = this.#onRequest(message.subarray(1));
			}
			catch (error) {
				// XS is blocked in issueCommand and cannot be told why: end it, and say why here.
				this.#die(new Error(`the Node side failed to answer a request: ${(error as Error).stack}`));
				this.#child.kill();
				return;
			}
			this.#send(Buffer.concat([Buffer.from("/"), reply]));
			return;
		}
		const running = this.#running;
		this.#running = undefined;
		if (!running) {
			this.#die(new Error(`the XS worker answered "${kind}" with no crank running`));
			return;
		}
		if (kind === ".") {
			const separator = message.indexOf(1);
			const meter = JSON.parse(message.subarray(1, separator).toString()) as Meter;
			running.resolve({ reply: message.subarray(separator + 1), meter });
		}
		else running.reject(new Error(`XS: ${message.subarray(1).toString()}`));
		this.#next();
	}

	#die(error: Error): void {
		if (this.#dead) return;
		this.#dead = error;
		this.#running?.reject(error);
		this.#running = undefined;
		for (const pending of this.#queue.splice(0)) pending.reject(error);
	}
}
