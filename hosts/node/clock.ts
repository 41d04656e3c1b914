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

const immediates = new WeakSet<TimerId>();

/**
 * setTimeout, except that a timer of 0 ms or less runs on the next turn of the loop. A 0 ms timer is how the
 * MQTT client writes after the caller's turn (src/mqtt/client.ts): Moddable runs it on the next turn of its
 * loop, while Node's setTimeout waits at least 1 ms, a wait no board has.
 */
export function setTimer(callback: () => void, ms: number): TimerId {
	if (ms > 0) return setTimeout(callback, ms);
	const id = setImmediate(callback);
	immediates.add(id);
	return id;
}

/** Clears what setTimer or setInterval returned (Node's clearTimeout clears intervals, not immediates). */
export function clearTimer(id: TimerId | undefined): void {
	if (!id) return;
	if (immediates.has(id)) clearImmediate(id as ReturnType<typeof setImmediate>);
	else clearTimeout(id as ReturnType<typeof setTimeout>);
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
		return setTimer(callback, ms);
	}

	repeat(callback: () => void, ms: number): TimerId {
		return setInterval(callback, Math.max(1, ms));
	}

	clear(id: TimerId | undefined): void {
		clearTimer(id);
	}

	/** The computer's clock, known from the start (a board waits for SNTP). */
	date(): number {
		return Date.now();
	}
}
