/*
 * Against a real Mosquitto: the node's Home Assistant discovery follows every change that alters it, its
 * state document is current, and the loose ends a newcomer meets (retain off, cleared commands) are tied.
 * Each test has its own topic root, so fleet documents do not reach the other tests' nodes.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { SimulatedFlash } from "../../hosts/node/flash";
import { startSimulatedNode, type SimulatedNode } from "../../hosts/node/fleet";
import { memoryLog } from "../../hosts/node/log";
import { PreferenceStore } from "../../hosts/node/store";
import { connectBackend, type Backend, type Received } from "../helpers/backend";
import { expandDiscovery } from "../helpers/ha-discovery";
import { startMosquitto, type Mosquitto } from "../helpers/mosquitto";

const QUICK_MQTT = { backoff: { min: 100, max: 1000 }, stableAfter: 1000 };

const discovery = (id: string, quantity: string, check: (doc: Record<string, any>) => boolean = () => true) => (m: Received) =>
	m.topic === `homeassistant/sensor/${id}/${quantity}/config` && m.text !== "" && check(expandDiscovery(m.json()));
const removal = (id: string, quantity: string) => (m: Received) => m.topic === `homeassistant/sensor/${id}/${quantity}/config` && m.text === "";
/** Matches only messages received after this point. */
const after_ = (backend: Backend, match: (m: Received) => boolean) => {
	const from = backend.messages.length;
	return (m: Received) => backend.messages.indexOf(m) >= from && match(m);
};

/** Starts simulated nodes on the suite's broker, each with its id as topic root, and keeps them to stop at the end. */
function starter(broker: () => Mosquitto) {
	const nodes: SimulatedNode[] = [];
	const start = (id: string, extra: Partial<Parameters<typeof startSimulatedNode>[0]> = {}) => {
		const simulated = startSimulatedNode({ broker: broker(), chip: "SHT3x", name: id, id, root: id, settings: { interval: 1 }, log: memoryLog(), mqtt: QUICK_MQTT, ...extra });
		nodes.push(simulated);
		return simulated;
	};
	return { nodes, start };
}

