/*
 * BME280 model (Bosch BST-BME280-DS001-23): a 256-byte register file read with auto-increment from the
 * pointer the last write set, and written as (register, value) pairs. Chip ID 0xD0 (0x60; a BMP280's 0x58 via
 * `chipId`, which then has no humidity). Reset E0 <- B6: power-on values, and for 2 ms the status im_update bit
 * with the trimming registers reading 0 (NVM copy). ctrl_hum (F2) is latched by the next ctrl_meas (F4)
 * write; forced mode runs one measurement (status bit 3 for its duration, typical or maximum by the datasheet
 * formula), updates the data registers only at its end (skipped channels read 0x80000 / 0x8000), then returns to
 * sleep. Normal mode is not modelled (treated as forced). The chip always ACKs and never stretches.
 * Raw values are synthesised from the environment by inverting the datasheet compensation (bisection).
 * The out-of-range fault gives adc_T 0xFFFFF (far above 85 C). No CRC, so the CRC fault does nothing.
 */
import type { Bme280Calibration } from "src/drivers/bme280";
import { bme280HumidityPercent, bme280MaxMeasurementMs, bme280PressurePa, bme280TFine, bme280TemperatureC, parseBme280Calibration } from "src/drivers/bme280";
import type { DeviceOptions } from "./device";
import { SimDevice, fill } from "./device";

export interface Bme280ModelOptions extends DeviceOptions {
	chipId?: number;
	/** The 26 trimming bytes at 0x88 followed by the 7 at 0xE1 (default: vector A of the reference). */
	trimming?: Uint8Array;
}

// Vector A of sensors.md §11.5 (pimoroni/bme280-python's test calibration).
const TRIMMING_A = Object.freeze([
	0x69, 0x6d, 0x36, 0x64, 0x32, 0x00, 0xe9, 0x98, 0x02, 0xd6, 0xd0, 0x0b, 0x23, 0x16, 0x88, 0xff, 0xf9, 0xff, 0x8c, 0x3c, 0xf8, 0xc6, 0x70, 0x17, 0x00, 0x4b,
	0x78, 0x01, 0x00, 0x11, 0x2e, 0x03, 0x1e,
]);
const OVERSAMPLING = Object.freeze([0, 1, 2, 4, 8, 16, 16, 16]);
const DATA_RESET = Object.freeze([0x80, 0x00, 0x00, 0x80, 0x00, 0x00, 0x80, 0x00]);
const NVM_COPY_MS = 2;

export class Bme280Model extends SimDevice {
	readonly maxHz = 3_400_000;
	readonly #chipId: number;
	readonly #trimming: Uint8Array;
	readonly #calibration: Bme280Calibration;
	readonly #registers = new Uint8Array(256);
	#pointer = 0;
	#copyAt = 0;
	#copying = false;
	#measureAt = 0;
	#measureMs = 0;
	#measuring = false;
	#humidityControl = 0;

	constructor(options: Bme280ModelOptions) {
		super(options);
		this.#chipId = options.chipId ?? 0x60;
		this.#trimming = options.trimming ?? Uint8Array.from(TRIMMING_A);
		this.#calibration = parseBme280Calibration(this.#trimming);
	}

	/** Register `address` as the chip holds it, for tests. */
	register(address: number): number {
		return this.#registers[address];
	}

	protected powerUpMs(): number {
		return 2;
	}

	protected reset(now: number): void {
		const registers = this.#registers;
		registers.fill(0);
		registers.set(this.#trimming.subarray(0, 26), 0x88);
		if (this.#chipId === 0x60) registers.set(this.#trimming.subarray(26), 0xe1);
		registers[0xd0] = this.#chipId;
		registers.set(DATA_RESET, 0xf7);
		this.#humidityControl = 0;
		this.#measuring = false;
		this.#copying = true;
		this.#copyAt = now;
	}

	protected onWrite(data: Uint8Array, now: number): boolean {
		this.#update(now);
		let i = 0;
		for (; i + 1 < data.length; i += 2) this.#write(data[i], data[i + 1], now);
		if (i < data.length) this.#pointer = data[i];
		return true;
	}

	protected onRead(buffer: Uint8Array, now: number): boolean {
		this.#update(now);
		for (let i = 0; i < buffer.length; i++) {
			const address = (this.#pointer + i) & 0xff;
			const trimming = (address >= 0x88 && address <= 0xa1) || (address >= 0xe1 && address <= 0xe7);
			buffer[i] = address === 0xf3
				? (this.#measuring ? 0x08 : 0) | (this.#copying ? 0x01 : 0)
				: this.#copying && trimming ? 0 : this.#registers[address];
		}
		return true;
	}

	#write(register: number, value: number, now: number): void {
		switch (register) {
			case 0xe0:
				if (value === 0xb6) this.reset(now);
				return;
			case 0xf2:
				if (this.#chipId === 0x60) this.#registers[0xf2] = value & 0x07;
				return;
			case 0xf4: {
				this.#registers[0xf4] = value;
				this.#humidityControl = this.#registers[0xf2];
				if (!(value & 0x03)) return;
				const t = OVERSAMPLING[value >> 5];
				const p = OVERSAMPLING[(value >> 2) & 0x07];
				const h = OVERSAMPLING[this.#humidityControl];
				const typical = 1 + 2 * t + (p ? 2 * p + 0.5 : 0) + (h ? 2 * h + 0.5 : 0);
				this.#measuring = true;
				this.#measureAt = now;
				this.#measureMs = this.duration(typical, bme280MaxMeasurementMs(t, p, h));
				return;
			}
			case 0xf5:
				this.#registers[0xf5] = value;
				return;
			default:
				// Read-only register: ignored.
				return;
		}
	}

	#update(now: number): void {
		if (this.#copying && this.over(this.#copyAt, NVM_COPY_MS, now)) this.#copying = false;
		if (!this.#measuring || !this.converted(this.#measureAt, this.#measureMs, now)) return;
		this.#measuring = false;
		const registers = this.#registers;
		const at = this.#measureAt + this.#measureMs;
		const control = registers[0xf4];
		const calibration = this.#calibration;
		const adcT = this.faults.outOfRange ? 0xfffff : invert((adc) => bme280TemperatureC(bme280TFine(adc, calibration)), this.env.temperatureAt(at), 0xfffff);
		const tFine = bme280TFine(adcT, calibration);
		const adcP = invert((adc) => bme280PressurePa(adc, tFine, calibration), this.env.pressureAt(at), 0xfffff);
		const adcH = invert((adc) => bme280HumidityPercent(adc, tFine, calibration), this.env.humidityAt(at), 0xffff);
		put20(registers, 0xf7, control & 0x1c ? adcP : 0x80000);
		put20(registers, 0xfa, control & 0xe0 ? adcT : 0x80000);
		const humidity = this.#humidityControl ? adcH : 0x8000;
		registers[0xfd] = humidity >> 8;
		registers[0xfe] = humidity & 0xff;
		registers[0xf4] = control & ~0x03;
	}
}

function put20(registers: Uint8Array, address: number, value: number): void {
	fill(registers.subarray(address, address + 3), [value >> 12, (value >> 4) & 0xff, (value & 0x0f) << 4]);
}

/** The integer in 0..max whose image under the monotonic `f` is nearest `target`. */
function invert(f: (x: number) => number, target: number, max: number): number {
	const rising = f(max) > f(0);
	let low = 0;
	let high = max;
	while (high - low > 1) {
		const middle = (low + high) >>> 1;
		if (f(middle) < target === rising) low = middle;
		else high = middle;
	}
	return Math.abs(f(low) - target) <= Math.abs(f(high) - target) ? low : high;
}
