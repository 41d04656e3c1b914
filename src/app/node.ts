/*
 * The sensor node: what runs on every host. It finds the sensor, reads it every `interval` seconds,
 * publishes readings (QoS 1 by default, queued across outages), keeps `<n>/status` and `<n>/state`
 * retained, takes its configuration from retained documents (see ./config), and announces itself to
 * Home Assistant. Everything it touches comes from the Host.
 *
 * Topics, with <n> = <root>/<id>:
 *   <n>/telemetry     readings: {seq, boot, uptime, time?, temperature, humidity, pressure?, units}
 *   <n>/telemetry/backlog   readings that waited in flash through an outage or a reboot (same payload)
 *   <n>/telemetry/summary   what flash could only keep as a summary: {summary: true, count, first, last, ...}
 *   <n>/status        "online" / "offline" (retained; "offline" is also the last will)
 *   <n>/state         firmware, sensor health, counters, free memory, last error (retained)
 *   <n>/config        this node's config document (retained, written by you)
 *   <root>/all/config the fleet's config document (retained, written by you)
 *   <n>/config/state  what the node made of them (retained)
 *   <n>/command       "sample", "announce", "restart", "factory-reset" (retained commands are ignored)
 */
import { Backlog, type BacklogDates, type BacklogOptions } from "./backlog";
import { Config, type ConfigEvents, type Connection } from "./config";
import { HA_STATUS_TOPIC, discoveryMessages } from "./discovery";
import { publishOrLog } from "./publish";
import type { Settings } from "./settings";
import { ChangeFilter, Telemetry } from "./telemetry";
import { topicProblem, topicsFor, type Topics } from "./topics";
import { detectSensors, openSensor, type SensorModel } from "../drivers/detect";
import type { Sample, Sensor, SensorEvents } from "../drivers/sensor";
import { SensorError } from "../drivers/sensor";
import { elapsed, type Host, type TimerId } from "../io";
import { Journal } from "../journal/journal";
import { MqttClient, type MqttClientOptions, type MqttDrop, type MqttError, type MqttEvents, type MqttMessage, type MqttOversize, type MqttReason, type SocketOptions } from "../mqtt/client";
import { decodeUtf8 } from "../utf8";

export const FIRMWARE_VERSION = "0.1.0";

export interface NodeOptions {
	host: Host;
	/** Default: "node-" and the last six hex digits of the board's MAC. */
	id?: string;
	/** Topic root, default "nodes". */
	root?: string;
	/** What the firmware runs on ("esp32", "Node.js simulator"), for Home Assistant's device information. */
	hardware?: string;
	/** Build-time settings over the built-in defaults (mc/config, command line). */
	settings?: Readonly<Settings>;
	/** How long new broker settings get before they are rolled back, ms (default 120 000). */
	rollbackMs?: number;
	/** Largest config document accepted, bytes (default 1024). */
	maxDocumentBytes?: number;
	/** Client tuning passed through (outbox bounds, backoff, ...). */
	mqtt?: Partial<Pick<MqttClientOptions, "inflight" | "outbox" | "backoff" | "stableAfter" | "connectTimeout" | "connackTimeout" | "ackTimeout" | "random">>;
	/** How fast readings that waited in flash go out once the broker is back. */
	backlog?: BacklogOptions;
}

export interface NodeCounters {
	/** Successful samples, heated ones aside. */
	readings: number;
	/** Telemetry messages handed to the client. */
	published: number;
	crcErrors: number;
	sensorErrors: number;
	/** Times the sensor was found reset (a brown-out) and its settings restored. */
	recoveries: number;
	/** Samples taken right after an SHT4x heater pulse: never published. */
	heated: number;
	/** SHT4x heater pulses refused because the last unheated reading was at or above 65 C. */
	heaterRefused: number;
}

type Health = "searching" | "ok" | "absent" | "error";

/** How the broker connection is secured, as `state.tls` says it: "insecure" is TLS with no certificate check. */
type TlsMode = "off" | "verified" | "pinned" | "insecure";

function tlsMode(connection: Readonly<Connection>): TlsMode {
	return !connection.tls ? "off" : connection.insecure ? "insecure" : connection.pin ? "pinned" : "verified";
}

/** What the boot and connect lines add for each mode. */
const TLS_NOTE: Readonly<Record<TlsMode, string>> = Object.freeze({
	off: "",
	verified: " over TLS",
	pinned: " over TLS (pinned certificate)",
	insecure: " over TLS WITHOUT CERTIFICATE VERIFICATION (insecure)",
});

