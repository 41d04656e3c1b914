/*
 * All chips at once, sampled concurrently on shared buses, for hundreds of cycles with a random fault per chip
 * per cycle (seeded, so reproducible): no fault ever crashes, every sample returned is within tolerance of the
 * environment, every fault gives its kind of error, and a chip without a fault always gives a good sample,
 * however it failed the cycle before.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { VirtualClock } from "../../hosts/node/virtual-clock";
import type { SensorModel } from "../../src/drivers/detect";
import { openSensor } from "../../src/drivers/detect";
import type { Sensor } from "../../src/drivers/sensor";
import { Environment } from "../../sim/environment";
import { SimulatedI2CBus } from "../../sim/sensors/bus";
import type { SimDevice } from "../../sim/sensors/device";
import { Random } from "../../sim/sensors/random";
import type { Chip, Outcome } from "./world";
import { CHIPS, assertFails, assertTracks } from "./world";

type Fault = "none" | "crc" | "busy" | "range" | "bus" | "unplug";
const FAULTS: Fault[] = ["none", "none", "none", "none", "crc", "busy", "range", "bus", "unplug"];

// Which chip goes on which bus, at which address: collisions (0x40, 0x44) force three buses.
const LAYOUT: [number, SensorModel, number][] = [
	[0, "AHT20", 0x38], [0, "HTU21D", 0x40], [0, "SHT3x", 0x44], [0, "SHT4x", 0x45], [0, "BME280", 0x76],
	[1, "AHT10", 0x38], [1, "HDC1080", 0x40], [1, "SHT4x", 0x44], [1, "SHT3x", 0x45], [1, "BME280", 0x77],
	[2, "Si7021", 0x40],
];

interface Node {
	chip: Chip;
	device: SimDevice;
	sensor: Sensor;
	unpluggedFor: number;
	fault: Fault;
	outcome?: Outcome;
	seen: Set<string>;
}

test("random faults on every chip, sampled together for 300 cycles, never give a wrong value and always recover", () => {
	const clock = new VirtualClock();
	const env = new Environment({ seed: 11 });
	const random = new Random(2024);
	const buses = [0, 1, 2].map(() => new SimulatedI2CBus(clock));
	const nodes: Node[] = LAYOUT.map(([bus, model, address]) => {
		const chip = { ...CHIPS.find((c) => c.model === model)!, address };
		const device = chip.device(env);
		buses[bus].attach(address, device);
		const sensor = openSensor(model, { sensor: { io: buses[bus].io, data: 21, clock: 22, address }, clock });
		return { chip, device, sensor, unpluggedFor: 0, fault: "none", seen: new Set() };
	});

	for (let cycle = 0; cycle < 300; cycle++) {
		if (cycle % 20 === 0) env.set({ temperature: -10 + 60 * random.next(), humidity: 5 + 90 * random.next(), pressure: 90_000 + 15_000 * random.next() });
		let pending = 0;
		for (const node of nodes) {
			const faults = node.device.faults;
			Object.assign(faults, { crc: 0, stuckBusy: false, outOfRange: false, busErrors: 0, busErrorsAfter: 0 });
			node.fault = node.unpluggedFor > 0 ? "unplug" : FAULTS[random.below(FAULTS.length)];
			switch (node.fault) {
				case "crc": faults.crc = 1; break;
				case "busy": faults.stuckBusy = true; break;
				case "range": faults.outOfRange = true; break;
				case "bus": faults.busErrors = 1; faults.busErrorsAfter = random.below(8); break;
				case "unplug":
					if (node.unpluggedFor === 0) {
						node.device.unplug();
						node.unpluggedFor = 1 + random.below(3);
					}
					break;
			}
			node.outcome = undefined;
			const start = clock.now;
			pending++;
			node.sensor.sample((error, sample) => {
				assert.equal(node.outcome, undefined, "called back twice");
				node.outcome = { error, sample, ms: clock.now - start, at: clock.now };
				pending--;
			});
		}
		clock.runUntil(() => pending === 0, 5000);
		for (const node of nodes) {
			const { chip, fault } = node;
			const outcome = node.outcome!;
			node.seen.add(outcome.error ? outcome.error.kind : "ok");
			const context = `cycle ${cycle}, ${chip.model} at 0x${chip.address.toString(16)}, fault ${fault}`;
			if (outcome.sample) assertTracks(outcome, chip, { env });
			switch (fault) {
				case "none": assert.equal(outcome.error, undefined, `${context}: ${outcome.error?.message}`); break;
				case "crc": if (chip.crc) assertFails(outcome, "crc", chip); else assertTracks(outcome, chip, { env }); break;
				case "busy": assertFails(outcome, "busy", chip); break;
				case "range": assertFails(outcome, "range", chip); break;
				case "unplug": assertFails(outcome, "absent", chip); break;
				case "bus": if (outcome.error) assert.ok(["absent", "bus"].includes(outcome.error.kind), `${context}: ${outcome.error.message}`); break;
			}
		}
		// Replugged chips get the 2 s to the next cycle to power up.
		for (const node of nodes) if (node.unpluggedFor > 0 && --node.unpluggedFor === 0) node.device.replug();
		clock.advance(2000);
	}
	for (const node of nodes) {
		const expected = ["ok", "busy", "range", "absent", ...(node.chip.crc ? ["crc"] : [])];
		for (const kind of expected) assert.ok(node.seen.has(kind), `${node.chip.model} at 0x${node.chip.address.toString(16)} never gave ${kind}`);
	}
});
