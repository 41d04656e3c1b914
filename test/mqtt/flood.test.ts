/*
 * Inbound QoS 1 floods against a real Mosquitto (issue 11): a persistent-session resume with many
 * messages queued, which Mosquitto sends at once, taken through an ESP-sized socket and through one with
 * room for a handful of PUBACKs. No disconnect, every message delivered once and acknowledged once.
 */
import assert from "node:assert/strict";
import { after, afterEach, before, describe, it } from "node:test";
import { ESP8266_TCP_LIMITS, makeTcpClass } from "../../hosts/node/tcp";
import { startMosquitto } from "../helpers/mosquitto";
import type { Mosquitto } from "../helpers/mosquitto";
import { realClient, watch } from "../helpers/mqtt-real";

const cleanup: (() => unknown)[] = [];

/**
 * Waits until the broker has handled a client's DISCONNECT `times` times (its log says so): a new connection with the same
 * id before that takes the session over, and the old socket's unread PUBACKs are lost. Polls the log; only
 * the deadline is time-based.
 */
function disconnected(broker: Mosquitto, id: string, times: number): Promise<void> {
	return new Promise((resolve, reject) => {
		const started = Date.now();
		const check = () => {
			if (broker.log().split(`Client ${id} disconnected.`).length > times) resolve();
			else if (Date.now() - started > 15_000) reject(new Error(`timed out waiting for the broker to see ${id} go`));
			else setTimeout(check, 20);
		};
		check();
	});
}
/** Makes the persistent session `id` with a QoS 1 subscription to `filter`, and leaves it for the broker to queue into. */
async function persistentSession(broker: Mosquitto, id: string, filter: string): Promise<void> {
	const first = realClient({ host: broker.host, port: broker.port, id });
	cleanup.push(() => first.client.close());
	first.client.subscribe(filter, { qos: 1 });
	await first.signal.until(() => first.seen.subscribes.length === 1, "SUBACK");
	first.client.close();
	await first.signal.until(() => first.seen.disconnects.length === 1, "graceful close");
}

afterEach(async () => {
	for (const close of cleanup.splice(0)) await close();
});

