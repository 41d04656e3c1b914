/*
 * HTU21D / Si7021 model (TE HTU21D(F) 05/2017, Si7021-A20 rev 1.1). Measurements: E3/E5 (hold master: the
 * read succeeds when the remaining time is within the host's stretch limit, else fails like the host's
 * timeout) and F3/F5 (no hold: the read header is NACKed until done); the conversion time and the number of
 * valid bits follow the user register's resolution; an Si7021 RH conversion includes a temperature conversion,
 * which E0 then returns without CRC. Frames are MSB, LSB (bit 1: 1 for RH), CRC (init 0x00); data are read
 * once. User register E6/E7 (reset 0x02 HTU21D, 0x3A Si7021; bits 7, 2, 0 writable, and bit 1 on HTU21D).
 * Soft reset FE: no answer for up to 15 ms; keeps the heater bit. A heated chip reads `heaterDeltaC` warmer.
 * The out-of-range fault gives the open-circuit diagnostic frame 00 00 00 (whose CRC is valid).
 * A command during a conversion abandons it. The electronic ID and firmware commands are not modelled (NACK).
 */
import { CRC_INIT_HTU21D, crc8 } from "src/drivers/crc8";
import { htu21dResolution } from "src/drivers/htu21d";
import { elapsed } from "src/io";
import type { DeviceOptions } from "./device";
import { SimDevice, code, fill, validBits } from "./device";

export interface Htu21dModelOptions extends DeviceOptions {
	variant?: "HTU21D" | "Si7021";
	/** How long the host lets the chip stretch the clock (ESP32 about 13 ms). */
	stretchLimitMs?: number;
	heaterDeltaC?: number;
}

// Per resolution index (user register bits 7,0): RH12/T14, RH8/T12, RH10/T13, RH11/T11. Conversion times
// as [typical, maximum] ms from each datasheet.
const HUMIDITY_BITS = Object.freeze([12, 8, 10, 11]);
const TEMPERATURE_BITS = Object.freeze([14, 12, 13, 11]);
type Times = readonly (readonly [number, number])[];
const TIMES: Readonly<Record<"HTU21D" | "Si7021", { humidity: Times; temperature: Times }>> = Object.freeze({
	HTU21D: Object.freeze({
		humidity: Object.freeze([Object.freeze([14, 16] as const), Object.freeze([2, 3] as const), Object.freeze([4, 5] as const), Object.freeze([7, 8] as const)]),
		temperature: Object.freeze([Object.freeze([44, 50] as const), Object.freeze([11, 13] as const), Object.freeze([22, 25] as const), Object.freeze([6, 7] as const)]),
	}),
	Si7021: Object.freeze({
		humidity: Object.freeze([Object.freeze([10, 12] as const), Object.freeze([2.6, 3.1] as const), Object.freeze([3.7, 4.5] as const), Object.freeze([5.8, 7] as const)]),
		temperature: Object.freeze([Object.freeze([7, 10.8] as const), Object.freeze([2.4, 3.8] as const), Object.freeze([4, 6.2] as const), Object.freeze([1.5, 2.4] as const)]),
	}),
});
const USER_RESET = Object.freeze({ HTU21D: 0x02, Si7021: 0x3a });
const USER_WRITABLE = Object.freeze({ HTU21D: 0x87, Si7021: 0x85 });
const USER_HEATER = 0x04;
const RESET_MS = Object.freeze([12, 15] as const);
const POWER_UP_MS = Object.freeze({ HTU21D: Object.freeze([15, 15] as const), Si7021: Object.freeze([25, 80] as const) });

export class Htu21dModel extends SimDevice {
	readonly maxHz = 400_000;
	readonly #variant: "HTU21D" | "Si7021";
	readonly #stretchLimitMs: number;
	readonly #heaterDeltaC: number;
	readonly #frame = new Uint8Array(3);
	#user = 0;
	#resetAt = 0;
	#resetMs = 0;
	#busyAt = 0;
	#busyMs = 0;
	#measuring: "humidity" | "temperature" | undefined;
	#hold = false;
	#reply: Uint8Array | undefined;
	#lastTemperature = 0;

