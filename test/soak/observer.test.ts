/*
 * The soak's observer against a real Mosquitto: it finds a missing sequence number, counts a second copy
 * as a duplicate, and keeps its place across its own reconnect (persistent session).
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import mqtt from "mqtt";
import { SequenceObserver } from "./observer";
import { startMosquitto, type Mosquitto } from "../helpers/mosquitto";

describe("the soak observer", () => {
	let broker: Mosquitto;
	let publisher: mqtt.MqttClient;
	const reading = (id: string, seq: number) => publisher.publishAsync(`obs/${id}/telemetry`, JSON.stringify({ seq, boot: "b007" }), { qos: 1 });

	before(async () => {
		broker = await startMosquitto({ persistence: true });
		publisher = await mqtt.connectAsync(broker.url, { clientId: "obs-publisher", reconnectPeriod: 100 });
	});
	after(async () => {
		await publisher.endAsync();
		await broker.stop();
	});

	test("finds the gap, counts the duplicate, and knows when a node is complete", async (t) => {
		const observer = await SequenceObserver.connect(broker.url, "obs", "obs-1");
		t.after(() => observer.close());
		for (const seq of [1, 2, 2, 4]) await reading("a", seq);
		await observer.until(() => observer.highest("a") === 4, "reading 4", 5000);
		assert.deepEqual(observer.missing("a", 4), [3]);
		assert.equal(observer.complete("a", 2), true);
		assert.equal(observer.complete("a", 4), false);
		assert.deepEqual(observer.totals, { nodes: 1, unique: 3, duplicates: 1, redelivered: 0, malformed: 0 });
		await reading("a", 3);
		await observer.until(() => observer.complete("a", 4), "reading 3", 5000);
		await publisher.publishAsync("obs/a/telemetry", "not json", { qos: 1 });
		await observer.until(() => observer.totals.malformed === 1, "the malformed reading", 5000);
	});

	test("gets the readings published while it was away, from its persistent session", async () => {
		const first = await SequenceObserver.connect(broker.url, "obs", "obs-2");
		await reading("b", 1);
		await first.until(() => first.complete("b", 1), "reading 1", 5000);
		await first.close();
		await reading("b", 2);
		await broker.restart();
		await reading("b", 3);
		const again = await SequenceObserver.connect(broker.url, "obs", "obs-2");
		try {
			await again.until(() => again.highest("b") === 3, "readings 2 and 3", 5000);
			assert.deepEqual(again.missing("b", 3), [1], "reading 1 went to the first connection; 2 and 3 were kept for this one");
		}
		finally {
			await again.close();
		}
	});
});