describe("inbound QoS 1 floods against a real Mosquitto", () => {
	let broker: Mosquitto;
	before(async () => {
		// No in-flight limit: on resume the broker sends its whole queue at once, as on the runs.
		broker = await startMosquitto({ config: ["max_inflight_messages 0", "max_queued_messages 5000"] });
	});
	after(() => broker.stop());

	it("takes 10,000 QoS 1 messages published at full speed through an ESP8266 socket: no disconnect, each delivered and acknowledged once", async () => {
		const count = 10_000;
		const receiver = realClient({ host: broker.host, port: broker.port, id: "flood-live", socket: { io: makeTcpClass(ESP8266_TCP_LIMITS) } });
		cleanup.push(() => receiver.client.close());
		receiver.client.subscribe("live/#", { qos: 1 });
		await receiver.signal.until(() => receiver.seen.subscribes.length === 1, "SUBACK");
		const publisher = await watch(broker.url, []);
		cleanup.push(() => publisher.observer.endAsync(true));
		const started = Date.now();
		await Promise.all(Array.from({ length: count }, (_, i) => publisher.observer.publishAsync("live/x", String(i + 1), { qos: 1 })));
		await receiver.signal.until(() => receiver.seen.messages.length >= count, `${count} messages`, 60_000);
		const elapsed = Date.now() - started;
		const payloads = receiver.seen.messages.map((m) => Number(String.fromCharCode(...m.payload)));
		assert.deepEqual(payloads, Array.from({ length: count }, (_, i) => i + 1), "each once, in order");
		assert.deepEqual(receiver.seen.disconnects, []);
		assert.deepEqual(receiver.seen.errors, []);
		receiver.client.close();
		await receiver.signal.until(() => receiver.seen.disconnects.length === 1, "graceful close");
		await disconnected(broker, "flood-live", 1);
		const again = realClient({ host: broker.host, port: broker.port, id: "flood-live" });
		cleanup.push(() => again.client.close());
		await again.signal.until(() => again.seen.connects.length === 1, "CONNACK");
		await publisher.observer.publishAsync("live/x", "marker", { qos: 1 });
		await again.signal.until(() => again.seen.messages.length >= 1, "the marker");
		assert.deepEqual(again.seen.messages.map((m) => String.fromCharCode(...m.payload)), ["marker"], "every PUBACK reached the broker");
		console.log(`# flood: ${count} live QoS 1 messages through an ESP8266 socket in ${elapsed} ms: ${payloads.length} delivered once each, 0 disconnects`);
	});

	for (const [name, sendBuffer, count] of [["an ESP8266 socket", 2920, 1000], ["a 32-byte send buffer", 32, 200]] as const) {
		it(`resumes a persistent session with ${count} queued messages through ${name}: no disconnect, each delivered and acknowledged once`, async () => {
			const id = `flood-${sendBuffer}`;
			await persistentSession(broker, id, "flood/#");

			const publisher = await watch(broker.url, []);
			cleanup.push(() => publisher.observer.endAsync(true));
			await Promise.all(Array.from({ length: count }, (_, i) => publisher.observer.publishAsync(`flood/${id}`, String(i + 1), { qos: 1 })));

			const io = makeTcpClass({ sendBuffer, receiveBuffer: 5840 });
			const resumed = realClient({ host: broker.host, port: broker.port, id, socket: { io } });
			cleanup.push(() => resumed.client.close());
			await resumed.signal.until(() => resumed.seen.messages.length >= count, `${count} messages`, 60_000);
			const payloads = resumed.seen.messages.map((m) => Number(String.fromCharCode(...m.payload)));
			assert.deepEqual(payloads, Array.from({ length: count }, (_, i) => i + 1), "each once, in order");
			assert.deepEqual(resumed.seen.disconnects, []);
			assert.deepEqual(resumed.seen.errors, []);
			assert.deepEqual(resumed.seen.connects, [true]);
			console.log(`# flood: ${count} queued QoS 1 messages through a ${sendBuffer}-byte send buffer: ${payloads.length} delivered once each, ${resumed.seen.disconnects.length} disconnects`);

			// Every PUBACK reached the broker: a third connection gets nothing again, only the marker sent after it.
			resumed.client.close();
			await resumed.signal.until(() => resumed.seen.disconnects.length === 1, "graceful close");
			await disconnected(broker, id, 2);
			const third = realClient({ host: broker.host, port: broker.port, id });
			cleanup.push(() => third.client.close());
			await third.signal.until(() => third.seen.connects.length === 1, "CONNACK");
			await publisher.observer.publishAsync(`flood/${id}`, "marker", { qos: 1 });
			await third.signal.until(() => third.seen.messages.length >= 1, "the marker");
			assert.deepEqual(third.seen.messages.map((m) => String.fromCharCode(...m.payload)), ["marker"]);
		});
	}
});

describe("a broker restart with the subscriber coming back last", () => {
	let broker: Mosquitto;
	before(async () => {
		broker = await startMosquitto({ persistence: true, config: ["max_inflight_messages 0", "max_queued_messages 5000"] });
	});
	after(() => broker.stop());

	it("delivers the 1,000 messages queued across the restart once each, with no disconnect", async () => {
		const count = 1000;
		const id = "flood-restart";
		await persistentSession(broker, id, "restart/#");
		const publisher = await watch(broker.url, [], { clientId: "flood-publisher" });
		await Promise.all(Array.from({ length: count }, (_, i) => publisher.observer.publishAsync("restart/x", String(i + 1), { qos: 1 })));
		await publisher.observer.endAsync(true);
		await broker.restart();
		const back = realClient({ host: broker.host, port: broker.port, id, socket: { io: makeTcpClass(ESP8266_TCP_LIMITS) } });
		cleanup.push(() => back.client.close());
		await back.signal.until(() => back.seen.messages.length >= count, `${count} messages`, 60_000);
		const payloads = back.seen.messages.map((m) => Number(String.fromCharCode(...m.payload)));
		assert.deepEqual(payloads, Array.from({ length: count }, (_, i) => i + 1), "each once, in order");
		assert.deepEqual(back.seen.disconnects, []);
		assert.deepEqual(back.seen.connects, [true], "the session survived the restart");
		console.log(`# flood: broker restart, ${count} queued messages, subscriber back last: ${payloads.length} delivered once each, 0 disconnects`);
	});
});
