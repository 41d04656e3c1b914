/*
 * AHT20 / AHT10 model (AHT20 datasheet V1.0, AHT10 technical manual V1.1). Every read starts with the status
 * byte (bit 7 busy, bit 3 calibrated; AHT20 also bit 4, as captured parts read 0x18/0x1C). The chip ACKs
 * throughout a measurement (typ 75, max 80 ms after AC 33 00), answering with bit 7 set and the previous data;
 * the new data appear when it is done. AHT20 frames are 7 bytes, the last a CRC over the first six; AHT10's
 * are 6 (further bytes read 0xFF). Soft reset BA: no answer for up to 20 ms; calibration state kept.
 * Calibration: a part made with `calibrated: false` reports bit 3 clear until BE 08 00 (AHT20) or E1 08 00
 * (AHT10); an AHT20 NACKs E1, as newer AHT20s do. Power-up: no answer for up to 100 ms (datasheet: wait 100 ms).
 */
import { CRC_INIT_SENSIRION, crc8 } from "src/drivers/crc8";
import type { DeviceOptions } from "./device";
import { SimDevice, code, fill } from "./device";

export interface Aht20ModelOptions extends DeviceOptions {
	variant?: "AHT20" | "AHT10";
	/** Whether the part reports itself calibrated at power-up (default true). */
	calibrated?: boolean;
}

const MEASURE_MS = Object.freeze([75, 80] as const);
const RESET_MS = Object.freeze([10, 20] as const);
const POWER_UP_MS = Object.freeze([40, 100] as const);

export class Aht20Model extends SimDevice {
	readonly maxHz = 400_000;
	readonly #aht10: boolean;
	readonly #calibratedAtPowerUp: boolean;
	readonly #frame = new Uint8Array(7);
	#calibrated = true;
	#resetAt = 0;
	#resetMs = 0;
	#measureAt = 0;
	#measuring = false;
	#humidity = 0;
	#temperature = 0;

	constructor(options: Aht20ModelOptions) {
		super(options);
		this.#aht10 = options.variant === "AHT10";
		this.#calibratedAtPowerUp = options.calibrated ?? true;
	}

	/** Whether the calibration bit is set, for tests. */
	get calibrated(): boolean {
		return this.#calibrated;
	}

	protected powerUpMs(): number {
		return this.duration(POWER_UP_MS[0], POWER_UP_MS[1]);
	}

	protected reset(now: number): void {
		this.#calibrated = this.#calibratedAtPowerUp;
		this.#measuring = false;
		this.#humidity = this.#temperature = 0;
		this.#resetAt = now;
		this.#resetMs = 0;
	}

	protected onWrite(data: Uint8Array, now: number): boolean {
		if (!this.over(this.#resetAt, this.#resetMs, now)) return false;
		if (!data.length) return true;
		this.#update(now);
		const init = this.#aht10 ? 0xe1 : 0xbe;
		switch (data[0]) {
			case 0xac:
				if (data.length !== 3 || data[1] !== 0x33 || data[2] !== 0x00) return false;
				this.#measuring = true;
				this.#measureAt = now;
				return true;
			case 0xba:
				if (data.length !== 1) return false;
				this.#measuring = false;
				this.#resetAt = now;
				this.#resetMs = this.duration(RESET_MS[0], RESET_MS[1]);
				return true;
			case init:
				if (data.length !== 3) return false;
				this.#calibrated = true;
				return true;
			default:
				return false;
		}
	}

	protected onRead(buffer: Uint8Array, now: number): boolean {
		if (!this.over(this.#resetAt, this.#resetMs, now)) return false;
		this.#update(now);
		const frame = this.#frame;
		frame[0] = (this.#measuring ? 0x80 : 0) | (this.#aht10 ? 0 : 0x10) | (this.#calibrated ? 0x08 : 0);
		frame[1] = this.#humidity >> 12;
		frame[2] = (this.#humidity >> 4) & 0xff;
		frame[3] = ((this.#humidity & 0x0f) << 4) | (this.#temperature >> 16);
		frame[4] = (this.#temperature >> 8) & 0xff;
		frame[5] = this.#temperature & 0xff;
		if (this.#aht10) {
			fill(buffer, frame.subarray(0, 6));
			return true;
		}
		const corrupt = !this.#measuring && buffer.length >= 7 && this.crcFault();
		frame[6] = crc8(frame, 0, 6, CRC_INIT_SENSIRION) ^ (corrupt ? 0x01 : 0);
		fill(buffer, frame);
		return true;
	}

	// New data appear when the measurement is over.
	#update(now: number): void {
		const ms = this.duration(MEASURE_MS[0], MEASURE_MS[1]);
		if (!this.#measuring || !this.converted(this.#measureAt, ms, now)) return;
		this.#measuring = false;
		const at = this.#measureAt + ms;
		if (this.faults.outOfRange) this.#humidity = this.#temperature = 0xfffff;
		else {
			this.#humidity = code((this.env.humidityAt(at) / 100) * 1048576, 0xfffff);
			this.#temperature = code(((this.env.temperatureAt(at) + 50) / 200) * 1048576, 0xfffff);
		}
	}
}