/** Retained messages the node can make again at any time, owed until the outbox has room for them (see flush). */
const OWE_STATE = 1;
const OWE_REPORT = 2;

/** How often `<n>/state` is refreshed even when nothing in it changed, seconds. */
const STATE_REFRESH_S = 300;

export class SensorNode {
	readonly id: string;
	readonly root: string;
	readonly topics: Topics;
	readonly boot: string;
	readonly counters: NodeCounters = { readings: 0, published: 0, crcErrors: 0, sensorErrors: 0, recoveries: 0, heated: 0, heaterRefused: 0 };
	readonly #host: Host;
	readonly #config: Config;
	readonly #client: MqttClient;
	readonly #filter = new ChangeFilter();
	readonly #telemetry: Telemetry;
	/** Store and forward, where the host has flash. */
	readonly #backlog: Backlog | undefined;
	#sensor: Sensor | undefined;
	/** The sensor whose sample is under way, so a result from a sensor since replaced is ignored. */
	#sampling: Sensor | undefined;
	#health: Health = "searching";
	/** The problem in force, prefixed by where it comes from ("sensor: ", "mqtt: "); "" when none. */
	#lastError = "";
	#lastErrorAt = 0;
	/** The last problem that went away, and when it started and ended (seconds of uptime). */
	#pastError = "";
	#pastErrorAt = 0;
	#pastErrorCleared = 0;
	#seq = 0;
	#uptimeMs = 0;
	#lastTicks: number;
	#cycleTimer: TimerId | undefined;
	#announceTimer: TimerId | undefined;
	#flushTimer: TimerId | undefined;
	/**
	 * Ticks of the last commanded sample: a flood of "sample" makes one reading a second, not one per command.
	 * A time rather than a timer, which would hold a callback of its own.
	 */
	#sampledAt: number | undefined;
	#stateAt = -Infinity;
	#finding = false;
	#stopped = false;
	#everConnected = false;
	/** OWE_STATE, OWE_REPORT: what flush still has to publish. */
	#owed = 0;
	/** A sample the sensor delivered, published from the node's own turn (see #flushDue). */
	#sample: Sample | undefined;
	/**
	 * The first discovery document still owed to Home Assistant (an index into discoveryMessages), or -1 when
	 * none is. They go out only when connected, once the sensor is known, and as the outbox has room.
	 */
	#announceFrom = -1;
	readonly #hardware: string;
	/** The node's callbacks (below), kept for each sensor driver it opens. */
	readonly #events: SensorEvents;
	#onStopped: (() => void) | undefined;

	/**
	 * What the MQTT client, the config, the backlog and the sensor driver call back: a class of the node's own, so it reaches the node's
	 * private methods, with its methods shared on the prototype rather than a closure per callback (ten of
	 * them, about 70 slots, 1.1 KB on a board).
	 */
	static readonly #Events = class implements MqttEvents, ConfigEvents, BacklogDates, SensorEvents {
		readonly #node: SensorNode;

		constructor(node: SensorNode) {
			this.#node = node;
		}

		onConnect({ sessionPresent }: { sessionPresent: boolean }): void {
			this.#node.brokerConnected(sessionPresent);
		}

		onMessage(message: MqttMessage): void {
			this.#node.message(message);
		}

		onOversize({ topic, length }: MqttOversize): void {
			this.#node.oversize(topic, length);
		}

		// The client logs its own connection failures, drops and skipped messages; the node keeps the last error.
		onDisconnect(reason: MqttReason): void {
			if (reason === "closed") this.#node.notifyStopped();
		}

		onError(error: MqttError): void {
			this.#node.setError(`mqtt: ${error.message}`);
			this.#node.#config.connectFailed(error.code);
		}

		onPublished(id: number): void {
			this.#node.#backlog?.acknowledged(id);
			this.#node.flushSoon();
		}

		onDrop(drop: MqttDrop): void {
			this.#node.#backlog?.dropped(drop.id);
		}

		onApply(settings: Readonly<Settings>, changed: readonly string[]): void {
			this.#node.apply(settings, changed);
		}

		onConnection(connection: Readonly<Connection>): void {
			this.#node.#client.reconfigure(connection, this.#node.socketFor(connection));
		}

		// Made again when it goes out: it may wait for outbox room, and must then be the current one.
		onReport(): void {
			this.#node.owe(OWE_REPORT);
		}

