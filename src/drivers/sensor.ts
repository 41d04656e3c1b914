/*
 * What every temperature/humidity driver gives the application, in the ECMA-419 sensor shape
 * (`new X({sensor: {...device.I2C.default, address?, hz?}})`, `configure`, `sample`, `close`).
 *
 * One deliberate difference from Moddable's drivers: `sample` never blocks. A conversion takes up to
 * ~80 ms (AHT20) and a busy wait would stall MQTT keepalive and socket I/O on a single-threaded engine,
 * so the driver starts the measurement, waits on the injected clock, and reports through a callback.
 * Units: temperature °C, humidity %RH 0-100 (as Moddable's drivers and TR/109; not the 0-1 of the spec annex),
 * pressure Pa.
 */
import type { Clock, I2CBus } from "../io";

export interface Sample {
	thermometer: { temperature: number };
	hygrometer: { humidity: number };
	barometer?: { pressure: number };
	/**
	 * SHT4x heater. "on": measured right after a heater pulse, so the chip's own heat, not the air (the datasheet's
	 * specifications do not hold): never an ordinary reading. "refused": a pulse was due but the last unheated
	 * reading was at or above the datasheet's 65 C limit, so this is a plain measurement.
	 */
	heater?: "on" | "refused";
}

/** "SHT3x at 0x44". */
export function chipLabel(model: string, address: number): string {
	return `${model} at 0x${address.toString(16).padStart(2, "0")}`;
}

/**
 * Why a sample failed. `absent`: the chip NACKs its address; `bus`: another bus error; `crc`: a checksum
 * mismatch (the reading is discarded); `busy`: the chip stayed busy past its datasheet deadline; `range`:
 * a physically impossible value or a diagnostic code; `unsupported`: not the chip the driver expects;
 * `closed`: the driver was closed.
 */
export type SensorErrorKind = "absent" | "bus" | "crc" | "busy" | "range" | "unsupported" | "closed";

export class SensorError extends Error {
	// A class field, not `this.name = ...`: Error.prototype is frozen on XS, so assignment throws there.
	override name = "SensorError";
	readonly kind: SensorErrorKind;
	readonly model: string;
	readonly address: number;

	constructor(kind: SensorErrorKind, model: string, address: number, detail: string) {
		super(`${chipLabel(model, address)}: ${detail}`);
		this.kind = kind;
		this.model = model;
		this.address = address;
	}
}

export type SampleCallback = (error: SensorError | undefined, sample?: Sample) => void;

export interface SensorOptions {
	/** The bus, ECMA-419 style: usually `device.I2C.default`, plus an optional `address` and `hz`. */
	sensor: I2CBus & { address?: number; hz?: number };
	/** Waits for conversions are timers on this clock, never busy loops. */
	clock: Clock;
	/** What the driver tells its owner. */
	events?: SensorEvents;
}

/**
 * An object with methods rather than callback options, so that an owner can hand one it already has (the node
 * hands the class its MQTT and config callbacks come through) instead of a closure held as long as the driver.
 */
export interface SensorEvents {
	/** Called with a description each time the driver finds that its chip was reset and restores its settings. */
	onRecovery(message: string): void;
}

export interface Sensor {
	/** The chip family, e.g. "SHT3x". */
	readonly model: string;
	readonly address: number;
	/** Applies only the options present; throws RangeError for a value the chip does not support. */
	configure(options: Record<string, unknown>): void;
	/**
	 * Starts a measurement and calls back exactly once, asynchronously, with a fresh sample or a
	 * SensorError. A faulty reading is never returned as a sample.
	 */
	sample(callback: SampleCallback): void;
	/** Idempotent. */
	close(): void;
}
