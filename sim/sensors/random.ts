/*
 * Deterministic randomness for the simulated world, portable (XS and Node): a stateless hash for values that
 * must depend only on their inputs (the environment at a given time), and a small seeded generator
 * (mulberry32) for sequences such as fault schedules.
 */

/** A well-mixed value in [0, 1) for the pair (a, b). */
export function hash01(a: number, b: number): number {
	let h = Math.imul(a ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(b, 0xc2b2ae35);
	h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
	h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
	return ((h ^ (h >>> 16)) >>> 0) / 4294967296;
}

export class Random {
	#state: number;

	constructor(seed: number) {
		this.#state = seed >>> 0;
	}

	/** Uniform in [0, 1). */
	next(): number {
		let t = (this.#state = (this.#state + 0x6d2b79f5) >>> 0);
		t = Math.imul(t ^ (t >>> 15), t | 1);
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
	}

	/** Uniform integer in [0, n). */
	below(n: number): number {
		return Math.floor(this.next() * n);
	}
}