		timeAt(uptime: number): number {
			return this.#node.timeAt(uptime);
		}

		onRecovery(message: string): void {
			this.#node.recovered(message);
		}
	};

	constructor(options: NodeOptions) {
		const host = this.#host = options.host;
		const mac = host.board.mac();
		this.id = options.id ?? (mac ? `node-${mac.slice(-6)}` : "");
		this.root = options.root ?? "nodes";
		const problem = topicProblem(this.id, this.root);
		if (problem) throw new RangeError(problem);
		this.#hardware = options.hardware ?? "";
		this.topics = topicsFor(this.root, this.id);
		// The ticks are mixed in because the desktop simulator's Math.random() is unseeded: every mcsim boot
		// would otherwise get the same id, and a consumer could not tell one boot's readings from the next.
		this.boot = (((Math.random() * 0x1_0000_0000) ^ host.clock.ticks()) >>> 0).toString(16).padStart(8, "0");
		this.#telemetry = new Telemetry(this.boot);
		this.#lastTicks = host.clock.ticks();
		const maxDocumentBytes = options.maxDocumentBytes ?? 1024;
		const events = (this.#events = new SensorNode.#Events(this));

		this.#config = new Config({
			store: host.store,
			clock: host.clock,
			log: host.log,
			build: options.settings ?? {},
			rollbackMs: options.rollbackMs ?? 120_000,
			noTls: host.tls ? undefined : host.noTls ?? "this host has no TLS socket",
			maxDocumentBytes,
		}, events);
		const { connection, settings } = this.#config;
		// The build asked for what the board cannot do: stop here, rather than connect in the clear.
		if (connection.tls && !host.tls) throw new RangeError(`tls: ${host.noTls ?? "this host has no TLS socket"}`);
		this.#client = new MqttClient({
			...options.mqtt,
			...connection,
			id: this.id,
			clean: false,
			keepalive: settings.keepalive as number,
			will: { topic: this.topics.status, payload: "offline", qos: 1, retain: true },
			socket: this.socketFor(connection),
			dns: host.dns,
			clock: host.clock,
			log: host.log,
			// Room for the topic and header around the largest document; anything larger is streamed past.
			maxPacket: maxDocumentBytes + 256,
			// Connected once the sensor search at boot is over (see #findSensor).
			manualConnect: true,
		}, events);
		this.#client.subscribe([this.topics.config, this.topics.fleetConfig, this.topics.command, HA_STATUS_TOPIC], { qos: 1 });
		host.log("info", `boot ${this.boot}: node ${this.root}/${this.id}, firmware ${FIRMWARE_VERSION}, broker ${connection.host}:${connection.port}${TLS_NOTE[tlsMode(connection)]}`);
		this.#backlog = this.openBacklog(options.backlog, events);
		this.findSensor();
		if (!this.#finding) this.#client.connect();
		this.armCycle();
	}

	/** The backlog over the host's flash; none without flash, or when the region is unusable (then readings wait in RAM). */
	private openBacklog(options: BacklogOptions | undefined, dates: BacklogDates): Backlog | undefined {
		const { flash, clock, log } = this.#host;
		if (!flash) return undefined;
		try {
			return new Backlog(new Journal(flash, log), this.#client, { ...options, clock, log, telemetry: this.#telemetry, topics: this.topics, boot: this.boot, dates });
		}
		catch (error) {
			log("error", `backlog: flash unusable (${(error as Error).message}); readings wait in RAM only`);
			return undefined;
		}
	}

	/** Seconds since 1970 at `uptime` seconds of this boot, or 0 while the host does not know the date. */
	private timeAt(uptime: number): number {
		const date = this.#host.clock.date?.();
		return date === undefined ? 0 : Math.round(date / 1000) - (this.uptime() - uptime);
	}

	/** The socket for `connection`: the host's TCP, or its TLS socket with the connection's trust. */
	private socketFor(connection: Readonly<Connection>): SocketOptions {
		if (!connection.tls) return { io: this.#host.tcp };
		// Checked before: a build asking for TLS fails at boot, a document is rejected.
		return { io: this.#host.tls!, secure: { verify: !connection.insecure, pin: connection.pin || undefined } };
	}

	/** The settings in force. */
	get settings(): Readonly<Settings> {
		return this.#config.settings;
	}

	/** The broker settings in force: the build's, or what a config document set and storage kept. */
	get broker(): Readonly<{ host: string; port: number; tls: boolean }> {
		return this.#config.connection;
	}

	get connected(): boolean {
		return this.#client.connected;
	}

	/** Readings and summaries waiting in flash for the broker; undefined where the host has no flash. */
	get backlog(): number | undefined {
		return this.#backlog?.waiting;
	}

	/** Client counters: sent, acked, resent, dropped, reconnects, ... */
	get mqtt() {
		return this.#client.counters;
	}

	/**
	 * Graceful stop: "offline" goes out retained, then DISCONNECT (so the broker does not publish the will).
	 * `stopped` is called once the connection is closed (at once when there was none).
	 */
	stop(stopped?: () => void): void {
		if (this.#stopped) return;
		this.#stopped = true;
		const { clock } = this.#host;
		clock.clear(this.#cycleTimer);
		clock.clear(this.#announceTimer);
		clock.clear(this.#flushTimer);
		this.#backlog?.stop();
		this.#sensor?.close();
		this.#sensor = undefined;
		this.#onStopped = stopped;
		this.#config.stop();
		const connected = this.#client.connected;
		this.publish(this.topics.status, "offline", 1, true);
		this.#client.close();
		if (!connected) this.notifyStopped();
	}

	private notifyStopped(): void {
		const stopped = this.#onStopped;
		this.#onStopped = undefined;
		if (stopped) this.#host.clock.set(stopped, 0);
	}

	/** Reads the sensor now, outside the schedule. */
	sampleNow(): void {
		this.cycle();
	}

	private uptime(): number {
		const now = this.#host.clock.ticks();
		// Accumulated in short steps: a single elapsed() is only valid for spans under 24.8 days.
		this.#uptimeMs += elapsed(this.#lastTicks, now);
		this.#lastTicks = now;
		return Math.floor(this.#uptimeMs / 1000);
	}

	private armCycle(): void {
		const { clock } = this.#host;
		clock.clear(this.#cycleTimer);
		this.#cycleTimer = clock.repeat(() => this.cycle(), (this.settings.interval as number) * 1000);
	}

	private cycle(): void {
		const uptime = this.uptime();
		// Offline, a refresh would only take outbox space from readings: state goes out on connect anyway.
		if (this.#client.connected && uptime - this.#stateAt >= STATE_REFRESH_S) this.publishState();
		// Room is also freed by QoS 0 messages written, which no PUBACK announces. Only when something is owed:
		// a reading is published from a flush turn of its own.
		else if (this.#owed || this.#announceFrom >= 0) this.flushSoon();
		if (!this.#sensor) {
			this.findSensor();
			return;
		}
		if (this.#sampling) return;
		this.#sampling = this.#sensor;
		this.#sensor.sample(this.#onSample);
	}

	// Made once: a closure per reading would be garbage on a 32 KB heap.
	readonly #onSample = (error: SensorError | undefined, sample?: Sample): void => {
		const sensor = this.#sampling;
		this.#sampling = undefined;
		if (this.#stopped || sensor !== this.#sensor) return;
		if (error) this.sampleFailed(error);
		else {
			// Published from the node's own turn, not from under the driver's frames: see flushSoon.
			this.#sample = sample;
			this.flushSoon();
		}
	};

	private recovered(message: string): void {
		this.counters.recoveries++;
		this.#host.log("warn", `sensor: ${message}`);
		this.publishState();
	}

	private sampled(sample: Sample): void {
		// The chip's own heat, not the air's temperature: the datasheet's specifications do not hold.
		if (sample.heater === "on") {
			this.counters.heated++;
			this.setHealth("ok");
			return;
		}
		if (sample.heater === "refused") this.counters.heaterRefused++;
		// Counted first, so that the state a recovered health publishes includes this reading.
		this.counters.readings++;
		this.setHealth("ok");
		const settings = this.settings;
		const reading = this.#telemetry.read(sample, settings);
		const uptime = this.uptime();
		if (!this.#filter.wants(reading, uptime, settings)) return;
		this.#filter.published(reading, uptime);
		const seq = ++this.#seq;
		const time = this.timeAt(uptime);
		const payload = this.#telemetry.payload(seq, uptime, settings.unit as string, time);
		const retain = settings.retain as boolean;
		// QoS 0 is fire and forget by the user's choice: it never waits in flash.
		const journalled = settings.qos === 1 && this.#backlog?.add(seq, uptime, time, settings.unit === "F", reading.temperature, reading.humidity, reading.pressure, payload, retain);
		if (!journalled) this.publish(this.topics.telemetry, payload, settings.qos as 0 | 1, retain);
		this.counters.published++;
		this.#host.log("info", "telemetry ", payload);
		// Without this, the state seen for the first refresh period would be the one from before any reading.
		if (this.counters.readings === 1) this.stateChanged();
	}

	private sampleFailed(error: SensorError): void {
		this.counters.sensorErrors++;
		if (error.kind === "crc") this.counters.crcErrors++;
		this.sensorProblem(error.kind === "absent" ? "absent" : "error", error.message);
	}

	private sensorProblem(health: Health, message: string): void {
		const error = `sensor: ${message}`;
		this.#host.log("warn", error);
		this.setHealth(health, error);
	}

	/** `error` "" means the sensor works: a sensor error in force is then past. */
	private setHealth(health: Health, error = ""): void {
		const changed = health !== this.#health;
		this.#health = health;
		if (error) this.setError(error, changed);
		else if (!this.clearError("sensor: ") && changed) this.stateChanged();
	}

	private setError(error: string, changed = false): void {
		if (error !== this.#lastError) {
			this.#lastError = error;
			this.#lastErrorAt = this.uptime();
			changed = true;
		}
		if (changed) this.stateChanged();
	}

	/** The error in force came from `source` and its cause is gone: it becomes the past error. */
	private clearError(source: string): boolean {
		// Runs after every good reading: XS would box the string for startsWith, so the usual "" goes first.
		if (!this.#lastError || !this.#lastError.startsWith(source)) return false;
		this.#pastError = this.#lastError;
		this.#pastErrorAt = this.#lastErrorAt;
		this.#pastErrorCleared = this.uptime();
		this.#lastError = "";
		this.stateChanged();
		return true;
	}

	/** Offline, a state would only take outbox space from readings: a fresh one goes out on connect anyway. */
	private stateChanged(): void {
		if (this.#client.connected) this.publishState();
	}

	private findSensor(): void {
		if (this.#finding || this.#stopped) return;
		const { i2c, clock, log } = this.#host;
		const settings = this.settings;
		const model = settings.sensor as string;
		const address = (settings.address as number) || undefined;
		const open = (chosen: SensorModel, at?: number) => {
			try {
				// ECMA-419 options spread over the driver's defaults: an `address: undefined` would override its default.
				this.#sensor = openSensor(chosen, { sensor: at === undefined ? i2c : { ...i2c, address: at }, clock, events: this.#events });
				log("info", `sensor: using ${this.#sensor.model} at 0x${this.#sensor.address.toString(16)}`);
				// Announced before the health changes: the state that change owes would flush an announcement owed
				// since the connect, and this one would then repeat it.
				this.announce();
				this.setHealth("ok");
				this.cycle();
			}
			catch (error) {
				this.sensorProblem(error instanceof SensorError && error.kind === "absent" ? "absent" : "error", (error as Error).message);
			}
		};
		if (model !== "auto") {
			open(model as SensorModel, address);
			return;
		}
		this.#finding = true;
		detectSensors(i2c, clock, (found) => {
			this.#finding = false;
			if (this.#stopped) return;
			// The first search holds the connect back: its probes and the connect's burst of retained messages
			// then never need room at the same time, which on an ESP8266 they would not both find.
			this.#client.connect();
			if (this.#sensor) return;
			const usable = found.find((chip) => chip.model && (!address || chip.address === address));
			// A tail call, run in this frame: the driver's constructor talks to the chip on top of it.
			if (usable) return open(usable.model!, usable.address);
			const seen = found.map((chip) => `${chip.chip} at 0x${chip.address.toString(16)}`).join(", ");
			this.sensorProblem("absent", seen ? `no supported sensor (found ${seen})` : "no sensor found on the I2C bus");
		});
	}

	private apply(settings: Readonly<Settings>, changed: readonly string[]): void {
		const has = (key: string) => changed.includes(key);
		this.#host.log("info", `config: now ${changed.map((key) => `${key}=${key === "password" ? "***" : settings[key]}`).join(", ")}`);
		if (has("interval")) this.armCycle();
		if (has("sensor") || has("address")) {
			this.#sensor?.close();
			this.#sensor = undefined;
			this.#health = "searching";
			this.findSensor();
		}
		if (has("keepalive")) this.#client.reconfigure({ keepalive: settings.keepalive as number });
		if (has("unit")) this.#filter.reset();
		// The last retained reading would otherwise stay on the broker, ever older, for every new subscriber.
		if (has("retain") && !settings.retain) this.publish(this.topics.telemetry, "", 1, true);
		// Each of these is in a discovery document (expire_after follows the interval and publish-on-change).
		if (has("unit") || has("discovery") || has("interval") || has("maxSilence") || has("deltaT") || has("deltaH")) this.announce();
		this.publishState();
	}

	/**
	 * Status and state go out on every connection. The config report and the discovery documents are
	 * retained and only change when something changes, so they are repeated only on the first connection
	 * after boot or when the broker lost our session (and perhaps its retained messages with it): a
	 * reconnect must not push a burst into the outbox ahead of the readings queued during the outage.
	 * Status goes out at once; the rest as the outbox has room (see flush).
	 */
	private brokerConnected(sessionPresent: boolean): void {
		const { connection } = this.#config;
		const mode = tlsMode(connection);
		this.#host.log(mode === "insecure" ? "warn" : "info", `mqtt: connected to ${connection.host}:${connection.port}${TLS_NOTE[mode]} (session ${sessionPresent ? "resumed" : "new"})`);
		this.#config.connected();
		this.publish(this.topics.status, "online", 1, true);
		this.#backlog?.connected();
		if (!this.clearError("mqtt: ")) this.publishState();
		const fresh = !this.#everConnected || !sessionPresent;
		this.#everConnected = true;
		if (fresh) {
			this.#owed |= OWE_REPORT;
			this.#announceFrom = 0;
		}
		this.flushSoon();
	}

	private message(message: MqttMessage): void {
		const { topic, payload, retain } = message;
		if (topic === this.topics.config) this.#config.receive("device", payload, payload.length);
		else if (topic === this.topics.fleetConfig) this.#config.receive("fleet", payload, payload.length);
		// An empty payload is how a retained command is cleared (`mosquitto_pub -r -n`), not a command.
		else if (topic === this.topics.command) {
			if (payload.length) this.command(decodeUtf8(payload) ?? "", retain);
		}
		else if (topic === HA_STATUS_TOPIC && decodeUtf8(payload) === "online") this.announceSoon();
	}

	private oversize(topic: string, length: number): void {
		if (topic === this.topics.config) this.#config.receive("device", undefined, length);
		else if (topic === this.topics.fleetConfig) this.#config.receive("fleet", undefined, length);
	}

	private command(command: string, retained: boolean): void {
		const { log } = this.#host;
		// A retained command would run again on every reconnect (Tasmota's "ghost switching").
		if (retained) {
			log("warn", `command: ignored retained "${command}"; publish commands without retain`);
			return;
		}
		log("info", `command: ${command}`);
		switch (command.trim()) {
			case "sample": this.sampleOnCommand(); break;
			case "announce": this.announceSoon(); break;
			case "restart":
				this.#config.storeNow();
				this.#host.board.restart();
				break;
			case "factory-reset": this.#config.factoryReset(); break;
			default: log("warn", `command: unknown "${command}"`);
		}
	}

	private sampleOnCommand(): void {
		const now = this.#host.clock.ticks();
		// elapsed() is only valid for spans under 24.8 days: a negative one is a command that long ago, not a flood.
		const since = this.#sampledAt === undefined ? -1 : elapsed(this.#sampledAt, now);
		if (since >= 0 && since < 1000) return;
		this.#sampledAt = now;
		this.cycle();
	}

	/**
	 * Home Assistant came back, or an "announce" command: announce after a random 1-5 s, so a fleet does not
	 * answer at once; requests meanwhile are merged into that one announcement.
	 */
	private announceSoon(): void {
		if (this.#announceTimer) return;
		// Its callback is made here rather than held for good: a flood of commands makes one per announcement.
		this.#announceTimer = this.#host.clock.set(() => {
			this.#announceTimer = undefined;
			this.announce();
		}, 1000 + Math.floor(Math.random() * 4000));
	}

	/** The discovery documents changed: all of them are owed, as they are when they go out (see flush). */
	private announce(): void {
		this.#announceFrom = 0;
		this.flushSoon();
	}

	private publishState(): void {
		this.owe(OWE_STATE);
	}

	private owe(what: number): void {
		this.#owed |= what;
		this.flushSoon();
	}

	/**
	 * What is owed goes out from a 0 ms timer turn of the node's own rather than from the handler that owes it
	 * (a config document applied from onMessage, a PUBACK under the session's frames, a reading under the
	 * driver's): XS allocates its whole stack up front, so the deepest path sizes it, and state and discovery
	 * JSON under those frames was it, then a reading's publish under the sensor's callback.
	 */
	private flushSoon(): void {
		if (!this.#flushTimer) this.#flushTimer = this.#host.clock.set(this.#flushDue, 0);
	}

	// Made once: flushSoon runs for every PUBACK and every reading.
	readonly #flushDue = (): void => {
		this.#flushTimer = undefined;
		const sample = this.#sample;
		this.#sample = undefined;
		if (sample && !this.#stopped) this.sampled(sample);
		this.flush();
	};

	/**
	 * Publishes what is owed, in order (state, config report, discovery documents), made as it is now, while
	 * the outbox has room for it without evicting anything: at a connect on an ESP8266 the burst is larger than
	 * its outbox, and the outbox would otherwise evict the oldest QoS 1 message (the retained "online"). The
	 * rest waits for the room a PUBACK frees (onPublished) or the next reading cycle. It all waits for the
	 * connection (a reconnect forced by the same config document must not lose it), and the discovery
	 * documents, unless they are being removed, until the sensor is known (it decides which quantities exist).
	 */
	private flush(): void {
		if (!this.#client.connected) return;
		if (this.#owed & OWE_STATE) {
			if (!this.offer(this.topics.state, this.state())) return;
			this.#owed &= ~OWE_STATE;
		}
		if (this.#owed & OWE_REPORT) {
			if (!this.offer(this.topics.configState, this.#config.report())) return;
			this.#owed &= ~OWE_REPORT;
		}
		const settings = this.settings;
		const sensor = this.#sensor;
		if (this.#announceFrom < 0 || (!sensor && (settings.discovery as boolean))) return;
		const context = { id: this.id, base: `${this.root}/${this.id}`, model: sensor?.model ?? "", firmware: FIRMWARE_VERSION, hardware: this.#hardware };
		const messages = discoveryMessages(context, settings);
		for (; this.#announceFrom < messages.length; this.#announceFrom++) {
			const { topic, payload } = messages[this.#announceFrom];
			if (!this.offer(topic, payload)) return;
		}
		this.#announceFrom = -1;
	}

	/** Publishes a retained QoS 1 message if the outbox has room for it now. */
	private offer(topic: string, payload: string): boolean {
		if (!this.#client.fits(topic, payload)) return false;
		this.publish(topic, payload, 1, true);
		return true;
	}

	private state(): string {
		const uptime = this.uptime();
		this.#stateAt = uptime;
		const mqtt = this.#client.counters;
		const config = this.#config.counters;
		const sensor = this.#sensor;
		const state = {
			firmware: FIRMWARE_VERSION,
			boot: this.boot,
			uptime,
			sensor: { model: sensor?.model ?? null, address: sensor ? `0x${sensor.address.toString(16)}` : null, health: this.#health },
			tls: tlsMode(this.#config.connection),
			counters: {
				readings: this.counters.readings,
				published: this.counters.published,
				crcErrors: this.counters.crcErrors,
				sensorErrors: this.counters.sensorErrors,
				recoveries: this.counters.recoveries,
				heated: this.counters.heated,
				heaterRefused: this.counters.heaterRefused,
				sent: mqtt.sent,
				acked: mqtt.acked,
				resent: mqtt.resent,
				dropped: mqtt.dropped,
				reconnects: mqtt.reconnects,
				flashWrites: config.flashWrites,
				storesCoalesced: config.storesCoalesced,
				outbox: this.#client.queued,
				backlog: this.#backlog?.waiting ?? null,
				summarized: this.#backlog?.counters.summarized ?? 0,
				lost: this.#backlog?.counters.lost ?? 0,
				flashErases: this.#backlog?.counters.erases ?? 0,
			},
			freeMemory: this.#host.board.freeMemory() ?? null,
			lastError: this.#lastError || null,
			pastError: this.#pastError ? { message: this.#pastError, at: this.#pastErrorAt, cleared: this.#pastErrorCleared } : null,
		};
		return JSON.stringify(state);
	}

	private publish(topic: string, payload: string, qos: 0 | 1, retain: boolean): void {
		publishOrLog(this.#client, this.#host.log, topic, payload, qos, retain);
	}
}

