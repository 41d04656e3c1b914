/*
 * The node's configuration: built-in defaults, overlaid by the fleet document (`<root>/all/config`),
 * overlaid by the device's own (`<root>/<id>/config`). Both arrive as retained MQTT messages, so each is
 * received again on every reconnect: a document whose bytes were already applied (or already rejected) is
 * recognised by its hash and changes nothing — no write to flash, no report, no side effect.
 *
 * A document is applied whole or not at all. A valid one takes effect at once (`onApply`), is persisted
 * (only what differs), and is acknowledged (`onReport`). An invalid one changes nothing and is reported.
 *
 * Broker settings (host, port, user, password) cannot be checked until the node tries them. They are
 * tried with a deadline: if no connection succeeds with them within `rollbackMs`, the node goes back to
 * the last settings that worked, remembers the refused ones so a replay does not try them again, and
 * reports why. Secrets are never echoed.
 */
import { ConfigStore, documentHash, type Layer, type StoredLayer } from "./config-store";
import { CONNECTION_KEYS, redact, validateDocument, type Settings, type Validated } from "./settings";
import { decodeUtf8, encodeUtf8 } from "../utf8";
import type { Clock, Log, Store, TimerId } from "../io";

export type Source = "fleet" | "device";

export interface Connection {
	host: string;
	port: number;
	user: string;
	password: string;
}

export interface ConfigOptions {
	store: Store;
	clock: Clock;
	log: Log;
	/** The built-in defaults with the build's own settings (mc/config, command line) over them. */
	defaults: Readonly<Settings>;
	/** How long new broker settings get to prove themselves. */
	rollbackMs: number;
	/** Largest document accepted, in bytes. */
	maxDocumentBytes: number;
	/** The effective settings changed; `changed` names the keys. */
	onApply: (settings: Readonly<Settings>, changed: readonly string[]) => void;
	/** Connect with these broker settings from now on. */
	onConnection: (connection: Readonly<Connection>) => void;
	/** The acknowledgement document (JSON, no secrets) changed: publish it retained on `<n>/config/state`. */
	onReport: (report: string) => void;
}

interface SourceStatus {
	hash: string;
	rev?: number;
	status: "none" | "applied" | "rejected";
	errors: string[];
}

type TrialState = "confirmed" | "trying" | "rolled-back";

export class Config {
	readonly #options: ConfigOptions;
	readonly #stored: ConfigStore;
	readonly #layers: Record<Layer, StoredLayer>;
	readonly #status: Record<Source, SourceStatus>;
	#effective: Settings;
	#connection: Connection;
	#trial: TrialState = "confirmed";
	#trialTimer: TimerId | undefined;
	#previous: Connection | undefined;
	#refused = "";
	#connectionNote = "";

