/*
 * Boots the firmware in the real XS engine: bundles it with the XS host binding, starts an xsnap worker,
 * and serves the bridge (hosts/xs/protocol.ts) with the Node host's stand-ins: sockets from
 * hosts/node/tcp.ts (so an XS socket keeps the device's write budget and error rules), timers on the
 * real clock, name resolution, Preference storage with the device's limits, and the log.
 *
 *	const xs = await bootInXs({ broker, id: "xs-1", settings: { interval: 1 } });
 *	await xs.until((status) => status.published >= 2, "two readings");
 *	await xs.close();
 */
import fs from "node:fs";
import { bundleFirmware, type FirmwareBundle } from "./bundle";
import { STOCK_WORKER, XsWorker, type Crank } from "./worker";
import { RealClock } from "../../node/clock";
import { resolver } from "../../node/dns";
import type { SimulatedFlash } from "../../node/flash";
import { PreferenceStore } from "../../node/store";
import { TCP } from "../../node/tcp";
import { EVENT, LOG_LEVELS, REQUEST, Reader, STATUS_FIELDS, Writer, readValue, writeOutcome, writeValue, type BootOptions, type XsMemory, type XsStatus } from "../protocol";
import type { Segment } from "../segments";
import type { Settings } from "../../../src/app/settings";
import type { Log, Tcp, TcpConstructor, TimerId } from "../../../src/io";
import type { EnvironmentOptions } from "../../../sim/environment";
import type { SimulatedChip } from "../../../sim/sensors/board";

export interface XsBootOptions {
	broker: { host: string; port: number };
	id: string;
	/** The simulated chip on the board (default SHT3x). */
	chip?: SimulatedChip;
	root?: string;
	settings?: Settings;
	/** MqttClient tuning, as SensorNode takes it; plain data only (it crosses into XS as JSON). */
	mqtt?: Record<string, unknown>;
	environment?: EnvironmentOptions;
	mac?: string;
	/** The firmware: bundleFirmware() by default. */
	bundle?: FirmwareBundle;
	/** The worker binary: the stock one by default, or memoryWorker() for memory figures. */
	binary?: string;
	/** Where the node's log lines go, besides `logs`. */
	log?: Log;
	store?: PreferenceStore;
	/** The node's flash region (shared with an earlier incarnation, to simulate a reboot); none when omitted. */
	flash?: SimulatedFlash;
	/** The socket class on the Node side (default: ESP32 buffer sizes). */
	tcp?: TcpConstructor;
	/** What the node's board.restart() does (default: a warning in the log). */
	onRestart?: () => void;
}

/** The heap at two moments before boot (after a collection each), from the memory-probe worker. */
export interface XsHeapBaseline {
	/** The bare XS realm: built-ins only. */
	realm: XsMemory;
	/** The firmware's modules evaluated, nothing run yet. */
	loaded: XsMemory;
}

export interface XsNode {
	readonly bundle: FirmwareBundle;
	/** null on the stock worker. */
	readonly baseline: XsHeapBaseline | null;
	/** The node's status after the latest crank. */
	readonly status: Readonly<XsStatus>;
	/** Every log line, as "level: message". */
	readonly logs: readonly string[];
	/** Computrons of every crank so far, the bridge's included. */
	readonly computrons: number;
	readonly store: PreferenceStore;
	/** Resolves when `condition` holds after some crank; rejects if the firmware fails first or at the deadline. */
	until(condition: (status: Readonly<XsStatus>) => boolean, what: string, timeoutMs?: number): Promise<Readonly<XsStatus>>;
	/** Runs one reading cycle now (SensorNode.sampleNow); resolves when XS has run it up to its first wait. */
	sample(): Promise<Readonly<XsStatus>>;
	settings(): Promise<Settings>;
	/** The memory-probe worker's figures (after a garbage collection with `collect`); null on the stock worker. */
	memory(options?: { collect?: boolean }): Promise<XsMemory | null>;
	/** Starts cutting the firmware's work into segments at host boundaries (memory-probe worker only). */
	startSegments(): Promise<void>;
	/** Stops, and returns the segments since startSegments(). */
	stopSegments(): Promise<Segment[]>;
	/** SensorNode.stop(): "offline" and DISCONNECT go out. */
	stop(): Promise<void>;
	/** Ends the worker, its sockets and its timers. */
	close(): Promise<void>;
}

