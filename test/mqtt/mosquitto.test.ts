/*
 * Our client against a real Mosquitto, with MQTT.js as the backend observer. Real sockets and clock;
 * every wait ends on an event (or fails after a generous deadline), none is a sleep.
 */
import assert from "node:assert/strict";
import { after, afterEach, before, describe, it } from "node:test";
import { startMosquitto } from "../helpers/mosquitto";
import type { Mosquitto } from "../helpers/mosquitto";
import { killableTcp, realClient as openClient, watch as openWatcher } from "../helpers/mqtt-real";

const text = (payload: Uint8Array) => String.fromCharCode(...payload);

// Whatever a test opened is closed after it, pass or fail, so a failure cannot leave the process hanging.
const cleanup: (() => unknown)[] = [];
afterEach(async () => {
	for (const close of cleanup.splice(0)) await close();
});

function realClient(...args: Parameters<typeof openClient>) {
	const opened = openClient(...args);
	cleanup.push(() => opened.client.close());
	return opened;
}

async function watch(...args: Parameters<typeof openWatcher>) {
	const watcher = await openWatcher(...args);
	cleanup.push(() => watcher.observer.endAsync(true));
	return watcher;
}

describe("against a real Mosquitto with a password file", () => {
	let broker: Mosquitto;
	before(async () => {
		broker = await startMosquitto({ users: { node: "s3cret" } });
	});
	after(() => broker.stop());

	it("connects with the right user name and password", async () => {
		const { client, seen, signal } = realClient({ host: broker.host, port: broker.port, id: "auth-good", user: "node", password: "s3cret" });
		await signal.until(() => seen.connects.length > 0, "CONNACK");
		assert.equal(client.connected, true);
		client.close();
	});

	it("is refused with a wrong password, sees why, and retries only with backoff", async () => {
		const { client, seen, signal } = realClient({
			host: broker.host, port: broker.port, id: "auth-bad", user: "node", password: "wrong", backoff: { min: 300, max: 300 },
		});
		await signal.until(() => seen.errors.length >= 2, "two refusals");
		client.close();
		assert.equal(seen.connects.length, 0);
		assert.ok(["not-authorized", "bad-username-or-password"].includes(seen.errors[0].code), seen.errors[0].code);
		assert.ok(seen.errors[0].returnCode === 4 || seen.errors[0].returnCode === 5);
	});
});

