import assert from "node:assert/strict";
import { test } from "node:test";
import type { Detected } from "../../src/drivers/detect";
import { SENSOR_MODELS, detectSensors, openSensor } from "../../src/drivers/detect";
import { SensorError } from "../../src/drivers/sensor";
import { Aht20Model } from "../../sim/sensors/aht20";
import { Bme280Model } from "../../sim/sensors/bme280";
import { AnswerEverything, WiredAnd } from "../../sim/sensors/bus-faults";
import { Environment } from "../../sim/environment";
import { Ft6x36Model } from "../../sim/sensors/ft6x36";
import { Hdc1080Model } from "../../sim/sensors/hdc1080";
import { Htu21dModel } from "../../sim/sensors/htu21d";
import { Sht3xModel } from "../../sim/sensors/sht3x";
import { Sht4xModel } from "../../sim/sensors/sht4x";
import type { World } from "./world";
import { CHIPS, assertTracks, sampleOnce, world } from "./world";

const ADDRESSES = [0x38, 0x40, 0x44, 0x45, 0x46, 0x76, 0x77];

/** Runs detection to its callback, checking on every timer that no I2C instance is open at any probed address. */
function detect(w: World): Detected[] {
	let found: Detected[] | undefined;
	let calls = 0;
	detectSensors(w.i2c, w.clock, (result) => {
		calls++;
		found = result;
	});
	assert.equal(calls, 0, "detection called back synchronously");
	for (let ms = 0; !found; ms++) {
		assert.ok(ms < 1000, "detection did not finish within 1 s");
		for (const address of ADDRESSES) assert.equal(w.bus.isOpen(address), false, `0x${address.toString(16)} left open during a wait`);
		w.clock.advance(1);
	}
	for (const address of ADDRESSES) assert.equal(w.bus.isOpen(address), false);
	w.clock.advance(1000);
	assert.equal(calls, 1);
	return found;
}

const brief = (found: Detected[]) => found.map(({ address, model, chip }) => `0x${address.toString(16)} ${model ?? "-"} ${chip}`);

test("detection finds an HTU21D at 0x40 and tells SHT3x (0x44) from SHT4x (0x45) on one bus, with a BME280 and a BMP280", () => {
	const w = world();
	w.bus.attach(0x38, new Aht20Model({ env: w.env }));
	w.bus.attach(0x40, new Htu21dModel({ env: w.env }));
	w.bus.attach(0x44, new Sht3xModel({ env: w.env }));
	w.bus.attach(0x45, new Sht4xModel({ env: w.env }));
	w.bus.attach(0x76, new Bme280Model({ env: w.env }));
	w.bus.attach(0x77, new Bme280Model({ env: w.env, chipId: 0x58 }));
	assert.deepEqual(brief(detect(w)), ["0x38 AHT20 AHT20", "0x40 HTU21D HTU21D", "0x44 SHT3x SHT3x", "0x45 SHT4x SHT4x", "0x76 BME280 BME280", "0x77 - BMP280"]);
});

test("detection finds an HDC1080 at 0x40 and SHT4x at 0x44 and 0x46 beside an SHT3x at 0x45", () => {
	const w = world();
	w.bus.attach(0x40, new Hdc1080Model({ env: w.env }));
	w.bus.attach(0x44, new Sht4xModel({ env: w.env }));
	w.bus.attach(0x45, new Sht3xModel({ env: w.env }));
	w.bus.attach(0x46, new Sht4xModel({ env: w.env }));
	assert.deepEqual(brief(detect(w)), ["0x40 HDC1080 HDC1080", "0x44 SHT4x SHT4x", "0x45 SHT3x SHT3x", "0x46 SHT4x SHT4x"]);
});

test("detection names an Si7021, reports an HDC1000 and an AHT10 as unsupported, and an empty bus as nothing", () => {
	const si = world();
	si.bus.attach(0x40, new Htu21dModel({ env: si.env, variant: "Si7021" }));
	assert.deepEqual(brief(detect(si)), ["0x40 Si7021 Si7021"]);
	const others = world();
	others.bus.attach(0x40, new Hdc1080Model({ env: others.env, deviceId: 0x1000 }));
	others.bus.attach(0x38, new Aht20Model({ env: others.env, variant: "AHT10" }));
	assert.deepEqual(brief(detect(others)), ["0x38 - unknown device", "0x40 - HDC1000"]);
	assert.deepEqual(detect(world()), []);
});

test("detection leaves an SHT3x at 0x44 unharmed when the SHT4x at 0x45 is probed, and skips unplugged chips", () => {
	const w = world();
	const unplugged = new Sht4xModel({ env: w.env });
	w.bus.attach(0x44, new Sht3xModel({ env: w.env }));
	w.bus.attach(0x45, unplugged);
	unplugged.unplug();
	assert.deepEqual(brief(detect(w)), ["0x44 SHT3x SHT3x"]);
});

test("every detected chip opens with openSensor and samples the environment", () => {
	const w = world();
	for (const chip of CHIPS.filter((c) => ["AHT20", "HTU21D", "SHT3x", "BME280"].includes(c.model))) w.bus.attach(chip.address, chip.device(w.env));
	w.bus.attach(0x45, new Sht4xModel({ env: w.env }));
	const found = detect(w);
	assert.equal(found.length, 5);
	for (const { model, address } of found) {
		const sensor = openSensor(model!, { sensor: { ...w.i2c, address }, clock: w.clock });
		const chip = CHIPS.find((c) => c.model === model)!;
		assertTracks(sampleOnce(sensor, w.clock), { ...chip, address }, w);
	}
});

