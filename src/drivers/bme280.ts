/*
 * Bosch BME280 at 0x76 (SDO to GND) or 0x77: temperature, humidity and pressure.
 *
 * configure({temperatureOversampling?, humidityOversampling?: 1 | 2 | 4 | 8 | 16, pressureOversampling?:
 * 0 | 1 | 2 | 4 | 8 | 16, filter?: 0 | 2 | 4 | 8 | 16}); defaults x1, x1, x1, off (the datasheet's weather
 * setting). Pressure oversampling 0 skips pressure: the sample then has no barometer.
 * Forced mode: each sample writes ctrl_hum and ctrl_meas in one transaction (ctrl_hum only takes effect with
 * the ctrl_meas write after it, and a chip that was power cycled gets its settings back at once), waits the
 * datasheet's maximum measurement time, checks the measuring bit, and burst-reads the eight data registers.
 * The measuring bit is read together with the control and config registers: settings no longer as written
 * (the config register's filter above all, written only at set-up) mean the chip was reset since (a
 * brown-out), and they are restored before a reading is trusted.
 * The chip never NACKs for busy. A skipped channel's reset value (0x80000, 0x8000) means the chip lost its
 * configuration: "range". Initialisation: chip ID (constructor; a BMP280 has no humidity and is refused),
 * soft reset, NVM copy, trimming parameters, config register (in sleep mode, as the datasheet requires).
 */
import { I2CSensor, afterMax, command, option } from "./i2c-sensor";
import type { Sample, SensorOptions } from "./sensor";
import type { Steps } from "./steps";

// Registers, reset word and start-up time (2 ms): BME280 datasheet BST-BME280-DS001-23, memory map and register descriptions.
const COMMANDS = Object.freeze({
	reset: command([0xe0, 0xb6], 2),
});
export const BME280_REGISTER = Object.freeze({ calibration0: 0x88, chipId: 0xd0, calibration1: 0xe1, ctrlHum: 0xf2, status: 0xf3, ctrlMeas: 0xf4, config: 0xf5, data: 0xf7 });
const BMP280_IDS = Object.freeze([0x56, 0x57, 0x58]);
const STATUS_MEASURING = 0x08;
// The bits that hold settings: ctrl_hum's osrs_h; ctrl_meas but its mode, which returns to sleep after a forced
// measurement; config but its reserved bit 1.
const CTRL_HUM_SETTINGS = 0x07;
const CTRL_MEAS_SETTINGS = 0xfc;
const CONFIG_SETTINGS = 0xfd;
const STATUS_IM_UPDATE = 0x01;
const MODE_FORCED = 0x01;
const SKIPPED_20 = 0x80000;
const SKIPPED_16 = 0x8000;

// Oversampling factor -> register code (000 skip, 001 x1 ... 101 x16); filter coefficient -> code.
const OVERSAMPLING = Object.freeze([0, 1, 2, 4, 8, 16]);
const FILTER = Object.freeze([0, 2, 4, 8, 16]);

const LIMITS = Object.freeze({ minC: -40, maxC: 85 });
const MIN_PA = 30_000;
const MAX_PA = 110_000;

/** The part a chip ID register value names: BME280 (0x60), BMP280 (0x58; samples 0x56, 0x57), or undefined. */
export function bme280Chip(id: number): "BME280" | "BMP280" | undefined {
	return id === 0x60 ? "BME280" : BMP280_IDS.includes(id) ? "BMP280" : undefined;
}

/** Trimming parameters, named as in the datasheet's Table 16. */
export interface Bme280Calibration {
	T1: number; T2: number; T3: number;
	P1: number; P2: number; P3: number; P4: number; P5: number; P6: number; P7: number; P8: number; P9: number;
	H1: number; H2: number; H3: number; H4: number; H5: number; H6: number;
}

/** Decodes the 26 bytes read at 0x88 followed by the 7 read at 0xE1 (datasheet Table 16; little-endian words). */
export function parseBme280Calibration(bytes: Uint8Array): Bme280Calibration {
	const u16 = (i: number): number => bytes[i] | (bytes[i + 1] << 8);
	const s16 = (i: number): number => (u16(i) ^ 0x8000) - 0x8000;
	const s8 = (i: number): number => (bytes[i] ^ 0x80) - 0x80;
	return {
		T1: u16(0), T2: s16(2), T3: s16(4),
		P1: u16(6), P2: s16(8), P3: s16(10), P4: s16(12), P5: s16(14), P6: s16(16), P7: s16(18), P8: s16(20), P9: s16(22),
		H1: bytes[25], H2: s16(26), H3: bytes[28],
		// H4 and H5 are 12-bit values sharing 0xE5's nibbles; the high bytes are sign-extended as Bosch's API does.
		H4: (s8(29) << 4) | (bytes[30] & 0x0f),
		H5: (s8(31) << 4) | (bytes[30] >> 4),
		H6: s8(32),
	};
}