interface Waiter {
	condition: (status: Readonly<XsStatus>) => boolean;
	resolve(status: Readonly<XsStatus>): void;
	reject(error: Error): void;
}

export async function bootInXs(options: XsBootOptions): Promise<XsNode> {
	const binary = options.binary ?? STOCK_WORKER;
	if (!fs.existsSync(binary)) throw new Error(`no XS worker at ${binary}: @agoric/xsnap builds it when it is installed (npm ci)`);
	const bundle = options.bundle ?? await bundleFirmware();
	const node = new XsBridgeServer({ ...options, binary }, bundle);
	try {
		await node.start();
	}
	catch (error) {
		await node.close();
		throw error;
	}
	return node;
}

class XsBridgeServer implements XsNode {
	readonly bundle: FirmwareBundle;
	baseline: XsHeapBaseline | null = null;
	readonly logs: string[] = [];
	readonly store: PreferenceStore;
	readonly #options: XsBootOptions;
	readonly #worker: XsWorker;
	readonly #clock = new RealClock();
	readonly #timers = new Map<number, TimerId>();
	readonly #sockets = new Map<number, Tcp>();
	/** Bytes each socket holds unread: the last onReadable count, less what the worker read since. */
	readonly #waiting = new Map<number, number>();
	readonly #tcp: TcpConstructor;
	readonly #events = new Writer();
	readonly #replies = new Writer();
	readonly #waiters = new Set<Waiter>();
	#status = zeroStatus();
	#computrons = 0;
	#failure: Error | undefined;
	#closed = false;

	constructor(options: XsBootOptions, bundle: FirmwareBundle) {
		this.#options = options;
		this.bundle = bundle;
		this.store = options.store ?? new PreferenceStore();
		this.#tcp = options.tcp ?? TCP;
		this.#worker = new XsWorker({ binary: options.binary, onRequest: (message) => this.#serve(new Reader(message)) });
	}

	get status(): Readonly<XsStatus> {
		return this.#status;
	}

	get computrons(): number {
		return this.#computrons;
	}

	async start(): Promise<void> {
		const { broker, settings, chip, id, root, mqtt, environment, mac, flash } = this.#options;
		const realm = await this.#measure();
		this.#account(await this.#worker.evaluate(this.bundle.code));
		const loaded = await this.#measure();
		if (realm && loaded) this.baseline = { realm, loaded };
		const boot: BootOptions = { chip: chip ?? "SHT3x", id, root, settings: { host: broker.host, port: broker.port, ...settings }, mqtt, environment: environment as Record<string, unknown>, mac,
			flash: flash && { byteLength: flash.byteLength, blockSize: flash.blockSize } };
		await this.#send(this.#events.begin(EVENT.boot).bytes(Buffer.from(JSON.stringify(boot))));
	}