describe("Home Assistant discovery follows the node", () => {
	let broker: Mosquitto;
	let backend: Backend;
	const { nodes, start } = starter(() => broker);
	/** The retained discovery documents a newly started Home Assistant would read. */
	const retainedDiscovery = async (id: string) => {
		const ha = await connectBackend(broker.url, [`homeassistant/sensor/${id}/+/config`, `${id}/${id}/status`]);
		// The retained status comes with the documents; a reading after it means the retained ones are all in.
		await ha.waitFor((m) => m.topic === `${id}/${id}/status`, "the retained status");
		await ha.close();
		const documents: Record<string, Record<string, unknown>> = {};
		for (const m of ha.messages) if (m.topic.startsWith("homeassistant/") && m.text) documents[m.topic.split("/")[3]] = expandDiscovery(m.json());
		return documents;
	};
	before(async () => {
		broker = await startMosquitto();
		backend = await connectBackend(broker.url, ["#"]);
	});
	after(async () => {
		for (const { node } of nodes) node.stop();
		await backend.close();
		await broker.stop();
	});

	test("a fleet's publish-on-change re-announces expire_after from maxSilence", async () => {
		start("deltas");
		await backend.waitFor(discovery("deltas", "temperature", (doc) => doc.expire_after === 3), "the first announcement");
		await backend.publish("deltas/all/config", { deltaT: 0.2 }, { retain: true });
		await backend.waitFor(discovery("deltas", "humidity", (doc) => doc.expire_after === 902), "expire_after from maxSilence");
		await backend.publish("deltas/deltas/config", { maxSilence: 60 }, { retain: true });
		await backend.waitFor(discovery("deltas", "temperature", (doc) => doc.expire_after === 62), "expire_after from the new maxSilence");
	});

	test("a document that also changes keepalive, and so reconnects, still re-announces", async () => {
		start("keepalive");
		await backend.waitFor(discovery("keepalive", "temperature"), "the first announcement");
		await backend.publish("keepalive/keepalive/config", { unit: "F", keepalive: 30 }, { retain: true });
		await backend.waitFor(discovery("keepalive", "temperature", (doc) => doc.unit_of_measurement === "°F"), "°F announced");
		const retained = await retainedDiscovery("keepalive");
		assert.equal(retained.temperature.unit_of_measurement, "°F");
	});

	test("discovery turned back on in a document that reconnects leaves the documents in place", async () => {
		start("toggle");
		await backend.waitFor(discovery("toggle", "temperature"), "the first announcement");
		await backend.publish("toggle/toggle/config", { discovery: false }, { retain: true });
		await backend.waitFor(removal("toggle", "humidity"), "the entities removed");
		await backend.publish("toggle/toggle/config", { unit: "F", keepalive: 30, discovery: true, interval: 2 }, { retain: true });
		await backend.waitFor(after_(backend, discovery("toggle", "humidity", (doc) => doc.expire_after === 6)), "announced again");
		const retained = await retainedDiscovery("toggle");
		assert.equal(retained.temperature.unit_of_measurement, "°F");
		assert.equal(retained.temperature.expire_after, 6);
		assert.equal(retained.humidity.unit_of_measurement, "%");
	});

	test("after a reboot, the announcement carries the stored fleet settings", async () => {
		const store = new PreferenceStore();
		const first = start("reboot", { store });
		await backend.waitFor(discovery("reboot", "temperature"), "the first announcement");
		await backend.publish("reboot/all/config", { deltaH: 2 }, { retain: true });
		await backend.waitFor(discovery("reboot", "temperature", (doc) => doc.expire_after === 902), "the fleet's deltaH announced");
		await new Promise<void>((resolve) => first.node.stop(resolve));
		const rebooted = after_(backend, discovery("reboot", "temperature"));
		start("reboot", { store });
		assert.equal((await backend.waitFor(rebooted, "the announcement after reboot")).json().exp_aft, 902);
	});

	test("documents carry availability, QoS 1, the sensor model, firmware, hardware and origin", async () => {
		start("fields", { chip: "BME280" });
		const doc = expandDiscovery((await backend.waitFor(discovery("fields", "pressure"), "the pressure document")).json());
		assert.equal(doc.availability_topic, "fields/fields/status");
		assert.equal(doc.qos, 1);
		assert.deepEqual(doc.device, {
			identifiers: ["fields"], name: "Sensor node fields", manufacturer: "sensor-node-firmware",
			model: "BME280", sw_version: "0.1.0", hw_version: "simulator on Node.js",
		});
		assert.deepEqual(doc.origin, { name: "sensor-node-firmware", sw_version: "0.1.0" });
	});

	test("an ESP8266's 2 KB outbox takes the whole connect burst as room allows, evicting nothing", async () => {
		const { node } = start("small", { chip: "BME280", flash: new SimulatedFlash({ byteLength: 64 * 1024 }), mqtt: { ...QUICK_MQTT, outbox: { messages: 16, bytes: 2048 } } });
		const from = backend.messages.length;
		const ofSmall = (m: Received) => backend.messages.indexOf(m) >= from && (m.topic.startsWith("small/small/") || m.topic.startsWith("homeassistant/sensor/small/"));
		await backend.waitFor((m) => m.topic === "small/small/status" && m.text === "online", "online");
		await backend.waitFor((m) => m.topic === "small/small/config/state", "the config report");
		for (const quantity of ["temperature", "humidity", "pressure"]) await backend.waitFor(discovery("small", quantity), `the ${quantity} document`);
		await backend.waitFor((m) => m.topic === "small/small/telemetry", "a reading");
		// Live subscribers see no retain flag (MQTT 3.1.1): the retained ones are these topics.
		const burst = backend.messages.filter((m) => ofSmall(m) && !m.topic.includes("/telemetry"));
		const bytes = burst.reduce((sum, m) => sum + m.topic.length + m.text.length, 0);
		assert.ok(bytes > 2048, `the connect burst is larger than the outbox (${bytes} bytes)`);
		assert.ok(burst.some((m) => m.topic === "small/small/state"));
		assert.equal(node.mqtt.dropped, 0);
	});

	test("an id Home Assistant refuses in a discovery topic is refused with the reason", () => {
		assert.throws(() => start("kitchen.1"), { name: "RangeError", message: /node id "kitchen.1" may hold only letters, digits, _ and -/ });
	});
});

