/*
 * The whole firmware on the Node host against a real Mosquitto, observed by a second MQTT client the way
 * a backend (or Home Assistant) would observe it.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { startSimulatedNode, type SimulatedNode } from "../../hosts/node/fleet";
import { memoryLog } from "../../hosts/node/log";
import { PreferenceStore } from "../../hosts/node/store";
import { connectBackend, type Backend, type Received } from "../helpers/backend";
import { expandDiscovery } from "../helpers/ha-discovery";
import { freePort, startMosquitto, type Mosquitto } from "../helpers/mosquitto";
import { until } from "../helpers/until";

const FAST = { interval: 1 };
/** Reconnect quickly in tests; the production bounds are 0.5 s to 60 s. */
const QUICK_MQTT = { backoff: { min: 100, max: 1000 }, stableAfter: 1000 };

function start(broker: Mosquitto, name: string, extra: Partial<Parameters<typeof startSimulatedNode>[0]> = {}): SimulatedNode {
	return startSimulatedNode({ broker, chip: "SHT3x", name, id: name, settings: FAST, log: memoryLog(), mqtt: QUICK_MQTT, ...extra });
}

const telemetryOf = (id: string, seq?: number) => (m: Received) =>
	m.topic === `nodes/${id}/telemetry` && (seq === undefined || m.json().seq === seq);

