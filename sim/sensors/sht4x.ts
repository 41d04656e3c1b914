/*
 * SHT4x model (Datasheet SHT4x v6.1): one-byte commands; measurements at high/medium/low precision (typ/max
 * 6.9/8.3, 3.7/4.5, 1.3/1.6 ms); heater pulses of 20/110/200 mW for 0.1 or 1 s (0.09-0.11 / 0.9-1.1 s) each
 * followed by a high-precision measurement of the heated chip, which reads warmer by `heaterCPerJoule` x the
 * pulse energy; serial number 89 (two CRC'd words); soft reset 94 (NACKs everything for up to 1 ms). The chip
 * never stretches: a read header while busy is NACKed, and data are deleted once read. A command during a
 * measurement abandons it. Unknown commands and commands with extra bytes are NACKed (no status register).
 */
import { CRC_INIT_SENSIRION } from "src/drivers/crc8";
import type { DeviceOptions } from "./device";
import { SimDevice, code, fill } from "./device";
import { putWord, sensirionTemperatureCode } from "./sensirion";

// Opcode -> [typical ms, maximum ms, heater mW] (datasheet Tables 5 and 8); heater entries include the
// high-precision measurement after the pulse.
const COMMANDS: Readonly<Record<number, readonly [number, number, number]>> = Object.freeze({
	0xfd: Object.freeze([6.9, 8.3, 0] as const),
	0xf6: Object.freeze([3.7, 4.5, 0] as const),
	0xe0: Object.freeze([1.3, 1.6, 0] as const),
	0x39: Object.freeze([1006.9, 1108.3, 200] as const),
	0x32: Object.freeze([106.9, 118.3, 200] as const),
	0x2f: Object.freeze([1006.9, 1108.3, 110] as const),
	0x24: Object.freeze([106.9, 118.3, 110] as const),
	0x1e: Object.freeze([1006.9, 1108.3, 20] as const),
	0x15: Object.freeze([106.9, 118.3, 20] as const),
});
const SERIAL = 0x89;
const SOFT_RESET = 0x94;
const SERIAL_MS = Object.freeze([0.5, 1] as const);
const RESET_MS = Object.freeze([0.5, 1] as const);

export interface Sht4xModelOptions extends DeviceOptions {
	serial?: number;
	/** How much warmer a heater pulse leaves the chip, per joule. */
	heaterCPerJoule?: number;
}

export class Sht4xModel extends SimDevice {
	readonly maxHz = 1_000_000;
	readonly #serial: number;
	readonly #heaterCPerJoule: number;
	readonly #frame = new Uint8Array(6);
	#resetAt = 0;
	#resetMs = 0;
	#busyAt = 0;
	#busyMs = 0;
	#pending: number | undefined;

	constructor(options: Sht4xModelOptions) {
		super(options);
		this.#serial = options.serial ?? 0x1234abcd;
		this.#heaterCPerJoule = options.heaterCPerJoule ?? 50;
	}

	protected powerUpMs(): number {
		return this.duration(0.3, 1);
	}

	protected reset(now: number): void {
		this.#pending = undefined;
		this.#resetAt = now;
		this.#resetMs = 0;
	}

	protected onWrite(data: Uint8Array, now: number): boolean {
		if (!this.over(this.#resetAt, this.#resetMs, now)) return false;
		if (!data.length) return true;
		const opcode = data[0];
		const entry = COMMANDS[opcode];
		if (data.length !== 1 || (!entry && opcode !== SERIAL && opcode !== SOFT_RESET)) return false;
		if (opcode === SOFT_RESET) {
			this.reset(now);
			this.#resetMs = this.duration(RESET_MS[0], RESET_MS[1]);
			return true;
		}
		this.#pending = opcode;
		this.#busyAt = now;
		this.#busyMs = entry ? this.duration(entry[0], entry[1]) : this.duration(SERIAL_MS[0], SERIAL_MS[1]);
		return true;
	}

	protected onRead(buffer: Uint8Array, now: number): boolean {
		const opcode = this.#pending;
		if (opcode === undefined || !this.over(this.#resetAt, this.#resetMs, now)) return false;
		if (opcode === SERIAL) {
			if (!this.over(this.#busyAt, this.#busyMs, now)) return false;
			putWord(this.#frame, 0, this.#serial >>> 16, CRC_INIT_SENSIRION, false);
			putWord(this.#frame, 3, this.#serial & 0xffff, CRC_INIT_SENSIRION, false);
		}
		else {
			if (!this.converted(this.#busyAt, this.#busyMs, now)) return false;
			this.#measure(this.#busyAt + this.#busyMs, COMMANDS[opcode]);
		}
		this.#pending = undefined;
		fill(buffer, this.#frame);
		return true;
	}

	#measure(at: number, entry: readonly [number, number, number]): void {
		const pulseS = entry[2] ? (entry[1] > 1000 ? 1 : 0.1) : 0;
		const heating = (entry[2] / 1000) * pulseS * this.#heaterCPerJoule;
		const range = this.faults.outOfRange;
		const temperature = range ? 0xffff : sensirionTemperatureCode(this.env.temperatureAt(at) + heating);
		const humidity = range ? 0xffff : code(((this.env.humidityAt(at) + 6) * 65535) / 125, 0xffff);
		putWord(this.#frame, 0, temperature, CRC_INIT_SENSIRION, false);
		putWord(this.#frame, 3, humidity, CRC_INIT_SENSIRION, this.crcFault());
	}
}
