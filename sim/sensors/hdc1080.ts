/*
 * HDC1080 model (TI SNAS672A). A pointer register: every write starts with it, reads return data from it,
 * and a pointer to a reserved address (0x03-0xFA) is NACKed. Writing the pointer 0x00 (or 0x01) alone starts
 * a conversion (mode 1: temperature then humidity; mode 0: the one pointed at) and abandons one in progress;
 * the read header is NACKed until it is done. Results are 14/11(/8)-bit with the two low bits 0. Configuration
 * 0x02 (reset 0x1000; RST restarts the chip, no answer for up to 15 ms; HEAT warms the chip by
 * `heaterDeltaC` during conversions), IDs 0xFE = 0x5449, 0xFF = `deviceId` (0x1050; HDC1000: 0x1000), serial
 * 0xFB-0xFD. TI gives typical conversion times only; "maximum" timing takes them 10 % longer. No CRC, so the
 * CRC fault does nothing; the out-of-range fault reads 0xFFFF, which a real conversion cannot produce.
 */
import type { DeviceOptions } from "./device";
import { SimDevice, code, fill, validBits } from "./device";

export interface Hdc1080ModelOptions extends DeviceOptions {
	deviceId?: number;
	heaterDeltaC?: number;
}

const TEMPERATURE_MS = Object.freeze({ 14: 6.35, 11: 3.65 });
const HUMIDITY_MS = Object.freeze({ 14: 6.5, 11: 3.85, 8: 2.5 });
const MAXIMUM = 1.1;
const CONFIG_RESET = 0x1000;
const CONFIG_WRITABLE = 0x3700;
const CONFIG_RST = 0x8000;
const CONFIG_HEAT = 0x2000;
const CONFIG_MODE = 0x1000;
const CONFIG_TRES = 0x0400;
const START_UP_MS = Object.freeze([10, 15] as const);
const SERIAL = Object.freeze([0x12, 0x34, 0x56, 0x78, 0x80, 0x00]);

export class Hdc1080Model extends SimDevice {
	readonly maxHz = 400_000;
	readonly #deviceId: number;
	readonly #heaterDeltaC: number;
	readonly #reply = new Uint8Array(4);
	#pointer = 0;
	#config = CONFIG_RESET;
	#resetAt = 0;
	#resetMs = 0;
	#convertAt = 0;
	#convertMs = 0;
	#converting: "both" | "temperature" | "humidity" | undefined;
	#temperature = 0;
	#humidity = 0;

	constructor(options: Hdc1080ModelOptions) {
		super(options);
		this.#deviceId = options.deviceId ?? 0x1050;
		this.#heaterDeltaC = options.heaterDeltaC ?? 0.5;
	}

	/** The configuration register, for tests. */
	get config(): number {
		return this.#config;
	}

	protected powerUpMs(): number {
		return this.duration(START_UP_MS[0], START_UP_MS[1]);
	}

	protected reset(now: number): void {
		this.#pointer = 0;
		this.#config = CONFIG_RESET;
		this.#converting = undefined;
		this.#resetAt = now;
		this.#resetMs = 0;
	}

	protected onWrite(data: Uint8Array, now: number): boolean {
		if (!this.over(this.#resetAt, this.#resetMs, now)) return false;
		if (!data.length) return true;
		const pointer = data[0];
		if (pointer > 0x02 && pointer < 0xfb) return false;
		this.#pointer = pointer;
		if (data.length === 1 && pointer <= 0x01) {
			const both = (this.#config & CONFIG_MODE) !== 0;
			this.#converting = both ? "both" : pointer === 0 ? "temperature" : "humidity";
			this.#convertAt = now;
			const ms = (both || pointer === 0 ? TEMPERATURE_MS[this.#temperatureBits()] : 0) + (both || pointer === 1 ? HUMIDITY_MS[this.#humidityBits()] : 0);
			this.#convertMs = this.duration(ms, ms * MAXIMUM);
		}
		else if (data.length === 3 && pointer === 0x02) {
			const value = (data[1] << 8) | data[2];
			if (value & CONFIG_RST) {
				this.reset(now);
				this.#resetMs = this.duration(START_UP_MS[0], START_UP_MS[1]);
			}
			else this.#config = value & CONFIG_WRITABLE;
		}
		return true;
	}

	protected onRead(buffer: Uint8Array, now: number): boolean {
		if (!this.over(this.#resetAt, this.#resetMs, now)) return false;
		const reply = this.#reply;
		switch (this.#pointer) {
			case 0x00:
			case 0x01:
				if (this.#converting) {
					if (!this.converted(this.#convertAt, this.#convertMs, now)) return false;
					this.#convert(this.#convertAt + this.#convertMs);
				}
				if (this.#pointer === 0x00) fill(buffer, Uint8Array.of(this.#temperature >> 8, this.#temperature & 0xff, this.#humidity >> 8, this.#humidity & 0xff));
				else fill(buffer, Uint8Array.of(this.#humidity >> 8, this.#humidity & 0xff));
				return true;
			case 0x02: reply[0] = this.#config >> 8; reply[1] = 0; break;
			case 0xfb: case 0xfc: case 0xfd: reply[0] = SERIAL[(this.#pointer - 0xfb) * 2]; reply[1] = SERIAL[(this.#pointer - 0xfb) * 2 + 1]; break;
			case 0xfe: reply[0] = 0x54; reply[1] = 0x49; break;
			default: reply[0] = this.#deviceId >> 8; reply[1] = this.#deviceId & 0xff; break;
		}
		fill(buffer, reply.subarray(0, 2));
		return true;
	}

	#temperatureBits(): 14 | 11 {
		return this.#config & CONFIG_TRES ? 11 : 14;
	}

	#humidityBits(): 14 | 11 | 8 {
		const code = (this.#config >> 8) & 3;
		return code === 0 ? 14 : code === 1 ? 11 : 8;
	}

	#convert(at: number): void {
		const what = this.#converting;
		this.#converting = undefined;
		const heat = this.#config & CONFIG_HEAT ? this.#heaterDeltaC : 0;
		if (what !== "humidity")
			this.#temperature = this.faults.outOfRange ? 0xffff : code(((this.env.temperatureAt(at) + heat + 40) * 65536) / 165, 0xffff) & validBits(this.#temperatureBits());
		if (what !== "temperature")
			this.#humidity = this.faults.outOfRange ? 0xffff : code((this.env.humidityAt(at) * 65536) / 100, 0xffff) & validBits(this.#humidityBits());
	}
}
