/*
 * SHT3x model (Datasheet SHT3x-DIS v4): 16-bit commands; single-shot measurements with and without clock
 * stretching (typ/max 12.5/15, 4.5/6, 2.5/4 ms); no-stretch reads before the data are ready are NACKed;
 * stretching reads succeed when the remaining time is within the host's stretch limit (ESP32: about 13 ms),
 * else fail like the host's timeout. Data are read once. A command during a measurement abandons it. Soft
 * reset (NACKs everything for up to 1 ms), heater on/off (status bit 13; the heated chip reads
 * `heaterDeltaC` warmer), status F32D (0x8010 after reset) with CRC, clear status, serial number
 * (3682/3780). An unknown command sets status bit 1 and is NACKed (configurable: the datasheet does not say).
 * Periodic mode and alerts are not modelled (they are unknown commands here).
 */
import { CRC_INIT_SENSIRION } from "src/drivers/crc8";
import { elapsed } from "src/io";
import type { DeviceOptions } from "./device";
import { SimDevice, code, fill } from "./device";
import { putWord, sensirionTemperatureCode } from "./sensirion";

// Single-shot opcode -> [typical ms, maximum ms, clock stretching] (datasheet Table 4 and command table).
const MEASUREMENTS: Readonly<Record<number, readonly [number, number, boolean]>> = Object.freeze({
	0x2400: Object.freeze([12.5, 15, false] as const),
	0x240b: Object.freeze([4.5, 6, false] as const),
	0x2416: Object.freeze([2.5, 4, false] as const),
	0x2c06: Object.freeze([12.5, 15, true] as const),
	0x2c0d: Object.freeze([4.5, 6, true] as const),
	0x2c10: Object.freeze([2.5, 4, true] as const),
});

const STATUS_RESET = 0x8010;
const STATUS_HEATER = 0x2000;
const STATUS_FAILED_COMMAND = 0x0002;
const STATUS_CLEARABLE = 0x8c10;

export interface Sht3xModelOptions extends DeviceOptions {
	serial?: number;
	/** How long the host lets the chip stretch the clock (ESP32 about 13 ms). */
	stretchLimitMs?: number;
	nackUnknownCommands?: boolean;
	heaterDeltaC?: number;
}

export class Sht3xModel extends SimDevice {
	readonly maxHz = 1_000_000;
	readonly #serial: number;
	readonly #stretchLimitMs: number;
	readonly #nackUnknown: boolean;
	readonly #heaterDeltaC: number;
	readonly #frame = new Uint8Array(6);
	#status = STATUS_RESET;
	#resetAt = 0;
	#resetMs = 0;
	#measureAt = 0;
	#measureMs = 0;
	#measuring = false;
	#stretching = false;
	#reply: Uint8Array | undefined;

	constructor(options: Sht3xModelOptions) {
		super(options);
		this.#serial = options.serial ?? 0x1234abcd;
		this.#stretchLimitMs = options.stretchLimitMs ?? 13;
		this.#nackUnknown = options.nackUnknownCommands ?? true;
		this.#heaterDeltaC = options.heaterDeltaC ?? 2;
	}

	/** The status register, for tests. */
	get status(): number {
		return this.#status;
	}

	protected powerUpMs(): number {
		return this.duration(0.5, 1);
	}

	protected reset(now: number): void {
		this.#status = STATUS_RESET;
		this.#measuring = false;
		this.#reply = undefined;
		this.#resetAt = now;
		this.#resetMs = 0;
	}

	protected onWrite(data: Uint8Array, now: number): boolean {
		if (!this.over(this.#resetAt, this.#resetMs, now)) return false;
		if (!data.length) return true;
		const opcode = data.length === 2 ? (data[0] << 8) | data[1] : -1;
		const measurement = MEASUREMENTS[opcode];
		this.#measuring = false;
		this.#reply = undefined;
		this.#status &= ~STATUS_FAILED_COMMAND;
		if (measurement) {
			this.#measuring = true;
			this.#stretching = measurement[2];
			this.#measureAt = now;
			this.#measureMs = this.duration(measurement[0], measurement[1]);
			return true;
		}
		switch (opcode) {
			case 0x30a2:
				this.reset(now);
				this.#resetMs = this.duration(0.5, 1);
				return true;
			case 0x306d:
				this.#status |= STATUS_HEATER;
				return true;
			case 0x3066:
				this.#status &= ~STATUS_HEATER;
				return true;
			case 0xf32d:
				this.#reply = this.#words(this.#status, -1);
				return true;
			case 0x3041:
				this.#status &= ~STATUS_CLEARABLE;
				return true;
			case 0x3682:
			case 0x3780:
				this.#reply = this.#words(this.#serial >>> 16, this.#serial & 0xffff);
				return true;
			default:
				this.#status |= STATUS_FAILED_COMMAND;
				return !this.#nackUnknown;
		}
	}

	protected onRead(buffer: Uint8Array, now: number): boolean {
		if (!this.over(this.#resetAt, this.#resetMs, now)) return false;
		if (this.#measuring) {
			if (!this.converted(this.#measureAt, this.#measureMs, now)) {
				const remaining = this.#measureMs - elapsed(this.#measureAt, now);
				if (!this.#stretching || this.faults.stuckBusy || remaining > this.#stretchLimitMs) return false;
			}
			this.#measuring = false;
			fill(buffer, this.#measurement(this.#measureAt + this.#measureMs));
			return true;
		}
		if (!this.#reply) return false;
		fill(buffer, this.#reply);
		this.#reply = undefined;
		return true;
	}

	#measurement(at: number): Uint8Array {
		const heater = this.#status & STATUS_HEATER ? this.#heaterDeltaC : 0;
		const range = this.faults.outOfRange;
		const temperature = range ? 0xffff : sensirionTemperatureCode(this.env.temperatureAt(at) + heater);
		const humidity = range ? 0xffff : code((this.env.humidityAt(at) * 65535) / 100, 0xffff);
		const frame = this.#frame;
		putWord(frame, 0, temperature, CRC_INIT_SENSIRION, false);
		putWord(frame, 3, humidity, CRC_INIT_SENSIRION, this.crcFault());
		return frame;
	}

	#words(first: number, second: number): Uint8Array {
		const reply = new Uint8Array(second < 0 ? 3 : 6);
		putWord(reply, 0, first, CRC_INIT_SENSIRION, false);
		if (second >= 0) putWord(reply, 3, second, CRC_INIT_SENSIRION, false);
		return reply;
	}
}
