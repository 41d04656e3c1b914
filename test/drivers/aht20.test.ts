import assert from "node:assert/strict";
import { test } from "node:test";
import { VirtualClock } from "../../hosts/node/virtual-clock";
import { AHT10, AHT20 } from "../../src/drivers/aht20";
import { Aht20Model } from "../../sim/sensors/aht20";
import type { Step } from "./script";
import { bytes, scripted } from "./script";
import { CHIPS, assertFails, assertTracks, open, sampleOnce, world } from "./world";

const chip = CHIPS.find((c) => c.model === "AHT20")!;

function run(steps: Step[]) {
	const clock = new VirtualClock();
	const script = scripted(clock, [{ read: bytes("18"), at: 0 }, ...steps]);
	const sensor = new AHT20({ sensor: script.bus, clock });
	return { outcome: sampleOnce(sensor, clock), script };
}

test("AHT20 waits its 100 ms power-up, resets, finds the calibration bit set, triggers AC 33 00 and reads the frame 81 ms later", () => {
	const { outcome, script } = run([
		{ write: bytes("BA"), at: 101 },
		{ read: bytes("18"), at: 122 },
		{ write: bytes("AC 33 00"), at: 122 },
		{ read: bytes("1C 26 9A 76 42 E7 76"), at: 203 },
	]);
	assert.ok(Math.abs(outcome.sample!.hygrometer.humidity - 15.0794) < 1e-4);
	assert.ok(Math.abs(outcome.sample!.thermometer.temperature - 28.2667) < 1e-4);
	script.done();
});

test("AHT20 sends BE 08 00 when the calibration bit is clear, and goes on once it is set", () => {
	const { outcome, script } = run([
		{ write: bytes("BA") }, { read: bytes("10"), at: 122 },
		{ write: bytes("BE 08 00"), at: 122 }, { read: bytes("18"), at: 133 },
		{ write: bytes("AC 33 00") }, { read: bytes("18 93 AC 95 2A C5 B3"), at: 214 },
	]);
	assert.ok(Math.abs(outcome.sample!.hygrometer.humidity - 57.6852) < 1e-4);
	script.done();
});

test("AHT20 tolerates a NACKed init command but fails with range when the chip stays uncalibrated", () => {
	const { outcome, script } = run([
		{ write: bytes("BA") }, { read: bytes("10") },
		{ write: bytes("BE 08 00"), nack: true }, { read: bytes("10"), at: 133 },
	]);
	assert.equal(outcome.error?.kind, "range");
	assert.match(outcome.error!.message, /calibration bit still clear/);
	script.done();
});

test("AHT20 reads again while the busy bit is set, ignoring the stale data, and rejects a bad CRC", () => {
	const { outcome, script } = run([
		{ write: bytes("BA") }, { read: bytes("18") },
		{ write: bytes("AC 33 00"), at: 122 },
		{ read: bytes("9C 00 00 00 00 00 00"), at: 203 },
		{ read: bytes("1C 80 00 06 66 66 5D"), at: 224 },
	]);
	assert.equal(outcome.error?.kind, "crc");
	script.done();
});

test("an uncalibrated AHT20 part is initialised by the driver and then measures", () => {
	const w = world();
	const device = new Aht20Model({ env: w.env, calibrated: false });
	w.bus.attach(0x38, device);
	const sensor = open(chip, w);
	assertTracks(sampleOnce(sensor, w.clock), chip, w);
	assert.equal(device.calibrated, true);
});

test("the AHT20 driver rejects an AHT10's frames (no CRC byte) with crc", () => {
	const w = world();
	w.bus.attach(0x38, new Aht20Model({ env: w.env, variant: "AHT10" }));
	const sensor = new AHT20({ sensor: w.i2c, clock: w.clock });
	assertFails(sampleOnce(sensor, w.clock), "crc", chip);
});

test("the AHT10 driver calibrates an uncalibrated AHT10 with E1 08 00 and reads its 6-byte frames", () => {
	const w = world();
	const device = new Aht20Model({ env: w.env, variant: "AHT10", calibrated: false });
	w.bus.attach(0x38, device);
	const sensor = new AHT10({ sensor: w.i2c, clock: w.clock });
	assert.equal(sensor.model, "AHT10");
	assertTracks(sampleOnce(sensor, w.clock), { ...chip, model: "AHT10" }, w);
	assert.equal(device.calibrated, true);
});

test("AHT20 set-up waits out the chip's 100 ms power-up: a chip powered just before the sample is used, not found absent", () => {
	const w = world();
	const device = new Aht20Model({ env: w.env, timing: "maximum" });
	w.bus.attach(0x38, device);
	const sensor = open(chip, w);
	device.unplug();
	assertFails(sampleOnce(sensor, w.clock), "absent", chip);
	device.replug();
	assertTracks(sampleOnce(sensor, w.clock), chip, w);
});
