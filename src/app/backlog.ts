/*
 * Store and forward for telemetry: every QoS 1 reading is journalled in flash (../journal/journal.ts) before it is
 * published, and deleted (acknowledged in flash) only after its PUBACK, so no reading is lost to an outage
 * of any length, a reboot or a power cut while the region lasts, and none goes dark without a summary
 * after that.
 *
 * The RAM outbox stays the fast path: on a live link a reading is published at once, to `<n>/telemetry`,
 * and the journal is only its safety copy. What waits in flash (readings taken offline, or whose PUBACK a
 * reboot cut off) is drained oldest first once the broker is back, to `<n>/telemetry/backlog` (readings,
 * the same payload) and `<n>/telemetry/summary` (summaries), so Home Assistant, which listens to
 * `<n>/telemetry`, never takes a day-old reading for the current one. The drain is paced: at most `window`
 * journal messages in the RAM outbox and `perSecond` a second, so live readings, keepalive and config
 * documents keep flowing while a day of readings goes out.
 *
 * Packet identifiers map back to journal tickets through a small table; the client keeps its unacknowledged
 * messages across reconnects, so the table does too. A message the client drops (outbox full, close)
 * simply stays waiting in flash and goes out again. Nor does a reading push anything out of a full outbox
 * (the node's retained "online", a config report): it waits in flash until there is room.
 */
import type { Clock, Log, TimerId } from "../io";
import type { Telemetry } from "./telemetry";
import type { Topics } from "./topics";
import { publishOrLog, type Publisher } from "./publish";
import { Journal, type JournalCounters } from "../journal/journal";
import { FAHRENHEIT, PRESSURE, READING, slotsOf, type JournalRecord } from "../journal/records";

export interface BacklogOptions {
	/** Journal messages published per second at most while draining (default 5). */
	perSecond?: number;
	/** Journal messages in the RAM outbox at once at most while draining (default 4). */
	window?: number;
}

/**
 * Where the dates of this boot's readings come from: an object, so that the node can hand the one its other
 * callbacks come through, where a function would be a closure of its own, held for good.
 */
export interface BacklogDates {
	/** Seconds since 1970 for a reading of this boot taken at `uptime` seconds, or 0 while the date is unknown. */
	timeAt(uptime: number): number;
}

/** Journal messages and live readings awaiting PUBACK that the table tracks; beyond it, readings wait in flash. */
const TRACKED = 8;
/** Added to a tracked packet identifier (at most 65535) that belongs to a journal message. */
const DRAINED_FLAG = 0x10000;

export class Backlog {
	readonly #journal: Journal;
	readonly #client: Publisher;
	readonly #clock: Clock;
	readonly #log: Log;
	readonly #telemetry: Telemetry;
	readonly #topics: Topics;
	readonly #window: number;
	readonly #period: number;
	readonly #dates: BacklogDates;
	readonly #boot: number;
	/**
	 * Messages awaiting PUBACK, as pairs: the packet identifier (plus DRAINED for a journal message, not a
	 * live one) and the journal ticket. One array: on an ESP8266 each typed array costs 7 slots of heap.
	 */
	readonly #table = new Float64Array(2 * TRACKED);
	#tracked = 0;
	#draining = 0;
	/** The next ticket the drain looks at. */
	#cursor = 0;
	#timer: TimerId | undefined;

	constructor(journal: Journal, client: Publisher, options: {
		clock: Clock; log: Log; telemetry: Telemetry; topics: Topics; boot: string; dates: BacklogDates;
	} & BacklogOptions) {
		this.#journal = journal;
		this.#client = client;
		this.#clock = options.clock;
		this.#log = options.log;
		this.#telemetry = options.telemetry;
		this.#topics = options.topics;
		this.#boot = Number.parseInt(options.boot, 16) >>> 0;
		this.#dates = options.dates;
		this.#window = Math.min(options.window ?? 4, TRACKED - 1);
		this.#period = Math.ceil(1000 / (options.perSecond ?? 5));
		this.#cursor = journal.tail;
		if (journal.waiting) this.#log("info", `backlog: ${journal.waiting} readings and summaries wait in flash`);
	}

	/** Records waiting in flash, and what the journal did this boot. */
	get waiting(): number {
		return this.#journal.waiting;
	}

	get counters(): Readonly<JournalCounters> {
		return this.#journal.counters;
	}

