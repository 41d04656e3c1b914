/*
 * Sensirion SHT3x (SHT30, SHT31, SHT35) at 0x44 (ADDR low, the default) or 0x45.
 *
 * configure({repeatability?: "high" | "medium" | "low", heater?: boolean}); defaults "high", false.
 * Single-shot measurements with the no-stretch commands: the stretching ones hold SCL up to 15 ms, more than
 * the ESP32 can wait. The chip NACKs the read header until the data are ready, so the driver waits the
 * datasheet maximum and then reads, retrying until a deadline. Initialisation: soft reset, status read with
 * CRC (proves an SHT3x answers), heater on if configured (a reset turns it off).
 */
import { CRC_INIT_SENSIRION, checkedWord } from "./crc8";
import type { Command } from "./i2c-sensor";
import { BOOLEANS, command, option } from "./i2c-sensor";
import { SensirionSensor } from "./sensirion";
import type { SensorOptions } from "./sensor";
import type { Steps } from "./steps";

// Opcodes: Datasheet SHT3x-DIS v4 command tables (single shot, reset, heater, status). Waits: its Table 4 maxima, rounded up (soft reset 1 ms,
// doubled); 1 ms of bus idle after the others, as datasheet v5 asks between a command and the next transfer.
export const SHT3X_COMMANDS = Object.freeze({
	high: command([0x24, 0x00], 15),
	medium: command([0x24, 0x0b], 6),
	low: command([0x24, 0x16], 4),
	softReset: command([0x30, 0xa2], 2),
	readStatus: command([0xf3, 0x2d], 1),
	heaterOn: command([0x30, 0x6d], 1),
});

const REPEATABILITY = Object.freeze(["high", "medium", "low"] as const);
type Repeatability = (typeof REPEATABILITY)[number];

/** Datasheet SHT3x-DIS v4, conversion of signal output: RH = 100 * S / 65535 (cannot leave 0..100). */
export function sht3xHumidityPercent(raw: number): number {
	return (100 * raw) / 65535;
}

export class SHT3x extends SensirionSensor {
	readonly #status = this.frame.subarray(0, 3);
	#measure: Command = SHT3X_COMMANDS.high;
	#heater = false;

	constructor(options: SensorOptions) {
		super("SHT3x", options, 0x44, 400_000);
		// Presence: a harmless command (the status it offers is dropped by the next command) must be ACKed.
		this.startup(() => this.issue(SHT3X_COMMANDS.readStatus.bytes));
	}

	configure(options: Record<string, unknown>): void {
		const repeatability = option<Repeatability>(options, "repeatability", REPEATABILITY);
		const heater = option(options, "heater", BOOLEANS);
		if (repeatability !== undefined) this.#measure = SHT3X_COMMANDS[repeatability];
		if (heater !== undefined) this.#heater = heater;
		this.invalidate();
	}

	protected *initialise(): Steps<void> {
		yield* this.send(SHT3X_COMMANDS.softReset);
		yield* this.send(SHT3X_COMMANDS.readStatus);
		this.read(this.#status);
		if (checkedWord(this.#status, 0, CRC_INIT_SENSIRION) < 0) throw this.error("crc", "status CRC mismatch");
		if (this.#heater) yield* this.send(SHT3X_COMMANDS.heaterOn);
	}

	protected start(): number {
		this.issue(this.#measure.bytes);
		return this.#measure.waitMs;
	}

	protected humidityPercent(raw: number): number {
		return sht3xHumidityPercent(raw);
	}
}