describe("a sensor node against Mosquitto", () => {
	let broker: Mosquitto;
	let backend: Backend;
	const nodes: SimulatedNode[] = [];
	before(async () => {
		broker = await startMosquitto();
		backend = await connectBackend(broker.url, ["nodes/#", "homeassistant/#"]);
	});
	after(async () => {
		for (const { node } of nodes) node.stop();
		await backend.close();
		await broker.stop();
	});

	test("publishes telemetry with a sequence number, a boot id, units and plausible values", async () => {
		const simulated = start(broker, "tele");
		nodes.push(simulated);
		const first = (await backend.waitFor(telemetryOf("tele", 1), "the first reading")).json();
		const second = (await backend.waitFor(telemetryOf("tele", 2), "the second reading")).json();
		assert.match(first.boot, /^[0-9a-f]{8}$/);
		assert.equal(second.boot, first.boot);
		assert.deepEqual(first.units, { temperature: "°C", humidity: "%" });
		const air = simulated.env.temperatureAt(simulated.clock.ticks());
		assert.ok(Math.abs(first.temperature - air) < 0.5, `${first.temperature} °C against ${air} °C`);
		assert.ok(first.humidity >= 0 && first.humidity <= 100);
		assert.ok(second.uptime >= first.uptime);
	});

	test("announces itself online, keeps a state document, and says offline when stopped", async () => {
		const { node } = start(broker, "avail");
		const online = await backend.waitFor((m) => m.topic === "nodes/avail/status" && m.text === "online", "online");
		const state = (await backend.waitFor((m) => m.topic === "nodes/avail/state" && m.json().sensor.health === "ok", "a healthy state")).json();
		assert.equal(state.firmware, "0.1.0");
		assert.equal(state.sensor.model, "SHT3x");
		assert.equal(typeof state.counters.readings, "number");
		node.stop();
		await backend.waitFor((m) => m.topic === "nodes/avail/status" && m.text === "offline", "offline");
		const retained = await connectBackend(broker.url, ["nodes/avail/status"]);
		const status = await retained.waitFor(() => true, "the retained status");
		assert.equal(status.retain, true);
		assert.equal(status.text, "offline");
		assert.ok(online);
		await retained.close();
	});

	test("applies a retained config document and acknowledges it", async () => {
		nodes.push(start(broker, "conf"));
		await backend.waitFor(telemetryOf("conf", 1), "a reading");
		await backend.publish("nodes/conf/config", { rev: 3, unit: "F", offsetT: 1.5 }, { retain: true });
		const ack = (await backend.waitFor((m) => m.topic === "nodes/conf/config/state" && m.json().device.rev === 3, "the acknowledgement")).json();
		assert.equal(ack.device.status, "applied");
		assert.equal(ack.effective.unit, "F");
		const reading = await backend.waitFor((m) => telemetryOf("conf")(m) && m.json().units.temperature === "°F", "a reading in °F");
		assert.ok(reading.json().temperature > 60, "about 72 °F");
	});

	test("rejects an invalid document whole, says why, and keeps its config", async () => {
		const { node } = start(broker, "bad");
		nodes.push({ node } as SimulatedNode);
		await backend.waitFor(telemetryOf("bad", 1), "a reading");
		await backend.publish("nodes/bad/config", { interval: 30, unit: "K" }, { retain: true });
		const ack = (await backend.waitFor((m) => m.topic === "nodes/bad/config/state" && m.json().device.status === "rejected", "the rejection")).json();
		assert.deepEqual(ack.device.errors, ["unit: must be one of C, F (got \"K\")"]);
		assert.equal(ack.effective.interval, 1);
		assert.equal(node.settings.interval, 1);
	});

	test("starts from its stored config after a reboot, with no broker at all", async () => {
		const store = new PreferenceStore();
		const before = start(broker, "reboot", { store });
		await backend.waitFor(telemetryOf("reboot", 1), "a reading");
		await backend.publish("nodes/reboot/config", { interval: 7, deltaT: 0.5 }, { retain: true });
		await backend.waitFor((m) => m.topic === "nodes/reboot/config/state" && m.json().effective.interval === 7, "the change");
		before.node.stop();
		const after = startSimulatedNode({ broker: { host: "127.0.0.1", port: 9 }, chip: "SHT3x", name: "reboot", id: "reboot", store, settings: FAST, log: memoryLog() });
		assert.equal(after.node.settings.interval, 7);
		assert.equal(after.node.settings.deltaT, 0.5);
		after.node.stop();
	});

	test("has its will published by the broker when it dies without a word", async () => {
		const simulated = start(broker, "will");
		await backend.waitFor((m) => m.topic === "nodes/will/status" && m.text === "online", "online");
		const count = backend.messages.length;
		simulated.crash();
		const will = await backend.waitFor((m) => backend.messages.indexOf(m) >= count && m.topic === "nodes/will/status", "the will");
		assert.equal(will.text, "offline");
	});

	test("publishes Home Assistant discovery that points at its telemetry, and repeats it when HA comes back", async () => {
		nodes.push(start(broker, "ha"));
		const topic = "homeassistant/sensor/ha/temperature/config";
		const doc = expandDiscovery((await backend.waitFor((m) => m.topic === topic, "discovery")).json());
		assert.equal(doc.unique_id, "ha_temperature");
		assert.equal(doc.state_topic, "nodes/ha/telemetry");
		assert.equal(doc.device_class, "temperature");
		assert.equal(doc.state_class, "measurement");
		assert.equal(doc.unit_of_measurement, "°C");
		assert.equal(doc.availability_topic, "nodes/ha/status");
		assert.deepEqual((doc.device as { identifiers: string[] }).identifiers, ["ha"]);
		assert.equal(doc.value_template, "{{ value_json.temperature }}");
		const humidity = expandDiscovery((await backend.waitFor((m) => m.topic === "homeassistant/sensor/ha/humidity/config", "humidity discovery")).json());
		assert.equal(humidity.device_class, "humidity");
		const reading = (await backend.waitFor(telemetryOf("ha"), "a reading")).json();
		assert.equal(typeof reading.temperature, "number", "the template's key is in the telemetry");
		const seen = backend.messages.filter((m) => m.topic === topic).length;
		await backend.publish("homeassistant/status", "online");
		await backend.waitFor((m) => m.topic === topic && backend.messages.filter((x) => x.topic === topic).length > seen, "the re-announcement");
	});

	test("never publishes a stale reading while its sensor is gone, shows why, and resumes when it is back", async () => {
		const simulated = start(broker, "unplug");
		const { node, board } = simulated;
		nodes.push(simulated);
		await backend.waitFor(telemetryOf("unplug", 2), "two readings");
		board.device.unplug();
		await until(() => node.counters.sensorErrors >= 2, "failed samples");
		const published = node.counters.published;
		await until(() => node.counters.sensorErrors >= 4, "more failed samples");
		assert.equal(node.counters.published, published, "nothing published while the sensor is gone");
		const state = (await backend.waitFor((m) => m.topic === "nodes/unplug/state" && m.json().sensor.health === "absent", "the absent state")).json();
		assert.match(state.lastError, /SHT3x at 0x44/);
		board.device.replug();
		const next = (await backend.waitFor(telemetryOf("unplug", published + 1), "a reading after replug")).json();
		assert.ok(Math.abs(next.temperature - simulated.env.temperatureAt(simulated.clock.ticks())) < 0.5, "a fresh value");
		await backend.waitFor((m) => m.topic === "nodes/unplug/state" && m.json().sensor.health === "ok" && m.json().counters.sensorErrors >= 4, "health back to ok");
	});

	test("counts a brown-out of its sensor as a recovery in state, and keeps publishing", async () => {
		const simulated = start(broker, "brownout");
		nodes.push(simulated);
		await backend.waitFor(telemetryOf("brownout", 1), "a reading");
		// A power cycle no sample sees: the SHT3x comes back with its status reset-detected bit set.
		simulated.board.device.replug();
		const state = (await backend.waitFor((m) => m.topic === "nodes/brownout/state" && m.json().counters.recoveries === 1, "the recovery in state")).json();
		assert.equal(state.sensor.health, "ok");
		await backend.waitFor(telemetryOf("brownout", simulated.node.counters.published + 1), "a reading after it");
		assert.equal(simulated.node.counters.recoveries, 1);
	});

	test("rejects an oversized retained document without buffering it, and stays connected", async () => {
		const { node } = start(broker, "big");
		nodes.push({ node } as SimulatedNode);
		await backend.waitFor(telemetryOf("big", 1), "a reading");
		await backend.publish("nodes/big/config", { interval: 5, pad: "x".repeat(5000) }, { retain: true });
		const ack = (await backend.waitFor((m) => m.topic === "nodes/big/config/state" && m.json().device.status === "rejected", "the rejection")).json();
		assert.match(ack.device.errors[0], /^document of 50\d\d bytes is over the 1024-byte limit$/);
		assert.equal(node.mqtt.oversize, 1);
		assert.equal(node.mqtt.reconnects, 0, "no reconnect loop over a retained message");
		assert.equal(node.settings.interval, 1);
	});

	test("rolls back broker settings that do not connect, and says why", async () => {
		const closedPort = await freePort();
		const { node } = start(broker, "rollback", { rollbackMs: 1500 });
		nodes.push({ node } as SimulatedNode);
		await backend.waitFor((m) => m.topic === "nodes/rollback/status" && m.text === "online", "online");
		await backend.publish("nodes/rollback/config", { port: closedPort }, { retain: true });
		const ack = (await backend.waitFor((m) => m.topic === "nodes/rollback/config/state" && m.json().broker.state === "rolled-back", "the rollback")).json();
		assert.equal(ack.broker.port, broker.port);
		assert.equal(ack.broker.note, `could not connect to 127.0.0.1:${closedPort} within 2 s (refused); back to 127.0.0.1:${broker.port}`);
		await until(() => node.connected, "the node back on its broker");
	});

	test("takes a flood of 1,000 sample and 200 announce commands with no disconnect, no drop, a reading a second and one announcement", async () => {
		const { node } = start(broker, "flood", { settings: { interval: 60 } });
		nodes.push({ node } as SimulatedNode);
		await backend.waitFor(telemetryOf("flood", 1), "the first reading");
		await backend.waitFor((m) => m.topic.startsWith("homeassistant/sensor/flood/"), "the first announcement");
		const discoveryBefore = backend.messages.filter((m) => m.topic.startsWith("homeassistant/sensor/flood/")).length;
		const received = node.mqtt.received;
		const started = Date.now();
		// Two waves, each under Mosquitto's default max_queued_messages (1,000), which would drop the rest.
		for (const [samples, announces] of [[600, 100], [400, 100]]) {
			const before = node.mqtt.received;
			await Promise.all([
				...Array.from({ length: samples }, () => backend.publish("nodes/flood/command", "sample")),
				...Array.from({ length: announces }, () => backend.publish("nodes/flood/command", "announce")),
			]);
			await until(() => node.mqtt.received >= before + samples + announces, "every command handled");
		}
		assert.equal(node.mqtt.received - received, 1200);
		const seconds = (Date.now() - started) / 1000;
		const readings = node.counters.published;
		await backend.waitFor((m) => m.topic.startsWith("homeassistant/sensor/flood/") && backend.messages.filter((x) => x.topic.startsWith("homeassistant/sensor/flood/")).length >= 2 * discoveryBefore, "the announcement", 10_000);
		assert.equal(node.mqtt.reconnects, 0);
		assert.equal(node.mqtt.dropped, 0);
		assert.ok(readings <= 2 + Math.ceil(seconds), `${readings} readings for 1,000 sample commands over ${seconds} s`);
		assert.equal(backend.messages.filter((m) => m.topic.startsWith("homeassistant/sensor/flood/")).length, 2 * discoveryBefore, "one announcement for 200 commands");
		console.log(`# command flood: 1200 commands in ${seconds.toFixed(1)} s -> ${readings} readings, 1 announcement, ${node.mqtt.reconnects} reconnects, ${node.mqtt.dropped} dropped`);
	});

	test("ignores a retained command but obeys a fresh one", async () => {
		const { node } = start(broker, "cmd");
		nodes.push({ node } as SimulatedNode);
		await backend.waitFor(telemetryOf("cmd", 1), "a reading");
		await backend.publish("nodes/cmd/config", { interval: 9 }, { retain: true });
		await backend.waitFor((m) => m.topic === "nodes/cmd/config/state" && m.json().effective.interval === 9, "the change");
		await backend.publish("nodes/cmd/command", "factory-reset", { retain: true });
		await backend.publish("nodes/cmd/command", "", { retain: true });
		await backend.publish("nodes/cmd/command", "factory-reset");
		await backend.waitFor((m) => m.topic === "nodes/cmd/config/state" && m.json().effective.interval === 1, "the reset");
	});
});

