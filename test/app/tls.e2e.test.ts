/*
 * The node over TLS against a real Mosquitto with TLS listeners, certificates made by `openssl` at test
 * time: what it trusts, what it refuses and why (in the log and in `state`), how it retries a refusal,
 * and a broker setting moving it from plain MQTT to a TLS listener it cannot trust, rolled back.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import { after, before, describe, test } from "node:test";
import { startSimulatedNode, type SimulatedNode } from "../../hosts/node/fleet";
import { memoryLog } from "../../hosts/node/log";
import { createNodeHost } from "../../hosts/node/host";
import { makeTlsClass, type TlsTrust } from "../../hosts/node/tls";
import { simulatedBoard } from "../../sim/sensors/board";
import { Environment } from "../../sim/environment";
import { SensorNode } from "../../src/app/node";
import { settingsFromStrings } from "../../src/app/settings";
import { connectBackend, type Backend, type Received } from "../helpers/backend";
import { makeCertificates, tlsListener, tlsListeners, type Certificates } from "../helpers/certificates";
import { freePort, startMosquitto, type Mosquitto } from "../helpers/mosquitto";

/** Reconnect quickly in tests; the production bounds are 0.5 s to 60 s. */
const QUICK_MQTT = { backoff: { min: 100, max: 1000 }, stableAfter: 1000 };

const stateOf = (id: string, match: (state: any) => boolean = () => true) => (m: Received) =>
	m.topic === `nodes/${id}/state` && match(m.json());

/** Polls a condition of the code under test; only the deadline is time-based, and it only fails the test. */
function until<T>(value: () => T | undefined, what: () => string, timeoutMs = 15_000): Promise<T> {
	return new Promise((resolve, reject) => {
		const started = Date.now();
		const check = () => {
			const result = value();
			if (result !== undefined) resolve(result);
			else if (Date.now() - started > timeoutMs) reject(new Error(`timed out waiting for ${what()}`));
			else setTimeout(check, 20);
		};
		check();
	});
}

/** The lines of `log` matching `pattern`, once there are `count` of them. */
function logged(log: { lines: string[] }, pattern: RegExp, count = 1): Promise<string[]> {
	return until(() => {
		const lines = log.lines.filter((line) => pattern.test(line));
		return lines.length >= count ? lines : undefined;
	}, () => `${count} x ${pattern}:\n${log.lines.join("\n")}`);
}

