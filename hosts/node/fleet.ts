/*
 * Simulated nodes on the Node host: each one the unchanged firmware (SensorNode) with its own simulated
 * sensor board, environment, storage and MAC, talking to a real broker over real sockets. `npm start`
 * runs one or a fleet; tests and benchmarks use them too.
 */
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { RealClock } from "./clock";
import { SimulatedFlash } from "./flash";
import { createNodeHost } from "./host";
import { PreferenceStore } from "./store";
import { TCP } from "./tcp";
import { makeTlsClass } from "./tls";
import { Environment } from "../../sim/environment";
import { simulatedBoard, type SimulatedBoard, type SimulatedChip } from "../../sim/sensors/board";
import { SensorNode, type NodeOptions } from "../../src/app/node";
import type { Settings } from "../../src/app/settings";
import type { Clock, Log, TcpConstructor, TimerId } from "../../src/io";

/**
 * `npm start`'s outbox: what manifest.json gives Moddable's simulators and the ESP32 (the ESP8266 gets 16
 * messages / 2 KB); tests and benchmarks choose their own.
 */
export const SIMULATOR_OUTBOX = Object.freeze({ messages: 64, bytes: 16 * 1024 });

/** The flash region a node with `flashPath` gets: 64 sectors of 4 KB. */
export const SIMULATOR_FLASH_BYTES = 256 * 1024;

export interface SimulatedNodeOptions {
	broker: { host: string; port: number };
	chip: SimulatedChip;
	/** Seeds the MAC (and so the default id) and the environment. */
	name: string;
	id?: string;
	root?: string;
	settings?: Settings;
	clock?: Clock;
	log?: Log;
	tcp?: TcpConstructor;
	/** The TLS socket class (trust included); default the Node host's. */
	tls?: TcpConstructor;
	/** JSON file that keeps the node's Preference storage across runs; in memory when omitted. */
	storePath?: string;
	/** Storage shared with an earlier incarnation, to simulate a reboot. */
	store?: PreferenceStore;
	/** File that keeps the node's flash region (SIMULATOR_FLASH_BYTES) across runs. */
	flashPath?: string;
	/** A flash region shared with an earlier incarnation, to simulate a reboot; takes precedence over `flashPath`. */
	flash?: SimulatedFlash;
	mqtt?: NodeOptions["mqtt"];
	rollbackMs?: number;
}

export interface SimulatedNode {
	node: SensorNode;
	clock: Clock;
	board: SimulatedBoard;
	env: Environment;
	store: PreferenceStore;
	/** The node's flash region; undefined when it has none (its backlog is then in RAM only). */
	flash: SimulatedFlash | undefined;
	/**
	 * Stops the node as a power cut or a crash would: its timers never fire again and its sockets close
	 * without a DISCONNECT, so the broker publishes its will.
	 */
	crash(): void;
}

/** A locally administered MAC derived from `name`, so a simulated node keeps its id from run to run. */
export function simulatedMac(name: string): string {
	return "02" + createHash("sha256").update(name).digest("hex").slice(0, 10);
}

export function startSimulatedNode(options: SimulatedNodeOptions): SimulatedNode {
	const seed = Number.parseInt(createHash("sha256").update(options.name).digest("hex").slice(0, 6), 16);
	const env = new Environment({ seed });
	const store = options.store ?? new PreferenceStore(options.storePath && ensureDir(options.storePath));
	const flash = options.flash ?? (options.flashPath ? new SimulatedFlash({ byteLength: SIMULATOR_FLASH_BYTES, path: ensureDir(options.flashPath), warn: (message) => options.log?.("warn", message) }) : undefined);
	let crashed = false;
	const sockets = new Set<{ close(): void }>();
	const clock = new KillableClock(options.clock ?? new RealClock());
	// The host's socket classes, wrapped only to find the open sockets when the node "loses power".
	const tracked = (Socket: TcpConstructor) => class extends Socket {
		constructor(...args: ConstructorParameters<TcpConstructor>) {
			super(...args);
			if (crashed) this.close();
			else sockets.add(this);
		}

		// A node reconnects for as long as it runs: closed sockets must not pile up here.
		override close(): void {
			sockets.delete(this);
			super.close();
		}
	};
	const board = simulatedBoard(options.chip, env, clock);
	const host = createNodeHost({
		i2c: board.i2c,
		clock,
		tcp: tracked(options.tcp ?? TCP),
		tls: tracked(options.tls ?? makeTlsClass()),
		store,
		flash,
		log: options.log,
		mac: simulatedMac(options.name),
		restart: () => options.log?.("warn", "restart requested: a simulated node keeps running"),
	});
	const node = new SensorNode({
		host,
		id: options.id,
		root: options.root,
		hardware: "simulator on Node.js",
		settings: { host: options.broker.host, port: options.broker.port, ...options.settings },
		mqtt: options.mqtt,
		rollbackMs: options.rollbackMs,
	});
	return {
		node, clock, board, env, store, flash,
		crash() {
			crashed = true;
			clock.kill();
			for (const socket of sockets) socket.close();
		},
	};
}

function ensureDir(file: string): string {
	fs.mkdirSync(path.dirname(file), { recursive: true });
	return file;
}

/** A clock whose timers can all be stopped at once, as when the CPU running them dies. */
class KillableClock implements Clock {
	readonly #clock: Clock;
	readonly #timers = new Set<TimerId>();
	#dead = false;

	constructor(clock: Clock) {
		this.#clock = clock;
	}

	ticks(): number {
		return this.#clock.ticks();
	}

	set(callback: () => void, ms: number): TimerId {
		const id: TimerId = this.#clock.set(() => {
			this.#timers.delete(id);
			callback();
		}, ms);
		return this.#track(id);
	}

	repeat(callback: () => void, ms: number): TimerId {
		return this.#track(this.#clock.repeat(callback, ms));
	}

	clear(id: TimerId | undefined): void {
		if (id) this.#timers.delete(id);
		this.#clock.clear(id);
	}

	date(): number | undefined {
		return this.#clock.date?.();
	}

	kill(): void {
		this.#dead = true;
		for (const id of this.#timers) this.#clock.clear(id);
		this.#timers.clear();
	}

	#track(id: TimerId): TimerId {
		if (this.#dead) this.#clock.clear(id);
		else this.#timers.add(id);
		return id;
	}
}
