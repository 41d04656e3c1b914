import assert from "node:assert/strict";
import { test } from "node:test";
import { aht20HumidityPercent, aht20HumidityRaw, aht20TemperatureC, aht20TemperatureRaw } from "../../src/drivers/aht20";
import { bme280HumidityPercent, bme280MaxMeasurementMs, bme280PressurePa, bme280TFine, bme280TemperatureC, parseBme280Calibration } from "../../src/drivers/bme280";
import { hdc1080HumidityPercent, hdc1080TemperatureC } from "../../src/drivers/hdc1080";
import { htu21dHumidityPercent, htu21dTemperatureC } from "../../src/drivers/htu21d";
import { sensirionTemperatureC } from "../../src/drivers/sensirion";
import { sht3xHumidityPercent } from "../../src/drivers/sht3x";
import { sht4xHumidityPercent } from "../../src/drivers/sht4x";
import { bytes } from "./script";
import { bme280Vectors, vectors } from "./vectors";

// The vectors are printed to 4 decimals (BME280: 6).
const close = (actual: number, expected: number, tolerance: number, what: string): void =>
	assert.ok(Math.abs(actual - expected) <= tolerance, `${what}: ${actual}, expected ${expected}`);

test("SHT3x and SHT4x conversions match the Sensirion vectors, SHT4x humidity unclamped", () => {
	for (const v of vectors.sensirion) {
		close(sensirionTemperatureC(v.ST), v.sht3x_T, 1e-4, `T ${v.frame}`);
		close(sensirionTemperatureC(v.ST), v.sht4x_T, 1e-4, `T ${v.frame}`);
		close(sht3xHumidityPercent(v.SRH), v.sht3x_RH, 1e-4, `SHT3x RH ${v.frame}`);
		close(sht4xHumidityPercent(v.SRH), v.sht4x_RH_raw, 1e-4, `SHT4x RH ${v.frame}`);
	}
});

test("AHT20 frames decode to the vectors' 20-bit codes, temperatures and humidities", () => {
	for (const v of vectors.aht) {
		const frame = Uint8Array.from(bytes(v.frame));
		assert.equal(aht20HumidityRaw(frame), v.S_RH, v.frame);
		assert.equal(aht20TemperatureRaw(frame), v.S_T, v.frame);
		close(aht20HumidityPercent(v.S_RH), v.RH, 1e-4, `RH ${v.frame}`);
		close(aht20TemperatureC(v.S_T), v.T, 1e-4, `T ${v.frame}`);
	}
});

test("HTU21D/Si7021 conversions clear the status bits and match the vectors", () => {
	for (const v of vectors.htu21d_si7021) {
		const [msb, lsb] = bytes(v.frame);
		const convert = v.kind === "RH" ? htu21dHumidityPercent : htu21dTemperatureC;
		close(convert((msb << 8) | lsb), v.value, 1e-4, `${v.kind} ${v.frame}`);
	}
});

test("HDC1080 conversions match the vectors", () => {
	for (const v of vectors.hdc1080) {
		const [t0, t1, h0, h1] = bytes(v.bytes);
		close(hdc1080TemperatureC((t0 << 8) | t1), v.T, 1e-4, `T ${v.bytes}`);
		close(hdc1080HumidityPercent((h0 << 8) | h1), v.RH, 1e-4, `RH ${v.bytes}`);
	}
});

for (const [name, v] of Object.entries<any>(bme280Vectors).filter(([key]) => key !== "tmeas")) {
	test(`BME280 vector ${name[0]}: trimming bytes decode to the datasheet parameters`, () => {
		const calibration = parseBme280Calibration(Uint8Array.from([...bytes(v.reg_0x88_0xA1), ...bytes(v.reg_0xE1_0xE7)]));
		assert.deepEqual({ ...calibration }, v.calib);
	});

	test(`BME280 vector ${name[0]}: the double-precision compensation gives the vector's t_fine, T, P and H`, () => {
		const calibration = parseBme280Calibration(Uint8Array.from([...bytes(v.reg_0x88_0xA1), ...bytes(v.reg_0xE1_0xE7)]));
		const tFine = bme280TFine(v.adc_T, calibration);
		assert.equal(Math.trunc(tFine), v.double.t_fine);
		close(bme280TemperatureC(tFine), v.double.T, 1e-6, "T");
		close(bme280PressurePa(v.adc_P, tFine, calibration), v.double.P, 1e-4, "P");
		close(bme280HumidityPercent(v.adc_H, tFine, calibration), v.double.H, 1e-6, "H");
	});
}

test("BME280 pressure is NaN rather than a number when P1 is zero", () => {
	const calibration = { ...parseBme280Calibration(Uint8Array.from([...bytes(bme280Vectors.A_pimoroni.reg_0x88_0xA1), ...bytes(bme280Vectors.A_pimoroni.reg_0xE1_0xE7)])), P1: 0 };
	assert.ok(Number.isNaN(bme280PressurePa(400_000, 128_000, calibration)));
});

test("BME280 maximum measurement times match the datasheet examples", () => {
	const factors: Record<string, [number, number, number]> = { T1P1H1: [1, 1, 1], T1P4H0: [1, 4, 0], T2P16H1: [2, 16, 1], T16P16H16: [16, 16, 16], T1P0H1: [1, 0, 1] };
	for (const [name, [, maximum]] of Object.entries<[number, number]>(bme280Vectors.tmeas))
		close(bme280MaxMeasurementMs(...factors[name]), maximum, 1e-9, name);
});
