import assert from "node:assert/strict";
import { test } from "node:test";
import { VirtualClock } from "../../hosts/node/virtual-clock";
import { HDC1080 } from "../../src/drivers/hdc1080";
import { SensorError } from "../../src/drivers/sensor";
import { Hdc1080Model } from "../../sim/sensors/hdc1080";
import { bytes, scripted } from "./script";
import { CHIPS, assertTracks, open, sampleOnce, world } from "./world";

const chip = CHIPS.find((c) => c.model === "HDC1080")!;

function run(frames: string[]) {
	const clock = new VirtualClock();
	const script = scripted(clock, [
		{ write: bytes("FE"), read: bytes("54 49"), at: 0 },
		{ write: bytes("FF"), read: bytes("10 50"), at: 0 },
		{ write: bytes("02 80 00"), at: 0 },
		{ write: bytes("02 10 00"), at: 16 },
		...frames.flatMap((frame) => [{ write: bytes("00") }, { read: bytes(frame) }, { write: bytes("02"), read: bytes("10 00") }]),
	]);
	const sensor = new HDC1080({ sensor: script.bus, clock });
	return { clock, script, sensor };
}

test("HDC1080 checks its IDs, resets, configures mode 1, reads T and RH 16 ms after the trigger, and the configuration back", () => {
	const { clock, script, sensor } = run(["64 D8 80 00", "66 00 4C CC"]);
	const first = sampleOnce(sensor, clock);
	assert.equal(first.ms, 16 + 16);
	assert.ok(Math.abs(first.sample!.thermometer.temperature - 24.9969) < 1e-4);
	assert.equal(first.sample!.hygrometer.humidity, 50);
	const second = sampleOnce(sensor, clock).sample!;
	assert.ok(Math.abs(second.thermometer.temperature - 25.7422) < 1e-4);
	assert.ok(Math.abs(second.hygrometer.humidity - 29.9988) < 1e-4);
	script.done();
});

test("HDC1080 rejects words with their always-zero low bits set, and the all-zero frame of a stuck bus", () => {
	const ones = run(["FF FF FF FF"]);
	assert.equal(sampleOnce(ones.sensor, ones.clock).error?.kind, "range");
	ones.script.done();
	const zeros = run(["00 00 00 00"]);
	assert.equal(sampleOnce(zeros.sensor, zeros.clock).error?.kind, "range");
	zeros.script.done();
});

test("an HDC1000 (device ID 0x1000) is refused as unsupported and nothing stays open", () => {
	const w = world();
	w.bus.attach(0x40, new Hdc1080Model({ env: w.env, deviceId: 0x1000 }));
	assert.throws(() => open(chip, w), (error: unknown) => error instanceof SensorError && error.kind === "unsupported" && /device 0x1000/.test(error.message));
	assert.equal(w.bus.isOpen(0x40), false);
});

test("HDC1080 resolutions and heater go to the configuration register and shorten the wait", () => {
	const w = world();
	const device = new Hdc1080Model({ env: w.env });
	w.bus.attach(0x40, device);
	const sensor = open(chip, w);
	assertTracks(sampleOnce(sensor, w.clock), chip, w);
	assert.equal(device.config, 0x1000);
	sensor.configure({ temperatureBits: 11, humidityBits: 8, heater: true });
	const fast = sampleOnce(sensor, w.clock);
	assert.equal(device.config, 0x3600);
	assert.equal(fast.ms, 16 + Math.ceil((3.65 + 2.5) * 1.2));
	// 11-bit temperature is in steps of 0.08 C, 8-bit humidity 0.4 %RH; the heater warms the model 0.5 C.
	assert.ok(Math.abs(fast.sample!.thermometer.temperature - 0.5 - w.env.temperatureAt(w.clock.now)) < 0.1);
	assert.ok(Math.abs(fast.sample!.hygrometer.humidity - w.env.humidityAt(w.clock.now)) < 0.45);
});