describe("a sensor node across a broker restart", () => {
	test("loses no reading: sequence numbers arrive complete and in order", async () => {
		const broker = await startMosquitto({ persistence: true });
		const backend = await connectBackend(broker.url, ["nodes/outage/telemetry"], { clientId: "backend-outage", clean: false });
		const simulated = start(broker, "outage");
		await backend.waitFor(telemetryOf("outage", 3), "three readings");
		await broker.stop();
		const published = simulated.node.counters.published;
		await until(() => simulated.node.counters.published >= published + 3, "three readings during the outage");
		await broker.restart();
		const last = simulated.node.counters.published + 2;
		await backend.waitFor(telemetryOf("outage", last), `reading ${last}`, 20_000);
		simulated.node.stop();
		const readings = backend.messages.filter(telemetryOf("outage"));
		const unique = [...new Set(readings.map((m) => m.json().seq as number))];
		assert.deepEqual(unique, Array.from({ length: unique.length }, (_, i) => i + 1), "every sequence number, in order");
		assert.equal(simulated.node.mqtt.dropped, 0);
		// The backend's own PUBACK may die with the broker, which then sends that reading again with DUP set.
		const fresh = readings.filter((m) => !m.dup).length;
		assert.ok(fresh - unique.length <= simulated.node.mqtt.resent, "duplicates only from re-sends");
		await backend.close();
		await broker.stop();
	});
});
