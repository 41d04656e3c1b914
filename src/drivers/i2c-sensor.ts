/*
 * What every driver shares, so that each chip's file holds only its datasheet: opening the bus ECMA-419
 * style, sampling without blocking, turning bus exceptions into SensorErrors, and setting a chip up again
 * after it went away.
 *
 * Non-blocking sampling: every wait is a timer on the injected Clock. `sample()` runs the measurement,
 * preceded by the chip's initialisation (soft reset, calibration, configuration) when the driver is new, was
 * reconfigured, or its previous sample failed for any reason but a CRC mismatch: the chip went away, stayed
 * busy or reported nonsense, and a chip that was power cycled has lost its set-up, so it is set up again
 * before it is trusted.
 *
 * Brown-outs: a chip can also reset between two samples without any sample failing, and come back with its
 * power-on settings (SHT3x heater off, BME280 filter off, HDC1080 and HTU21D resolution and heater at their
 * defaults). So a driver checks, before it trusts a reading, that the chip still holds its settings (a
 * reset-detected status bit, or the settings read back; once the data are in, or before the measurement where
 * its timing depends on them) and calls `lost()` when it does not: the set-up runs again, the measurement is
 * repeated, and `options.events.onRecovery` is told. A second loss within the same sample fails it.
 *
 * The initialisation is written as `Steps` (see ./steps): bus transactions separated by `yield <ms>`. The
 * measurement, which runs every cycle, is not: in XS every generator, and every pause of one, allocates, and
 * the firmware must allocate little per reading on a 32 KB heap. It is a fixed shape instead, driven here with
 * one timer callback made once per driver: for each phase, `start(phase)` issues the command and returns the
 * datasheet's maximum wait; after it, `collect(phase)` is tried until it returns true (the data are in); then
 * the next phase, and after the last, `convert()`.
 *
 * Bus exceptions: on the device a NACK on the address and a NACK on data look alike. If the first
 * transaction of a sample (or of the constructor) fails, the chip did not answer: "absent". A failure
 * after the chip has answered is a "bus" error. Chips that NACK while converting are read through
 * `readWhenReady`, which retries until a deadline ("busy").
 */
import type { Clock, I2C, TimerId } from "../io";
import { elapsed } from "../io";
import type { Sample, SampleCallback, Sensor, SensorErrorKind, SensorEvents, SensorOptions } from "./sensor";
import { SensorError, chipLabel } from "./sensor";
import type { Steps } from "./steps";
import { Stepper, pollUntil } from "./steps";

/** One entry of a chip's command table: the bytes to write and how long to wait after them (`afterMax`). */
export interface Command {
	readonly bytes: readonly number[];
	readonly waitMs: number;
}

/**
 * The wait for a datasheet maximum of `maxMs`: whole ms, plus one, because a timer of n ticks can end as little
 * as n - 1 ms after it was set (the tick may be about to change when it is set).
 */
export function afterMax(maxMs: number): number {
	return Math.ceil(maxMs) + 1;
}

/** A command table entry from the datasheet's maximum time after the command (0: none). */
export function command(bytes: number[], maxMs: number): Command {
	return Object.freeze({ bytes: Object.freeze(bytes), waitMs: maxMs ? afterMax(maxMs) : 0 });
}

/** What `lost()` throws; caught where the sample's steps run. */
const LOST = Object.freeze(new Error("settings lost"));

/** The temperatures a chip is specified for; a reading outside them is rejected as impossible. */
export interface Limits {
	readonly minC: number;
	readonly maxC: number;
}

/** Whether `temperatureC` is one the chip is specified for. */
export function within(limits: Limits, temperatureC: number): boolean {
	return temperatureC >= limits.minC && temperatureC <= limits.maxC;
}

export const BOOLEANS = Object.freeze([false, true]);

/** `options[key]` when present and one of `allowed`; undefined when absent; RangeError otherwise. */
export function option<T>(options: Record<string, unknown>, key: string, allowed: readonly T[]): T | undefined {
	const value = options[key];
	if (value === undefined) return undefined;
	if (!allowed.includes(value as T)) throw new RangeError(`${key} must be one of ${allowed.join(", ")}`);
	return value as T;
}

function describe(error: unknown): string {
	return error instanceof Error ? error.message : String(error);
}

export abstract class I2CSensor implements Sensor {
	readonly address: number;
	#model: string;
	readonly #io: I2C;
	readonly #clock: Clock;
	readonly #events: SensorEvents | undefined;
	/**
	 * The set-up under way, if any. Made per set-up (at the first sample and after a failure or a reset), not
	 * held with its timer callback for good: a driver's life is mostly samples.
	 */
	#stepper: Stepper<void> | undefined;
	readonly #commands: Uint8Array[] = [];
	/** Set from `sample()` until its callback: a sample is running. */
	#callback: SampleCallback | undefined;
	#ready = false;
	#answered = false;
	/** What `lost()` found; `#recovered`: the running sample has already restored the settings once. */
	#lost = "";
	#recovered = false;
	#closed = false;
	/** How many phases the measurement has (HTU21D: two conversions). */
	protected phases = 1;
	#phase = 0;
	#waitMs = 0;
	/** When `collect` first found the chip still busy, for the deadline; undefined before that. */
	#busySince: number | undefined;
	#timer: TimerId | undefined;