	constructor(options: Htu21dModelOptions) {
		super(options);
		this.#variant = options.variant ?? "HTU21D";
		this.#stretchLimitMs = options.stretchLimitMs ?? 13;
		this.#heaterDeltaC = options.heaterDeltaC ?? 1;
	}

	/** The user register, for tests. */
	get user(): number {
		return this.#user;
	}

	protected powerUpMs(): number {
		const times = POWER_UP_MS[this.#variant];
		return this.duration(times[0], times[1]);
	}

	protected reset(now: number): void {
		this.#user = USER_RESET[this.#variant];
		this.#measuring = this.#reply = undefined;
		this.#resetAt = now;
		this.#resetMs = 0;
	}

	protected onWrite(data: Uint8Array, now: number): boolean {
		if (!this.over(this.#resetAt, this.#resetMs, now)) return false;
		if (!data.length) return true;
		const si7021 = this.#variant === "Si7021";
		const opcode = data[0];
		this.#measuring = this.#reply = undefined;
		if (opcode === 0xe6) {
			if (data.length !== 2) return false;
			const writable = USER_WRITABLE[this.#variant];
			this.#user = (this.#user & ~writable) | (data[1] & writable);
			return true;
		}
		if (data.length !== 1) return false;
		switch (opcode) {
			case 0xe3: case 0xf3: case 0xe5: case 0xf5: {
				const humidity = (opcode & 0x0f) === 0x05;
				const resolution = htu21dResolution(this.#user);
				const times = TIMES[this.#variant];
				const t = times.temperature[resolution];
				const h = times.humidity[resolution];
				this.#measuring = humidity ? "humidity" : "temperature";
				this.#hold = opcode < 0xf0;
				this.#busyAt = now;
				// An Si7021 humidity conversion measures temperature too.
				this.#busyMs = humidity ? this.duration(h[0], h[1]) + (si7021 ? this.duration(t[0], t[1]) : 0) : this.duration(t[0], t[1]);
				return true;
			}
			case 0xe7:
				this.#reply = Uint8Array.of(this.#user);
				return true;
			case 0xe0:
				if (!si7021) return false;
				this.#reply = Uint8Array.of(this.#lastTemperature >> 8, this.#lastTemperature & 0xff);
				return true;
			case 0xfe: {
				const heater = this.#user & USER_HEATER;
				this.reset(now);
				this.#user |= heater;
				this.#resetMs = this.duration(RESET_MS[0], RESET_MS[1]);
				return true;
			}
			default:
				return false;
		}
	}

	protected onRead(buffer: Uint8Array, now: number): boolean {
		if (!this.over(this.#resetAt, this.#resetMs, now)) return false;
		const measuring = this.#measuring;
		if (measuring) {
			if (!this.converted(this.#busyAt, this.#busyMs, now)) {
				const remaining = this.#busyMs - elapsed(this.#busyAt, now);
				if (!this.#hold || this.faults.stuckBusy || remaining > this.#stretchLimitMs) return false;
			}
			this.#measuring = undefined;
			fill(buffer, this.#measurement(measuring, this.#busyAt + this.#busyMs));
			return true;
		}
		if (!this.#reply) return false;
		fill(buffer, this.#reply);
		this.#reply = undefined;
		return true;
	}

	#measurement(quantity: "humidity" | "temperature", at: number): Uint8Array {
		const resolution = htu21dResolution(this.#user);
		const heater = this.#user & USER_HEATER ? this.#heaterDeltaC : 0;
		const temperature = code(((this.env.temperatureAt(at) + heater + 46.85) * 65536) / 175.72, 0xffff) & validBits(TEMPERATURE_BITS[resolution]);
		this.#lastTemperature = temperature;
		let word = quantity === "temperature"
			? temperature
			: (code(((this.env.humidityAt(at) + 6) * 65536) / 125, 0xffff) & validBits(HUMIDITY_BITS[resolution])) | 0x02;
		if (this.faults.outOfRange) word = 0;
		const frame = this.#frame;
		frame[0] = word >> 8;
		frame[1] = word & 0xff;
		frame[2] = crc8(frame, 0, 2, CRC_INIT_HTU21D) ^ (this.crcFault() ? 0x01 : 0);
		return frame;
	}
}
