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
 *
 * Damped, so that no pair of documents or brokers can make the node flap (issue 11):
 * - a document moves the broker at most once per boot: the same document arriving again (a broker that
 *   still holds it, a bounce between two brokers each holding a document that points at the other) is
 *   applied but does not move the node again; the report says so. A new `rev` moves it again;
 * - broker switches caused by documents are at least `switchGapMs` apart; one wanted sooner is held and
 *   made when the gap ends, with the settings in force then (counted as held);
 * - documents apply live at once, but storing is coalesced: at most one store every `storeIntervalMs`,
 *   with the latest document; one arriving inside the interval is stored when it ends (counted).
 */
import { ConfigStore, documentHash, type Layer, type StoredLayer } from "./config-store";
import { CONNECTION_KEYS, DEFAULTS, redact, validateDocument, type Settings, type Validated } from "./settings";
import { decodeUtf8, encodeUtf8 } from "../utf8";
import type { Clock, Log, Store, TimerId } from "../io";

export type Source = "fleet" | "device";

export interface Connection {
	host: string;
	port: number;
	user: string;
	password: string;
	tls: boolean;
	/** "" for none; see SETTINGS.pin. */
	pin: string;
	insecure: boolean;
}

export interface ConfigOptions {
	store: Store;
	clock: Clock;
	log: Log;
	/**
	 * The build's own settings (mc/config, command line), over the built-in DEFAULTS: only those, not a full
	 * copy of the defaults (which are frozen, in flash on a board), because it stays in RAM for good.
	 */
	build: Readonly<Settings>;
	/** How long new broker settings get to prove themselves. */
	rollbackMs: number;
	/** Set when the host cannot carry TLS (ESP8266): why, for the error a document asking for it gets. */
	noTls?: string;
	/** Largest document accepted, in bytes. */
	maxDocumentBytes: number;
	/** Least time between two stores to flash, ms (default 60 000). */
	storeIntervalMs?: number;
	/** Least time between two broker switches caused by documents, ms (default 20 000). */
	switchGapMs?: number;
}

/** What the config tells its owner, called as methods of the object given (a class shares them on its prototype). */
export interface ConfigEvents {
	/** The effective settings changed; `changed` names the keys. */
	onApply: (settings: Readonly<Settings>, changed: readonly string[]) => void;
	/** Connect with these broker settings from now on. */
	onConnection: (connection: Readonly<Connection>) => void;
	/** The acknowledgement document (JSON, no secrets) changed: publish it retained on `<n>/config/state`. */
	onReport: (report: string) => void;
}

/**
 * The last document a source sent, when it was refused (what that source applied before stays in force). A
 * source's status is otherwise its layer's: "applied" with a hash, "none" without, so nothing else is kept.
 */
interface Rejection {
	hash: string;
	rev?: number;
	errors: string[];
}

/** The layers that are applied but not yet stored, one bit each (a number, where an object would cost 4 slots). */
const UNSAVED: Readonly<Record<Layer, number>> = Object.freeze({ fleet: 1, device: 2, working: 4 });

type TrialState = "confirmed" | "trying" | "rolled-back";

/** Documents remembered as having moved the broker: enough to break any cycle through a few brokers. */
const MOVES_REMEMBERED = 4;

export interface ConfigCounters {
	/** Storage entries written (set or deleted) since boot. */
	flashWrites: number;
	/** Layers whose store was merged into a later one by the store interval. */
	storesCoalesced: number;
	/** Broker switches made for documents (rollbacks not included). */
	brokerSwitches: number;
	/** Switches held back by the switch gap, or not repeated for a document that already moved the node. */
	switchesHeld: number;
}

export class Config {
	readonly #options: ConfigOptions;
	readonly #events: ConfigEvents;
	readonly #stored: ConfigStore;
	readonly #layers: Record<Layer, StoredLayer>;
	readonly #rejected: Partial<Record<Source, Rejection>> = {};
	#effective: Settings;
	#connection: Connection;
	#trial: TrialState = "confirmed";
	#trialTimer: TimerId | undefined;
	#previous: Connection | undefined;
	#refused = "";
	#connectionNote = "";
	/** Why the last attempt with the settings on trial failed: not-authorized, refused, timeout or dns. */
	#failure = "";
	readonly counters: ConfigCounters = { flashWrites: 0, storesCoalesced: 0, brokerSwitches: 0, switchesHeld: 0 };
	/** UNSAVED bits. */
	#unsaved = 0;
	#storeTimer: TimerId | undefined;
	#switchTimer: TimerId | undefined;
	/** The document (source and hash) whose broker move waits for the switch gap; undefined when none waits. */
	#heldFor: string | undefined;
	/** Why the broker settings in force are not the ones the documents ask for, when a damping rule says so. */
	#moveNote = "";
	/** Source and hash of the documents that moved the broker, newest last. */
	readonly #moves: string[] = [];

