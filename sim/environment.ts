/*
 * The air the simulated sensors measure: temperature (C), relative humidity (%RH) and pressure (Pa), each a
 * base value plus a slow sine swing plus small noise. Every value is a pure function of time and the seed
 * (the noise interpolates seeded random knots one second apart), so a run is reproducible whatever order
 * the models read it in. Tests set the base values, the swing and the noise.
 * Portable: it runs inside XS and the Moddable simulator too, so no Node API.
 */
import { hash01 } from "./sensors/random";

export interface Conditions {
	temperature: number;
	humidity: number;
	pressure: number;
}

export interface EnvironmentOptions extends Partial<Conditions> {
	seed?: number;
	/** Amplitude of the noise of each quantity (peak). */
	noise?: Partial<Conditions>;
	/** Amplitude of the slow sine of each quantity. */
	swing?: Partial<Conditions>;
	/** Period of the slow sine, ms. */
	periodMs?: number;
}

const KNOT_MS = 1000;

export class Environment {
	readonly #seed: number;
	readonly #base: Conditions = { temperature: 22, humidity: 45, pressure: 101_325 };
	readonly #noise: Conditions = { temperature: 0.05, humidity: 0.2, pressure: 2 };
	readonly #swing: Conditions = { temperature: 2, humidity: 5, pressure: 150 };
	#periodMs = 86_400_000;

	constructor(options: EnvironmentOptions = {}) {
		this.#seed = options.seed ?? 1;
		this.set(options);
		this.setNoise(options.noise ?? {});
		this.setSwing(options.swing ?? {});
		if (options.periodMs !== undefined) this.#periodMs = options.periodMs;
	}

	/** Sets base values (the swing and noise are added to them). */
	set(values: Partial<Conditions>): void {
		assign(this.#base, values);
	}

	setNoise(amplitudes: Partial<Conditions>): void {
		assign(this.#noise, amplitudes);
	}

	setSwing(amplitudes: Partial<Conditions>): void {
		assign(this.#swing, amplitudes);
	}

	temperatureAt(ms: number): number {
		return this.#value(ms, 0, this.#base.temperature, this.#swing.temperature, this.#noise.temperature);
	}

	/** Relative humidity, kept within 0..100. */
	humidityAt(ms: number): number {
		return Math.min(100, Math.max(0, this.#value(ms, 1, this.#base.humidity, this.#swing.humidity, this.#noise.humidity)));
	}

	pressureAt(ms: number): number {
		return this.#value(ms, 2, this.#base.pressure, this.#swing.pressure, this.#noise.pressure);
	}

	// The noise is value noise in [-1, 1]: random knots every KNOT_MS, linearly interpolated, so it is continuous
	// in time. Worked out here rather than in a method of its own: this is the deepest call under a simulated
	// chip's read, and mcsim's XS stack is sized like a board's.
	#value(ms: number, channel: number, base: number, swing: number, noise: number): number {
		const phase = (2 * Math.PI * ms) / this.#periodMs;
		const knot = Math.floor(ms / KNOT_MS);
		const fraction = ms / KNOT_MS - knot;
		const seed = this.#seed * 3 + channel;
		const a = hash01(seed, knot);
		const b = hash01(seed, knot + 1);
		return base + swing * Math.sin(phase + channel) + noise * (2 * (a + (b - a) * fraction) - 1);
	}
}

function assign(target: Conditions, values: Partial<Conditions>): void {
	if (values.temperature !== undefined) target.temperature = values.temperature;
	if (values.humidity !== undefined) target.humidity = values.humidity;
	if (values.pressure !== undefined) target.pressure = values.pressure;
}
