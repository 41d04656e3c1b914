/*
 * The byte layout of the telemetry journal (./journal.ts): pure encoding and decoding, no flash.
 *
 * A sector is cut into 32-byte slots. Slot 0 is the sector header; records fill the slots after it in
 * append order. Every record starts with its kind and a CRC-16 over its bytes (the ack word aside), so a
 * record torn by a power cut is recognised and never sent. Its last 4 bytes are the ack word, 0xFFFFFFFF
 * while the record waits and programmed to 0 once the broker acknowledged it: on NOR flash that needs no
 * erase, and a torn ack (any bit cleared) still reads as acknowledged, which it was.
 *
 *   header   magic u32 | sequence u32 | ~sequence u32                                    (slot 0)
 *   reading  kind | flags | crc u16 | boot u32 | seq u32 | uptime u32 | time u32 |
 *            temperature i16 (x100) | humidity u16 (x100) | pressure u32 (Pa) | ack u32   (1 slot)
 *   summary  kind | flags | crc u16 | boot | first seq | last seq | count | first uptime | last uptime |
 *            epoch u32 (the time at uptime 0) | temperature min, max i16, sum i32 (x100) |
 *            humidity min, max u16, sum u32 (x100) | pressure min, max, mean u32 | ack u32  (2 slots)
 *   reclaim  kind | 0 | crc u16 | sequence u32 of the sector whose waiting records the summaries just
 *            before it replace (so a reboot can finish erasing it)                          (1 slot)
 *
 * Numbers are little-endian. Times are seconds: `uptime` since boot, `time` since 1970 (0: unknown).
 * Summaries keep sums, not means, so that summaries of summaries keep an exact mean (pressure, whose sum
 * would not fit, keeps a mean to the pascal).
 * Temperatures are in the unit the reading was taken in (flag FAHRENHEIT), as published.
 */

export const SLOT = 32;
export const SECTOR_MAGIC = 0x314c4e53; // "SNL1"

export const READING = 0x52;
export const SUMMARY = 0x53;
export const RECLAIM = 0x58;
export const EMPTY = 0xff;

export const FAHRENHEIT = 1;
export const PRESSURE = 2;

/** Slots a record of `kind` takes; 0 for anything else (a torn or foreign slot). */
export function slotsOf(kind: number): number {
	return kind === READING || kind === RECLAIM ? 1 : kind === SUMMARY ? 2 : 0;
}

/** Offset of the ack word in a record of `kind`. */
export function ackOffset(kind: number): number {
	return slotsOf(kind) * SLOT - 4;
}

/**
 * A decoded record: a reading, or a summary of `count` readings of one boot (then `seq`, `uptime` and
 * `time` are the first reading's, `last*` the last one's). For each quantity, min, max and sum (a reading:
 * all three its value), so that spans merge exactly. Flat numbers and made once per journal, because on
 * an ESP8266 every object costs heap the firmware does not have.
 */
export class JournalRecord {
	kind = EMPTY;
	flags = 0;
	/** The broker has not acknowledged it yet. */
	waiting = false;
	boot = 0;
	/** For a RECLAIM record: the sequence number of the sector it reclaimed. */
	seq = 0;
	uptime = 0;
	time = 0;
	count = 1;
	lastSeq = 0;
	lastUptime = 0;
	lastTime = 0;
	tMin = 0;
	tMax = 0;
	tSum = 0;
	hMin = 0;
	hMax = 0;
	hSum = 0;
	pMin = 0;
	pMax = 0;
	pSum = 0;

	/** Sets this to one reading (temperature and humidity as published, pressure in Pa or undefined). */
	setReading(boot: number, seq: number, uptime: number, time: number, fahrenheit: boolean, temperature: number, humidity: number, pressure: number | undefined): this {
		this.kind = READING;
		this.flags = (fahrenheit ? FAHRENHEIT : 0) | (pressure === undefined ? 0 : PRESSURE);
		this.waiting = true;
		this.boot = boot;
		this.seq = this.lastSeq = seq;
		this.uptime = this.lastUptime = uptime;
		this.time = this.lastTime = time;
		this.count = 1;
		this.tMin = this.tMax = this.tSum = temperature;
		this.hMin = this.hMax = this.hSum = humidity;
		this.pMin = this.pMax = this.pSum = pressure ?? 0;
		return this;
	}

	/** Whether `other` (a reading or summary) may be merged into this one: same boot, unit and quantities. */
	mergeable(other: JournalRecord): boolean {
		return other.boot === this.boot && other.flags === this.flags;
	}

	/** Merges `other`, which comes after this one, into this: this becomes (or stays) a summary. */
	merge(other: JournalRecord): void {
		this.kind = SUMMARY;
		this.lastSeq = other.lastSeq;
		this.lastUptime = other.lastUptime;
		this.lastTime = other.lastTime;
		this.count += other.count;
		this.tMin = Math.min(this.tMin, other.tMin);
		this.tMax = Math.max(this.tMax, other.tMax);
		this.tSum += other.tSum;
		this.hMin = Math.min(this.hMin, other.hMin);
		this.hMax = Math.max(this.hMax, other.hMax);
		this.hSum += other.hSum;
		this.pMin = Math.min(this.pMin, other.pMin);
		this.pMax = Math.max(this.pMax, other.pMax);
		this.pSum += other.pSum;
	}

	copy(from: JournalRecord): void {
		Object.assign(this, from);
	}
}

/** CRC-16/CCITT-FALSE of `bytes[start..end)`, continuing from `crc`. */
function crc16(bytes: Uint8Array, start: number, end: number, crc = 0xffff): number {
	for (let i = start; i < end; i++) {
		crc ^= bytes[i] << 8;
		for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
	}
	return crc;
}

