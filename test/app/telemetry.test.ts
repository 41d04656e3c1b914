import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { DEFAULTS, type Settings } from "../../src/app/settings";
import { ChangeFilter, Telemetry, type Reading } from "../../src/app/telemetry";
import type { Sample } from "../../src/drivers/sensor";

const sample = (temperature: number, humidity: number, pressure?: number): Sample =>
	({ thermometer: { temperature }, hygrometer: { humidity }, ...(pressure === undefined ? {} : { barometer: { pressure } }) });
const settings = (extra: Settings = {}): Settings => ({ ...DEFAULTS, ...extra });
/** A reading as a plain object, since Telemetry reuses its own. */
const toReading = (from: Sample, with_: Settings) => ({ ...new Telemetry("00000000").read(from, with_) });
const reading = (temperature: number, humidity: number): Reading => ({ temperature, humidity, pressure: undefined });

describe("a reading", () => {
	test("gets the calibration offsets and is rounded to two decimals", () => {
		assert.deepEqual(toReading(sample(21.4567, 45.111), settings({ offsetT: -0.5, offsetH: 2 })), reading(20.96, 47.11));
	});

	test("is converted to °F when configured, after the offset", () => {
		assert.deepEqual(toReading(sample(20, 50), settings({ unit: "F", offsetT: 5 })), reading(77, 50));
	});

	test("keeps humidity within 0-100 %RH after its offset", () => {
		assert.equal(toReading(sample(20, 98), settings({ offsetH: 5 })).humidity, 100);
		assert.equal(toReading(sample(20, 1), settings({ offsetH: -5 })).humidity, 0);
	});

	test("carries pressure in whole pascals when the chip measures it", () => {
		assert.equal(toReading(sample(20, 50, 101325.37), settings()).pressure, 101325);
		assert.equal(toReading(sample(20, 50), settings()).pressure, undefined);
	});

	test("is published with its sequence number, boot id, uptime and units, pressure only when measured", () => {
		const telemetry = new Telemetry("0badf00d");
		telemetry.read(sample(22, 40, 100000), settings({ unit: "F" }));
		assert.deepEqual(JSON.parse(telemetry.payload(7, 42, "F", 0)), {
			seq: 7, boot: "0badf00d", uptime: 42, temperature: 71.6, humidity: 40, pressure: 100000,
			units: { temperature: "°F", humidity: "%", pressure: "Pa" },
		});
		telemetry.read(sample(22, 41), settings());
		assert.equal(telemetry.payload(8, 43, "C", 0), `{"seq":8,"boot":"0badf00d","uptime":43,"temperature":22,"humidity":41,"units":{"temperature":"°C","humidity":"%"}}`);
	});
});

describe("publish on change", () => {
	test("publishes every reading when both thresholds are 0", () => {
		const filter = new ChangeFilter();
		filter.published(reading(20, 50), 0);
		assert.equal(filter.wants(reading(20, 50), 1, settings()), true);
	});

	test("publishes once temperature or humidity moved by its threshold", () => {
		const filter = new ChangeFilter();
		const on = settings({ deltaT: 0.5, deltaH: 2 });
		assert.equal(filter.wants(reading(20, 50), 0, on), true, "the first reading always goes out");
		filter.published(reading(20, 50), 0);
		assert.equal(filter.wants(reading(20.4, 51.9), 60, on), false);
		assert.equal(filter.wants(reading(19.5, 50), 60, on), true);
		assert.equal(filter.wants(reading(20, 52), 60, on), true);
	});

	test("publishes after maxSilence even without a change", () => {
		const filter = new ChangeFilter();
		const on = settings({ deltaT: 1, maxSilence: 600 });
		filter.published(reading(20, 50), 100);
		assert.equal(filter.wants(reading(20, 50), 699, on), false);
		assert.equal(filter.wants(reading(20, 50), 700, on), true);
	});

	test("publishes the next reading after a unit change, which makes the last one incomparable", () => {
		const filter = new ChangeFilter();
		filter.published(reading(20, 50), 0);
		filter.reset();
		assert.equal(filter.wants(reading(20, 50), 1, settings({ deltaT: 5 })), true);
	});
});
