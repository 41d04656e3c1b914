import assert from "node:assert/strict";
import { test } from "node:test";
import { VirtualClock } from "../../hosts/node/virtual-clock";
import { SHT4x } from "../../src/drivers/sht4x";
import { bytes, scripted } from "./script";
import { CHIPS, assertTracks, open, sampleOnce, world } from "./world";

const chip = CHIPS.find((c) => c.model === "SHT4x")!;

test("SHT4x resets (2 ms: the 1 ms maximum and the margin), checks its serial number's CRCs, measures with FD and reads 10 ms later", () => {
	const clock = new VirtualClock();
	const script = scripted(clock, [
		{ write: bytes("89"), at: 0 },
		{ write: bytes("94"), at: 0 },
		{ write: bytes("89"), at: 2 },
		{ read: bytes("12 34 37 AB CD 6F"), at: 13 },
		{ write: bytes("FD"), at: 13 },
		{ read: bytes("5E B9 3C 7A E1 A4"), at: 23 },
	]);
	const sensor = new SHT4x({ sensor: script.bus, clock });
	const sample = sampleOnce(sensor, clock).sample!;
	assert.ok(Math.abs(sample.thermometer.temperature - 19.7528) < 1e-4);
	assert.ok(Math.abs(sample.hygrometer.humidity - 54.0004) < 1e-4);
	script.done();
});

test("SHT4x crops humidity to 0..100 as its datasheet advises (S5: 106.5 -> 100; S_RH 0: -6 -> 0)", () => {
	const clock = new VirtualClock();
	const script = scripted(clock, [
		{ write: bytes("89") },
		{ write: bytes("94") }, { write: bytes("89") }, { read: bytes("12 34 37 AB CD 6F") },
		{ write: bytes("FD") }, { read: bytes("1A 2B 6D E6 66 B0") },
		{ write: bytes("FD") }, { read: bytes("66 66 93 00 00 81") },
	]);
	const sensor = new SHT4x({ sensor: script.bus, clock });
	const wet = sampleOnce(sensor, clock).sample!;
	assert.ok(Math.abs(wet.thermometer.temperature - -27.1115) < 1e-4);
	assert.equal(wet.hygrometer.humidity, 100);
	assert.equal(sampleOnce(sensor, clock).sample!.hygrometer.humidity, 0);
	script.done();
});

test("SHT4x retries a NACKed read until its data are ready, and gives busy at three times the wait", () => {
	const clock = new VirtualClock();
	const script = scripted(clock, [
		{ write: bytes("89") },
		{ write: bytes("94") }, { write: bytes("89") }, { read: bytes("12 34 37 AB CD 6F") },
		{ write: bytes("FD"), at: 13 }, { nack: true, at: 23 }, { nack: true, at: 26 }, { read: bytes("66 66 93 80 00 A2"), at: 29 },
		{ write: bytes("FD"), at: 29 }, ...[39, 42, 45, 48, 51, 54, 57, 60].map((at) => ({ nack: true, at })),
	]);
	const sensor = new SHT4x({ sensor: script.bus, clock });
	assert.equal(sampleOnce(sensor, clock).sample!.thermometer.temperature, 25);
	const stuck = sampleOnce(sensor, clock).error!;
	assert.equal(stuck.kind, "busy");
	assert.match(stuck.message, /^SHT4x at 0x44: measurement not ready 30 ms after the command$/);
	script.done();
});

test("SHT4x low precision waits its 1.6 ms (3 with the margin)", () => {
	const w = world();
	w.bus.attach(0x44, chip.device(w.env));
	const sensor = open(chip, w);
	sensor.configure({ precision: "low" });
	assert.equal(sampleOnce(sensor, w.clock).ms, 13 + 3);
	assertTracks(sampleOnce(sensor, w.clock), chip, w);
});

test("SHT4x heater: a pulse sample takes the pulse time and reads warmer, and pulses keep to 10 % duty", () => {
	const w = world({ noise: { temperature: 0 }, swing: { temperature: 0 } });
	w.bus.attach(0x44, chip.device(w.env));
	const sensor = open(chip, w);
	assertTracks(sampleOnce(sensor, w.clock), chip, w);
	sensor.configure({ heaterMw: 200, heaterMs: 1000 });
	const heated = sampleOnce(sensor, w.clock);
	assert.equal(heated.ms, 1110);
	assert.equal(heated.sample!.heater, "on");
	// 200 mW for 1 s warms the model by 10 C.
	assert.ok(Math.abs(heated.sample!.thermometer.temperature - (w.env.temperatureAt(w.clock.now) + 10)) < 0.01);
	w.clock.advance(5000);
	const plain = sampleOnce(sensor, w.clock);
	assert.equal(plain.ms, 10);
	assert.equal(plain.sample!.heater, undefined);
	assertTracks(plain, chip, w);
	w.clock.advance(5000);
	assert.equal(sampleOnce(sensor, w.clock).ms, 1110);
	sensor.configure({ heaterMw: 0 });
	w.clock.advance(60_000);
	assertTracks(sampleOnce(sensor, w.clock), chip, w);
});

test("SHT4x refuses to heat at or above 65 C ambient, judged from the last unheated reading, and marks the sample", () => {
	const w = world({ temperature: 70, noise: { temperature: 0 }, swing: { temperature: 0 } });
	w.bus.attach(0x44, chip.device(w.env));
	const sensor = open(chip, w);
	sensor.configure({ heaterMw: 200, heaterMs: 100 });
	// No unheated reading yet: a plain measurement first.
	const first = sampleOnce(sensor, w.clock);
	assert.equal(first.ms, 13 + 10);
	assert.equal(first.sample!.heater, undefined);
	const refused = sampleOnce(sensor, w.clock);
	assert.equal(refused.ms, 10);
	assert.equal(refused.sample!.heater, "refused");
	assertTracks(refused, chip, w);
	w.env.set({ temperature: 30 });
	// The last unheated reading was 70 C: still refused, though the air has cooled.
	const cooled = sampleOnce(sensor, w.clock);
	assert.equal(cooled.sample!.heater, "refused");
	assertTracks(cooled, chip, w);
	const heated = sampleOnce(sensor, w.clock);
	assert.equal(heated.ms, 120);
	assert.equal(heated.sample!.heater, "on");
});

test("SHT4x heater duty counts the pulse's 1.1 s maximum: the next 1 s pulse waits 11 s, not 10", () => {
	const w = world();
	w.bus.attach(0x44, chip.device(w.env));
	const sensor = open(chip, w);
	sampleOnce(sensor, w.clock);
	sensor.configure({ heaterMw: 20, heaterMs: 1000 });
	const pulse = sampleOnce(sensor, w.clock);
	assert.equal(pulse.sample!.heater, "on");
	const pulseAt = pulse.at - pulse.ms;
	w.clock.advance(pulseAt + 10_500 - w.clock.now);
	assert.equal(sampleOnce(sensor, w.clock).sample!.heater, undefined);
	w.clock.advance(pulseAt + 11_000 - w.clock.now);
	assert.equal(sampleOnce(sensor, w.clock).sample!.heater, "on");
});
