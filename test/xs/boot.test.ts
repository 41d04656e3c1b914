/*
 * The firmware in the real XS engine (the @agoric/xsnap worker, XS 13.3), on the XS host binding, against
 * a real Mosquitto, observed by a backend client as in test/app/node.e2e.test.ts. The simulated sensor runs
 * inside XS too; sockets and timers are bridged to Node.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { SimulatedFlash } from "../../hosts/node/flash";
import { PreferenceStore } from "../../hosts/node/store";
import { bootInXs, type XsNode } from "../../hosts/xs/node/boot";
import type { SimulatedChip } from "../../sim/sensors/board";
import { connectBackend, type Backend, type Received } from "../helpers/backend";
import { freePort, startMosquitto, type Mosquitto } from "../helpers/mosquitto";

/** Still air, so a reading can be checked against the value the simulated sensor measures. */
const AIR = { seed: 7, temperature: 23.5, humidity: 40, swing: { temperature: 0, humidity: 0 } };
const QUICK_MQTT = { backoff: { min: 100, max: 1000 }, stableAfter: 1000 };

const telemetry = (seq?: number) => (m: Received) => m.topic === "nodes/xs-node/telemetry" && (seq === undefined || m.json().seq === seq);

describe("the firmware in the XS engine against Mosquitto", () => {
	let broker: Mosquitto;
	let backend: Backend;
	let xs: XsNode;
	before(async () => {
		broker = await startMosquitto();
		backend = await connectBackend(broker.url, ["nodes/#"]);
		xs = await bootInXs({ broker, id: "xs-node", settings: { interval: 1 }, mqtt: QUICK_MQTT, environment: AIR });
	});
	after(async () => {
		await xs?.close();
		await backend?.close();
		await broker?.stop();
	});

	test("detects the simulated sensor on the I2C bus and reports it healthy", async () => {
		const state = (await backend.waitFor((m) => m.topic === "nodes/xs-node/state" && m.json().sensor.health === "ok", "a healthy state")).json();
		assert.equal(state.sensor.model, "SHT3x");
		assert.ok(xs.logs.includes("info: sensor: using SHT3x at 0x44"), xs.logs.join("\n"));
	});

	test("connects and publishes telemetry in sequence with the values the sensor measured", async () => {
		const first = (await backend.waitFor(telemetry(1), "reading 1")).json();
		const second = (await backend.waitFor(telemetry(2), "reading 2")).json();
		assert.equal(xs.status.connected, 1);
		assert.match(first.boot, /^[0-9a-f]{8}$/);
		assert.equal(second.boot, first.boot);
		assert.deepEqual(first.units, { temperature: "°C", humidity: "%" });
		for (const reading of [first, second]) {
			assert.ok(Math.abs(reading.temperature - AIR.temperature) < 0.3, `${reading.temperature} °C in air at ${AIR.temperature} °C`);
			assert.ok(Math.abs(reading.humidity - AIR.humidity) < 2, `${reading.humidity} %RH in air at ${AIR.humidity} %RH`);
		}
		assert.ok(second.uptime >= first.uptime);
		const status = await xs.until((s) => s.acked >= s.sent && s.published >= 2, "the broker's acknowledgements");
		assert.equal(status.dropped, 0);
	});

	test("applies a config change sent on a retained topic, acknowledges it and reads in °F after it", async () => {
		await backend.waitFor(telemetry(1), "a reading");
		await backend.publish("nodes/xs-node/config", { rev: 5, unit: "F" }, { retain: true });
		const ack = (await backend.waitFor((m) => m.topic === "nodes/xs-node/config/state" && m.json().device?.rev === 5, "the acknowledgement")).json();
		assert.equal(ack.device.status, "applied");
		assert.equal(ack.effective.unit, "F");
		assert.equal((await xs.settings()).unit, "F");
		const reading = (await backend.waitFor((m) => telemetry()(m) && m.json().units.temperature === "°F", "a reading in °F")).json();
		const fahrenheit = AIR.temperature * 1.8 + 32;
		assert.ok(Math.abs(reading.temperature - fahrenheit) < 0.5, `${reading.temperature} °F in air at ${fahrenheit} °F`);
	});

	test("says offline when stopped, and the broker keeps it", async () => {
		await xs.stop();
		await backend.waitFor((m) => m.topic === "nodes/xs-node/status" && m.text === "offline", "offline");
		const retained = await connectBackend(broker.url, ["nodes/xs-node/status"]);
		const status = await retained.waitFor(() => true, "the retained status");
		await retained.close();
		assert.equal(status.retain, true);
		assert.equal(status.text, "offline");
	});
});

describe("the XS boot", () => {
	test("fails with the firmware's own error when XS throws", async () => {
		await assert.rejects(bootInXs({ broker: { host: "127.0.0.1", port: 9 }, id: "xs-bad", chip: "SHT99" as SimulatedChip }), /XS: .*no simulated chip "SHT99"/);
	});
});

describe("store and forward in the XS engine", () => {
	test("readings taken with the broker down wait in flash through a kill of the worker and arrive once it is back", async () => {
		const broker = await startMosquitto();
		const backend = await connectBackend(broker.url, ["nodes/xs-saf/#"]);
		const flash = new SimulatedFlash({ byteLength: 64 * 1024 });
		const store = new PreferenceStore();
		const down = { host: "127.0.0.1", port: await freePort() };
		let xs = await bootInXs({ broker: down, id: "xs-saf", settings: { interval: 1 }, mqtt: QUICK_MQTT, environment: AIR, flash, store });
		try {
			const offline = await xs.until((s) => s.published >= 3, "three readings with the broker down");
			assert.equal(offline.connected, 0);
			const boot = /boot ([0-9a-f]{8})/.exec(xs.logs.join("\n"))![1];
			const taken = offline.published;
			await xs.close();
			xs = await bootInXs({ broker, id: "xs-saf", settings: { interval: 1 }, mqtt: QUICK_MQTT, environment: AIR, flash, store });
			assert.ok(xs.logs.some((line) => /backlog: \d+ readings and summaries wait in flash/.test(line)), xs.logs.join("\n"));
			for (let seq = 1; seq <= taken; seq++) {
				const drained = await backend.waitFor((m) => m.topic === "nodes/xs-saf/telemetry/backlog" && m.json().seq === seq && m.json().boot === boot, `reading ${seq} of the first boot`);
				assert.ok(Math.abs(drained.json().temperature - AIR.temperature) < 0.3, "with the value measured then");
			}
			await xs.until((s) => s.published >= 1 && s.acked >= s.sent, "a live reading acknowledged");
		}
		finally {
			await xs.close();
			await backend.close();
			await broker.stop();
		}
	});
});