test("an address a driver already holds is skipped by detection without disturbing the driver", () => {
	const w = world();
	const chip = CHIPS.find((c) => c.model === "SHT3x")!;
	w.bus.attach(0x44, chip.device(w.env));
	w.bus.attach(0x76, new Bme280Model({ env: w.env }));
	const sensor = openSensor("SHT3x", { sensor: w.i2c, clock: w.clock });
	let found: Detected[] | undefined;
	detectSensors(w.i2c, w.clock, (result) => (found = result));
	assertTracks(sampleOnce(sensor, w.clock), chip, w);
	w.clock.runUntil(() => found !== undefined, 1000);
	assert.deepEqual(brief(found!), ["0x76 BME280 BME280"]);
	assert.equal(w.bus.isOpen(0x44), true);
});

test("openSensor refuses a model it does not know with RangeError, and an absent chip with SensorError absent", () => {
	const w = world();
	assert.throws(() => openSensor("DHT22" as never, { sensor: w.i2c, clock: w.clock }), RangeError);
	for (const model of SENSOR_MODELS) {
		assert.throws(() => openSensor(model, { sensor: w.i2c, clock: w.clock }), (error: unknown) => error instanceof SensorError && error.kind === "absent");
		for (const address of ADDRESSES) assert.equal(w.bus.isOpen(address), false);
	}
});

test("a bus that ACKs everything and reads 0xFF or 0x00 is an unknown device at every address, never a chip", () => {
	for (const value of [0xff, 0x00]) {
		const w = world();
		for (const address of ADDRESSES) w.bus.attach(address, new AnswerEverything(value));
		assert.deepEqual(brief(detect(w)), ADDRESSES.map((address) => `0x${address.toString(16)} - unknown device`), `reads 0x${value.toString(16)}`);
	}
});

test("two chips answering on one address (their replies ANDed on the wire) are an unknown device, not a chip", () => {
	const w = world();
	// Two chips of one kind differ in their serial numbers, or in what they measure: another spot, another part.
	const elsewhere = new Environment({ seed: 8, temperature: 30, humidity: 70 });
	w.bus.attach(0x38, new WiredAnd(new Aht20Model({ env: w.env }), new Aht20Model({ env: elsewhere })));
	w.bus.attach(0x40, new WiredAnd(new Htu21dModel({ env: w.env }), new Htu21dModel({ env: elsewhere })));
	w.bus.attach(0x44, new WiredAnd(new Sht3xModel({ env: w.env }), new Sht4xModel({ env: w.env })));
	w.bus.attach(0x45, new WiredAnd(new Sht3xModel({ env: w.env, serial: 0x1234abcd }), new Sht3xModel({ env: w.env, serial: 0x0badcafe })));
	w.bus.attach(0x46, new WiredAnd(new Sht4xModel({ env: w.env, serial: 0x1234abcd }), new Sht4xModel({ env: w.env, serial: 0x0badcafe })));
	w.bus.attach(0x76, new WiredAnd(new Bme280Model({ env: w.env }), new Bme280Model({ env: w.env, chipId: 0x58 })));
	assert.deepEqual(brief(detect(w)), ADDRESSES.filter((a) => a !== 0x77).map((address) => `0x${address.toString(16)} - unknown device`));
	const pair = world();
	pair.bus.attach(0x40, new WiredAnd(new Htu21dModel({ env: pair.env }), new Hdc1080Model({ env: pair.env })));
	assert.deepEqual(brief(detect(pair)), ["0x40 - unknown device"]);
});

test("an FT6x36 touch controller at 0x38 is an unknown device, and detection writes none of its registers", () => {
	for (const pointer of [0x00, 0x80, 0xa3]) {
		const w = world();
		const touch = new Ft6x36Model();
		touch.pointer = pointer;
		w.bus.attach(0x38, touch);
		w.bus.attach(0x44, new Sht3xModel({ env: w.env }));
		assert.deepEqual(brief(detect(w)), ["0x38 - unknown device", "0x44 SHT3x SHT3x"]);
		assert.equal(touch.writes, 0, `registers written with the pointer at 0x${pointer.toString(16)}`);
	}
});

test("detection polls an AHT20 whose measurement runs late, as the driver does, up to three times its 80 ms", () => {
	const w = world();
	const device = new Aht20Model({ env: w.env });
	w.bus.attach(0x38, device);
	device.faults.stuckBusy = true;
	let found: Detected[] | undefined;
	detectSensors(w.i2c, w.clock, (result) => (found = result));
	w.clock.advance(150);
	device.faults.stuckBusy = false;
	w.clock.runUntil(() => found !== undefined, 1000);
	assert.deepEqual(brief(found!), ["0x38 AHT20 AHT20"]);
	const stuck = world();
	const late = new Aht20Model({ env: stuck.env });
	stuck.bus.attach(0x38, late);
	late.faults.stuckBusy = true;
	assert.deepEqual(brief(detect(stuck)), ["0x38 - unknown device"]);
});