describe("the node over TLS against Mosquitto", () => {
	let certificates: Certificates;
	let broker: Mosquitto;
	let backend: Backend;
	const ports = { good: 0, wrongName: 0, expired: 0, mutual: 0 };
	const nodes: SimulatedNode[] = [];
	before(async () => {
		certificates = makeCertificates();
		const listeners = await tlsListeners(certificates);
		Object.assign(ports, listeners.ports);
		broker = await startMosquitto({ config: listeners.config });
		// The backend watches over the plain listener: every listener shares one broker.
		backend = await connectBackend(broker.url, ["nodes/#"]);
	});
	after(async () => {
		for (const { node } of nodes) node.stop();
		await backend.close();
		await broker.stop();
		certificates.remove();
	});

	function start(id: string, port: number, trust: TlsTrust, settings: Record<string, string | number | boolean> = {}) {
		const log = memoryLog();
		const simulated = startSimulatedNode({
			broker: { host: "localhost", port }, chip: "SHT3x", name: id, id, log, mqtt: QUICK_MQTT,
			tls: makeTlsClass(trust), settings: { interval: 1, tls: true, ...settings },
		});
		nodes.push(simulated);
		return { ...simulated, log };
	}
	const ca = () => ({ ca: certificates.ca });
	const client = () => ({ cert: fs.readFileSync(certificates.client.cert), key: fs.readFileSync(certificates.client.key) });

	test("a good certificate: readings flow, and state and the log say TLS", async () => {
		const { log } = start("good", ports.good, ca());
		await backend.waitFor((m) => m.topic === "nodes/good/telemetry", "a reading over TLS");
		const state = (await backend.waitFor(stateOf("good"), "the state")).json();
		assert.equal(state.tls, "verified");
		await logged(log, /^info: mqtt: connected to localhost:\d+ over TLS \(session/);
	});

	test("a CA that did not sign the broker's certificate: refused with the cause, retried with growing delays", async () => {
		const { log, node } = start("wrong-ca", ports.good, { ca: certificates.otherCa });
		const failures = await logged(log, /mqtt: transport: connection lost: .*certificate.*; reconnecting in \d+ ms/, 4);
		assert.match(failures[0], /self-signed certificate in certificate chain \(SELF_SIGNED_CERT_IN_CHAIN\)/);
		// Backoff, not a storm: every delay at least the minimum, and the cap doubling lets them grow.
		const delays = failures.map((line) => Number(/reconnecting in (\d+) ms/.exec(line)![1]));
		assert.ok(delays.every((delay) => delay >= 100), String(delays));
		assert.equal(node.connected, false);
		assert.ok(!backend.messages.some((m) => m.topic.startsWith("nodes/wrong-ca/")));
	});

	test("a certificate for another host name: refused", async () => {
		const { log } = start("wrong-name", ports.wrongName, ca());
		await logged(log, /connection lost: Hostname\/IP does not match certificate's altnames: Host: localhost.*ERR_TLS_CERT_ALTNAME_INVALID/);
	});

	test("an expired certificate: refused", async () => {
		const { log } = start("expired", ports.expired, ca());
		await logged(log, /connection lost: certificate has expired \(CERT_HAS_EXPIRED\)/);
	});

	test("a pin that matches is trusted without the CA, and state says pinned; a pin that does not is refused", async () => {
		const pin = certificates.pinOf(certificates.server.cert);
		// As openssl prints it, upper case with colons, through the build settings' path (mc/config, flags).
		const errors: string[] = [];
		const { node } = start("pinned", ports.good, {}, settingsFromStrings({ pin: pin.toUpperCase().match(/../g)!.join(":") }, errors));
		assert.deepEqual(errors, []);
		assert.equal(node.settings.pin, pin);
		const state = (await backend.waitFor(stateOf("pinned"), "the pinned node's state")).json();
		assert.equal(state.tls, "pinned");
		const bad = start("bad-pin", ports.good, ca(), { pin: "ab".repeat(32) });
		await logged(bad.log, new RegExp(`connection lost: certificate SHA-256 ${pin} does not match the pin \\(PIN_MISMATCH\\)`));
	});

	test("mutual TLS: connects with the client certificate; without one the broker refuses it", async () => {
		start("mutual", ports.mutual, { ...ca(), ...client() });
		await backend.waitFor((m) => m.topic === "nodes/mutual/telemetry", "a reading with a client certificate");
		const { log } = start("no-client-cert", ports.mutual, ca());
		await logged(log, /connection lost: .*certificate required/i);
		assert.ok(!backend.messages.some((m) => m.topic === "nodes/no-client-cert/telemetry"));
	});

	test("insecure: takes an expired certificate, and says so in state and at every connect", async () => {
		const { log } = start("insecure", ports.expired, {}, { insecure: true });
		const state = (await backend.waitFor(stateOf("insecure"), "the insecure node's state")).json();
		assert.equal(state.tls, "insecure");
		await logged(log, /^warn: mqtt: connected to localhost:\d+ over TLS WITHOUT CERTIFICATE VERIFICATION \(insecure\)/);
		await broker.restart();
		await logged(log, /^warn: mqtt: connected to .* WITHOUT CERTIFICATE VERIFICATION/, 2);
	});

	test("the last will goes out when a node on TLS dies without a word", async () => {
		const simulated = start("will-tls", ports.good, ca());
		await backend.waitFor((m) => m.topic === "nodes/will-tls/status" && m.text === "online", "online over TLS");
		const count = backend.messages.length;
		simulated.crash();
		// Dead as if unplugged: it has nothing left to stop.
		nodes.splice(nodes.findIndex(({ node }) => node === simulated.node), 1);
		const will = await backend.waitFor((m) => backend.messages.indexOf(m) >= count && m.topic === "nodes/will-tls/status", "the will");
		assert.equal(will.text, "offline");
	});

	test("a document moving a plain node to a TLS listener it cannot trust: tried, then rolled back with the cause", async () => {
		const log = memoryLog();
		const simulated = startSimulatedNode({
			broker, chip: "SHT3x", name: "to-tls", id: "to-tls", log, mqtt: QUICK_MQTT, rollbackMs: 1500,
			tls: makeTlsClass({ ca: certificates.otherCa }), settings: { interval: 1 },
		});
		nodes.push(simulated);
		await backend.waitFor(stateOf("to-tls"), "the node on plain MQTT");
		await backend.publish("nodes/to-tls/config", { host: "localhost", port: ports.good, tls: true }, { retain: true });
		const report = await backend.waitFor((m) => m.topic === "nodes/to-tls/config/state" && m.json().broker.state === "rolled-back", "the rollback");
		assert.equal(report.json().broker.port, broker.port);
		assert.match(report.json().broker.note, /could not connect to localhost:\d+ .*\(refused\); back to 127\.0\.0\.1/);
		await logged(log, /SELF_SIGNED_CERT_IN_CHAIN/);
		await backend.publish("nodes/to-tls/config", "", { retain: true });
	});

	test("a host without TLS (the ESP8266) refuses a build asking for it, and rejects a document asking for it", async () => {
		const board = simulatedBoard("SHT3x", new Environment({ seed: 1 }), { ticks: () => 0 });
		const noTls = "no room for a TLS handshake in the ESP8266's 32 KB";
		const host = { ...createNodeHost({ i2c: board.i2c, mac: "020000000001", log: memoryLog() }), tls: undefined, noTls };
		assert.throws(() => new SensorNode({ host, settings: { host: broker.host, port: broker.port, tls: true } }), { message: `tls: ${noTls}` });
		const node = new SensorNode({ host, id: "no-tls", settings: { host: broker.host, port: broker.port, interval: 1 } });
		try {
			await backend.waitFor(stateOf("no-tls"), "the node without TLS");
			await backend.publish("nodes/no-tls/config", { tls: true, port: 8883 }, { retain: true });
			const report = await backend.waitFor((m) => m.topic === "nodes/no-tls/config/state" && m.json().device.status === "rejected", "the rejection");
			assert.deepEqual(report.json().device.errors, [`tls: ${noTls}`]);
			assert.equal(node.broker.port, broker.port);
		}
		finally {
			node.stop();
			await backend.publish("nodes/no-tls/config", "", { retain: true });
		}
	});
});

describe("a node over TLS across a broker restart", () => {
	test("loses no QoS 1 reading: sequence numbers arrive complete and in order", async () => {
		const certificates = makeCertificates();
		const port = await freePort();
		const broker = await startMosquitto({ persistence: true, config: tlsListener(port, certificates, certificates.server) });
		const backend = await connectBackend(broker.url, ["nodes/tls-outage/telemetry"], { clientId: "backend-tls-outage", clean: false });
		const telemetry = (seq?: number) => (m: Received) => m.topic === "nodes/tls-outage/telemetry" && (seq === undefined || m.json().seq === seq);
		const simulated = startSimulatedNode({
			broker: { host: "localhost", port }, chip: "SHT3x", name: "tls-outage", id: "tls-outage", log: memoryLog(), mqtt: QUICK_MQTT,
			tls: makeTlsClass({ ca: certificates.ca }), settings: { interval: 1, tls: true },
		});
		try {
			await backend.waitFor(telemetry(3), "three readings");
			await broker.stop();
			const published = simulated.node.counters.published;
			await until(() => simulated.node.counters.published >= published + 3 || undefined, () => "three readings during the outage");
			await broker.restart();
			const last = simulated.node.counters.published + 2;
			await backend.waitFor(telemetry(last), `reading ${last}`, 20_000);
			const unique = [...new Set(backend.messages.filter(telemetry()).map((m) => m.json().seq as number))];
			assert.deepEqual(unique, Array.from({ length: unique.length }, (_, i) => i + 1), "every sequence number, in order");
			assert.equal(simulated.node.mqtt.dropped, 0);
		}
		finally {
			simulated.node.stop();
			await backend.close();
			await broker.stop();
			certificates.remove();
		}
	});
});
