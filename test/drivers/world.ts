/*
 * Fixtures for driver tests: a virtual clock, an environment and a simulated bus, a table of every supported
 * chip with its model, and a helper that takes one sample to completion on the virtual clock.
 */
import assert from "node:assert/strict";
import { VirtualClock } from "../../hosts/node/virtual-clock";
import type { SensorModel } from "../../src/drivers/detect";
import { openSensor } from "../../src/drivers/detect";
import type { Sample, Sensor, SensorError } from "../../src/drivers/sensor";
import type { I2CBus } from "../../src/io";
import type { EnvironmentOptions } from "../../sim/environment";
import { Environment } from "../../sim/environment";
import { Aht20Model } from "../../sim/sensors/aht20";
import { Bme280Model } from "../../sim/sensors/bme280";
import { SimulatedI2CBus } from "../../sim/sensors/bus";
import type { SimDevice, Timing } from "../../sim/sensors/device";
import { Hdc1080Model } from "../../sim/sensors/hdc1080";
import { Htu21dModel } from "../../sim/sensors/htu21d";
import { Sht3xModel } from "../../sim/sensors/sht3x";
import { Sht4xModel } from "../../sim/sensors/sht4x";

export interface World {
	clock: VirtualClock;
	env: Environment;
	bus: SimulatedI2CBus;
	/** What a board's `device.I2C.default` would hold. */
	i2c: I2CBus;
}

export function world(options: EnvironmentOptions = {}): World {
	const clock = new VirtualClock();
	const env = new Environment({ seed: 7, ...options });
	const bus = new SimulatedI2CBus(clock);
	return { clock, env, bus, i2c: { io: bus.io, data: 21, clock: 22 } };
}

export interface Chip {
	/** The name openSensor takes, which is also what the driver reports for this part. */
	model: SensorModel;
	address: number;
	device(env: Environment, timing?: Timing): SimDevice;
	/** Whether frames carry a CRC (so a corrupted one can be noticed). */
	crc: boolean;
	/** How far a sample may be from the environment: resolution plus drift during the conversion. */
	tolerance: { temperature: number; humidity: number };
	pressure: boolean;
	/** A configure() argument the driver must refuse (undefined: the chip has no options). */
	badOption?: Record<string, unknown>;
}

export const CHIPS: readonly Chip[] = [
	{ model: "SHT3x", address: 0x44, device: (env, timing) => new Sht3xModel({ env, timing }), crc: true, tolerance: { temperature: 0.02, humidity: 0.05 }, pressure: false, badOption: { repeatability: "highest" } },
	{ model: "SHT4x", address: 0x44, device: (env, timing) => new Sht4xModel({ env, timing }), crc: true, tolerance: { temperature: 0.02, humidity: 0.05 }, pressure: false, badOption: { heaterMw: 50 } },
	{ model: "AHT20", address: 0x38, device: (env, timing) => new Aht20Model({ env, timing }), crc: true, tolerance: { temperature: 0.02, humidity: 0.05 }, pressure: false },
	{ model: "AHT10", address: 0x38, device: (env, timing) => new Aht20Model({ env, timing, variant: "AHT10" }), crc: false, tolerance: { temperature: 0.02, humidity: 0.05 }, pressure: false },
	{ model: "HTU21D", address: 0x40, device: (env, timing) => new Htu21dModel({ env, timing }), crc: true, tolerance: { temperature: 0.03, humidity: 0.1 }, pressure: false, badOption: { humidityBits: 14 } },
	{ model: "Si7021", address: 0x40, device: (env, timing) => new Htu21dModel({ env, timing, variant: "Si7021" }), crc: true, tolerance: { temperature: 0.03, humidity: 0.1 }, pressure: false, badOption: { heater: "on" } },
	{ model: "HDC1080", address: 0x40, device: (env, timing) => new Hdc1080Model({ env, timing }), crc: false, tolerance: { temperature: 0.03, humidity: 0.05 }, pressure: false, badOption: { temperatureBits: 12 } },
	{ model: "BME280", address: 0x76, device: (env, timing) => new Bme280Model({ env, timing }), crc: false, tolerance: { temperature: 0.02, humidity: 0.05 }, pressure: true, badOption: { pressureOversampling: 3 } },
];

export interface Outcome {
	error?: SensorError;
	sample?: Sample;
	/** Virtual ms from sample() to the callback. */
	ms: number;
	/** Virtual time of the callback. */
	at: number;
}

/** Starts a sample, runs the clock until it calls back, and checks that it called back once, not synchronously. */
export function sampleOnce(sensor: Sensor, clock: VirtualClock, limitMs = 10_000): Outcome {
	const start = clock.now;
	const outcomes: Outcome[] = [];
	sensor.sample((error, sample) => outcomes.push({ error, sample, ms: clock.now - start, at: clock.now }));
	assert.equal(outcomes.length, 0, "sample() called back synchronously");
	clock.runUntil(() => outcomes.length > 0, limitMs);
	assert.equal(outcomes.length, 1);
	return outcomes[0];
}

export function open(chip: Chip, w: World): Sensor {
	return openSensor(chip.model, { sensor: { ...w.i2c, address: chip.address }, clock: w.clock });
}

/** Asserts the sample is within the chip's tolerance of the environment at the time it was delivered. */
export function assertTracks(outcome: Outcome, chip: Chip, w: Pick<World, "env">): void {
	assert.equal(outcome.error, undefined, `${chip.model}: unexpected ${outcome.error?.message}`);
	const sample = outcome.sample!;
	const now = outcome.at;
	const temperature = w.env.temperatureAt(now);
	const humidity = w.env.humidityAt(now);
	assert.ok(Math.abs(sample.thermometer.temperature - temperature) <= chip.tolerance.temperature, `${chip.model}: ${sample.thermometer.temperature} C, environment ${temperature} C`);
	assert.ok(Math.abs(sample.hygrometer.humidity - humidity) <= chip.tolerance.humidity, `${chip.model}: ${sample.hygrometer.humidity} %RH, environment ${humidity} %RH`);
	if (chip.pressure) {
		const pressure = w.env.pressureAt(now);
		assert.ok(Math.abs(sample.barometer!.pressure - pressure) <= 2, `${chip.model}: ${sample.barometer!.pressure} Pa, environment ${pressure} Pa`);
	}
	else assert.equal(sample.barometer, undefined);
}

/** Asserts a sample failed with `kind`, naming the chip and its address. */
export function assertFails(outcome: Outcome, kind: string, chip: Chip): void {
	assert.equal(outcome.sample, undefined, `${chip.model}: a sample was returned where ${kind} was due`);
	assert.ok(outcome.error, `${chip.model}: no error`);
	assert.equal(outcome.error.kind, kind, `${chip.model}: ${outcome.error.message}`);
	assert.equal(outcome.error.address, chip.address);
	assert.ok(outcome.error.message.startsWith(`${chip.model} at 0x${chip.address.toString(16)}`), outcome.error.message);
}
