/*
 * A Clock that runs `speed` times faster than real time, for soaks against a real broker: the firmware's
 * timers (readings, keepalive, backoff, timeouts, sensor conversions) and the proxy's delays all run in its
 * simulated time, so minutes of fleet life pass in seconds while the sockets and Mosquitto stay real.
 * Ticks can start anywhere and wrap like an MCU's signed 32-bit counter, so a soak can cross the wrap.
 * The date starts at the computer's and runs at the same speed, so dates and ticks agree as on a board.
 */
import { performance } from "node:perf_hooks";
import { clearTimer, setTimer } from "../../hosts/node/clock";
import type { Clock, TimerId } from "../../src/io";

export interface ScaledClockOptions {
	speed: number;
	startTicks?: number;
	wrap32?: boolean;
}

export class ScaledClock implements Clock {
	readonly speed: number;
	readonly #origin = performance.now();
	readonly #dateOrigin = Date.now();
	readonly #start: number;
	readonly #wrap32: boolean;

	constructor(options: ScaledClockOptions) {
		if (!(options.speed > 0)) throw new RangeError("speed must be positive");
		this.speed = options.speed;
		this.#start = options.startTicks ?? 0;
		this.#wrap32 = options.wrap32 ?? false;
	}

	/** Simulated milliseconds since the clock was made (never wraps; for the harness, not the firmware). */
	get now(): number {
		return Math.floor((performance.now() - this.#origin) * this.speed);
	}

	ticks(): number {
		const ticks = this.#start + this.now;
		return this.#wrap32 ? ticks | 0 : ticks;
	}

	set(callback: () => void, ms: number): TimerId {
		return setTimer(callback, ms / this.speed);
	}

	repeat(callback: () => void, ms: number): TimerId {
		return setInterval(callback, Math.max(1, ms) / this.speed);
	}

	clear(id: TimerId | undefined): void {
		clearTimer(id);
	}

	date(): number {
		return this.#dateOrigin + this.now;
	}

	/** Resolves after `ms` of simulated time. */
	wait(ms: number): Promise<void> {
		return new Promise((resolve) => this.set(resolve, ms));
	}
}