	protected constructor(model: string, options: SensorOptions, address: number, hz: number) {
		const sensor = options.sensor;
		this.#model = model;
		this.address = sensor.address ?? address;
		this.#clock = options.clock;
		this.#events = options.events;
		try {
			this.#io = new sensor.io({ hz, address, ...sensor });
		}
		catch (error) {
			throw this.error("bus", `cannot open the bus: ${describe(error)}`);
		}
	}

	get model(): string {
		return this.#model;
	}

	abstract configure(options: Record<string, unknown>): void;

	/** Soft reset, the chip's own initialisation, and the configuration. */
	protected abstract initialise(): Steps<void>;

	/** Issues the command of measurement phase `phase`; returns the datasheet's maximum wait, ms. */
	protected abstract start(phase: number): number;

	/** True once phase `phase`'s data are in (read, checked and kept); false while the chip is still busy. */
	protected abstract collect(phase: number): boolean;

	/** The sample from the data collected. */
	protected abstract convert(): Sample;

	sample(callback: SampleCallback): void {
		if (this.#closed || this.#callback) {
			const error = this.#closed ? this.error("closed", "closed") : this.error("busy", "a sample is already running");
			this.#clock.set(() => callback(error), 0);
			return;
		}
		this.#callback = callback;
		this.#answered = false;
		this.#recovered = false;
		if (!this.#ready) {
			this.startSetUp();
			return;
		}
		try {
			this.begin(0);
		}
		catch (error) {
			if (error === LOST) this.recover();
			// The callback never runs from inside sample().
			else this.#clock.set(() => this.settle(error), 0);
		}
	}