	until(condition: (status: Readonly<XsStatus>) => boolean, what: string, timeoutMs = 15_000): Promise<Readonly<XsStatus>> {
		if (this.#failure) return Promise.reject(this.#failure);
		if (condition(this.#status)) return Promise.resolve(this.#status);
		return new Promise((resolve, reject) => {
			const timer = setTimeout(() => {
				this.#waiters.delete(waiter);
				reject(new Error(`timed out waiting for ${what}; status ${JSON.stringify(this.#status)}; log:\n${this.logs.join("\n")}`));
			}, timeoutMs);
			const waiter: Waiter = {
				condition,
				resolve: (status) => {
					clearTimeout(timer);
					resolve(status);
				},
				reject: (error) => {
					clearTimeout(timer);
					reject(error);
				},
			};
			this.#waiters.add(waiter);
		});
	}

	async sample(): Promise<Readonly<XsStatus>> {
		await this.#send(this.#events.begin(EVENT.sample));
		return this.#status;
	}

	async settings(): Promise<Settings> {
		return this.#ask(this.#events.begin(EVENT.settings));
	}

	async memory({ collect = false } = {}): Promise<XsMemory | null> {
		return this.#ask(this.#events.begin(EVENT.memory).u8(collect ? 1 : 0));
	}

	async startSegments(): Promise<void> {
		await this.#send(this.#events.begin(EVENT.segments).u8(1));
	}

	async stopSegments(): Promise<Segment[]> {
		return this.#ask(this.#events.begin(EVENT.segments).u8(0));
	}

	async stop(): Promise<void> {
		await this.#send(this.#events.begin(EVENT.stop));
	}

	async close(): Promise<void> {
		this.#closed = true;
		for (const timer of this.#timers.values()) this.#clock.clear(timer);
		this.#timers.clear();
		for (const socket of this.#sockets.values()) socket.close();
		this.#sockets.clear();
		this.#waiting.clear();
		await this.#worker.close();
		this.#fail(new Error("the XS node was closed"));
	}

	/** Sends an event built in `writer`, which XS answers with the node's status. */
	async #send(writer: Writer): Promise<void> {
		const crank = await this.#worker.deliver(new Uint8Array(writer.finish()));
		this.#account(crank);
		this.#setStatus(crank.reply);
	}

	/** Sends an event that XS answers with JSON. */
	async #ask<T>(writer: Writer): Promise<T> {
		const crank = await this.#worker.deliver(new Uint8Array(writer.finish()));
		this.#account(crank);
		return JSON.parse(Buffer.from(crank.reply).toString()) as T;
	}

	/** An event from the Node side's world (a timer, a socket, a resolver): a failure ends the node. */
	#event(writer: Writer): void {
		if (this.#closed) return;
		this.#send(writer).catch((error: Error) => {
			if (this.#closed) return;
			this.#log("error", error.message);
			this.#fail(error);
		});
	}

	/** The heap after a collection, before the firmware's own handler exists; null on the stock worker. */
	async #measure(): Promise<XsMemory | null> {
		const crank = await this.#worker.evaluate("typeof memory === 'function' ? (gc(), new TextEncoder().encode(JSON.stringify(memory())).buffer) : undefined");
		return crank.reply.length ? JSON.parse(Buffer.from(crank.reply).toString()) : null;
	}

	#account(crank: Crank): void {
		this.#computrons += crank.meter.compute;
	}

