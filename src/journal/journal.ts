/*
 * The telemetry journal: an append-only log of readings in a raw flash region, kept until the broker
 * acknowledges each one, that survives reboots and power cuts. Layout in ./records.ts.
 *
 * Sectors are used in a ring, in order, so wear is spread evenly: each use of a sector costs one erase.
 * A sector in use carries a header with a sequence number, one more than the previous sector's; the
 * sectors in use are a contiguous run of the ring, oldest to newest ("head"), and at least one sector after
 * the head is always free, so the next one can be opened without touching anything still needed.
 *
 * When opening a sector uses up the last free one, the oldest sector is reclaimed: what still waits in it
 * is folded into the rolling summary (count, min, max, sum per quantity; see reclaimOldest), written to the
 * new head; then a RECLAIM record naming the old sector is written, and only then is the old sector erased.
 * A power cut at any point loses at most the record being written: a torn record fails its CRC and is
 * skipped; a reclaim cut before its RECLAIM record is done again at boot (the readings the rolling summary
 * already covers are recognised); one cut after it is finished at boot by erasing the sector it names.
 *
 * Records are named by a ticket, `sector sequence * slots per sector + slot`: tickets grow in append order
 * and a ticket whose sector has since been reclaimed simply no longer resolves.
 */
import type { Flash, Log } from "../io";
import {
	EMPTY, JournalRecord, READING, RECLAIM, SLOT, SUMMARY, ackOffset, decodeHeader, decodeRecord, encodeHeader, encodeRecord,
	isErased, slotsOf,
} from "./records";

export interface JournalCounters {
	/** Readings merged into summaries (because flash was full) this boot. */
	summarized: number;
	/** Readings dropped without a summary this boot (only when even a summary found no room). */
	lost: number;
	/** Sectors erased this boot. */
	erases: number;
}

const ACKED = new Uint8Array(4);

export class Journal {
	/** The record `next` found, refilled by each call (and by anything else the journal does). */
	readonly record = new JournalRecord();
	readonly counters: JournalCounters = { summarized: 0, lost: 0, erases: 0 };
	readonly #flash: Flash;
	readonly #log: Log | undefined;
	readonly #sectors: number;
	readonly #slots: number;
	readonly #bytes = new Uint8Array(2 * SLOT);
	readonly #view = new DataView(this.#bytes.buffer);
	/**
	 * The rolling summary (see reclaimOldest). Made when first needed, at a reclaim or a boot that finds a summary:
	 * a node whose flash never fills never holds it (22 slots).
	 */
	#run: JournalRecord | undefined;
	#head = -1;
	#headSequence = 0;
	/** Slot the next record goes to in the head sector; `#slots` when the head is full. */
	#headSlot = 0;
	#used = 0;
	#waiting = 0;
	/** No record before this ticket waits any more. */
	#tail = 0;
	/** Ticket of the rolling summary (a copy is in `#run`), or -1 when there is none this boot. */
	#rolling = -1;

