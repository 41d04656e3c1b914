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
 * told about every eviction (`onEvict`) before the bytes go.
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

export const OUTBOX_DEFAULTS = Object.freeze({ messages: 16, bytes: 4096 });

/** `append` result for a QoS 0 message refused because only QoS 1 entries could make room. */
export const REFUSED = -1;

export class Outbox {
	/** The arena: callers encode at the offset `append` returns. */
	readonly bytes: Uint8Array;
	readonly #offset: Uint32Array;
	readonly #length: Uint32Array;
	readonly #id: Uint16Array;
	readonly #qos: Uint8Array;
	readonly #sentAt: Float64Array;
	readonly #onEvict: (offset: number, length: number) => void;
	#count = 0;
	#sent = 0;
	#used = 0;
	#end = 0;

	/** `onEvict(offset, length)` is told about each entry evicted to make room, while its bytes are still intact. */
	constructor(options: OutboxOptions, onEvict: (offset: number, length: number) => void) {
		const messages = options.messages ?? OUTBOX_DEFAULTS.messages;
		const bytes = options.bytes ?? OUTBOX_DEFAULTS.bytes;
		if (!(messages >= 1) || !(bytes >= 16)) throw new RangeError("outbox needs at least 1 message and 16 bytes");
		this.bytes = new Uint8Array(bytes);
		this.#offset = new Uint32Array(messages);
		this.#length = new Uint32Array(messages);
		this.#id = new Uint16Array(messages);
		this.#qos = new Uint8Array(messages);
		this.#sentAt = new Float64Array(messages);
		this.#onEvict = onEvict;
	}

	/** Messages held. */
	get count(): number {
		return this.#count;
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
		while (this.#count === this.#offset.length || this.#used + length > this.bytes.length) {
			let victim = this.#oldest(0);
			if (victim < 0) {
				if (!qos) return REFUSED;
				victim = 0;
			}
			this.#onEvict(this.#offset[victim], this.#length[victim]);
			this.#remove(victim);
		}
		if (this.#end + length > this.bytes.length) this.#compact();
		const i = this.#count++;
		this.#offset[i] = this.#end;
		this.#length[i] = length;
		this.#id[i] = id;
		this.#qos[i] = qos;
		this.#end += length;
		this.#used += length;
		return this.#offset[i];
	}

	/** The stored packet at index `i`, as a view of the arena. */
	frame(i: number): Uint8Array {
		return this.bytes.subarray(this.#offset[i], this.#offset[i] + this.#length[i]);
	}

	qos(i: number): number {
		return this.#qos[i];
	}

	/** Whether entry `i` is a re-send (DUP set by `requeue`). */
	dup(i: number): boolean {
		return (this.bytes[this.#offset[i]] & 0x08) !== 0;
	}

	/** Records that the next entry was written at tick `now`: QoS 0 leaves the outbox, QoS 1 waits for its PUBACK. */
	markSent(now: number): void {
		const i = this.#sent;
		if (!this.#qos[i]) this.#remove(i);
		else {
			this.#sentAt[i] = now;
			this.#sent++;
		}
	}

	/** Tick at which the oldest unacknowledged QoS 1 entry was written; meaningful only while `inflight` > 0. */
	get oldestSentAt(): number {
		return this.#sentAt[0];
	}

	/** Removes the in-flight entry with packet identifier `id`; false for an unknown or stale identifier. */
	ack(id: number): boolean {
		for (let i = 0; i < this.#sent; i++) {
			if (this.#id[i] === id) {
				this.#remove(i);
				return true;
			}
		}
		return false;
	}

	/** After a lost connection: every in-flight entry becomes unsent again, with DUP set [MQTT-3.3.1-1]. */
	requeue(): void {
		for (let i = 0; i < this.#sent; i++) this.bytes[this.#offset[i]] |= 0x08;
		this.#sent = 0;
	}

	/** Whether a held QoS 1 entry uses packet identifier `id`. */
	holds(id: number): boolean {
		// QoS 1 identifiers are taken in sequence as messages are appended, and entries keep their order, so the
		// held ones run in cyclic order from the oldest QoS 1 entry to the newest. An identifier outside that
		// stretch (the next one in sequence, nearly always) is free without a search of the whole window.
		const count = this.#count;
		let first = 0;
		while (first < count && !this.#qos[first]) first++;
		if (first === count) return false;
		let last = count - 1;
		while (!this.#qos[last]) last--;
		const low = this.#id[first];
		const high = this.#id[last];
		if (low <= high ? id < low || id > high : id < low && id > high) return false;
		for (let i = first; i <= last; i++) if (this.#id[i] === id && this.#qos[i]) return true;
		return false;
	}

	/** Forgets the in-flight entries without telling `onEvict` (they were handed over; no ack will be awaited). */
	forgetSent(): void {
		while (this.#sent) this.#remove(0);
	}

	/** Evicts entry `i`, telling `onEvict`. */
	discard(i: number): void {
		this.#onEvict(this.#offset[i], this.#length[i]);
		this.#remove(i);
	}

	/** Empties the outbox, telling `onEvict` about each entry, oldest first. */
	clear(): void {
		while (this.#count) {
			this.#onEvict(this.#offset[0], this.#length[0]);
			this.#remove(0);
		}
	}

	#oldest(qos: number): number {
		for (let i = 0; i < this.#count; i++) if (this.#qos[i] === qos) return i;
		return -1;
	}

	#remove(i: number): void {
		const last = --this.#count;
		this.#used -= this.#length[i];
		if (i < this.#sent) this.#sent--;
		if (this.#offset[i] + this.#length[i] === this.#end) this.#end = this.#offset[i];
		if (i < last) {
			this.#offset.copyWithin(i, i + 1, last + 1);
			this.#length.copyWithin(i, i + 1, last + 1);
			this.#id.copyWithin(i, i + 1, last + 1);
			this.#qos.copyWithin(i, i + 1, last + 1);
			this.#sentAt.copyWithin(i, i + 1, last + 1);
		}
		if (!last) this.#end = 0;
	}

	#compact(): void {
		let to = 0;
		for (let i = 0; i < this.#count; i++) {
			const from = this.#offset[i];
			if (from !== to) {
				this.bytes.copyWithin(to, from, from + this.#length[i]);
				this.#offset[i] = to;
			}
			to += this.#length[i];
		}
		this.#end = to;
	}
}
