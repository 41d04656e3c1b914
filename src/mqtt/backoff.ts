/*
 * Reconnect delays: exponential growth with full jitter, so a fleet that lost its broker at the same
 * moment does not come back in step. Attempt n waits a uniformly random time between `min` and
 * min(max, min * 2^(n+1)); the random source is injected so tests can pin it.
 */

export interface BackoffOptions {
	/** Shortest delay in ms (default 500). */
	min?: number;
	/** Longest delay in ms (default 60 000). */
	max?: number;
}

export class Backoff {
	readonly #min: number;
	readonly #max: number;
	readonly #random: () => number;
	#cap: number;

	constructor(options: BackoffOptions = {}, random: () => number = Math.random) {
		const min = options.min ?? 500;
		const max = options.max ?? 60_000;
		if (!(min > 0) || !(max >= min)) throw new RangeError("backoff needs 0 < min <= max");
		this.#min = min;
		this.#max = max;
		this.#random = random;
		this.#cap = Math.min(max, 2 * min);
	}

	/** The delay before the next attempt, in ms; each call doubles the cap until it reaches max. */
	next(): number {
		const delay = this.#min + this.#random() * (this.#cap - this.#min);
		this.#cap = Math.min(this.#max, 2 * this.#cap);
		return Math.round(delay);
	}

	/** Back to the shortest delays, once a connection has proved stable. */
	reset(): void {
		this.#cap = Math.min(this.#max, 2 * this.#min);
	}
}