	close(): void {
		if (this.#closed) return;
		this.#closed = true;
		const callback = this.#callback;
		if (callback) {
			this.#stepper?.cancel();
			this.#stepper = undefined;
			this.#clock.clear(this.#timer);
			this.#timer = undefined;
			this.#callback = undefined;
			const error = this.error("closed", "closed during a sample");
			this.#clock.set(() => callback(error), 0);
		}
		this.#io.close();
	}

	/** Runs the constructor's synchronous checks; on failure closes the bus and throws a SensorError. */
	protected startup(check: () => void): void {
		try {
			check();
		}
		catch (error) {
			this.close();
			throw this.asSensorError(error);
		}
	}

	/** Names the exact part once the driver has told it apart (e.g. Si7021 under the HTU21D driver). */
	protected identified(model: string): void {
		this.#model = model;
	}

	/** The next sample initialises the chip again (after `configure`). */
	protected invalidate(): void {
		this.#ready = false;
	}

	/** The chip no longer holds its settings (it was reset): restore them and measure again. */
	protected lost(detail: string): never {
		this.#lost = detail;
		throw LOST;
	}

	protected error(kind: SensorErrorKind, detail: string): SensorError {
		return new SensorError(kind, this.#model, this.address, detail);
	}

	protected ticks(): number {
		return this.#clock.ticks();
	}

	protected write(bytes: Uint8Array): void {
		try {
			this.#io.write(bytes);
		}
		catch (error) {
			throw this.busError(error);
		}
		this.#answered = true;
	}

	protected read(buffer: Uint8Array): void {
		try {
			this.#io.read(buffer);
		}
		catch (error) {
			throw this.busError(error);
		}
		this.#answered = true;
	}

	/** Register read with a repeated start: only for registers that need no conversion wait. */
	protected writeRead(bytes: Uint8Array, buffer: Uint8Array): void {
		try {
			this.#io.writeRead(bytes, buffer);
		}
		catch (error) {
			throw this.busError(error);
		}
		this.#answered = true;
	}

	/** Writes a command's bytes (through a buffer kept per length: no allocation per sample). */
	protected issue(bytes: readonly number[]): void {
		const buffer = (this.#commands[bytes.length] ??= new Uint8Array(bytes.length));
		for (let i = 0; i < bytes.length; i++) buffer[i] = bytes[i];
		this.write(buffer);
	}

	/** Writes a command, then waits its datasheet maximum. */
	protected *send(entry: Command): Steps<void> {
		this.issue(entry.bytes);
		if (entry.waitMs) yield entry.waitMs;
	}

	/** `pollUntil`, giving up with "busy". */
	protected *poll(ready: () => boolean, waitMs: number, what: string): Steps<void> {
		if (!(yield* pollUntil(ready, waitMs))) throw this.error("busy", `${what} not ready ${3 * waitMs} ms after the command`);
	}

	/** `poll` for a chip that NACKs its read header until the conversion is done. */
	protected readWhenReady(buffer: Uint8Array, waitMs: number): Steps<void> {
		return this.poll(() => this.tryRead(buffer), waitMs, "data");
	}

	/** The sample for a converted reading; "range" when the temperature is outside what the chip is specified for. */
	protected result(temperature: number, humidity: number, limits: Limits): Sample {
		if (!within(limits, temperature))
			throw this.error("range", `temperature ${temperature.toFixed(2)} C outside ${limits.minC}..${limits.maxC} C`);
		if (Number.isNaN(humidity)) throw this.error("range", "humidity is not a number");
		// SHT4x and HTU21D/Si7021 can report a little below 0 or above 100 %RH: their datasheets crop; the other
		// chips' formulas cannot leave 0..100, so cropping everywhere is the same rule for all six.
		return {
			thermometer: { temperature },
			hygrometer: { humidity: Math.min(100, Math.max(0, humidity)) },
		};
	}

	private *setUp(): Steps<void> {
		// Ready from the start of the set-up, so that a configure() during it is not lost when it ends.
		this.#ready = true;
		try {
			yield* this.initialise();
		}
		catch (error) {
			this.#ready = false;
			throw error;
		}
	}

	private startSetUp(): void {
		const stepper = (this.#stepper = new Stepper(this.#clock));
		stepper.start(this.setUp(), (error) => {
			this.#stepper = undefined;
			if (error !== undefined) this.settle(error);
			else this.run(true);
		});
	}

	private begin(phase: number): void {
		this.#phase = phase;
		this.#busySince = undefined;
		this.#waitMs = this.start(phase);
		this.#timer = this.#clock.set(this.#check, this.#waitMs);
	}

	/** After the wait: the data, or another look a quarter of the wait later, until three times it ("busy"). */
	readonly #check = (): void => {
		this.#timer = undefined;
		this.run(false);
	};

	/** The sample once the last phase is collected; undefined while the measurement goes on. */
	private advance(): Sample | undefined {
		const waitMs = this.#waitMs;
		if (!this.collect(this.#phase)) {
			const now = this.#clock.ticks();
			const since = this.#busySince ??= now;
			if (elapsed(since, now) >= 2 * waitMs) throw this.error("busy", `measurement not ready ${3 * waitMs} ms after the command`);
			this.#timer = this.#clock.set(this.#check, Math.max(1, Math.ceil(waitMs / 4)));
		}
		else if (this.#phase + 1 < this.phases) this.begin(this.#phase + 1);
		else return this.convert();
		return undefined;
	}

	/**
	 * Runs one step of a sample, the first phase's start or the next look at the chip (a flag, not a function:
	 * a method passed as one would be a closure held for good); whatever it throws ends the sample with that
	 * error. The callback runs outside the try, so an exception the application throws from it surfaces as
	 * itself instead of being taken for a sensor failure of a sample that has already been delivered.
	 */
	private run(first: boolean): void {
		let sample: Sample | undefined;
		try {
			if (first) this.begin(0);
			else sample = this.advance();
		}
		catch (error) {
			if (error === LOST) this.recover();
			else this.settle(error);
			return;
		}
		if (sample) this.settle(undefined, sample);
	}

	private recover(): void {
		if (this.#recovered) {
			this.settle(this.error("bus", `${this.#lost} again, just after its settings were restored`));
			return;
		}
		this.#recovered = true;
		this.startSetUp();
		// After the set-up is under way: an exception from the application's callback cannot leave the sample hanging.
		this.#events?.onRecovery(`${chipLabel(this.#model, this.address)}: ${this.#lost}; settings restored`);
	}

	private settle(error: unknown, sample?: Sample): void {
		const callback = this.#callback!;
		this.#callback = undefined;
		if (error === undefined) {
			callback(undefined, sample);
			return;
		}
		const failure = this.asSensorError(error);
		if (failure.kind !== "crc") this.#ready = false;
		callback(failure);
	}

	/** Reads `buffer` from a chip that NACKs its read header while converting: false while it does. */
	protected tryRead(buffer: Uint8Array): boolean {
		try {
			this.#io.read(buffer);
		}
		catch {
			return false;
		}
		this.#answered = true;
		return true;
	}

	private busError(error: unknown): SensorError {
		return this.#answered
			? this.error("bus", `bus error: ${describe(error)}`)
			: this.error("absent", `no answer: ${describe(error)}`);
	}

	// Anything else thrown (a driver bug) still reaches the app as a SensorError, never as a crash in a timer.
	private asSensorError(error: unknown): SensorError {
		return error instanceof SensorError ? error : this.error("bus", describe(error));
	}
}