/** The CRC of a record in `bytes` of `size` bytes: everything but the CRC itself and the ack word. */
function recordCrc(bytes: Uint8Array, size: number): number {
	return crc16(bytes, 4, size - 4, crc16(bytes, 0, 2));
}

const hundredths = (value: number) => Math.round(value * 100);

/** Encodes `record` (READING, SUMMARY or RECLAIM) into `bytes` (its slots, ack word left erased); returns the byte count. */
export function encodeRecord(record: JournalRecord, bytes: Uint8Array, view: DataView): number {
	const size = slotsOf(record.kind) * SLOT;
	bytes.fill(0xff, 0, size);
	bytes[0] = record.kind;
	bytes[1] = record.flags;
	if (record.kind === RECLAIM) view.setUint32(4, record.seq, true);
	else if (record.kind === READING) {
		view.setUint32(4, record.boot, true);
		view.setUint32(8, record.seq, true);
		view.setUint32(12, record.uptime, true);
		view.setUint32(16, record.time, true);
		view.setInt16(20, hundredths(record.tSum), true);
		view.setUint16(22, hundredths(record.hSum), true);
		view.setUint32(24, record.pSum, true);
	}
	else {
		const { count } = record;
		view.setUint32(4, record.boot, true);
		view.setUint32(8, record.seq, true);
		view.setUint32(12, record.lastSeq, true);
		view.setUint32(16, count, true);
		view.setUint32(20, record.uptime, true);
		view.setUint32(24, record.lastUptime, true);
		// One date for the whole span: within a boot, time and uptime move together.
		view.setUint32(28, record.time ? record.time - record.uptime : record.lastTime ? record.lastTime - record.lastUptime : 0, true);
		view.setInt16(32, hundredths(record.tMin), true);
		view.setInt16(34, hundredths(record.tMax), true);
		view.setInt32(36, hundredths(record.tSum), true);
		view.setUint16(40, hundredths(record.hMin), true);
		view.setUint16(42, hundredths(record.hMax), true);
		view.setUint32(44, hundredths(record.hSum), true);
		view.setUint32(48, record.pMin, true);
		view.setUint32(52, record.pMax, true);
		view.setUint32(56, Math.round(record.pSum / count), true);
	}
	const crc = recordCrc(bytes, size);
	bytes[2] = crc & 0xff;
	bytes[3] = crc >> 8;
	return size;
}

/** Whether the slot at `bytes[0..SLOT)` was never written. */
export function isErased(bytes: Uint8Array): boolean {
	for (let i = 0; i < SLOT; i++) if (bytes[i] !== 0xff) return false;
	return true;
}

/**
 * Decodes the record in `bytes` (all its slots) into `record`; false when it is torn or not a record.
 * Values come back as published: hundredths for temperature and humidity, whole Pa.
 */
export function decodeRecord(bytes: Uint8Array, view: DataView, record: JournalRecord): boolean {
	const kind = bytes[0];
	const size = slotsOf(kind) * SLOT;
	if (!size || recordCrc(bytes, size) !== (bytes[2] | (bytes[3] << 8))) return false;
	record.kind = kind;
	record.flags = bytes[1];
	record.waiting = view.getUint32(size - 4, true) === 0xffffffff;
	if (kind === RECLAIM) {
		record.seq = view.getUint32(4, true);
		return true;
	}
	record.boot = view.getUint32(4, true);
	record.seq = view.getUint32(8, true);
	if (kind === READING) {
		record.uptime = record.lastUptime = view.getUint32(12, true);
		record.time = record.lastTime = view.getUint32(16, true);
		record.lastSeq = record.seq;
		record.count = 1;
		record.tMin = record.tMax = record.tSum = view.getInt16(20, true) / 100;
		record.hMin = record.hMax = record.hSum = view.getUint16(22, true) / 100;
		record.pMin = record.pMax = record.pSum = view.getUint32(24, true);
		return true;
	}
	const count = record.count = view.getUint32(16, true);
	record.lastSeq = view.getUint32(12, true);
	record.uptime = view.getUint32(20, true);
	record.lastUptime = view.getUint32(24, true);
	const epoch = view.getUint32(28, true);
	record.time = epoch && epoch + record.uptime;
	record.lastTime = epoch && epoch + record.lastUptime;
	record.tMin = view.getInt16(32, true) / 100;
	record.tMax = view.getInt16(34, true) / 100;
	record.tSum = view.getInt32(36, true) / 100;
	record.hMin = view.getUint16(40, true) / 100;
	record.hMax = view.getUint16(42, true) / 100;
	record.hSum = view.getUint32(44, true) / 100;
	record.pMin = view.getUint32(48, true);
	record.pMax = view.getUint32(52, true);
	record.pSum = view.getUint32(56, true) * count;
	return true;
}

/** Writes a sector header for `sequence` into `view` (12 bytes). */
export function encodeHeader(view: DataView, sequence: number): void {
	view.setUint32(0, SECTOR_MAGIC, true);
	view.setUint32(4, sequence, true);
	view.setUint32(8, ~sequence >>> 0, true);
}

/** The sequence number in a sector header, or 0 when the header is not valid (a free or torn sector). */
export function decodeHeader(view: DataView): number {
	if (view.getUint32(0, true) !== SECTOR_MAGIC) return 0;
	const sequence = view.getUint32(4, true);
	return sequence && view.getUint32(8, true) === (~sequence >>> 0) ? sequence : 0;
}