	constructor(options: ConfigOptions, events: ConfigEvents) {
		this.#options = options;
		this.#events = events;
		this.#stored = new ConfigStore(options.store);
		const problems: string[] = [];
		this.#layers = {
			fleet: this.#stored.load("fleet", problems),
			device: this.#stored.load("device", problems),
			working: this.#stored.load("working", problems),
		};
		for (const problem of problems) options.log("warn", `config: ${problem}`);
		this.#refused = this.#stored.refused();
		this.#effective = this.merge();
		this.#connection = connectionOf({ ...DEFAULTS, ...options.build, ...this.#layers.working.settings });
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
			this.reject(source, `size:${length}`, undefined, [`document of ${length} bytes is over the ${maxDocumentBytes}-byte limit`]);
			return;
		}
		const hash = length ? documentHash(payload) : "";
		if (hash === (this.#rejected[source] ?? this.#layers[source]).hash) return;
		if (!length) {
			log("info", `config: ${source} document cleared`);
			this.accept(source, { settings: {}, hash: "" });
			return;
		}
		const text = decodeUtf8(payload);
		const result: Validated = text === undefined ? { errors: ["not valid UTF-8"] } : validateDocument(text);
		if (!result.settings) {
			this.reject(source, hash, result.rev, result.errors);
			return;
		}
		const merged = this.merge(source === "fleet" ? result.settings : undefined, source === "device" ? result.settings : undefined);
		const noTls = this.#options.noTls;
		if (lacksUser(merged)) this.reject(source, hash, result.rev, ["password: needs a user name (MQTT 3.1.1), here or in a layer below"]);
		else if (merged.tls && noTls) this.reject(source, hash, result.rev, [`tls: ${noTls}`]);
		else this.accept(source, { settings: result.settings, hash, rev: result.rev });
	}

	/** A connection attempt failed with `reason` (an MqttReason): remembered while settings are on trial, to say why a rollback happened. */
	connectFailed(reason: string): void {
		if (this.#trial !== "trying") return;
		this.#failure = reason === "bad-username-or-password" || reason === "not-authorized" ? "not-authorized"
			: reason === "dns" ? "dns"
			: reason === "connect-timeout" || reason === "connack-timeout" ? "timeout"
			: "refused";
	}

	/** The client connected: if broker settings were on trial, they work. */
	connected(): void {
		if (this.#trial !== "trying") return;
		this.#options.clock.clear(this.#trialTimer);
		this.#trialTimer = undefined;
		this.#trial = "confirmed";
		this.#connectionNote = "";
		this.#layers.working = { settings: { ...this.#connection }, hash: "" };
		this.persist("working");
		this.#options.log("info", `config: broker settings confirmed (${this.#connection.host}:${this.#connection.port})`);
		this.reportChanged();
	}

	/** Forgets everything stored and returns to the build's defaults. */
	factoryReset(): void {
		this.#options.clock.clear(this.#trialTimer);
		this.#trialTimer = undefined;
		this.#stored.clear();
		this.counters.flashWrites = this.#stored.writes;
		for (const layer of ["fleet", "device", "working"] as const) this.#layers[layer] = { settings: {}, hash: "" };
		this.#unsaved = 0;
		this.#rejected.fleet = this.#rejected.device = undefined;
		this.#refused = "";
		this.#trial = "confirmed";
		this.#connectionNote = "";
		this.#options.log("warn", "config: factory reset");
		this.update(undefined);
		this.reportChanged();
	}

	/** Stores what is applied but not yet stored, whatever the store interval (before a restart). */
	storeNow(): void {
		this.#options.clock.clear(this.#storeTimer);
		this.#storeTimer = undefined;
		this.store();
	}

	/** For good: stores what is unsaved and drops every timer (trial, held switch, store interval). */
	stop(): void {
		this.storeNow();
		const { clock } = this.#options;
		clock.clear(this.#trialTimer);
		clock.clear(this.#switchTimer);
		this.#trialTimer = this.#switchTimer = undefined;
	}

	/** The acknowledgement document: effective settings (redacted), each source's revision and errors. */
	report(): string {
		const source = (name: Source) => {
			const rejected = this.#rejected[name];
			const { hash, rev } = rejected ?? this.#layers[name];
			return { status: rejected ? "rejected" : hash ? "applied" : "none", rev: rev ?? null, hash: hash || null, errors: rejected?.errors ?? [] };
		};
		return JSON.stringify({
			effective: redact({ ...this.#effective, ...this.#connection }),
			fleet: source("fleet"),
			device: source("device"),
			broker: {
				host: this.#connection.host, port: this.#connection.port, state: this.#trial, note: this.#connectionNote || this.#moveNote || null,
				switches: this.counters.brokerSwitches, held: this.counters.switchesHeld,
			},
		});
	}

	private accept(source: Source, layer: StoredLayer): void {
		this.#layers[source] = layer;
		const writes = this.persist(source);
		// A cleared document is no document: the same status as on a node that never had one.
		this.#rejected[source] = undefined;
		this.#options.log("info", `config: ${source} document ${layer.hash || "(cleared)"} applied (${writes < 0 ? "stored when the store interval ends" : `${writes} stored entries changed`})`);
		this.update(`${source}:${layer.hash}`);
		this.reportChanged();
	}

	/**
	 * Stores `layer` now if the store interval allows, else when it ends; returns the entries written, or -1 when
	 * deferred. A cleared document is stored at once: the broker keeps no retained copy to apply it again after a
	 * power cut, so a deferred clear would bring the old document back for good. That costs little even under a
	 * flood, because storing writes only what differs from the stored slot.
	 */
	private persist(layer: Layer): number {
		if (this.#unsaved & UNSAVED[layer]) this.counters.storesCoalesced++;
		this.#unsaved |= UNSAVED[layer];
		const cleared = layer !== "working" && !this.#layers[layer].hash;
		if (this.#storeTimer && !cleared) return -1;
		const writes = this.store();
		if (!this.#storeTimer) this.holdStores();
		return writes;
	}

	/**
	 * Its callback, like the switch gap's, is made when the timer is set rather than held for good: these timers
	 * run only after a document, and at most one of each at a time, so a flood of documents makes no more.
	 */
	private holdStores(): void {
		this.#storeTimer = this.#options.clock.set(() => this.storeDue(), this.#options.storeIntervalMs ?? 60_000);
	}

	/** Stores every unsaved layer; returns the entries written. */
	private store(): number {
		const before = this.#stored.writes;
		for (const layer of ["fleet", "device", "working"] as const) {
			if (!(this.#unsaved & UNSAVED[layer])) continue;
			this.#unsaved &= ~UNSAVED[layer];
			this.#stored.save(layer, this.#layers[layer]);
		}
		this.counters.flashWrites = this.#stored.writes;
		return this.#stored.writes - before;
	}

	private storeDue(): void {
		this.#storeTimer = undefined;
		if (!this.#unsaved) return;
		this.store();
		this.holdStores();
	}

	private switchDue(): void {
		this.#switchTimer = undefined;
		const held = this.#heldFor;
		if (held === undefined) return;
		this.reconcile(held || undefined);
		this.reportChanged();
	}

	private reject(source: Source, hash: string, rev: number | undefined, errors: string[]): void {
		if (this.#rejected[source]?.hash === hash) return;
		// What was applied before stays in force; the status says what was refused and why.
		this.#rejected[source] = { hash, rev, errors };
		this.#options.log("warn", `config: ${source} document rejected: ${errors.join("; ")}`);
		this.reportChanged();
	}

	/** Recomputes the effective settings, applies what changed, and moves the broker if needed. `document`: source and hash of the cause. */
	private update(document: string | undefined): void {
		const before = this.#effective;
		this.#effective = this.merge();
		const changed = Object.keys(this.#effective).filter((key) => this.#effective[key] !== before[key] && !CONNECTION_KEYS.includes(key));
		if (changed.length) this.#events.onApply(this.#effective, changed);
		this.reconcile(document);
	}

	/**
	 * Starts a trial of the broker settings in force, unless they are in use, refused, moved to once already
	 * by `document` (source and hash; undefined for a factory reset, which is not a document), or inside the
	 * switch gap.
	 */
	private reconcile(document: string | undefined): void {
		this.#moveNote = "";
		this.#heldFor = undefined;
		const wanted = connectionOf(this.#effective);
		const key = connectionKey(wanted);
		if (key === connectionKey(this.#connection) && this.#trial === "rolled-back") {
			// The document that asked for the refused settings is gone: its rollback note goes with it.
			this.#trial = "confirmed";
			this.#connectionNote = "";
		}
		if (key === connectionKey(this.#connection) || key === this.#refused) return;
		const target = `${wanted.host}:${wanted.port}`;
		if (lacksUser(wanted)) {
			// Left by clearing the layer that had the user name: MQTT 3.1.1 cannot send it.
			this.#moveNote = `not moving to ${target}: a password needs a user name`;
			return;
		}
		if (document !== undefined && this.#moves.includes(document)) {
			this.counters.switchesHeld++;
			const [source, hash] = document.split(":");
			this.#moveNote = `not moving to ${target}: the ${source} document ${hash || "(cleared)"} moved the node once already; publish it with a new rev to move again`;
			this.#options.log("warn", `config: ${this.#moveNote}`);
			return;
		}
		if (this.#switchTimer) {
			this.counters.switchesHeld++;
			this.#heldFor = document ?? "";
			this.#moveNote = `moving to ${target} once the broker-switch gap of ${Math.round((this.#options.switchGapMs ?? 20_000) / 1000)} s ends`;
			return;
		}
		if (document !== undefined) {
			this.#moves.push(document);
			if (this.#moves.length > MOVES_REMEMBERED) this.#moves.shift();
		}
		this.counters.brokerSwitches++;
		this.#switchTimer = this.#options.clock.set(() => this.switchDue(), this.#options.switchGapMs ?? 20_000);
		this.startTrial(wanted);
	}

	private startTrial(wanted: Connection): void {
		const { clock, log, rollbackMs } = this.#options;
		if (this.#trial !== "trying") this.#previous = this.#connection;
		clock.clear(this.#trialTimer);
		this.#connection = wanted;
		this.#trial = "trying";
		this.#failure = "";
		this.#connectionNote = `trying ${wanted.host}:${wanted.port} for up to ${Math.round(rollbackMs / 1000)} s`;
		log("info", `config: ${this.#connectionNote}`);
		this.#trialTimer = clock.set(() => this.rollBack(), rollbackMs);
		this.#events.onConnection(wanted);
	}

	private rollBack(): void {
		const refused = this.#connection;
		const previous = this.#previous!;
		this.#trialTimer = undefined;
		this.#refused = connectionKey(refused);
		this.#stored.refuse(this.#refused);
		this.counters.flashWrites = this.#stored.writes;
		this.#connection = previous;
		this.#trial = "rolled-back";
		this.#connectionNote = `could not connect to ${refused.host}:${refused.port} within ${Math.round(this.#options.rollbackMs / 1000)} s (${this.#failure || "timeout"}); back to ${previous.host}:${previous.port}`;
		this.#options.log("warn", `config: ${this.#connectionNote}`);
		this.#events.onConnection(previous);
		this.reportChanged();
	}

	private merge(fleetSettings = this.#layers.fleet.settings, deviceSettings = this.#layers.device.settings): Settings {
		return { ...DEFAULTS, ...this.#options.build, ...fleetSettings, ...deviceSettings };
	}

	private reportChanged(): void {
		this.#events.onReport(this.report());
	}
}

/** Broker settings MQTT 3.1.1 cannot send [MQTT-3.1.2-22]. */
function lacksUser(settings: Readonly<Settings> | Readonly<Connection>): boolean {
	return !!settings.password && !settings.user;
}

function connectionOf(settings: Readonly<Settings>): Connection {
	return {
		host: settings.host as string, port: settings.port as number, user: settings.user as string, password: settings.password as string,
		tls: settings.tls as boolean, pin: settings.pin as string, insecure: settings.insecure as boolean,
	};
}

/** Identifies a set of broker settings without keeping the password readable. */
function connectionKey(connection: Readonly<Connection>): string {
	return documentHash(encodeUtf8(JSON.stringify([connection.host, connection.port, connection.user, connection.password, connection.tls, connection.pin, connection.insecure])));
}
