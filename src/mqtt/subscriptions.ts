/*
 * The subscriptions the app asked for, remembered so they survive reconnects: what the broker has
 * confirmed, what still has to be sent (SUBSCRIBE or UNSUBSCRIBE, one filter per packet so each SUBACK
 * result maps to its filter), and which packet identifiers are in flight. Bounded by a filter count;
 * pending unsubscribes count too until the broker confirms them.
 */
import { encode } from "./codec/encode";
import { SUBACK_FAILURE, SUBSCRIBE, UNSUBSCRIBE } from "./codec/packets";
import type { QoS } from "./codec/packets";
import { checkTopicFilter } from "./topic";

const SUBSCRIBE_DUE = 0;
const SUBSCRIBE_SENT = 1;
const SUBSCRIBED = 2;
const UNSUBSCRIBE_DUE = 3;
const UNSUBSCRIBE_SENT = 4;

/*
 * A filter's entry is one number: its state, the QoS asked for, and the packet identifier reserved for the
 * SUBSCRIBE/UNSUBSCRIBE to send or in flight (else 0). An object of three properties would be 4 slots per
 * filter (64 bytes on a 32-bit board) for as long as the subscription lasts.
 */
function entry(state: number, qos: number, id: number): number {
	return id * 16 + state * 2 + qos;
}

function stateOf(entry: number): number {
	return (entry >> 1) & 7;
}

function qosOf(entry: number): QoS {
	return (entry & 1) as QoS;
}

function idOf(entry: number): number {
	return entry >> 4;
}

/** The filter a SUBACK/UNSUBACK was for, and its result. */
export interface AckResult {
	filter: string;
	/** Granted QoS or SUBACK_FAILURE; -1 for an UNSUBACK. */
	code: number;
}

/** Where `flush` takes packet identifiers and writes frames (false when the socket has no room). */
export interface SubscriptionsOwner {
	allocateId(): number;
	send(frame: Uint8Array): boolean;
}

export class Subscriptions {
	readonly #entries = new Map<string, number>();
	readonly #max: number;
	/** Something may be due: flush runs on every socket pump, and iterating the map allocates in XS. */
	#due = false;
	/** Entries whose SUBSCRIBE/UNSUBSCRIBE is in flight, holding a packet identifier. */
	#inFlight = 0;

	constructor(max: number) {
		this.#max = max;
	}

	/** Checks every filter first (throwing, changing nothing, on a bad one or past the bound), then records them as due. */
	subscribe(filters: readonly string[], qos: QoS): void {
		this.set(filters, qos, SUBSCRIBE_DUE);
	}

	unsubscribe(filters: readonly string[]): void {
		this.set(filters, 0, UNSUBSCRIBE_DUE);
	}

	private set(filters: readonly string[], qos: QoS, state: number): void {
		let added = 0;
		for (const filter of filters) {
			checkTopicFilter(filter);
			if (!this.#entries.has(filter)) added++;
		}
		if (this.#entries.size + added > this.#max) throw new RangeError(`more than ${this.#max} subscriptions`);
		for (const filter of filters) this.#entries.set(filter, entry(state, qos, 0));
		this.#due = true;
	}

	/**
	 * After CONNACK. Without a session the broker has no subscriptions: subscribe to everything again and
	 * forget pending unsubscribes. With one, re-send only what was unconfirmed when the link went.
	 */
	connected(sessionPresent: boolean): void {
		for (const [filter, held] of this.#entries) {
			let state = stateOf(held);
			if (!sessionPresent && state >= UNSUBSCRIBE_DUE) {
				this.#entries.delete(filter);
				continue;
			}
			if (!sessionPresent || state === SUBSCRIBE_SENT) state = SUBSCRIBE_DUE;
			else if (state === UNSUBSCRIBE_SENT) state = UNSUBSCRIBE_DUE;
			// A confirmed subscription holds no identifier either.
			this.#entries.set(filter, entry(state, qosOf(held), 0));
		}
		this.#due = true;
		this.#inFlight = 0;
	}

	/** Whether packet identifier `id` is reserved here. */
	holds(id: number): boolean {
		// Asked for every packet identifier the session takes: nearly always nothing is in flight here.
		if (!this.#inFlight) return false;
		for (const held of this.#entries.values()) if (idOf(held) === id) return true;
		return false;
	}

	/**
	 * Sends every due SUBSCRIBE/UNSUBSCRIBE through the owner, taking identifiers from it; stops at the first
	 * that does not fit. Returns whether all went.
	 */
	flush(owner: SubscriptionsOwner): boolean {
		if (!this.#due) return true;
		for (const [filter, held] of this.#entries) {
			const state = stateOf(held);
			if (state !== SUBSCRIBE_DUE && state !== UNSUBSCRIBE_DUE) continue;
			const qos = qosOf(held);
			let id = idOf(held);
			if (!id) {
				id = owner.allocateId();
				this.#entries.set(filter, entry(state, qos, id));
			}
			const frame = state === SUBSCRIBE_DUE
				? encode({ type: SUBSCRIBE, id, filters: [filter], qos: [qos] })
				: encode({ type: UNSUBSCRIBE, id, filters: [filter] });
			if (!owner.send(frame as Uint8Array)) return false;
			this.#entries.set(filter, entry(state === SUBSCRIBE_DUE ? SUBSCRIBE_SENT : UNSUBSCRIBE_SENT, qos, id));
			this.#inFlight++;
		}
		this.#due = false;
		return true;
	}

	/**
	 * Applies a SUBACK (`codes`) or UNSUBACK (undefined) for `id`. Returns undefined for an identifier not
	 * in flight, else the filter and its result; a refused filter (0x80) is forgotten. Throws a RangeError
	 * for a SUBACK whose code count does not match the one filter sent.
	 */
	acknowledged(id: number, codes: readonly number[] | undefined): AckResult | undefined {
		for (const [filter, held] of this.#entries) {
			if (idOf(held) !== id) continue;
			if (stateOf(held) !== (codes ? SUBSCRIBE_SENT : UNSUBSCRIBE_SENT)) return undefined;
			if (codes && codes.length !== 1) throw new RangeError(`SUBACK with ${codes.length} return codes for 1 filter`);
			this.#inFlight--;
			if (!codes || codes[0] === SUBACK_FAILURE) this.#entries.delete(filter);
			else this.#entries.set(filter, entry(SUBSCRIBED, qosOf(held), 0));
			return { filter, code: codes ? codes[0] : -1 };
		}
		return undefined;
	}
}
