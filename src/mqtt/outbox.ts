/*
 * Outgoing PUBLISH packets, encoded once, kept in one preallocated byte arena until they are written
 * (QoS 0) or acknowledged (QoS 1). Bounded by a message count and a byte size, both fixed at construction;
 * it never grows.
 *
 * Entries stay in publish order, and they are sent in that order, so the sent-and-unacknowledged QoS 1
 * entries are always a prefix of the list: `inflight` is the length of that prefix and the next entry to
 * send is the one right after it. After a connection is lost, `requeue` sets DUP in the stored bytes of
 * that prefix and makes it unsent again, so the re-sends go out first, in order, with their original
 * packet identifiers, and nothing is re-encoded.
 *
 * At the bound, room is made by evicting the oldest QoS 0 entry; when there is none, a new QoS 0 message is
 * refused rather than evicting QoS 1, and a new QoS 1 message evicts the oldest QoS 1 entry. The owner is
 * told about every eviction (`evicted`) before the bytes go.
 *
 * Acknowledged or evicted entries leave holes in the arena; they are closed by compacting (one
 * copyWithin per live entry) only when an append does not fit at the end.
 */

export interface OutboxOptions {
	/** Most messages held (default 16). */
	messages?: number;
	/** Arena size in bytes: the most encoded bytes held (default 4096). */
	bytes?: number;
}

/** Told about each entry evicted (to make room, discarded, or cleared) while its bytes are still intact. */
export interface OutboxOwner {
	evicted(offset: number, length: number): void;
}

export const OUTBOX_DEFAULTS = Object.freeze({ messages: 16, bytes: 4096 });

/** `append` result for a QoS 0 message refused because only QoS 1 entries could make room. */
export const REFUSED = -1;

/** An entry's numbers in the table: arena offset, length in bytes, packet identifier, QoS, and the tick it was sent at (wrapped to 32 bits, as `elapsed` compares). */
const OFFSET = 0;
const LENGTH = 1;
const ID = 2;
const QOS = 3;
const SENT_AT = 4;
const FIELDS = 5;

export class Outbox {
	/** The arena: callers encode at the offset `append` returns. */
	readonly bytes: Uint8Array;
	/**
	 * FIELDS numbers per entry, in one typed array rather than one per field: each typed array costs about
	 * 7 slots (112 bytes on a 32-bit board) before its data.
	 */
	readonly #table: Int32Array;
	readonly #owner: OutboxOwner;
	#count = 0;
	#sent = 0;
	#used = 0;
	#end = 0;

	constructor(options: OutboxOptions, owner: OutboxOwner) {
		const messages = options.messages ?? OUTBOX_DEFAULTS.messages;
		const bytes = options.bytes ?? OUTBOX_DEFAULTS.bytes;
		if (!(messages >= 1) || !(bytes >= 16)) throw new RangeError("outbox needs at least 1 message and 16 bytes");
		this.bytes = new Uint8Array(bytes);
		this.#table = new Int32Array(messages * FIELDS);
		this.#owner = owner;
	}

	/** Messages held. */
	get count(): number {
		return this.#count;
	}

	/** Whether an entry of `length` bytes goes in now without evicting anything (always, into an empty outbox). */
	fits(length: number): boolean {
		return !this.#count || (this.#count * FIELDS < this.#table.length && this.#used + length <= this.bytes.length);
	}

	/** QoS 1 messages written on this connection and not yet acknowledged. */
	get inflight(): number {
		return this.#sent;
	}

	/** Index of the next entry to write, or -1. */
	get next(): number {
		return this.#sent < this.#count ? this.#sent : -1;
	}

