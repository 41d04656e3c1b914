/*
 * Sensirion SHT4x (SHT40, SHT41, SHT45) at 0x44 (-AD1x parts, most boards), 0x45 (-BD1x) or 0x46 (-CD1x).
 *
 * configure({precision?: "high" | "medium" | "low", heaterMw?: 0 | 20 | 110 | 200, heaterMs?: 100 | 1000});
 * defaults "high", 0 (off), 100. With a heater power set, a sample fires the heater pulse, which ends with a
 * high-precision measurement of the heated chip: a plausibility check, not the ambient value, so the sample is
 * marked `heater: "on"`. The datasheet allows the heater at most 10 % duty, counted here with the pulse's
 * maximum length (1.1 s for a 1 s pulse), and only below 65 C ambient: a pulse is fired only when the last
 * unheated reading was below 65 C, and a sample whose pulse was refused for that is marked `heater: "refused"`.
 * Samples in between are plain measurements.
 * The chip never stretches the clock: it NACKs the read header while busy, and its data can be read once.
 * Initialisation: soft reset, serial number read with both CRCs (proves an SHT4x answers). The chip has no
 * settings to lose in a brown-out (the heater is part of each command), so there is nothing to restore.
 */
import { elapsed } from "../io";
import { CRC_INIT_SENSIRION, checkedWord } from "./crc8";
import type { Command } from "./i2c-sensor";
import { command, option } from "./i2c-sensor";
import { SensirionSensor } from "./sensirion";
import type { Sample, SensorOptions } from "./sensor";
import type { Steps } from "./steps";

// Opcodes: Datasheet SHT4x v6.1 Table 8. Times: Table 5 maxima; heater pulses 1.1 s / 0.11 s maximum plus the
// 8.3 ms measurement; reset 1 ms (Table 5); serial 10 ms as Sensirion's driver (not in the datasheet).
export const SHT4X_COMMANDS = Object.freeze({
	high: command([0xfd], 8.3),
	medium: command([0xf6], 4.5),
	low: command([0xe0], 1.6),
	serial: command([0x89], 10),
	softReset: command([0x94], 1),
	heater200mW1s: command([0x39], 1108.3),
	heater200mW100ms: command([0x32], 118.3),
	heater110mW1s: command([0x2f], 1108.3),
	heater110mW100ms: command([0x24], 118.3),
	heater20mW1s: command([0x1e], 1108.3),
	heater20mW100ms: command([0x15], 118.3),
});

const PRECISION = Object.freeze(["high", "medium", "low"] as const);
const HEATER_MW = Object.freeze([0, 20, 110, 200] as const);
const HEATER_MS = Object.freeze([100, 1000] as const);
// Datasheet SHT4x v6.1: heater at most 10 % duty, pulses of 0.9-1.1 s / 0.09-0.11 s, ambient below 65 C.
const HEATER_DUTY = 0.1;
const HEATER_MAX_PULSE = 1.1;
export const SHT4X_HEATER_MAX_AMBIENT_C = 65;

/** Datasheet SHT4x v6.1, conversion of signal output: RH = -6 + 125 * S / 65535; may leave 0..100 (the datasheet crops). */
export function sht4xHumidityPercent(raw: number): number {
	return -6 + (125 * raw) / 65535;
}

function heaterCommand(mw: number, ms: number): Command | undefined {
	switch (mw) {
		case 20: return ms === 1000 ? SHT4X_COMMANDS.heater20mW1s : SHT4X_COMMANDS.heater20mW100ms;
		case 110: return ms === 1000 ? SHT4X_COMMANDS.heater110mW1s : SHT4X_COMMANDS.heater110mW100ms;
		case 200: return ms === 1000 ? SHT4X_COMMANDS.heater200mW1s : SHT4X_COMMANDS.heater200mW100ms;
		default: return undefined;
	}
}

export class SHT4x extends SensirionSensor {
	#measure: Command = SHT4X_COMMANDS.high;
	#heaterMw = 0;
	#heaterMs = 100;
	#heater: Command | undefined;
	#heatedAt: number | undefined;
	/** The last unheated reading, C; undefined before the first. */
	#ambientC: number | undefined;
	/** What the measurement under way is: a heater pulse, or plain because a due pulse was refused. */
	#heating = false;
	#refused = false;

	constructor(options: SensorOptions) {
		super("SHT4x", options, 0x44, 400_000);
		// Presence: a harmless command (the serial number it offers is dropped by the next command) must be ACKed.
		this.startup(() => this.issue(SHT4X_COMMANDS.serial.bytes));
	}

	configure(options: Record<string, unknown>): void {
		const precision = option(options, "precision", PRECISION);
		const heaterMw = option<number>(options, "heaterMw", HEATER_MW);
		const heaterMs = option<number>(options, "heaterMs", HEATER_MS);
		if (precision !== undefined) this.#measure = SHT4X_COMMANDS[precision];
		if (heaterMw !== undefined) this.#heaterMw = heaterMw;
		if (heaterMs !== undefined) this.#heaterMs = heaterMs;
		this.#heater = heaterCommand(this.#heaterMw, this.#heaterMs);
	}

	protected *initialise(): Steps<void> {
		const frame = this.frame;
		yield* this.send(SHT4X_COMMANDS.softReset);
		this.issue(SHT4X_COMMANDS.serial.bytes);
		yield* this.readWhenReady(frame, SHT4X_COMMANDS.serial.waitMs);
		if (checkedWord(frame, 0, CRC_INIT_SENSIRION) < 0 || checkedWord(frame, 3, CRC_INIT_SENSIRION) < 0)
			throw this.error("crc", "serial number CRC mismatch");
	}

	protected start(): number {
		// A pulse waits for an unheated reading, the ambient temperature it is allowed at.
		const due = this.heaterDue() && this.#ambientC !== undefined;
		this.#refused = due && this.#ambientC! >= SHT4X_HEATER_MAX_AMBIENT_C;
		this.#heating = due && !this.#refused;
		if (this.#heating) this.#heatedAt = this.ticks();
		const entry = this.#heating ? this.#heater! : this.#measure;
		this.issue(entry.bytes);
		return entry.waitMs;
	}

	protected override convert(): Sample {
		const sample = super.convert();
		if (this.#heating) sample.heater = "on";
		else {
			this.#ambientC = sample.thermometer.temperature;
			if (this.#refused) sample.heater = "refused";
		}
		return sample;
	}

	protected humidityPercent(raw: number): number {
		return sht4xHumidityPercent(raw);
	}

	private heaterDue(): boolean {
		if (!this.#heater) return false;
		return this.#heatedAt === undefined || elapsed(this.#heatedAt, this.ticks()) >= (this.#heaterMs * HEATER_MAX_PULSE) / HEATER_DUTY;
	}
}
