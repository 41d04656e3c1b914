/*
 * What SHT3x and SHT4x share: the 6-byte measurement frame (T, CRC, RH, CRC) read once the chip stops
 * NACKing, each word checked with Sensirion's CRC-8, and the temperature transfer function (Datasheets
 * SHT3x-DIS v4 and SHT4x v6.1, conversion of signal output). Humidity is each chip's own.
 */
import { CRC_INIT_SENSIRION, checkedWord } from "./crc8";
import { I2CSensor } from "./i2c-sensor";
import type { Sample } from "./sensor";

/** Both families are specified from -40 to 125 C. */
const LIMITS = Object.freeze({ minC: -40, maxC: 125 });

/** T = -45 + 175 * S / 65535. The datasheets divide by 65535; Sensirion's fixed-point drivers by 65536 (< 0.003 C apart). */
export function sensirionTemperatureC(raw: number): number {
	return -45 + (175 * raw) / 65535;
}

export abstract class SensirionSensor extends I2CSensor {
	/** Measurement frames, and the status and serial reads, land here (allocated once). */
	protected readonly frame = new Uint8Array(6);

	/** The chip's humidity transfer function. */
	protected abstract humidityPercent(raw: number): number;

	protected collect(_phase: number): boolean {
		return this.tryRead(this.frame);
	}

	protected convert(): Sample {
		const temperature = checkedWord(this.frame, 0, CRC_INIT_SENSIRION);
		const humidity = checkedWord(this.frame, 3, CRC_INIT_SENSIRION);
		if (temperature < 0 || humidity < 0) throw this.error("crc", `${temperature < 0 ? "temperature" : "humidity"} CRC mismatch`);
		return this.result(sensirionTemperatureC(temperature), this.humidityPercent(humidity), LIMITS);
	}
}