	/**
	 * Journals a reading (temperature and humidity as published) and publishes it live when the link is up.
	 * False when the flash failed: the caller publishes it the RAM-only way.
	 */
	add(seq: number, uptime: number, time: number, fahrenheit: boolean, temperature: number, humidity: number, pressure: number | undefined, payload: string, retain: boolean): boolean {
		let ticket: number;
		try {
			ticket = this.#journal.appendReading(this.#boot, seq, uptime, time, fahrenheit, temperature, humidity, pressure);
		}
		catch (error) {
			this.#log("error", `backlog: flash write failed (${(error as Error).message}); reading ${seq} is kept in RAM only`);
			return false;
		}
		if (this.#client.connected && this.#tracked < TRACKED && this.#client.fits(this.#topics.telemetry, payload)) this.track(this.send(this.#topics.telemetry, payload, retain), ticket, false);
		else this.start();
		return true;
	}

	/** The connection is up: drain what waits. */
	connected(): void {
		this.start();
	}

	/** The broker acknowledged packet `id`. */
	acknowledged(id: number): void {
		const i = this.find(id);
		if (i < 0) return;
		try {
			const ticket = this.#table[2 * i + 1];
			if (ticket > 0) this.#journal.acknowledgeReading(ticket);
			else this.#journal.acknowledge(-ticket);
		}
		catch (error) {
			// It goes out once more after the next boot, with its seq: a consumer sees the repeat.
			this.#log("error", `backlog: flash write failed (${(error as Error).message})`);
		}
		this.untrack(i);
	}

	/** The client gave up on packet `id`: it waits in flash again, and the drain looks back for it. */
	dropped(id: number): void {
		const i = this.find(id);
		if (i < 0) return;
		this.untrack(i);
		this.#cursor = this.#journal.tail;
		this.start();
	}

	stop(): void {
		this.#clock.clear(this.#timer);
		this.#timer = undefined;
	}

	private start(): void {
		// The callback is made per drain, not held for good: it serves every turn of that drain.
		if (!this.#timer && this.#client.connected && this.#journal.waiting > this.#tracked) this.#timer = this.#clock.repeat(() => this.drain(), this.#period);
	}

	private drain(): void {
		if (!this.#client.connected) return this.stop();
		if (this.#draining >= this.#window || this.#tracked >= TRACKED) return;
		const journal = this.#journal;
		let ticket = journal.next(this.#cursor);
		while (ticket >= 0 && this.has(ticket)) ticket = journal.next(ticket + slotsOf(journal.record.kind));
		if (ticket < 0) {
			if (!this.#draining) this.stop();
			return;
		}
		const record = journal.record;
		const reading = record.kind === READING;
		const topic = reading ? this.#topics.telemetryBacklog : this.#topics.telemetrySummary;
		const payload = reading ? this.readingPayload(record) : this.summaryPayload(record);
		// No room in the outbox: the record stays where it is and the next turn tries again.
		if (!this.#client.fits(topic, payload)) return;
		this.#cursor = ticket + slotsOf(record.kind);
		// A summary's ticket is kept negated: its acknowledgement must check that a newer version did not retire it.
		this.track(this.send(topic, payload, false), reading ? ticket : -ticket, true);
	}

	private readingPayload(record: JournalRecord): string {
		const pressure = record.flags & PRESSURE ? record.pSum : undefined;
		return this.#telemetry.format(record.seq, hex(record.boot), record.uptime, this.time(record, record.time, record.uptime),
			record.tSum, record.hSum, pressure, (record.flags & FAHRENHEIT) !== 0);
	}

	private summaryPayload(record: JournalRecord): string {
		const { count } = record;
		const withPressure = (record.flags & PRESSURE) !== 0;
		const mean = (sum: number) => Math.round((sum / count) * 100) / 100;
		const summary = {
			summary: true,
			boot: hex(record.boot),
			count,
			first: { seq: record.seq, uptime: record.uptime, time: this.time(record, record.time, record.uptime) || undefined },
			last: { seq: record.lastSeq, uptime: record.lastUptime, time: this.time(record, record.lastTime, record.lastUptime) || undefined },
			temperature: { min: record.tMin, max: record.tMax, mean: mean(record.tSum) },
			humidity: { min: record.hMin, max: record.hMax, mean: mean(record.hSum) },
			pressure: withPressure ? { min: record.pMin, max: record.pMax, mean: Math.round(record.pSum / count) } : undefined,
			units: this.#telemetry.units((record.flags & FAHRENHEIT) !== 0, withPressure),
		};
		return JSON.stringify(summary);
	}

	/** Publishes at QoS 1; the packet identifier, or 0 when the client refused (the record stays waiting). */
	private send(topic: string, payload: string, retain: boolean): number {
		return publishOrLog(this.#client, this.#log, topic, payload, 1, retain);
	}

	/** A reading's time: as taken, or worked out from its uptime when it is this boot's and the date came later. */
	private time(record: JournalRecord, time: number, uptime: number): number {
		return time || (record.boot === this.#boot ? this.#dates.timeAt(uptime) : 0);
	}

	private track(id: number, ticket: number, drained: boolean): void {
		if (id < 1) return;
		const i = 2 * this.#tracked++;
		this.#table[i] = drained ? id + DRAINED_FLAG : id;
		this.#table[i + 1] = ticket;
		if (drained) this.#draining++;
	}

	private untrack(i: number): void {
		if (this.#table[2 * i] >= DRAINED_FLAG) this.#draining--;
		const last = 2 * --this.#tracked;
		this.#table[2 * i] = this.#table[last];
		this.#table[2 * i + 1] = this.#table[last + 1];
	}

	private find(id: number): number {
		for (let i = 0; i < this.#tracked; i++) if (this.#table[2 * i] % DRAINED_FLAG === id) return i;
		return -1;
	}

	private has(ticket: number): boolean {
		for (let i = 0; i < this.#tracked; i++) if (Math.abs(this.#table[2 * i + 1]) === ticket) return true;
		return false;
	}
}

const hex = (boot: number) => boot.toString(16).padStart(8, "0");
