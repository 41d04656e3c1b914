/*
 * The two-broker bounce from issue 11, against two real Mosquittos with persistent sessions: on A a
 * retained device document moves the node to B; on B the document is cleared, which sends it back to
 * A (the build's broker). Before the fix A redelivered the moving document (acknowledged too late) and
 * the node switched hundreds of times a second. Now: two switches, the second held for the switch gap,
 * and the same document arriving again on A is applied without moving the node.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { startSimulatedNode, type SimulatedNode } from "../../hosts/node/fleet";
import { memoryLog } from "../../hosts/node/log";
import { connectBackend, type Backend, type Received } from "../helpers/backend";
import { startMosquitto, type Mosquitto } from "../helpers/mosquitto";

const ID = "bounce";
const configState = (port: number, extra: (state: any) => boolean = () => true) => (m: Received) =>
	m.topic === `nodes/${ID}/config/state` && m.json().broker.port === port && m.json().broker.state === "confirmed" && extra(m.json());

describe("two brokers, each with a document pointing at the other", () => {
	let a: Mosquitto;
	let b: Mosquitto;
	let atA: Backend;
	let atB: Backend;
	let simulated: SimulatedNode | undefined;
	before(async () => {
		[a, b] = await Promise.all([startMosquitto(), startMosquitto()]);
		[atA, atB] = await Promise.all([connectBackend(a.url, [`nodes/${ID}/#`]), connectBackend(b.url, [`nodes/${ID}/#`])]);
	});
	after(async () => {
		simulated?.node.stop();
		await Promise.all([atA.close(), atB.close()]);
		await Promise.all([a.stop(), b.stop()]);
	});

	test("switch twice, then stay: the moving document is acknowledged before the move and moves the node only once", async () => {
		const log = memoryLog();
		simulated = startSimulatedNode({
			broker: a, chip: "SHT3x", name: ID, id: ID, settings: { interval: 1 }, log,
			mqtt: { backoff: { min: 100, max: 1000 }, stableAfter: 1000 },
		});
		const { node } = simulated;
		await atA.waitFor(configState(a.port), "the node on A");
		const move = { host: "127.0.0.1", port: b.port };
		await atA.publish(`nodes/${ID}/config`, move, { retain: true });
		await atB.waitFor(configState(b.port), "the node confirmed on B");
		await atB.publish(`nodes/${ID}/config`, "", { retain: true }); // mosquitto_pub -r -n, as docs/configuration.md shows
		const back = await atA.waitFor(configState(a.port, (state) => state.broker.switches === 2), "the node back on A", 30_000);
		assert.equal(back.json().broker.held, 1, "the move back waited for the switch gap");

		// A automation publishes the moving document again on A: applied, but it does not move the node twice.
		await atA.publish(`nodes/${ID}/config`, move, { retain: true });
		const refused = await atA.waitFor((m) => m.topic === `nodes/${ID}/config/state` && /moved the node once already/.test(m.json().broker.note ?? ""), "the note");
		assert.equal(refused.json().broker.port, a.port);
		// Three readings later it is still on A, and B saw it connect once.
		const seq = (await atA.waitFor((m) => m.topic === `nodes/${ID}/telemetry`, "a reading on A")).json().seq;
		await atA.waitFor((m) => m.topic === `nodes/${ID}/telemetry` && m.json().seq >= seq + 3, "three more readings on A");
		assert.equal(node.connected, true);
		const onlineAtB = atB.messages.filter((m) => m.topic === `nodes/${ID}/status` && m.text === "online").length;
		assert.equal(onlineAtB, 1);
		const applied = log.lines.filter((line) => line.includes("device document") && line.includes("applied")).length;
		assert.equal(applied, 3, "the move, the clear, the move again: each once, no redelivery");
		const switches = log.lines.filter((line) => line.includes("config: trying")).length;
		assert.equal(switches, 2);
		console.log(`# two brokers: ${switches} switches, ${applied} documents applied, ${onlineAtB} connection to B`);
	});
});