/** Datasheet appendix 8.1 (double precision): var1 + var2, i.e. t_fine before truncation. */
export function bme280TFine(adcT: number, c: Bme280Calibration): number {
	const var1 = (adcT / 16384 - c.T1 / 1024) * c.T2;
	const d = adcT / 131072 - c.T1 / 8192;
	return var1 + d * d * c.T3;
}

/** Datasheet appendix 8.1: T = t_fine / 5120. */
export function bme280TemperatureC(tFine: number): number {
	return tFine / 5120;
}

/** Datasheet appendix 8.1, double precision; NaN when the calibration makes the formula divide by zero. */
export function bme280PressurePa(adcP: number, tFine: number, c: Bme280Calibration): number {
	let var1 = Math.trunc(tFine) / 2 - 64000;
	let var2 = (var1 * var1 * c.P6) / 32768 + var1 * c.P5 * 2;
	var2 = var2 / 4 + c.P4 * 65536;
	var1 = ((c.P3 * var1 * var1) / 524288 + c.P2 * var1) / 524288;
	var1 = (1 + var1 / 32768) * c.P1;
	if (var1 === 0) return NaN;
	const p = ((1048576 - adcP - var2 / 4096) * 6250) / var1;
	return p + ((c.P9 * p * p) / 2147483648 + (p * c.P8) / 32768 + c.P7) / 16;
}

/** Datasheet appendix 8.1, double precision (not the SensorAPI's variant with the extra H3 factor), clamped to 0..100. */
export function bme280HumidityPercent(adcH: number, tFine: number, c: Bme280Calibration): number {
	const h = Math.trunc(tFine) - 76800;
	let rh = (adcH - (c.H4 * 64 + (c.H5 / 16384) * h)) * ((c.H2 / 65536) * (1 + (c.H6 / 67108864) * h * (1 + (c.H3 / 67108864) * h)));
	rh *= 1 - (c.H1 * rh) / 524288;
	return Math.min(100, Math.max(0, rh));
}

/** Datasheet appendix on measurement time: the maximum for oversampling factors (0 = skipped), in ms. */
export function bme280MaxMeasurementMs(temperature: number, pressure: number, humidity: number): number {
	return 1.25 + 2.3 * temperature + (pressure ? 2.3 * pressure + 0.575 : 0) + (humidity ? 2.3 * humidity + 0.575 : 0);
}

export class BME280 extends I2CSensor {
	readonly #pointer = new Uint8Array(1);
	readonly #byte = new Uint8Array(1);
	/** ctrl_hum, status, ctrl_meas and config, read in one burst. */
	readonly #registers = new Uint8Array(4);
	readonly #data = new Uint8Array(8);
	readonly #trimming = new Uint8Array(33);
	readonly #trimming0 = this.#trimming.subarray(0, 26);
	readonly #trimming1 = this.#trimming.subarray(26);
	readonly #control = new Uint8Array([BME280_REGISTER.ctrlHum, 0, BME280_REGISTER.ctrlMeas, 0]);
	readonly #config = new Uint8Array([BME280_REGISTER.config, 0]);
	#calibration: Bme280Calibration | undefined;
	#temperature = 1;
	#pressure = 1;
	#humidity = 1;
	#filter = 0;
	#waitMs = 0;
	/** The config register as the last set-up wrote it (a configure() since then takes effect at the next set-up). */
	#configSet = 0;

	constructor(options: SensorOptions) {
		super("BME280", options, 0x76, 400_000);
		this.startup(() => {
			const id = this.register(BME280_REGISTER.chipId);
			const chip = bme280Chip(id);
			if (chip !== "BME280") throw this.error("unsupported", `chip id 0x${id.toString(16)}: ${chip === "BMP280" ? "a BMP280, which has no humidity sensor" : "not a BME280"}`);
		});
		this.configure({});
	}

