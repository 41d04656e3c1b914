import assert from "node:assert/strict";
import { test } from "node:test";
import { VirtualClock } from "../../hosts/node/virtual-clock";
import { SHT3x } from "../../src/drivers/sht3x";
import type { Sht3xModel } from "../../sim/sensors/sht3x";
import type { Step } from "./script";
import { bytes, scripted } from "./script";
import { CHIPS, assertTracks, open, sampleOnce, world } from "./world";

const chip = CHIPS.find((c) => c.model === "SHT3x")!;

const SET_UP: Step[] = [{ write: bytes("30 A2") }, { write: bytes("30 41") }, { write: bytes("F3 2D") }, { read: bytes("00 00 81") }];
const measure = (frame: string): Step[] => [{ write: bytes("24 00") }, { read: bytes(frame) }, { write: bytes("F3 2D") }, { read: bytes("00 00 81") }];

function setUp(reads: string[]) {
	const clock = new VirtualClock();
	const script = scripted(clock, [
		{ write: bytes("F3 2D"), at: 0 },
		{ write: bytes("30 A2"), at: 2 },
		{ write: bytes("30 41"), at: 4 },
		{ write: bytes("F3 2D"), at: 6 },
		{ read: bytes("00 00 81"), at: 8 },
		...reads.flatMap((frame, i) => [
			{ write: bytes("24 00"), at: 8 + 18 * i }, { read: bytes(frame), at: 24 + 18 * i },
			{ write: bytes("F3 2D"), at: 24 + 18 * i }, { read: bytes("00 00 81"), at: 26 + 18 * i },
		]),
	]);
	const sensor = new SHT3x({ sensor: { ...script.bus, address: 0x44 }, clock });
	return { clock, script, sensor };
}

test("SHT3x keeps 1 ms of bus idle after each command, resets, clears and reads its status, measures with 24 00 for 15 ms, reads the status after", () => {
	const { clock, script, sensor } = setUp(["66 66 93 80 00 A2", "5E B9 3C 7A E1 A4"]);
	const first = sampleOnce(sensor, clock).sample!;
	assert.ok(Math.abs(first.thermometer.temperature - 25) < 1e-4);
	assert.ok(Math.abs(first.hygrometer.humidity - 50.0008) < 1e-4);
	const second = sampleOnce(sensor, clock).sample!;
	assert.ok(Math.abs(second.thermometer.temperature - 19.7528) < 1e-4);
	script.done();
	assert.deepEqual(script.opened.map((o) => [o.address, o.hz]), [[0x44, 400_000]]);
});

test("SHT3x rejects a frame whose humidity CRC is wrong, and one whose temperature CRC is wrong", () => {
	const { clock, script, sensor } = setUp(["66 66 93 80 00 A3", "66 66 92 80 00 A2"]);
	assert.equal(sampleOnce(sensor, clock).error?.kind, "crc");
	assert.equal(sampleOnce(sensor, clock).error?.kind, "crc");
	script.done();
});

test("SHT3x rejects the all-zero frame (valid CRCs, -45 C) as range, and sets the chip up again before the next", () => {
	const clock = new VirtualClock();
	const script = scripted(clock, [
		{ write: bytes("F3 2D") },
		...SET_UP, ...measure("00 00 81 00 00 81"),
		...SET_UP, ...measure("FF FF AC FF FF AC"),
	]);
	const sensor = new SHT3x({ sensor: script.bus, clock });
	assert.equal(sampleOnce(sensor, clock).error?.kind, "range");
	assert.equal(sampleOnce(sensor, clock).error?.kind, "range");
	script.done();
});

test("SHT3x low repeatability waits its 4 ms (and the margin) instead of 15", () => {
	const w = world();
	w.bus.attach(0x44, chip.device(w.env));
	const sensor = open(chip, w);
	assert.equal(sampleOnce(sensor, w.clock).ms, 8 + 16 + 2);
	assert.equal(sampleOnce(sensor, w.clock).ms, 16 + 2);
	sensor.configure({ repeatability: "low" });
	assert.equal(sampleOnce(sensor, w.clock).ms, 8 + 5 + 2);
	assertTracks(sampleOnce(sensor, w.clock), chip, w);
});

test("SHT3x heater: configure turns it on in the chip (status bit 13), which then reads warmer; off again after", () => {
	const w = world({ noise: { temperature: 0 }, swing: { temperature: 0 } });
	const device = chip.device(w.env) as Sht3xModel;
	w.bus.attach(0x44, device);
	const sensor = open(chip, w);
	assertTracks(sampleOnce(sensor, w.clock), chip, w);
	sensor.configure({ heater: true });
	const heated = sampleOnce(sensor, w.clock).sample!;
	assert.ok(device.status & 0x2000);
	assert.ok(Math.abs(heated.thermometer.temperature - (w.env.temperatureAt(w.clock.now) + 2)) < 0.01);
	sensor.configure({ heater: false });
	assertTracks(sampleOnce(sensor, w.clock), chip, w);
	assert.equal(device.status & 0x2000, 0);
});

test("SHT3x set up with its heater is set up again after it was unplugged and came back", () => {
	const w = world();
	const device = chip.device(w.env) as Sht3xModel;
	w.bus.attach(0x44, device);
	const sensor = open(chip, w);
	sensor.configure({ heater: true });
	sampleOnce(sensor, w.clock);
	device.unplug();
	assert.equal(sampleOnce(sensor, w.clock).error?.kind, "absent");
	device.replug();
	assert.equal(device.status & 0x2000, 0);
	w.clock.advance(100);
	assert.ok(sampleOnce(sensor, w.clock).sample);
	assert.ok(device.status & 0x2000);
});
