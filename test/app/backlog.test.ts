/*
 * The backlog's drain policy on the virtual clock, with a publisher standing in for the MQTT client: the
 * live fast path, the pace and window of the drain, PUBACKs, drops, and a flash that fails.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { SimulatedFlash } from "../../hosts/node/flash";
import { memoryLog } from "../../hosts/node/log";
import { VirtualClock } from "../../hosts/node/virtual-clock";
import { Backlog } from "../../src/app/backlog";
import type { Publisher } from "../../src/app/publish";
import { Telemetry } from "../../src/app/telemetry";
import { topicsFor } from "../../src/app/topics";
import { Journal } from "../../src/journal/journal";
import type { PublishOptions } from "../../src/mqtt/client";

const BOOT = "0badf00d";
const TOPICS = topicsFor("nodes", "n");

class FakeClient implements Publisher {
	connected = false;
	/** Whether the outbox has room (fits). */
	room = true;
	readonly sent: { id: number; topic: string; payload: string; retain: boolean; at: number }[] = [];
	#nextId = 0;
	constructor(readonly clock: VirtualClock) {}
	publish(topic: string, payload: string, options: PublishOptions): number {
		const id = ++this.#nextId;
		this.sent.push({ id, topic, payload, retain: options.retain ?? false, at: this.clock.now });
		return id;
	}
	fits(): boolean {
		return this.room;
	}
}

function rig(options: { perSecond?: number; window?: number } = {}) {
	const clock = new VirtualClock();
	const flash = new SimulatedFlash({ byteLength: 64 * 1024 });
	const client = new FakeClient(clock);
	const log = memoryLog();
	const backlog = new Backlog(new Journal(flash), client, { ...options, clock, log, telemetry: new Telemetry(BOOT), topics: TOPICS, boot: BOOT, dates: { timeAt: () => 0 } });
	const add = (seq: number, retain = false) => backlog.add(seq, seq * 60, 0, false, 20 + seq / 100, 50, undefined, `live ${seq}`, retain);
	return { clock, flash, client, log, backlog, add };
}

describe("backlog", () => {
	it("publishes a reading live on a live link, journalled until its PUBACK", () => {
		const { client, backlog, add } = rig();
		client.connected = true;
		assert.equal(add(1, true), true);
		assert.deepEqual(client.sent.map(({ topic, payload, retain }) => ({ topic, payload, retain })), [{ topic: TOPICS.telemetry, payload: "live 1", retain: true }]);
		assert.equal(backlog.waiting, 1);
		backlog.acknowledged(client.sent[0].id);
		assert.equal(backlog.waiting, 0);
	});

	it("never pushes anything out of a full outbox: a reading waits in flash until there is room", () => {
		const { clock, client, backlog, add } = rig();
		client.connected = true;
		client.room = false;
		add(1);
		clock.advance(1000);
		assert.equal(client.sent.length, 0, "neither live nor drained while the outbox is full");
		assert.equal(backlog.waiting, 1);
		client.room = true;
		clock.advance(1000);
		assert.deepEqual(client.sent.map((m) => [m.topic, JSON.parse(m.payload).seq]), [[TOPICS.telemetryBacklog, 1]]);
		backlog.acknowledged(client.sent[0].id);
		assert.equal(backlog.waiting, 0);
	});

	it("drains what waited, oldest first, at most `window` unacknowledged and `perSecond` a second", () => {
		const { clock, client, backlog, add } = rig({ perSecond: 5, window: 2 });
		for (let seq = 1; seq <= 20; seq++) add(seq);
		assert.equal(client.sent.length, 0, "nothing goes out while offline");
		client.connected = true;
		backlog.connected();
		clock.advance(2000);
		assert.equal(client.sent.length, 2, "the window holds the drain at 2 unacknowledged");
		const acknowledgeAll = () => {
			for (const { id } of client.sent) backlog.acknowledged(id);
		};
		for (let i = 0; i < 10; i++) {
			acknowledgeAll();
			clock.advance(200);
		}
		const seqs = client.sent.map((m) => JSON.parse(m.payload).seq);
		assert.deepEqual(seqs, Array.from({ length: seqs.length }, (_, i) => i + 1), "oldest first, each once");
		assert.ok(client.sent.every((m) => m.topic === TOPICS.telemetryBacklog && !m.retain));
		const perSecond = client.sent.filter((m) => m.at > 2000 && m.at <= 3000).length;
		assert.ok(perSecond <= 5, `${perSecond} in one second`);
		for (let i = 0; i < 20; i++) {
			acknowledgeAll();
			clock.advance(200);
		}
		assert.equal(backlog.waiting, 0);
		assert.equal(clock.pending, 0, "the drain's timer stops once nothing waits");
	});

	it("a message the client drops waits again and goes out again", () => {
		const { clock, client, backlog, add } = rig({ window: 1 });
		add(1);
		client.connected = true;
		backlog.connected();
		clock.advance(200);
		assert.equal(client.sent.length, 1);
		backlog.dropped(client.sent[0].id);
		clock.advance(200);
		assert.equal(client.sent.length, 2);
		assert.equal(client.sent[1].payload, client.sent[0].payload, "the same reading");
		backlog.acknowledged(client.sent[1].id);
		assert.equal(backlog.waiting, 0);
	});

	it("stops draining when the link drops, and goes on from where it was", () => {
		const { clock, client, backlog, add } = rig({ window: 4 });
		for (let seq = 1; seq <= 6; seq++) add(seq);
		client.connected = true;
		backlog.connected();
		clock.advance(400);
		const before = client.sent.length;
		client.connected = false;
		clock.advance(5000);
		assert.equal(client.sent.length, before);
		// The client keeps its unacknowledged messages across the reconnect: they are not sent twice.
		client.connected = true;
		backlog.connected();
		for (const { id } of client.sent) backlog.acknowledged(id);
		clock.advance(5000);
		const seqs = client.sent.map((m) => JSON.parse(m.payload).seq);
		assert.deepEqual(seqs, [1, 2, 3, 4, 5, 6]);
	});

	it("a flash that fails leaves the reading to the RAM-only path, and says so", () => {
		const { flash, log, add } = rig();
		flash.cutPowerAfter(0);
		assert.equal(add(1), false);
		assert.match(log.lines.join("\n"), /backlog: flash write failed \(power cut\); reading 1 is kept in RAM only/);
	});
});
