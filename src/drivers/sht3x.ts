/*
 * Sensirion SHT3x (SHT30, SHT31, SHT35) at 0x44 (ADDR low, the default) or 0x45.
 *
 * configure({repeatability?: "high" | "medium" | "low", heater?: boolean}); defaults "high", false.
 * Single-shot measurements with the no-stretch commands: the stretching ones hold SCL up to 15 ms, more than
 * the ESP32 can wait. The chip NACKs the read header until the data are ready, so the driver waits the
 * datasheet maximum and then reads, retrying until a deadline. Initialisation: soft reset, clear the status,
 * read it back with CRC (proves an SHT3x answers, and that the reset-detected bit is clear), heater on if
 * configured (a reset turns it off). After every measurement the status is read again: the reset-detected bit
 * set, or the heater bit not as configured, means the chip was reset since (a brown-out), and its settings are
 * restored before a reading is trusted. Every command is followed by at least 1 ms of bus idle (datasheet v5),
 * including the constructor's status command before the set-up's soft reset.
 */
import { CRC_INIT_SENSIRION, checkedWord } from "./crc8";
import type { Command } from "./i2c-sensor";
import { BOOLEANS, command, option } from "./i2c-sensor";
import { SensirionSensor } from "./sensirion";
import type { SensorOptions } from "./sensor";
import type { Steps } from "./steps";

// Opcodes: Datasheet SHT3x-DIS v4 command tables (single shot, reset, heater, status). Times: its Table 4 maxima
// (soft reset 1 ms); 1 ms of bus idle after the others, as datasheet v5 asks between a command and the next transfer.
export const SHT3X_COMMANDS = Object.freeze({
	high: command([0x24, 0x00], 15),
	medium: command([0x24, 0x0b], 6),
	low: command([0x24, 0x16], 4),
	softReset: command([0x30, 0xa2], 1),
	readStatus: command([0xf3, 0x2d], 1),
	clearStatus: command([0x30, 0x41], 1),
	heaterOn: command([0x30, 0x6d], 1),
	serial: command([0x36, 0x82], 1),
});
const IDLE_MS = SHT3X_COMMANDS.readStatus.waitMs;
// Status register bits (datasheet, status register).
export const SHT3X_STATUS_RESET = 0x0010;
const STATUS_HEATER = 0x2000;

const REPEATABILITY = Object.freeze(["high", "medium", "low"] as const);
type Repeatability = (typeof REPEATABILITY)[number];

/** Datasheet SHT3x-DIS v4, conversion of signal output: RH = 100 * S / 65535 (cannot leave 0..100). */
export function sht3xHumidityPercent(raw: number): number {
	return (100 * raw) / 65535;
}

export class SHT3x extends SensirionSensor {
	protected override phases = 2;
	readonly #status = new Uint8Array(3);
	#measure: Command = SHT3X_COMMANDS.high;
	#heater = false;
	/** The heater as the last set-up left it (a configure() since then takes effect at the next set-up). */
	#heaterSet = false;

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
		yield IDLE_MS;
		yield* this.send(SHT3X_COMMANDS.softReset);
		yield* this.send(SHT3X_COMMANDS.clearStatus);
		yield* this.send(SHT3X_COMMANDS.readStatus);
		this.read(this.#status);
		const status = this.statusWord();
		if (status & SHT3X_STATUS_RESET) throw this.error("bus", `status 0x${status.toString(16)}: the reset-detected bit did not clear`);
		this.#heaterSet = this.#heater;
		if (this.#heaterSet) yield* this.send(SHT3X_COMMANDS.heaterOn);
	}

	// The measurement (phase 0), then the status (phase 1), so that a reset during the measurement is seen too.
	protected start(phase: number): number {
		const entry = phase ? SHT3X_COMMANDS.readStatus : this.#measure;
		this.issue(entry.bytes);
		return entry.waitMs;
	}

	protected override collect(phase: number): boolean {
		if (!phase) return super.collect(phase);
		if (!this.tryRead(this.#status)) return false;
		const status = this.statusWord();
		if (status & SHT3X_STATUS_RESET) this.lost(`reset detected (status 0x${status.toString(16)})`);
		if (((status & STATUS_HEATER) !== 0) !== this.#heaterSet) this.lost(`heater ${this.#heaterSet ? "off" : "on"} (status 0x${status.toString(16)})`);
		return true;
	}

	protected humidityPercent(raw: number): number {
		return sht3xHumidityPercent(raw);
	}

	private statusWord(): number {
		const status = checkedWord(this.#status, 0, CRC_INIT_SENSIRION);
		if (status < 0) throw this.error("crc", "status CRC mismatch");
		return status;
	}
}