	constructor(options: ConfigOptions) {
		this.#options = options;
		this.#stored = new ConfigStore(options.store);
		const problems: string[] = [];
		this.#layers = {
			fleet: this.#stored.load("fleet", problems),
			device: this.#stored.load("device", problems),
			working: this.#stored.load("working", problems),
		};
		for (const problem of problems) options.log("warn", `config: ${problem}`);
		this.#refused = this.#stored.refused();
		const status = (layer: StoredLayer): SourceStatus =>
			({ hash: layer.hash, rev: layer.rev, status: layer.hash ? "applied" : "none", errors: [] });
		this.#status = { fleet: status(this.#layers.fleet), device: status(this.#layers.device) };
		this.#effective = this.#merge();
		this.#connection = connectionOf({ ...options.defaults, ...this.#layers.working.settings });
	}

	/** The settings in force (secrets included: for the node's own use only). */
	get settings(): Readonly<Settings> {
		return this.#effective;
	}

	/** The broker settings to use now. */
	get connection(): Readonly<Connection> {
		return this.#connection;
	}

	/**
	 * A config document arrived on `source`'s topic. `payload` is undefined when the client skipped an
	 * oversized message; `length` is its size either way. An empty payload clears the source.
	 */
	receive(source: Source, payload: Uint8Array | undefined, length: number): void {
		const { maxDocumentBytes, log } = this.#options;
		if (!payload || length > maxDocumentBytes) {
			this.#reject(source, `size:${length}`, undefined, [`document of ${length} bytes is over the ${maxDocumentBytes}-byte limit`]);
			return;
		}
		const hash = length ? documentHash(payload) : "";
		const status = this.#status[source];
		if (hash === status.hash) return;
		if (!length) {
			log("info", `config: ${source} document cleared`);
			this.#accept(source, { settings: {}, hash: "" });
			return;
		}
		const text = decodeUtf8(payload);
		const result: Validated = text === undefined ? { errors: ["not valid UTF-8"] } : validateDocument(text);
		if (!result.settings) this.#reject(source, hash, result.rev, result.errors);
		else this.#accept(source, { settings: result.settings, hash, rev: result.rev });
	}

	/** The client connected: if broker settings were on trial, they work. */
	connected(): void {
		if (this.#trial !== "trying") return;
		this.#options.clock.clear(this.#trialTimer);
		this.#trialTimer = undefined;
		this.#trial = "confirmed";
		this.#connectionNote = "";
		this.#layers.working = { settings: { ...this.#connection }, hash: "" };
		this.#stored.save("working", this.#layers.working);
		this.#options.log("info", `config: broker settings confirmed (${this.#connection.host}:${this.#connection.port})`);
		this.#report();
	}

	/** Forgets everything stored and returns to the build's defaults. */
	factoryReset(): void {
		this.#options.clock.clear(this.#trialTimer);
		this.#trialTimer = undefined;
		this.#stored.clear();
		for (const layer of ["fleet", "device", "working"] as const) this.#layers[layer] = { settings: {}, hash: "" };
		for (const source of ["fleet", "device"] as const) this.#status[source] = { hash: "", status: "none", errors: [] };
		this.#refused = "";
		this.#trial = "confirmed";
		this.#connectionNote = "";
		this.#options.log("warn", "config: factory reset");
		this.#update();
		this.#report();
	}

	/** The acknowledgement document: effective settings (redacted), each source's revision and errors. */
	report(): string {
		const source = (s: SourceStatus) => ({ status: s.status, rev: s.rev ?? null, hash: s.hash || null, errors: s.errors });
		return JSON.stringify({
			effective: redact({ ...this.#effective, ...this.#connection }),
			fleet: source(this.#status.fleet),
			device: source(this.#status.device),
			broker: { host: this.#connection.host, port: this.#connection.port, state: this.#trial, note: this.#connectionNote || null },
		});
	}

	#accept(source: Source, layer: StoredLayer): void {
		this.#layers[source] = layer;
		const writes = this.#stored.save(source, layer);
		// A cleared document is no document: the same status as on a node that never had one.
		this.#status[source] = { hash: layer.hash, rev: layer.rev, status: layer.hash ? "applied" : "none", errors: [] };
		this.#options.log("info", `config: ${source} document ${layer.hash || "(cleared)"} applied (${writes} stored entries changed)`);
		this.#update();
		this.#report();
	}

	#reject(source: Source, hash: string, rev: number | undefined, errors: string[]): void {
		const status = this.#status[source];
		if (status.status === "rejected" && status.hash === hash) return;
		// What was applied before stays in force; the status says what was refused and why.
		this.#status[source] = { hash, rev, status: "rejected", errors };
		this.#options.log("warn", `config: ${source} document rejected: ${errors.join("; ")}`);
		this.#report();
	}

	/** Recomputes the effective settings, applies what changed, and starts a broker trial if needed. */
	#update(): void {
		const before = this.#effective;
		this.#effective = this.#merge();
		const changed = Object.keys(this.#effective).filter((key) => this.#effective[key] !== before[key] && !CONNECTION_KEYS.includes(key));
		if (changed.length) this.#options.onApply(this.#effective, changed);
		const wanted = connectionOf(this.#effective);
		const key = connectionKey(wanted);
		if (key === connectionKey(this.#connection) || key === this.#refused) return;
		this.#startTrial(wanted);
	}

	#startTrial(wanted: Connection): void {
		const { clock, log, rollbackMs, onConnection } = this.#options;
		if (this.#trial !== "trying") this.#previous = this.#connection;
		clock.clear(this.#trialTimer);
		this.#connection = wanted;
		this.#trial = "trying";
		this.#connectionNote = `trying ${wanted.host}:${wanted.port} for up to ${Math.round(rollbackMs / 1000)} s`;
		log("info", `config: ${this.#connectionNote}`);
		this.#trialTimer = clock.set(() => this.#rollBack(), rollbackMs);
		onConnection(wanted);
	}

	#rollBack(): void {
		const refused = this.#connection;
		const previous = this.#previous!;
		this.#trialTimer = undefined;
		this.#refused = connectionKey(refused);
		this.#stored.refuse(this.#refused);
		this.#connection = previous;
		this.#trial = "rolled-back";
		this.#connectionNote = `could not connect to ${refused.host}:${refused.port} within ${Math.round(this.#options.rollbackMs / 1000)} s; back to ${previous.host}:${previous.port}`;
		this.#options.log("warn", `config: ${this.#connectionNote}`);
		this.#options.onConnection(previous);
		this.#report();
	}

	#merge(): Settings {
		return { ...this.#options.defaults, ...this.#layers.fleet.settings, ...this.#layers.device.settings };
	}

	#report(): void {
		this.#options.onReport(this.report());
	}
}

function connectionOf(settings: Readonly<Settings>): Connection {
	return { host: settings.host as string, port: settings.port as number, user: settings.user as string, password: settings.password as string };
}

/** Identifies a set of broker settings without keeping the password readable. */
function connectionKey(connection: Readonly<Connection>): string {
	return documentHash(encodeUtf8(JSON.stringify([connection.host, connection.port, connection.user, connection.password])));
}