	constructor(flash: Flash, log?: Log) {
		this.#flash = flash;
		this.#log = log;
		this.#sectors = Math.floor(flash.byteLength / flash.blockSize);
		this.#slots = flash.blockSize / SLOT;
		if (this.#sectors < 2 || !Number.isInteger(this.#slots)) throw new RangeError(`journal: needs at least 2 sectors of a multiple of ${SLOT} bytes`);
		this.mount();
	}

	/** Records (readings and summaries) waiting for the broker. */
	get waiting(): number {
		return this.#waiting;
	}

	/** Readings the region holds when nothing else is in it. */
	get capacity(): number {
		return (this.#sectors - 1) * (this.#slots - 1);
	}

	/** Appends a reading (temperature and humidity as published); returns its ticket. Throws what the flash throws. */
	appendReading(boot: number, seq: number, uptime: number, time: number, fahrenheit: boolean, temperature: number, humidity: number, pressure: number | undefined): number {
		this.makeRoom(1);
		return this.appendWaiting(this.record.setReading(boot, seq, uptime, time, fahrenheit, temperature, humidity, pressure));
	}

	/** Appends a record other than the journal's own `record`; returns its ticket. */
	append(record: JournalRecord): number {
		this.makeRoom(slotsOf(record.kind));
		return this.appendWaiting(record);
	}

	/** Marks the record `ticket` names as acknowledged; a ticket reclaimed meanwhile is ignored. */
	acknowledge(ticket: number): void {
		const offset = this.offsetOf(ticket);
		if (offset < 0) return;
		// Only this journal's own tickets come here, so the kind byte is sound and the CRC need not be checked.
		// One read covers a reading's ack word; this runs for every reading, and each read is an allocation.
		let slot = new Uint8Array(this.#flash.read(offset, SLOT));
		const at = ackOffset(slot[0]);
		if (at < 0) return;
		if (at >= SLOT) slot = new Uint8Array(this.#flash.read(offset + SLOT, SLOT));
		const word = at % SLOT;
		if ((slot[word] & slot[word + 1] & slot[word + 2] & slot[word + 3]) !== 0xff) return;
		this.#flash.write(offset + at, 4, ACKED);
		this.#waiting--;
	}

	/**
	 * Marks the reading `ticket` names as acknowledged, without reading it first: for a reading's own PUBACK,
	 * once per reading, when nothing else can have acknowledged it (a reclaim moves it under a new ticket).
	 */
	acknowledgeReading(ticket: number): void {
		const offset = this.offsetOf(ticket);
		if (offset < 0) return;
		this.#flash.write(offset + ackOffset(READING), 4, ACKED);
		this.#waiting--;
	}

	/** Opens sectors until the head has `slots` free: a reclaim can leave a new head full (summaries of many boots). */
	private makeRoom(slots: number): void {
		while (this.#head < 0 || this.#headSlot + slots > this.#slots) this.advance();
	}

	private appendWaiting(record: JournalRecord): number {
		const ticket = this.write(record);
		this.#waiting++;
		return ticket;
	}

	/** The first ticket of the records still in flash: where a walk over everything waiting starts. */
	get tail(): number {
		return this.#tail;
	}

	/**
	 * The ticket of the first waiting reading or summary at or after `ticket`, with the record in `record`;
	 * -1 when there is none.
	 */
	next(ticket: number): number {
		const oldest = this.#headSequence - this.#used + 1;
		let sequence = Math.floor(ticket / this.#slots);
		let slot = ticket % this.#slots;
		if (sequence < oldest || slot < 1) {
			if (sequence < oldest) sequence = oldest;
			slot = 1;
		}
		const fromTail = ticket <= this.#tail;
		for (; sequence <= this.#headSequence; sequence++, slot = 1) {
			const base = this.indexOf(sequence) * this.#flash.blockSize;
			const end = sequence === this.#headSequence ? this.#headSlot : this.#slots;
			while (slot < end) {
				const slots = this.visit(base + slot * SLOT, this.record);
				if (!slots) break;
				if (this.record.waiting) {
					const found = sequence * this.#slots + slot;
					if (fromTail) this.#tail = found;
					return found;
				}
				slot += slots;
			}
		}
		if (fromTail) this.#tail = this.#headSequence * this.#slots + this.#headSlot;
		return -1;
	}

	/** Reads the sector headers and records: where the head is, what waits, and a reclaim to finish. */
	private mount(): void {
		for (let i = 0; i < this.#sectors; i++) {
			const sequence = this.headerAt(i);
			if (sequence > this.#headSequence) {
				this.#headSequence = sequence;
				this.#head = i;
			}
		}
		if (this.#head < 0) return;
		// The sectors in use run back from the head with consecutive sequence numbers; anything else is
		// left over from an interrupted reclaim or erase, and is free (it is erased before it is used).
		this.#used = 1;
		while (this.#used < this.#sectors && this.#used < this.#headSequence && this.headerAt((this.#head - this.#used + this.#sectors) % this.#sectors) === this.#headSequence - this.#used) this.#used++;
		this.scan();
		if (this.#used === this.#sectors) this.reclaimOldest();
	}

	/** Counts what waits, finds the head's end, and erases a sector a finished reclaim names. */
	private scan(): void {
		const oldest = this.#headSequence - this.#used + 1;
		this.#waiting = 0;
		this.#tail = oldest * this.#slots + 1;
		let reclaimed = 0;
		let superseded = -1;
		// The last waiting summary seen: a later one with the same boot and first seq is its next version,
		// and a power cut came before the old one was retired.
		let summary = -1;
		let summaryBoot = 0;
		let summarySeq = 0;
		for (let sequence = oldest; sequence <= this.#headSequence; sequence++) {
			const base = this.indexOf(sequence) * this.#flash.blockSize;
			let slot = 1;
			for (let slots; slot < this.#slots && (slots = this.visit(base + slot * SLOT, this.record)); slot += slots) {
				const item = this.record;
				if (item.kind === RECLAIM) reclaimed = item.seq;
				if (!item.waiting) continue;
				this.#waiting++;
				if (item.kind !== SUMMARY) continue;
				if (summary >= 0 && item.boot === summaryBoot && item.seq === summarySeq) superseded = summary;
				summary = sequence * this.#slots + slot;
				summaryBoot = item.boot;
				summarySeq = item.seq;
				(this.#run ??= new JournalRecord()).copy(item);
			}
			if (sequence === this.#headSequence) this.#headSlot = slot;
		}
		// The latest summary rolls on: a reclaim redone after a power cut finds its readings covered.
		this.#rolling = summary;
		if (superseded >= 0) this.acknowledge(superseded);
		if (reclaimed === oldest && this.#used > 1) {
			this.#log?.("warn", "journal: finishing a reclaim a power cut interrupted");
			this.free(this.indexOf(oldest));
			this.scan();
		}
	}

	/** The sequence number in sector `index`'s header; 0 for a free sector. */
	private headerAt(index: number): number {
		return decodeHeader(new DataView(this.#flash.read(index * this.#flash.blockSize, 12)));
	}

	private indexOf(sequence: number): number {
		return (this.#head - (this.#headSequence - sequence) + this.#sectors * 2) % this.#sectors;
	}

	/** The flash offset of the record `ticket` names, or -1 when its sector is no longer in use. */
	private offsetOf(ticket: number): number {
		const sequence = Math.floor(ticket / this.#slots);
		if (sequence > this.#headSequence || sequence <= this.#headSequence - this.#used) return -1;
		return this.indexOf(sequence) * this.#flash.blockSize + (ticket % this.#slots) * SLOT;
	}

	/**
	 * Reads the record at `offset` into `record` and returns the slots it spans: 0 for an erased slot (the
	 * end of its sector's records), 1 for a torn one, which is skipped (its `waiting` is false). Skipping
	 * rather than closing the sector lets a reclaim a power cut interrupted be done again in the same head.
	 */
	private visit(offset: number, record: JournalRecord): number {
		if (this.readRecord(offset, record)) {
			record.waiting &&= record.kind !== RECLAIM;
			return slotsOf(record.kind);
		}
		record.waiting = false;
		record.kind = EMPTY;
		return isErased(this.#bytes) ? 0 : 1;
	}

	/** Reads and decodes the record at `offset` into `record`; false for an erased or torn slot. */
	private readRecord(offset: number, record: JournalRecord): boolean {
		const bytes = this.#bytes;
		bytes.set(new Uint8Array(this.#flash.read(offset, SLOT)));
		if (bytes[0] === SUMMARY && (offset % this.#flash.blockSize) + 2 * SLOT <= this.#flash.blockSize)
			bytes.set(new Uint8Array(this.#flash.read(offset + SLOT, SLOT)), SLOT);
		return decodeRecord(bytes, this.#view, record);
	}

	private write(record: JournalRecord): number {
		const size = encodeRecord(record, this.#bytes, this.#view);
		const slot = this.#headSlot;
		this.#flash.write(this.#head * this.#flash.blockSize + slot * SLOT, size - 4, this.#bytes);
		this.#headSlot += size / SLOT;
		return this.#headSequence * this.#slots + slot;
	}

	/** Opens the sector after the head, then reclaims the oldest if that used up the last free one. */
	private advance(): void {
		const next = (this.#head + 1) % this.#sectors;
		const sequence = this.#headSequence + 1;
		this.erase(next);
		encodeHeader(this.#view, sequence);
		this.#flash.write(next * this.#flash.blockSize, 12, this.#bytes);
		this.#head = next;
		this.#headSequence = sequence;
		this.#headSlot = 1;
		this.#used++;
		if (this.#used === this.#sectors) this.reclaimOldest();
	}

	/**
	 * Makes the oldest sector free. What still waits in it is folded, in order, into the rolling summary:
	 * the latest summary written, kept in RAM, while it is of the same boot and unit. Each new version is
	 * written to the head and the one before it then acknowledged, so one boot's summaries never overlap
	 * and a consumer can tell exactly which seqs they cover. A RECLAIM record marks the work done, then
	 * the sector is erased.
	 */
	private reclaimOldest(): void {
		const sequence = this.#headSequence - this.#used + 1;
		const index = this.indexOf(sequence);
		const base = index * this.#flash.blockSize;
		const run = (this.#run ??= new JournalRecord());
		const item = this.record;
		let gone = 0;
		let grown = false;
		for (let slot = 1, slots; slot < this.#slots && (slots = this.visit(base + slot * SLOT, item)); slot += slots) {
			if (!item.waiting) continue;
			gone++;
			if (sequence * this.#slots + slot === this.#rolling) continue;
			if (this.#rolling >= 0 && run.mergeable(item) && item.seq >= run.seq && item.lastSeq <= run.lastSeq) continue;
			if (this.#rolling >= 0 && run.mergeable(item) && item.seq > run.lastSeq) {
				this.counters.summarized += (item.kind === READING ? 1 : 0) + (run.kind === READING ? 1 : 0);
				run.merge(item);
			}
			else if (item.kind === SUMMARY) {
				// Another boot's or unit's summary: it moves to the head as it is.
				if (this.room(item)) {
					this.write(item);
					this.#waiting++;
				}
				continue;
			}
			else {
				if (grown) this.writeRolling(sequence);
				run.copy(item);
				// Its only copy is in the sector going away: the next version has nothing to supersede.
				this.#rolling = sequence * this.#slots + slot;
			}
			grown = true;
		}
		if (grown) this.writeRolling(sequence);
		this.#waiting -= gone;
		if (gone && this.#headSlot < this.#slots) {
			item.kind = RECLAIM;
			item.flags = 0;
			item.seq = sequence;
			this.write(item);
		}
		this.free(index);
	}

	/** Writes the rolling summary's new version to the head, then retires the previous one (unless it is in sector `reclaiming`). */
	private writeRolling(reclaiming: number): void {
		const run = this.#run!;
		if (!this.room(run)) {
			this.#rolling = -1;
			return;
		}
		const previous = this.#rolling;
		this.#rolling = this.write(run);
		this.#waiting++;
		if (Math.floor(previous / this.#slots) !== reclaiming) this.acknowledge(previous);
	}

	/** Whether the head has room for `record` and the RECLAIM record after it; if not, its readings are counted lost. */
	private room(record: JournalRecord): boolean {
		if (this.#headSlot + slotsOf(record.kind) < this.#slots) return true;
		this.counters.lost += record.count;
		this.#log?.("warn", `journal: no room to summarise ${record.count} readings; they are lost`);
		return false;
	}

	private free(index: number): void {
		this.erase(index);
		this.#used--;
		if (this.#tail < (this.#headSequence - this.#used + 1) * this.#slots) this.#tail = (this.#headSequence - this.#used + 1) * this.#slots + 1;
	}

	private erase(index: number): void {
		this.#flash.erase(index);
		this.counters.erases++;
	}
}