	/**
	 * Appends an entry of `length` bytes, evicting by the policy above to make room, and returns its offset
	 * in `bytes`, where the caller must encode the packet at once; REFUSED for a QoS 0 message that does
	 * not fit. `length` must not exceed the arena.
	 */
	append(length: number, qos: number, id: number): number {
		while (this.#count * FIELDS === this.#table.length || this.#used + length > this.bytes.length) {
			let victim = this.oldest(0);
			if (victim < 0) {
				if (!qos) return REFUSED;
				victim = 0;
			}
			this.evict(victim);
		}
		if (this.#end + length > this.bytes.length) this.compact();
		const at = this.#count++ * FIELDS;
		const offset = this.#end;
		this.#table[at + OFFSET] = offset;
		this.#table[at + LENGTH] = length;
		this.#table[at + ID] = id;
		this.#table[at + QOS] = qos;
		this.#end += length;
		this.#used += length;
		return offset;
	}

	/** The stored packet at index `i`, as a view of the arena. */
	frame(i: number): Uint8Array {
		const offset = this.#table[i * FIELDS + OFFSET];
		return this.bytes.subarray(offset, offset + this.#table[i * FIELDS + LENGTH]);
	}

	qos(i: number): number {
		return this.#table[i * FIELDS + QOS];
	}

	/** Whether entry `i` is a re-send (DUP set by `requeue`). */
	dup(i: number): boolean {
		return (this.bytes[this.#table[i * FIELDS + OFFSET]] & 0x08) !== 0;
	}

	/** Records that the next entry was written at tick `now`: QoS 0 leaves the outbox, QoS 1 waits for its PUBACK. */
	markSent(now: number): void {
		const i = this.#sent;
		if (!this.#table[i * FIELDS + QOS]) this.remove(i);
		else {
			this.#table[i * FIELDS + SENT_AT] = now;
			this.#sent++;
		}
	}

	/** Tick at which the oldest unacknowledged QoS 1 entry was written; meaningful only while `inflight` > 0. */
	get oldestSentAt(): number {
		return this.#table[SENT_AT];
	}

	/** Removes the in-flight entry with packet identifier `id`; false for an unknown or stale identifier. */
	ack(id: number): boolean {
		for (let i = 0; i < this.#sent; i++) {
			if (this.#table[i * FIELDS + ID] === id) {
				this.remove(i);
				return true;
			}
		}
		return false;
	}

	/** After a lost connection: every in-flight entry becomes unsent again, with DUP set [MQTT-3.3.1-1]. */
	requeue(): void {
		for (let i = 0; i < this.#sent; i++) this.bytes[this.#table[i * FIELDS + OFFSET]] |= 0x08;
		this.#sent = 0;
	}

	/** Whether a held QoS 1 entry uses packet identifier `id`. */
	holds(id: number): boolean {
		// QoS 1 identifiers are taken in sequence as messages are appended, and entries keep their order, so the
		// held ones run in cyclic order from the oldest QoS 1 entry to the newest. An identifier outside that
		// stretch (the next one in sequence, nearly always) is free without a search of the whole window.
		const count = this.#count;
		let first = 0;
		while (first < count && !this.#table[first * FIELDS + QOS]) first++;
		if (first === count) return false;
		let last = count - 1;
		while (!this.#table[last * FIELDS + QOS]) last--;
		const low = this.#table[first * FIELDS + ID];
		const high = this.#table[last * FIELDS + ID];
		if (low <= high ? id < low || id > high : id < low && id > high) return false;
		for (let i = first; i <= last; i++) if (this.#table[i * FIELDS + ID] === id && this.#table[i * FIELDS + QOS]) return true;
		return false;
	}

	/** Forgets the in-flight entries without telling the owner (they were handed over; no ack will be awaited). */
	forgetSent(): void {
		while (this.#sent) this.remove(0);
	}

	/** Evicts entry `i`, telling the owner. */
	discard(i: number): void {
		this.evict(i);
	}

	/** Empties the outbox, telling the owner about each entry, oldest first. */
	clear(): void {
		while (this.#count) this.evict(0);
	}

	private evict(i: number): void {
		this.#owner.evicted(this.#table[i * FIELDS + OFFSET], this.#table[i * FIELDS + LENGTH]);
		this.remove(i);
	}

	private oldest(qos: number): number {
		for (let i = 0; i < this.#count; i++) if (this.#table[i * FIELDS + QOS] === qos) return i;
		return -1;
	}

	private remove(i: number): void {
		const last = --this.#count;
		const offset = this.#table[i * FIELDS + OFFSET];
		const length = this.#table[i * FIELDS + LENGTH];
		this.#used -= length;
		if (i < this.#sent) this.#sent--;
		if (offset + length === this.#end) this.#end = offset;
		if (i < last) {
			this.#table.copyWithin(i * FIELDS, (i + 1) * FIELDS, (last + 1) * FIELDS);
		}
		if (!last) this.#end = 0;
	}

	private compact(): void {
		let to = 0;
		for (let at = 0; at < this.#count * FIELDS; at += FIELDS) {
			const from = this.#table[at + OFFSET];
			const length = this.#table[at + LENGTH];
			if (from !== to) {
				this.bytes.copyWithin(to, from, from + length);
				this.#table[at + OFFSET] = to;
			}
			to += length;
		}
		this.#end = to;
	}
}