	#setStatus(reply: Uint8Array): void {
		const view = new DataView(reply.buffer, reply.byteOffset, reply.byteLength);
		const status = zeroStatus();
		STATUS_FIELDS.forEach((field, i) => status[field] = view.getUint32(i * 4, true));
		this.#status = status;
		for (const waiter of this.#waiters) {
			if (!waiter.condition(status)) continue;
			this.#waiters.delete(waiter);
			waiter.resolve(status);
		}
	}

	#flash(): SimulatedFlash {
		if (!this.#options.flash) throw new Error("this node has no flash");
		return this.#options.flash;
	}

	#fail(error: Error): void {
		this.#failure ??= error;
		for (const waiter of this.#waiters) waiter.reject(error);
		this.#waiters.clear();
	}

	#log(level: (typeof LOG_LEVELS)[number], message: string): void {
		this.logs.push(`${level}: ${message}`);
		this.#options.log?.(level, message);
	}

	/** Answers one request from XS, synchronously (XS is blocked until it has the answer). */
	#serve(request: Reader): Uint8Array {
		const reply = this.#replies;
		const op = request.u8();
		reply.clear();
		switch (op) {
			case REQUEST.timerSet: {
				const id = request.u32();
				const ms = request.f64();
				const fire = () => this.#event(this.#events.begin(EVENT.timer).u32(id));
				if (request.u8()) this.#timers.set(id, this.#clock.repeat(fire, ms));
				else this.#timers.set(id, this.#clock.set(() => {
					this.#timers.delete(id);
					fire();
				}, ms));
				break;
			}
			case REQUEST.timerClear: {
				const id = request.u32();
				this.#clock.clear(this.#timers.get(id));
				this.#timers.delete(id);
				break;
			}
			case REQUEST.tcpOpen:
				this.#open(request.u32(), request.u16(), request.u8() === 1, request.string(), reply);
				break;
			case REQUEST.tcpRead: {
				const id = request.u32();
				// At most what is waiting: the count a readable event carried was taken when it was queued, and the
				// worker may have read some of those bytes since (a device's count is taken as its callback runs).
				const waiting = this.#waiting.get(id) ?? 0;
				const byteLength = Math.min(request.u32() || waiting, waiting);
				const data = byteLength ? this.#sockets.get(id)?.read(byteLength) : undefined;
				if (data) this.#waiting.set(id, waiting - data.byteLength);
				return data ? new Uint8Array(data) : new Uint8Array(0);
			}
			case REQUEST.tcpWrite: {
				const socket = this.#sockets.get(request.u32());
				attempt(reply, () => {
					if (!socket) throw new Error("closed");
					socket.write(request.rest());
				});
				break;
			}
			case REQUEST.tcpClose: {
				const id = request.u32();
				this.#sockets.get(id)?.close();
				this.#sockets.delete(id);
				this.#waiting.delete(id);
				break;
			}
			case REQUEST.resolve: {
				const id = request.u32();
				resolver.resolve({
					host: request.string(),
					onResolved: (_host, address) => this.#event(this.#events.begin(EVENT.resolved).u32(id).string(address)),
					onError: () => this.#event(this.#events.begin(EVENT.unresolved).u32(id)),
				});
				break;
			}
			case REQUEST.storeGet: {
				const domain = request.string();
				const key = request.string();
				let value: ReturnType<PreferenceStore["get"]>;
				if (attempt(reply, () => value = this.store.get(domain, key))) writeValue(reply, value);
				break;
			}
			case REQUEST.storeSet: {
				const domain = request.string();
				const key = request.string();
				const value = readValue(request);
				attempt(reply, () => this.store.set(domain, key, value!));
				break;
			}
			case REQUEST.storeDelete: {
				const domain = request.string();
				const key = request.string();
				attempt(reply, () => this.store.delete(domain, key));
				break;
			}
			case REQUEST.storeKeys: {
				const domain = request.string();
				let keys: string[] = [];
				if (attempt(reply, () => keys = this.store.keys(domain))) {
					reply.u16(keys.length);
					for (const key of keys) reply.string(key);
				}
				break;
			}
			case REQUEST.flashRead: {
				const offset = request.u32();
				const length = request.u32();
				let data: ArrayBuffer | undefined;
				if (attempt(reply, () => data = this.#flash().read(offset, length))) reply.bytes(new Uint8Array(data!));
				break;
			}
			case REQUEST.flashWrite: {
				const offset = request.u32();
				const length = request.u32();
				attempt(reply, () => this.#flash().write(offset, length, request.rest()));
				break;
			}
			case REQUEST.flashErase: {
				const sector = request.u32();
				attempt(reply, () => this.#flash().erase(sector));
				break;
			}
			case REQUEST.log:
				this.#log(LOG_LEVELS[request.u8()] ?? "error", request.string() + request.string());
				break;
			case REQUEST.restart:
				if (this.#options.onRestart) this.#options.onRestart();
				else this.#log("warn", "restart requested: the XS node keeps running");
				break;
			default:
				throw new Error(`unknown request ${op} from XS`);
		}
		return new Uint8Array(reply.finish());
	}

	#open(id: number, port: number, nodelay: boolean, address: string, reply: Writer): void {
		const event = (op: number) => this.#events.begin(op).u32(id);
		attempt(reply, () => {
			this.#sockets.set(id, new this.#tcp({
				address,
				port,
				nodelay,
				onWritable: (bytes) => this.#event(event(EVENT.writable).u32(bytes)),
				onReadable: (bytes) => {
					this.#waiting.set(id, bytes);
					this.#event(event(EVENT.readable).u32(bytes));
				},
				onError: () => this.#event(event(EVENT.tcpError)),
			}));
		});
	}
}

/** Runs `operation`, writing its outcome; true when it succeeded. */
function attempt(reply: Writer, operation: () => void): boolean {
	try {
		operation();
	}
	catch (error) {
		writeOutcome(reply, error);
		return false;
	}
	writeOutcome(reply);
	return true;
}

function zeroStatus(): XsStatus {
	return Object.fromEntries(STATUS_FIELDS.map((field) => [field, 0])) as XsStatus;
}