describe("against a real Mosquitto", () => {
	let broker: Mosquitto;
	before(async () => {
		broker = await startMosquitto();
	});
	after(() => broker.stop());

	it("round-trips a QoS 1 message through a subscription of its own", async () => {
		const { client, seen, signal } = realClient({ host: broker.host, port: broker.port, id: "roundtrip" });
		client.subscribe("rt/#", { qos: 1 });
		await signal.until(() => seen.subscribes.length === 1, "SUBACK");
		assert.deepEqual(seen.subscribes, [{ filter: "rt/#", qos: 1 }]);
		assert.equal(client.publish("rt/a", "hello", { qos: 1 }), 2, "identifier 1 went to the SUBSCRIBE");
		await signal.until(() => seen.messages.length === 1 && client.counters.acked === 1, "the message and its PUBACK");
		assert.equal(seen.messages[0].topic, "rt/a");
		assert.equal(text(seen.messages[0].payload), "hello");
		assert.equal(seen.messages[0].qos, 1);
		assert.equal(seen.messages[0].retain, false);
		assert.equal(client.queued, 0);
		client.close();
	});

	it("receives a retained message with its retain flag", async () => {
		const watcher = await watch(broker.url, []);
		await watcher.observer.publishAsync("ret/cfg", "v1", { qos: 1, retain: true });
		const { client, seen, signal } = realClient({ host: broker.host, port: broker.port, id: "retained" });
		client.subscribe("ret/#", { qos: 1 });
		await signal.until(() => seen.messages.length === 1, "the retained message");
		assert.deepEqual({ ...seen.messages[0], payload: text(seen.messages[0].payload) }, { topic: "ret/cfg", payload: "v1", qos: 1, retain: true, dup: false });
		client.close();
		await watcher.observer.endAsync();
	});

	it("gets its will published when it dies, and not when it closes gracefully", async () => {
		const watcher = await watch(broker.url, ["will/#"]);
		const tcp = killableTcp();
		const dying = realClient({
			host: broker.host, port: broker.port, id: "will-1", socket: { io: tcp.io },
			will: { topic: "will/1", payload: "offline", qos: 1, retain: false },
		});
		await dying.signal.until(() => dying.seen.connects.length === 1, "CONNACK");
		tcp.sockets[0].kill();
		await watcher.signal.until(() => watcher.messages.length === 1, "the will");
		assert.deepEqual(watcher.messages[0], { topic: "will/1", payload: "offline", retain: false });
		dying.client.close();

		const graceful = realClient({ host: broker.host, port: broker.port, id: "will-2", will: { topic: "will/2", payload: "offline", qos: 1 } });
		await graceful.signal.until(() => graceful.seen.connects.length === 1, "CONNACK");
		graceful.client.close();
		// A marker sent after the graceful close: the will, had it been published, would come first.
		await watcher.observer.publishAsync("will/marker", "m", { qos: 1 });
		await watcher.signal.until(() => watcher.messages.some((m) => m.topic === "will/marker"), "the marker");
		assert.deepEqual(watcher.messages.map((m) => m.topic), ["will/1", "will/marker"]);
		await watcher.observer.endAsync();
	});

	it("unsubscribes", async () => {
		const { client, seen, signal } = realClient({ host: broker.host, port: broker.port, id: "unsub" });
		client.subscribe(["un/#", "marker"], { qos: 1 });
		await signal.until(() => seen.subscribes.length === 2, "SUBACKs");
		client.unsubscribe("un/#");
		// Same connection, so the broker handles these in order: the UNSUBSCRIBE first.
		client.publish("un/x", "after", { qos: 1 });
		client.publish("marker", "m", { qos: 1 });
		await signal.until(() => seen.messages.length >= 1, "the marker");
		assert.deepEqual(seen.messages.map((m) => m.topic), ["marker"]);
		client.close();
	});

	it("delivers every QoS 1 message published during an outage afterwards, in order", async (t) => {
		const watcher = await watch(broker.url, ["outage/#"], { keepalive: 600 });
		const { client, seen, signal } = realClient({
			host: broker.host, port: broker.port, id: "outage", keepalive: 2, connackTimeout: 1000, outbox: { messages: 32, bytes: 4096 },
		});
		await signal.until(() => seen.connects.length === 1, "CONNACK");
		// The broker goes silent, as behind a dead link: the client must notice by itself.
		broker.freeze();
		try {
			await signal.until(() => seen.disconnects.length === 1, "dead-link detection", 10_000);
			assert.equal(seen.disconnects[0], "keepalive");
			for (let seq = 1; seq <= 20; seq++) client.publish("outage/readings", String(seq), { qos: 1 });
		}
		finally {
			broker.thaw();
		}
		await watcher.signal.until(() => new Set(watcher.messages.map((m) => m.payload)).size === 20, "all 20 readings", 20_000);
		await signal.until(() => client.queued === 0, "all PUBACKs");
		const payloads = watcher.messages.map((m) => Number(m.payload));
		const unique = [...new Set(payloads)];
		assert.deepEqual(unique, Array.from({ length: 20 }, (_, i) => i + 1));
		t.diagnostic(`lost: 0, duplicates: ${payloads.length - unique.length}, reconnects: ${client.counters.reconnects}`);
		assert.equal(client.counters.dropped, 0);
		client.close();
		await watcher.observer.endAsync();
	});
});

describe("against a real Mosquitto that restarts", () => {
	let broker: Mosquitto;
	before(async () => {
		broker = await startMosquitto();
	});
	after(() => broker.stop());

	it("restores its subscriptions after a broker restart that lost the session", async () => {
		const { client, seen, signal } = realClient({ host: broker.host, port: broker.port, id: "restore" });
		client.subscribe("restore/#", { qos: 1 });
		await signal.until(() => seen.subscribes.length === 1, "SUBACK");
		await broker.restart();
		await signal.until(() => seen.connects.length === 2 && seen.subscribes.length === 2, "reconnect and restored SUBACK");
		assert.deepEqual(seen.connects, [false, false], "the restarted broker had no session");
		const watcher = await watch(broker.url, []);
		await watcher.observer.publishAsync("restore/x", "back", { qos: 1 });
		await signal.until(() => seen.messages.length === 1, "a message on the restored subscription");
		assert.equal(seen.messages[0].topic, "restore/x");
		assert.deepEqual(seen.disconnects, ["transport"]);
		client.close();
		await watcher.observer.endAsync();
	});
});
