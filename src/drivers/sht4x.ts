/*
 * Sensirion SHT4x (SHT40, SHT41, SHT45) at 0x44 (-AD1x parts, most boards), 0x45 (-BD1x) or 0x46 (-CD1x).
 *
 * configure({precision?: "high" | "medium" | "low", heaterMw?: 0 | 20 | 110 | 200, heaterMs?: 100 | 1000});
 * defaults "high", 0 (off), 100. With a heater power set, a sample fires the heater pulse, which ends with a
 * high-precision measurement of the heated chip (a plausibility check, not the ambient value); the datasheet
 * allows at most 10 % duty, so other samples in between are plain measurements.
 * The chip never stretches the clock: it NACKs the read header while busy, and its data can be read once.
 * Initialisation: soft reset, serial number read with both CRCs (proves an SHT4x answers).
 */
import { elapsed } from "../io";
import { CRC_INIT_SENSIRION, checkedWord } from "./crc8";
import type { Command } from "./i2c-sensor";
import { command, option } from "./i2c-sensor";
import { SensirionSensor } from "./sensirion";
import type { SensorOptions } from "./sensor";
import type { Steps } from "./steps";

// Opcodes: Datasheet SHT4x v6.1 Table 8. Waits: Table 5 maxima rounded up; heater pulses 1.1 s / 0.11 s maximum
// plus the 8.3 ms measurement; reset 1 ms (Table 5); serial 10 ms as Sensirion's driver (not in the datasheet).
export const SHT4X_COMMANDS = Object.freeze({
	high: command([0xfd], 9),
	medium: command([0xf6], 5),
	low: command([0xe0], 2),
	serial: command([0x89], 10),
	softReset: command([0x94], 1),
	heater200mW1s: command([0x39], 1110),
	heater200mW100ms: command([0x32], 119),
	heater110mW1s: command([0x2f], 1110),
	heater110mW100ms: command([0x24], 119),
	heater20mW1s: command([0x1e], 1110),
	heater20mW100ms: command([0x15], 119),
});

const PRECISION = Object.freeze(["high", "medium", "low"] as const);
const HEATER_MW = Object.freeze([0, 20, 110, 200] as const);
const HEATER_MS = Object.freeze([100, 1000] as const);
const HEATER_DUTY = 0.1;

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
		const heat = this.#heaterAllowed();
		if (heat) this.#heatedAt = this.ticks();
		const entry = heat ? this.#heater! : this.#measure;
		this.issue(entry.bytes);
		return entry.waitMs;
	}

	protected humidityPercent(raw: number): number {
		return sht4xHumidityPercent(raw);
	}

	#heaterAllowed(): boolean {
		if (!this.#heater) return false;
		return this.#heatedAt === undefined || elapsed(this.#heatedAt, this.ticks()) >= this.#heaterMs / HEATER_DUTY;
	}
}