describe("the node's state and loose ends", () => {
	let broker: Mosquitto;
	let backend: Backend;
	const { nodes, start } = starter(() => broker);
	const state = (id: string, check: (state: Record<string, any>) => boolean) => (m: Received) => m.topic === `${id}/${id}/state` && check(m.json());
	before(async () => {
		broker = await startMosquitto({ persistence: true });
		backend = await connectBackend(broker.url, ["#"], { clientId: "observer", clean: false });
	});
	after(async () => {
		for (const { node } of nodes) node.stop();
		await backend.close();
		await broker.stop();
	});

	test("state counts the first reading at once, not at the first refresh", async () => {
		start("first");
		const first = (await backend.waitFor(state("first", (s) => s.counters.readings >= 1), "a state with a reading")).json();
		assert.equal(first.counters.published, 1);
		assert.equal(first.counters.flashWrites, 0);
		assert.equal(typeof first.counters.outbox, "number");
		await backend.publish("first/first/config", { interval: 2 }, { retain: true });
		await backend.waitFor(state("first", (s) => s.counters.flashWrites > 0), "flash writes counted");
	});

	test("an MQTT error becomes a past error, with its times, once the node is connected again", async () => {
		const { node } = start("past");
		await backend.waitFor(state("past", (s) => s.counters.readings >= 1), "a first state");
		await broker.stop();
		await broker.restart();
		const recovered = (await backend.waitFor(state("past", (s) => s.pastError !== null), "the error marked as past", 20_000)).json();
		assert.equal(recovered.lastError, null);
		assert.match(recovered.pastError.message, /^mqtt: /);
		assert.ok(recovered.pastError.at <= recovered.pastError.cleared);
		assert.ok(node.connected);
	});

	test("turning retain off clears the retained reading", async () => {
		start("retain");
		const telemetry = "retain/retain/telemetry";
		await backend.publish("retain/retain/config", { retain: true }, { retain: true });
		await backend.waitFor((m) => m.topic === "retain/retain/config/state" && m.json().effective.retain === true, "retain on");
		await backend.waitFor(after_(backend, (m) => m.topic === telemetry), "a retained reading");
		const retained = await connectBackend(broker.url, [telemetry]);
		assert.equal((await retained.waitFor((m) => m.topic === telemetry, "the retained reading")).retain, true);
		await retained.close();
		await backend.publish("retain/retain/config", { retain: false }, { retain: true });
		await backend.waitFor((m) => m.topic === telemetry && m.text === "", "the retained reading cleared");
		const fresh = await connectBackend(broker.url, [telemetry]);
		await fresh.waitFor((m) => m.topic === telemetry && m.text !== "", "a live reading");
		assert.deepEqual(fresh.messages.filter((m) => m.retain), [], "no retained reading before the live one");
		await fresh.close();
	});

	test("clearing a retained command is not a command", async () => {
		const log = memoryLog();
		const logged = new Promise<void>((resolve) => {
			start("clear", {
				log: (level, message, detail) => {
					log(level, message, detail);
					if (message === "command: sample") resolve();
				},
			});
		});
		await backend.waitFor(state("clear", (s) => s.counters.readings >= 1), "a first state");
		await backend.publish("clear/clear/command", "", { retain: true });
		await backend.publish("clear/clear/command", "");
		await backend.publish("clear/clear/command", "sample");
		await logged;
		assert.deepEqual(log.lines.filter((line) => line.includes("command")), ["info: command: sample"]);
	});
});