	configure(options: Record<string, unknown>): void {
		const temperature = option(options, "temperatureOversampling", OVERSAMPLING);
		const pressure = option(options, "pressureOversampling", OVERSAMPLING);
		const humidity = option(options, "humidityOversampling", OVERSAMPLING);
		const filter = option(options, "filter", FILTER);
		// Temperature feeds t_fine, which the other two need; humidity is what the node is for.
		if (temperature === 0 || humidity === 0) throw new RangeError("temperature and humidity cannot be skipped");
		if (temperature !== undefined) this.#temperature = temperature;
		if (pressure !== undefined) this.#pressure = pressure;
		if (humidity !== undefined) this.#humidity = humidity;
		if (filter !== undefined) this.#filter = filter;
		this.#control[1] = OVERSAMPLING.indexOf(this.#humidity);
		this.#control[3] = (OVERSAMPLING.indexOf(this.#temperature) << 5) | (OVERSAMPLING.indexOf(this.#pressure) << 2) | MODE_FORCED;
		this.#config[1] = FILTER.indexOf(this.#filter) << 2;
		this.#waitMs = afterMax(bme280MaxMeasurementMs(this.#temperature, this.#pressure, this.#humidity));
		this.invalidate();
	}

	protected *initialise(): Steps<void> {
		this.issue(COMMANDS.reset.bytes);
		yield* this.poll(this.#copied, COMMANDS.reset.waitMs, "NVM copy");
		this.#pointer[0] = BME280_REGISTER.calibration0;
		this.writeRead(this.#pointer, this.#trimming0);
		this.#pointer[0] = BME280_REGISTER.calibration1;
		this.writeRead(this.#pointer, this.#trimming1);
		const calibration = parseBme280Calibration(this.#trimming);
		if (!calibration.T1 || !calibration.P1) throw this.error("range", "trimming parameters are blank");
		this.#calibration = calibration;
		this.write(this.#config);
		this.#configSet = this.#config[1];
	}

	protected start(): number {
		this.write(this.#control);
		return this.#waitMs;
	}

	protected collect(): boolean {
		return this.measured();
	}

	protected convert(): Sample {
		const data = this.#data;
		this.#pointer[0] = BME280_REGISTER.data;
		this.writeRead(this.#pointer, data);
		const adcP = (data[0] << 12) | (data[1] << 4) | (data[2] >> 4);
		const adcT = (data[3] << 12) | (data[4] << 4) | (data[5] >> 4);
		const adcH = (data[6] << 8) | data[7];
		if (adcT === SKIPPED_20 || adcH === SKIPPED_16 || (this.#pressure && adcP === SKIPPED_20))
			throw this.error("range", "a channel reads as skipped: the chip lost its configuration");
		const calibration = this.#calibration!;
		const tFine = bme280TFine(adcT, calibration);
		const sample = this.result(bme280TemperatureC(tFine), bme280HumidityPercent(adcH, tFine, calibration), LIMITS);
		if (this.#pressure) {
			const pressure = bme280PressurePa(adcP, tFine, calibration);
			if (!(pressure >= MIN_PA && pressure <= MAX_PA)) throw this.error("range", `pressure ${pressure.toFixed(0)} Pa outside ${MIN_PA}..${MAX_PA} Pa`);
			sample.barometer = { pressure };
		}
		return sample;
	}

	readonly #copied = (): boolean => !(this.register(BME280_REGISTER.status) & STATUS_IM_UPDATE);

	private measured(): boolean {
		const registers = this.#registers;
		this.#pointer[0] = BME280_REGISTER.ctrlHum;
		this.writeRead(this.#pointer, registers);
		if (registers[1] & STATUS_MEASURING) return false;
		const control = this.#control;
		if ((registers[0] & CTRL_HUM_SETTINGS) !== control[1] || (registers[2] & CTRL_MEAS_SETTINGS) !== (control[3] & CTRL_MEAS_SETTINGS) || (registers[3] & CONFIG_SETTINGS) !== this.#configSet)
			this.lost(`ctrl_hum 0x${registers[0].toString(16)}, ctrl_meas 0x${registers[2].toString(16)}, config 0x${registers[3].toString(16)}: not as written`);
		return true;
	}

	private register(register: number): number {
		this.#pointer[0] = register;
		this.writeRead(this.#pointer, this.#byte);
		return this.#byte[0];
	}
}
