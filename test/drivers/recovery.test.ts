/*
 * Brown-outs: a chip power-cycled between two samples, without any sample seeing it gone, comes back with its
 * power-on settings. Each driver notices before it trusts the next reading, restores them, and says so once.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { VirtualClock } from "../../hosts/node/virtual-clock";
import type { SensorModel } from "../../src/drivers/detect";
import { openSensor } from "../../src/drivers/detect";
import { SHT3x } from "../../src/drivers/sht3x";
import type { Environment } from "../../sim/environment";
import { Aht20Model } from "../../sim/sensors/aht20";
import { Bme280Model } from "../../sim/sensors/bme280";
import type { SimDevice } from "../../sim/sensors/device";
import { Hdc1080Model } from "../../sim/sensors/hdc1080";
import { Htu21dModel } from "../../sim/sensors/htu21d";
import { Sht3xModel } from "../../sim/sensors/sht3x";
import { Sht4xModel } from "../../sim/sensors/sht4x";
import { bytes, scripted } from "./script";
import { sampleOnce, world } from "./world";

interface Case<T extends SimDevice> {
	model: SensorModel;
	address: number;
	device(env: Environment): T;
	settings: Record<string, unknown>;
	/** Whether the chip holds the settings. */
	holds(device: T): boolean;
	/** What the driver reports when it notices. */
	notice: RegExp;
}

const cases = [
	{ model: "SHT3x", address: 0x44, device: (env) => new Sht3xModel({ env }), settings: { heater: true }, holds: (d) => (d.status & 0x2000) !== 0, notice: /^SHT3x at 0x44: reset detected \(status 0x8010\); settings restored$/ } satisfies Case<Sht3xModel>,
	{ model: "BME280", address: 0x76, device: (env) => new Bme280Model({ env }), settings: { filter: 4 }, holds: (d) => d.register(0xf5) === 0x08, notice: /^BME280 at 0x76: ctrl_hum 0x1, ctrl_meas 0x24, config 0x0: not as written; settings restored$/ } satisfies Case<Bme280Model>,
	{ model: "HDC1080", address: 0x40, device: (env) => new Hdc1080Model({ env }), settings: { heater: true, humidityBits: 11 }, holds: (d) => d.config === 0x3100, notice: /^HDC1080 at 0x40: configuration 0x1000, set to 0x3100; settings restored$/ } satisfies Case<Hdc1080Model>,
	{ model: "HTU21D", address: 0x40, device: (env) => new Htu21dModel({ env }), settings: { humidityBits: 8, heater: true }, holds: (d) => (d.user & 0x85) === 0x05, notice: /^HTU21D at 0x40: user register 0x2, set to 0x7; settings restored$/ } satisfies Case<Htu21dModel>,
	{ model: "Si7021", address: 0x40, device: (env) => new Htu21dModel({ env, variant: "Si7021" }), settings: { humidityBits: 11 }, holds: (d) => (d.user & 0x81) === 0x81, notice: /^Si7021 at 0x40: user register 0x3a, set to 0xbb; settings restored$/ } satisfies Case<Htu21dModel>,
	{ model: "AHT20", address: 0x38, device: (env) => new Aht20Model({ env, calibrated: false }), settings: {}, holds: (d) => d.calibrated, notice: /^AHT20 at 0x38: calibration bit clear \(status 0x10\); settings restored$/ } satisfies Case<Aht20Model>,
] as Case<SimDevice>[];

for (const c of cases) {
	test(`${c.model}: a brown-out between samples is noticed, counted once, and the settings are back before the next reading`, () => {
		const w = world();
		const device = c.device(w.env);
		w.bus.attach(c.address, device);
		const notices: string[] = [];
		const sensor = openSensor(c.model, { sensor: { ...w.i2c, address: c.address }, clock: w.clock, events: { onRecovery: (message) => notices.push(message) } });
		sensor.configure(c.settings);
		assert.ok(sampleOnce(sensor, w.clock).sample);
		assert.ok(c.holds(device));
		device.replug();
		w.clock.advance(1000);
		assert.ok(!c.holds(device), "the power cycle kept the settings");
		const outcome = sampleOnce(sensor, w.clock);
		assert.equal(outcome.error, undefined, outcome.error?.message);
		assert.ok(c.holds(device), "settings not restored");
		assert.equal(notices.length, 1);
		assert.match(notices[0], c.notice);
		w.clock.advance(1000);
		assert.ok(sampleOnce(sensor, w.clock).sample);
		assert.equal(notices.length, 1, "counted again");
	});
}

test("SHT3x: the reading after a brown-out is taken with the heater back on, not the unheated one taken while it was off", () => {
	const w = world({ noise: { temperature: 0 }, swing: { temperature: 0 } });
	const device = new Sht3xModel({ env: w.env });
	w.bus.attach(0x44, device);
	const sensor = openSensor("SHT3x", { sensor: w.i2c, clock: w.clock });
	sensor.configure({ heater: true });
	sampleOnce(sensor, w.clock);
	device.replug();
	w.clock.advance(1000);
	const heated = sampleOnce(sensor, w.clock).sample!;
	assert.ok(Math.abs(heated.thermometer.temperature - (w.env.temperatureAt(w.clock.now) + 2)) < 0.01);
});

test("SHT4x has no settings to lose: a brown-out changes nothing and is not counted", () => {
	const w = world();
	const device = new Sht4xModel({ env: w.env });
	w.bus.attach(0x44, device);
	let notices = 0;
	const sensor = openSensor("SHT4x", { sensor: w.i2c, clock: w.clock, events: { onRecovery: () => notices++ } });
	assert.ok(sampleOnce(sensor, w.clock).sample);
	device.replug();
	w.clock.advance(1000);
	assert.ok(sampleOnce(sensor, w.clock).sample);
	assert.equal(notices, 0);
});

test("SHT3x: a chip that shows a reset again right after its settings were restored fails the sample as bus", () => {
	const clock = new VirtualClock();
	const setUp = [{ write: bytes("30 A2") }, { write: bytes("30 41") }, { write: bytes("F3 2D") }, { read: bytes("00 00 81") }];
	const reset = [{ write: bytes("24 00") }, { read: bytes("66 66 93 80 00 A2") }, { write: bytes("F3 2D") }, { read: bytes("80 10 E1") }];
	const script = scripted(clock, [{ write: bytes("F3 2D") }, ...setUp, ...reset, ...setUp, ...reset]);
	let notices = 0;
	const sensor = new SHT3x({ sensor: script.bus, clock, events: { onRecovery: () => notices++ } });
	const outcome = sampleOnce(sensor, clock);
	assert.equal(outcome.error?.kind, "bus");
	assert.equal(outcome.error?.message, "SHT3x at 0x44: reset detected (status 0x8010) again, just after its settings were restored");
	assert.equal(notices, 1);
	script.done();
});
