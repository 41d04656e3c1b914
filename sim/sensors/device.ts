/*
 * What every simulated I2C chip shares: the hooks the bus calls, presence (unplug, and replug with the chip's
 * power-up time), datasheet timing (typical by default, or maximum), and fault injection.
 *
 * A model works at the byte level: `onWrite(bytes)` and `onRead(buffer)` return false to NACK, which the bus
 * turns into the exception the device's I2C throws. Time comes from the bus with each transaction.
 * Portable: runs inside XS too, no Node API.
 */
import { elapsed } from "src/io";
import type { Environment } from "../environment";

export type Timing = "typical" | "maximum";

/** Faults a test can inject into one device at any moment; each takes effect from the next transaction. */
export interface Faults {
	/** How many upcoming measurement frames carry a wrong CRC byte (Infinity: all). Chips without CRC ignore it. */
	crc: number;
	/** Conversions never finish: the chip NACKs or reports busy for ever, as the part does while converting. */
	stuckBusy: boolean;
	/** Conversions report a physically impossible value or the chip's diagnostic code. */
	outOfRange: boolean;
	/** How many transactions fail as bus errors (NACK), whatever they are, once `busErrorsAfter` more have passed. */
	busErrors: number;
	busErrorsAfter: number;
}

export interface DeviceOptions {
	env: Environment;
	/** Which datasheet durations conversions take (default "typical"). */
	timing?: Timing;
}

export abstract class SimDevice {
	readonly faults: Faults = { crc: 0, stuckBusy: false, outOfRange: false, busErrors: 0, busErrorsAfter: 0 };
	/** The fastest clock the chip answers at (datasheet); faster transactions are NACKed. */
	abstract readonly maxHz: number;
	protected readonly env: Environment;
	protected readonly timing: Timing;
	#ticks: () => number = () => 0;
	#plugged = true;
	#poweredAt: number | undefined;

	constructor(options: DeviceOptions) {
		this.env = options.env;
		this.timing = options.timing ?? "typical";
	}

	get plugged(): boolean {
		return this.#plugged;
	}

	/** Called by the bus on attach: the chip was powered up long ago (an hour), so it has settled. */
	connect(ticks: () => number): void {
		this.#ticks = ticks;
		this.reset(ticks() - 3_600_000);
	}

	unplug(): void {
		this.#plugged = false;
	}

	/** A power cycle: power-on state, and no answer until the power-up time has passed. */
	replug(): void {
		const now = this.#ticks();
		this.#plugged = true;
		this.#poweredAt = now;
		this.reset(now);
	}

	// The model's hook is a tail call (`return f()`), run in this frame: the simulated bus's frames are under
	// every driver call in mcsim, whose XS stack is sized like a board's.
	/** Called by the bus. */
	handleWrite(data: Uint8Array, now: number): boolean {
		if (!this.#answers(now)) return false;
		return this.onWrite(data, now);
	}

	/** Called by the bus. */
	handleRead(buffer: Uint8Array, now: number): boolean {
		if (!this.#answers(now)) return false;
		return this.onRead(buffer, now);
	}

	/** Power-up time in ms (the chip NACKs until it has passed). */
	protected abstract powerUpMs(): number;

	/** Back to the power-on state. */
	protected abstract reset(now: number): void;

	protected abstract onWrite(data: Uint8Array, now: number): boolean;

	protected abstract onRead(buffer: Uint8Array, now: number): boolean;

	protected duration(typicalMs: number, maximumMs: number): number {
		return this.timing === "maximum" ? maximumMs : typicalMs;
	}

	/** Whether something that started at `start` and takes `ms` is over. */
	protected over(start: number, ms: number, now: number): boolean {
		return elapsed(start, now) >= ms;
	}

	/** Whether a conversion that started at `start` and takes `ms` is done (never, with the stuck-busy fault). */
	protected converted(start: number, ms: number, now: number): boolean {
		return !this.faults.stuckBusy && this.over(start, ms, now);
	}

	/** Consumes one CRC fault: true when the frame being built must carry a wrong CRC. */
	protected crcFault(): boolean {
		if (!(this.faults.crc > 0)) return false;
		this.faults.crc--;
		return true;
	}

	#answers(now: number): boolean {
		if (!this.#plugged) return false;
		if (this.#poweredAt !== undefined) {
			if (elapsed(this.#poweredAt, now) < this.powerUpMs()) return false;
			this.#poweredAt = undefined;
		}
		const faults = this.faults;
		if (faults.busErrors > 0) {
			if (faults.busErrorsAfter > 0) faults.busErrorsAfter--;
			else {
				faults.busErrors--;
				return false;
			}
		}
		return true;
	}
}

/** Copies `bytes` into `buffer`, padding with 0xFF (what a released SDA line reads) past their end. */
export function fill(buffer: Uint8Array, bytes: ArrayLike<number>): void {
	for (let i = 0; i < buffer.length; i++) buffer[i] = i < bytes.length ? bytes[i] : 0xff;
}

/** The integer nearest to `value` within 0..max. */
export function code(value: number, max: number): number {
	return Math.min(max, Math.max(0, Math.round(value)));
}

/** The mask of a 16-bit result word with `bits` valid bits (the two lowest are never data). */
export function validBits(bits: number): number {
	return (0xffff << (16 - bits)) & 0xfffc;
}
