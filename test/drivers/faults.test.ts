/*
 * Every driver against its simulated chip: normal sampling, then each injected fault, checking that no fault
 * becomes a number, that each gives its kind of SensorError naming the chip and address, and that the chip
 * is used again once the fault is gone.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { openSensor } from "../../src/drivers/detect";
import { SensorError } from "../../src/drivers/sensor";
import { CHIPS, assertFails, assertTracks, open, sampleOnce, world } from "./world";

for (const chip of CHIPS) {
	describe(chip.model, () => {
		function attached(timing?: "typical" | "maximum") {
			const w = world();
			const device = chip.device(w.env, timing);
			w.bus.attach(chip.address, device);
			return { ...w, device, sensor: open(chip, w) };
		}

		test("samples follow the environment as it changes", () => {
			const w = attached();
			assert.equal(w.sensor.model, chip.model);
			for (let i = 0; i < 5; i++) {
				w.env.set({ temperature: 5 + 10 * i, humidity: 15 + 15 * i, pressure: 95_000 + 2000 * i });
				assertTracks(sampleOnce(w.sensor, w.clock), chip, w);
				w.clock.advance(30_000);
			}
		});

		test("a chip taking its datasheet maximum times still gives every sample at the first read", () => {
			const w = attached("maximum");
			for (let i = 0; i < 3; i++) {
				assertTracks(sampleOnce(w.sensor, w.clock), chip, w);
				w.clock.advance(1000);
			}
			assert.equal(w.bus.stats(chip.address).nacks, 0);
		});

		test("an exception thrown by the sample callback surfaces as itself, and the driver samples on", () => {
			const w = attached();
			sampleOnce(w.sensor, w.clock);
			w.sensor.sample(() => {
				throw new TypeError("thrown by the application");
			});
			assert.throws(() => w.clock.advance(1000), { name: "TypeError", message: "thrown by the application" });
			w.clock.advance(1000);
			assertTracks(sampleOnce(w.sensor, w.clock), chip, w);
		});

		test("sampling does not block: sample() returns at once with the conversion wait on a timer", () => {
			const w = attached();
			let calls = 0;
			w.sensor.sample(() => calls++);
			assert.equal(calls, 0);
			assert.ok(w.clock.pending > 0);
			w.clock.runUntil(() => calls > 0, 1000);
			w.clock.advance(10_000);
			assert.equal(calls, 1);
		});

		test("an unplugged chip gives absent, and after replugging it is set up again and used", () => {
			const w = attached();
			assertTracks(sampleOnce(w.sensor, w.clock), chip, w);
			w.device.unplug();
			w.clock.advance(1000);
			assertFails(sampleOnce(w.sensor, w.clock), "absent", chip);
			assertFails(sampleOnce(w.sensor, w.clock), "absent", chip);
			w.device.replug();
			w.clock.advance(1000);
			assertTracks(sampleOnce(w.sensor, w.clock), chip, w);
		});

		test("a chip replugged moments before the sample gives absent during its power-up, then works", () => {
			const w = attached();
			assertTracks(sampleOnce(w.sensor, w.clock), chip, w);
			w.device.unplug();
			assertFails(sampleOnce(w.sensor, w.clock), "absent", chip);
			w.device.replug();
			const outcome = sampleOnce(w.sensor, w.clock);
			if (outcome.error) assertFails(outcome, "absent", chip);
			w.clock.advance(1000);
			assertTracks(sampleOnce(w.sensor, w.clock), chip, w);
		});

		test(chip.crc ? "a corrupted CRC rejects the reading with crc, and the next sample is good" : "a chip without CRC ignores the CRC fault", () => {
			const w = attached();
			assertTracks(sampleOnce(w.sensor, w.clock), chip, w);
			w.device.faults.crc = 1;
			const outcome = sampleOnce(w.sensor, w.clock);
			if (chip.crc) assertFails(outcome, "crc", chip);
			else assertTracks(outcome, chip, w);
			assertTracks(sampleOnce(w.sensor, w.clock), chip, w);
		});

		test("a chip that stays busy gives busy after its deadline, and is used again once it recovers", () => {
			const w = attached();
			assertTracks(sampleOnce(w.sensor, w.clock), chip, w);
			w.device.faults.stuckBusy = true;
			assertFails(sampleOnce(w.sensor, w.clock), "busy", chip);
			assertFails(sampleOnce(w.sensor, w.clock), "busy", chip);
			w.device.faults.stuckBusy = false;
			assertTracks(sampleOnce(w.sensor, w.clock), chip, w);
		});

		test("impossible values and diagnostic codes give range, never a number", () => {
			const w = attached();
			w.device.faults.outOfRange = true;
			assertFails(sampleOnce(w.sensor, w.clock), "range", chip);
			assertFails(sampleOnce(w.sensor, w.clock), "range", chip);
			w.device.faults.outOfRange = false;
			assertTracks(sampleOnce(w.sensor, w.clock), chip, w);
		});

		test("a bus error on the first transaction reads as absent and the next sample is good", () => {
			const w = attached();
			assertTracks(sampleOnce(w.sensor, w.clock), chip, w);
			w.device.faults.busErrors = 1;
			assertFails(sampleOnce(w.sensor, w.clock), "absent", chip);
			assertTracks(sampleOnce(w.sensor, w.clock), chip, w);
		});

		test("a bus error at any transaction of a sample never gives a wrong value", () => {
			const w = attached();
			assertTracks(sampleOnce(w.sensor, w.clock), chip, w);
			w.bus.resetStats();
			assertTracks(sampleOnce(w.sensor, w.clock), chip, w);
			const perSample = w.bus.stats(chip.address).transactions;
			for (let n = 0; n < perSample; n++) {
				w.device.faults.busErrors = 1;
				w.device.faults.busErrorsAfter = n;
				const outcome = sampleOnce(w.sensor, w.clock);
				if (outcome.error) assert.ok(["absent", "bus"].includes(outcome.error.kind), outcome.error.message);
				else assertTracks(outcome, chip, w);
				assertTracks(sampleOnce(w.sensor, w.clock), chip, w);
			}
		});

		test("the constructor of an absent chip throws absent and leaves nothing open", () => {
			const w = world();
			assert.throws(() => open(chip, w), (error: unknown) => error instanceof SensorError && error.kind === "absent" && error.address === chip.address);
			assert.equal(w.bus.isOpen(chip.address), false);
		});

		test("the address and bus speed given in the options override the driver's defaults", () => {
			const w = world();
			const address = chip.address + 1;
			w.bus.attach(address, chip.device(w.env));
			const sensor = openSensor(chip.model, { sensor: { ...w.i2c, address, hz: 100_000 }, clock: w.clock });
			assert.equal(sensor.address, address);
			assertTracks(sampleOnce(sensor, w.clock), { ...chip, address }, w);
			const stats = w.bus.stats(address);
			// 100 kHz: 10 us a clock, 9 clocks a byte.
			assert.ok(stats.microseconds >= stats.bytes * 90, `${stats.microseconds} us for ${stats.bytes} bytes`);
		});

		test("a second sample while one runs gives busy and the first completes", () => {
			const w = attached();
			const outcomes: string[] = [];
			w.sensor.sample((error) => outcomes.push(error ? `first ${error.kind}` : "first ok"));
			w.sensor.sample((error) => outcomes.push(error ? `second ${error.kind}` : "second ok"));
			w.clock.advance(5000);
			assert.deepEqual(outcomes, ["second busy", "first ok"]);
		});

		test("close during a sample calls back once with closed and frees the address; close is idempotent", () => {
			const w = attached();
			const outcomes: string[] = [];
			w.sensor.sample((error) => outcomes.push(error ? error.kind : "ok"));
			w.sensor.close();
			w.sensor.close();
			assert.equal(w.bus.isOpen(chip.address), false);
			w.clock.advance(5000);
			assert.deepEqual(outcomes, ["closed"]);
			assertFails(sampleOnce(w.sensor, w.clock), "closed", chip);
			assert.equal(w.clock.pending, 0);
		});

		test("configure rejects an unsupported value with RangeError and ignores unknown keys", () => {
			const w = attached();
			if (chip.badOption) assert.throws(() => w.sensor.configure(chip.badOption!), RangeError);
			w.sensor.configure({ colour: "blue" });
			assertTracks(sampleOnce(w.sensor, w.clock), chip, w);
		});
	});
}

test("configure during a chip's set-up is applied, not lost when the set-up ends", async () => {
	const { Sht3xModel } = await import("../../sim/sensors/sht3x");
	const chip = CHIPS.find((c) => c.model === "SHT3x")!;
	const w = world();
	const device = new Sht3xModel({ env: w.env });
	w.bus.attach(0x44, device);
	const sensor = open(chip, w);
	sensor.configure({ heater: true });
	let done = false;
	sensor.sample(() => (done = true));
	// The set-up sends "heater on" at 8 ms and ends at 10 ms.
	w.clock.advance(9);
	assert.ok(device.status & 0x2000);
	sensor.configure({ heater: false });
	w.clock.runUntil(() => done, 1000);
	assertTracks(sampleOnce(sensor, w.clock), chip, w);
	assert.equal(device.status & 0x2000, 0);
});
