import assert from "node:assert/strict";
import { test } from "node:test";
import { VirtualClock } from "../../hosts/node/virtual-clock";
import { BME280 } from "../../src/drivers/bme280";
import { SensorError } from "../../src/drivers/sensor";
import { Bme280Model } from "../../sim/sensors/bme280";
import { bytes, scripted } from "./script";
import { bme280Vectors } from "./vectors";
import { CHIPS, assertTracks, open, sampleOnce, world } from "./world";

const chip = CHIPS.find((c) => c.model === "BME280")!;

for (const [name, v] of Object.entries<any>(bme280Vectors).filter(([key]) => key !== "tmeas")) {
	test(`BME280 vector ${name[0]} through the driver: reset, NVM copy, trimming, forced x1 measurement, burst read`, () => {
		const clock = new VirtualClock();
		const script = scripted(clock, [
			{ write: bytes("D0"), read: bytes("60"), at: 0 },
			{ write: bytes("E0 B6"), at: 0 },
			{ write: bytes("F3"), read: bytes("00"), at: 3 },
			{ write: bytes("88"), read: bytes(v.reg_0x88_0xA1) },
			{ write: bytes("E1"), read: bytes(v.reg_0xE1_0xE7) },
			{ write: bytes("F5 00") },
			{ write: bytes("F2 01 F4 25"), at: 3 },
			{ write: bytes("F2"), read: bytes("01 00 24 00"), at: 14 },
			{ write: bytes("F7"), read: bytes(v.reg_0xF7_0xFE), at: 14 },
		]);
		const sample = sampleOnce(new BME280({ sensor: script.bus, clock }), clock).sample!;
		assert.ok(Math.abs(sample.thermometer.temperature - v.double.T) < 1e-6);
		assert.ok(Math.abs(sample.hygrometer.humidity - v.double.H) < 1e-6);
		assert.ok(Math.abs(sample.barometer!.pressure - v.double.P) < 1e-4);
		script.done();
	});
}

test("BME280 rejects a skipped humidity channel (0x8000: the chip lost its configuration) as range", () => {
	const v = bme280Vectors.A_pimoroni;
	const clock = new VirtualClock();
	const script = scripted(clock, [
		{ write: bytes("D0"), read: bytes("60") },
		{ write: bytes("E0 B6") }, { write: bytes("F3"), read: bytes("01") }, { write: bytes("F3"), read: bytes("00"), at: 4 },
		{ write: bytes("88"), read: bytes(v.reg_0x88_0xA1) }, { write: bytes("E1"), read: bytes(v.reg_0xE1_0xE7) }, { write: bytes("F5 00") },
		{ write: bytes("F2 01 F4 25") }, { write: bytes("F2"), read: bytes("01 08 25 00"), at: 15 }, { write: bytes("F2"), read: bytes("01 00 24 00"), at: 18 },
		{ write: bytes("F7"), read: bytes("4F CA 00 81 32 70 80 00") },
	]);
	const outcome = sampleOnce(new BME280({ sensor: script.bus, clock }), clock);
	assert.equal(outcome.error?.kind, "range");
	script.done();
});

test("a BMP280 (chip ID 0x58, no humidity) is refused as unsupported and nothing stays open", () => {
	const w = world();
	w.bus.attach(0x76, new Bme280Model({ env: w.env, chipId: 0x58 }));
	assert.throws(() => open(chip, w), (error: unknown) => error instanceof SensorError && error.kind === "unsupported" && /BMP280/.test(error.message));
	assert.equal(w.bus.isOpen(0x76), false);
});

test("BME280 oversampling and filter reach the chip, set the wait, and pressure can be skipped", () => {
	const w = world();
	const device = new Bme280Model({ env: w.env, timing: "maximum" });
	w.bus.attach(0x76, device);
	const sensor = open(chip, w);
	sensor.configure({ temperatureOversampling: 2, pressureOversampling: 16, humidityOversampling: 1, filter: 4 });
	const slow = sampleOnce(sensor, w.clock);
	assertTracks(slow, chip, w);
	assert.equal(slow.ms, 3 + 48);
	assert.equal(device.register(0xf2), 0x01);
	assert.equal(device.register(0xf4), (2 << 5) | (5 << 2));
	assert.equal(device.register(0xf5), 2 << 2);
	sensor.configure({ pressureOversampling: 0 });
	const outcome = sampleOnce(sensor, w.clock);
	assertTracks(outcome, { ...chip, pressure: false }, w);
	assert.throws(() => sensor.configure({ humidityOversampling: 0 }), RangeError);
});

test("a BME280 power-cycled between samples gets its settings back with the next sample, without a new set-up", () => {
	const w = world();
	const device = new Bme280Model({ env: w.env });
	w.bus.attach(0x76, device);
	const sensor = open(chip, w);
	assertTracks(sampleOnce(sensor, w.clock), chip, w);
	device.unplug();
	device.replug();
	w.clock.advance(1000);
	w.bus.resetStats();
	assertTracks(sampleOnce(sensor, w.clock), chip, w);
	// ctrl_hum+ctrl_meas, status, data: no reset or trimming read.
	assert.equal(w.bus.stats(0x76).transactions, 3);
});
