import assert from "node:assert/strict";
import { test } from "node:test";
import { VirtualClock } from "../../hosts/node/virtual-clock";
import { HTU21D } from "../../src/drivers/htu21d";
import { Htu21dModel } from "../../sim/sensors/htu21d";
import type { Step } from "./script";
import { bytes, scripted } from "./script";
import { CHIPS, assertTracks, open, sampleOnce, world } from "./world";

const chip = CHIPS.find((c) => c.model === "HTU21D")!;

function run(user: string, steps: Step[]) {
	const clock = new VirtualClock();
	const script = scripted(clock, [{ write: bytes("E7"), at: 0 }, { read: bytes(user), at: 0 }, ...steps]);
	const sensor = new HTU21D({ sensor: script.bus, clock });
	return { sensor, outcome: sampleOnce(sensor, clock), script };
}

test("HTU21D resets, keeps the user register's other bits, reads it back, then measures RH (16 ms) and T (50 ms) without hold", () => {
	const { sensor, outcome, script } = run("02", [
		{ write: bytes("FE"), at: 0 },
		{ write: bytes("E7"), at: 16 }, { read: bytes("02") },
		{ write: bytes("E6 02") },
		{ write: bytes("E7"), at: 16 }, { read: bytes("02") },
		{ write: bytes("F5"), at: 16 }, { read: bytes("7C 80 F5"), at: 33 },
		{ write: bytes("F3"), at: 33 }, { read: bytes("66 58 C8"), at: 84 },
	]);
	assert.equal(sensor.model, "HTU21D");
	assert.ok(Math.abs(outcome.sample!.hygrometer.humidity - 54.791) < 1e-4);
	assert.ok(Math.abs(outcome.sample!.thermometer.temperature - 23.3994) < 1e-4);
	script.done();
});

test("an Si7021 (user register 0x3A) is named so and gets its own waits: RH 22.8 ms including T, then T 10.8 ms", () => {
	const { sensor, outcome, script } = run("3A", [
		{ write: bytes("FE") },
		{ write: bytes("E7") }, { read: bytes("3A") },
		{ write: bytes("E6 3A") },
		{ write: bytes("E7") }, { read: bytes("3A") },
		{ write: bytes("F5"), at: 16 }, { read: bytes("5A 7E EE"), at: 40 },
		{ write: bytes("F3"), at: 40 }, { read: bytes("6E 6C FE"), at: 52 },
	]);
	assert.equal(sensor.model, "Si7021");
	assert.ok(Math.abs(outcome.sample!.hygrometer.humidity - 38.1818) < 1e-4);
	assert.ok(Math.abs(outcome.sample!.thermometer.temperature - 28.9443) < 1e-4);
	script.done();
});

test("HTU21D rejects the open-circuit code 00 00 00 although its CRC is valid", () => {
	const { outcome, script } = run("02", [
		{ write: bytes("FE") }, { write: bytes("E7") }, { read: bytes("02") }, { write: bytes("E6 02") },
		{ write: bytes("E7") }, { read: bytes("02") },
		{ write: bytes("F5") }, { read: bytes("7C 80 F5") },
		{ write: bytes("F3") }, { read: bytes("00 00 00") },
	]);
	assert.equal(outcome.error?.kind, "range");
	assert.match(outcome.error!.message, /diagnostic code/);
	script.done();
});

test("HTU21D rejects a humidity word with a bad CRC", () => {
	const { outcome, script } = run("02", [
		{ write: bytes("FE") }, { write: bytes("E7") }, { read: bytes("02") }, { write: bytes("E6 02") },
		{ write: bytes("E7") }, { read: bytes("02") },
		{ write: bytes("F5") }, { read: bytes("68 3A 7D") },
	]);
	assert.equal(outcome.error?.kind, "crc");
	script.done();
});

test("HTU21D humidityBits and heater go to the user register, with the shorter waits of lower resolution", () => {
	const w = world({ noise: { temperature: 0, humidity: 0 }, swing: { temperature: 0, humidity: 0 } });
	const device = new Htu21dModel({ env: w.env });
	w.bus.attach(0x40, device);
	const sensor = open(chip, w);
	assert.equal(sampleOnce(sensor, w.clock).ms, 16 + 17 + 51);
	sensor.configure({ humidityBits: 8 });
	const coarse = sampleOnce(sensor, w.clock);
	assert.equal(device.user & 0x81, 0x01);
	assert.equal(coarse.ms, 16 + 4 + 14);
	// 8-bit humidity is in steps of 125/256 %RH, 12-bit temperature in steps of 0.043 C.
	assertTracks(coarse, { ...chip, tolerance: { temperature: 0.05, humidity: 0.5 } }, w);
	sensor.configure({ humidityBits: 12, heater: true });
	const heated = sampleOnce(sensor, w.clock).sample!;
	assert.equal(device.user & 0x85, 0x04);
	assert.ok(Math.abs(heated.thermometer.temperature - (w.env.temperatureAt(w.clock.now) + 1)) < 0.02);
});

test("HTU21D set to 8-bit humidity is set up again after a power cycle that reset its user register", () => {
	const w = world();
	const device = new Htu21dModel({ env: w.env });
	w.bus.attach(0x40, device);
	const sensor = open(chip, w);
	sensor.configure({ humidityBits: 8 });
	sampleOnce(sensor, w.clock);
	device.unplug();
	assert.equal(sampleOnce(sensor, w.clock).error?.kind, "absent");
	device.replug();
	w.clock.advance(100);
	assert.equal(device.user & 0x81, 0x00);
	assert.ok(sampleOnce(sensor, w.clock).sample);
	assert.equal(device.user & 0x81, 0x01);
});
