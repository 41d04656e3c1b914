/*
 * The real-time Clock for Node: what talking to a real broker needs. Ticks are whole milliseconds from
 * the monotonic clock; with `wrap32` they wrap like an MCU's signed 32-bit counter.
 */
import { performance } from "node:perf_hooks";
import type { Clock, TimerId } from "../../src/io";

export interface RealClockOptions {
	/** Added to the monotonic milliseconds, e.g. to start just below the 32-bit wrap. */
	startTicks?: number;
	wrap32?: boolean;
}

export class RealClock implements Clock {
	readonly #origin = performance.now();
	readonly #start: number;
	readonly #wrap32: boolean;

	constructor(options: RealClockOptions = {}) {
		this.#start = options.startTicks ?? 0;
		this.#wrap32 = options.wrap32 ?? false;
	}

	ticks(): number {
		const ticks = this.#start + Math.floor(performance.now() - this.#origin);
		return this.#wrap32 ? ticks | 0 : ticks;
	}

	set(callback: () => void, ms: number): TimerId {
		return setTimeout(callback, Math.max(0, ms));
	}

	repeat(callback: () => void, ms: number): TimerId {
		return setInterval(callback, Math.max(1, ms));
	}

	clear(id: TimerId | undefined): void {
		// Node's clearTimeout also clears intervals.
		if (id) clearTimeout(id as ReturnType<typeof setTimeout>);
	}

	/** The computer's clock, known from the start (a board waits for SNTP). */
	date(): number {
		return Date.now();
	}
}
