/*
 * Stored configuration under power cuts, document floods and broker bounces (issue 11): a cut at any
 * write of any kind of save boots with each layer as it was or as it became; storing is coalesced within
 * a documented bound; no document makes the node flap between brokers.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, test } from "node:test";
import { memoryLog } from "../../hosts/node/log";
import { PreferenceStore } from "../../hosts/node/store";
import { VirtualClock } from "../../hosts/node/virtual-clock";
import { Config, type Connection } from "../../src/app/config";
import { ConfigStore } from "../../src/app/config-store";
import { encodeUtf8 } from "../../src/utf8";

const ROLLBACK_MS = 300_000;
const STORE_INTERVAL_MS = 60_000;
const SWITCH_GAP_MS = 20_000;

function boot(store: PreferenceStore) {
	const clock = new VirtualClock();
	const log = memoryLog();
	const connections: Connection[] = [];
	const reports: string[] = [];
	const config = new Config({
		store, clock, log,
		build: { host: "10.0.0.1" },
		rollbackMs: ROLLBACK_MS,
		maxDocumentBytes: 1024,
	}, {
		onApply: () => {},
		onConnection: (connection) => connections.push({ ...connection }),
		onReport: (report) => reports.push(report),
	});
	const send = (source: "fleet" | "device", document: object | string) => {
		const bytes = encodeUtf8(typeof document === "string" ? document : JSON.stringify(document));
		config.receive(source, bytes, bytes.length);
	};
	return { config, clock, log, connections, send, lastReport: () => JSON.parse(reports.at(-1)!) };
}

type Booted = ReturnType<typeof boot>;

/** What a reboot shows of the stored configuration. */
function observe(file: string): string {
	const store = new PreferenceStore(file, () => assert.fail("the store file must never be torn"));
	const { config, log } = boot(store);
	assert.deepEqual(log.lines.filter((line) => line.includes("damaged")), [], "a cut never damages a committed slot");
	const report = JSON.parse(config.report());
	return JSON.stringify({
		settings: config.settings, connection: config.connection, fleet: report.fleet.hash, device: report.device.hash,
		refused: new ConfigStore(store).refused(),
	});
}

interface Save {
	name: string;
	/** Brings a node to the state before the save (its writes all complete). */
	before(node: Booted): void;
	/** The save whose every write is cut. */
	save(node: Booted): void;
}

const NEW_DEVICE = { rev: 2, interval: 15, offsetT: -0.4, unit: "F", sensor: "SHT4x" };
const SAVES: Save[] = [
	{
		name: "a device document",
		before: (node) => node.send("device", { rev: 1, interval: 30, deltaT: 0.25, unit: "C", password: "x".repeat(100), user: "u", host: "10.0.0.1" }),
		save: (node) => node.send("device", NEW_DEVICE),
	},
	{
		name: "a fleet document",
		before: (node) => node.send("fleet", { interval: 45, keepalive: 30 }),
		save: (node) => node.send("fleet", { interval: 90, discovery: false, maxSilence: 600 }),
	},
	{
		name: "broker settings that worked (host, port, user, a password in three pieces)",
		before: (node) => {
			node.send("device", { host: "10.0.0.2", port: 1884, user: "old", password: "o".repeat(130) });
			node.config.connected();
			node.clock.advance(STORE_INTERVAL_MS);
			node.send("device", { host: "10.0.0.3", port: 1885, user: "new", password: "n".repeat(120) });
			node.clock.advance(SWITCH_GAP_MS);
		},
		save: (node) => node.config.connected(),
	},
	{
		name: "refused broker settings",
		before: (node) => node.send("device", { host: "10.9.9.9" }),
		save: (node) => node.clock.advance(ROLLBACK_MS),
	},
	{
		name: "a factory reset",
		before: (node) => {
			node.send("fleet", { interval: 45 });
			node.send("device", { host: "10.0.0.2", unit: "F" });
			node.config.connected();
		},
		save: (node) => node.config.factoryReset(),
	},
];

describe("a power cut at any write of a save", () => {
	for (const { name, before, save } of SAVES) {
		test(`of ${name} boots with the old configuration or the new one, never a mix`, () => {
			const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cut-"));
			/** A node from empty storage brought to the state before the save; its file, and its store. */
			const prepare = (file: string) => {
				const store = new PreferenceStore(file);
				const node = boot(store);
				before(node);
				node.clock.advance(STORE_INTERVAL_MS); // everything before is stored and the store interval is over
				return { node, store };
			};
			const full = path.join(dir, "full.json");
			const uncut = prepare(full);
			const old = observe(full);
			const writesBefore = uncut.store.writes;
			save(uncut.node);
			const total = uncut.store.writes - writesBefore;
			const after = observe(full);
			assert.notEqual(after, old, "the save changes what a reboot sees");
			const seen = new Set<string>();
			for (let cut = 0; cut <= total; cut++) {
				const file = path.join(dir, `cut-${cut}.json`);
				const { node, store } = prepare(file);
				store.cutPowerAfter(cut);
				try {
					save(node);
				}
				catch (error) {
					assert.match((error as Error).message, /power cut/);
				}
				const rebooted = observe(file);
				assert.ok(rebooted === old || rebooted === after, `cut after ${cut} of ${total} writes: ${rebooted}`);
				seen.add(rebooted === old ? "old" : "new");
			}
			assert.deepEqual([...seen], ["old", "new"]);
			console.log(`# power cut: ${name}: ${total} writes, ${total + 1} cut points, each boots old or new`);
		});
	}
});

describe("the Node store file", () => {
	test("a truncated or corrupt file starts empty with a warning, and is set aside", () => {
		const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "corrupt-")), "prefs.json");
		for (const bad of ['{"config": {"d": 0, "d0.inter', "", "[1]"]) {
			fs.writeFileSync(file, bad);
			const warnings: string[] = [];
			const store = new PreferenceStore(file, (message) => warnings.push(message));
			assert.deepEqual(store.keys("config"), []);
			assert.equal(warnings.length, 1);
			assert.match(warnings[0], /unreadable.*starting with empty storage/);
			assert.equal(fs.readFileSync(`${file}.corrupt`, "utf8"), bad);
			store.set("config", "k", 1);
			assert.equal(new PreferenceStore(file).get("config", "k"), 1);
		}
	});
});

describe("flash writes", () => {
	test("1,000 alternating documents in 10 s: applied live, stored twice, the latest one survives a reboot", () => {
		const store = new PreferenceStore();
		const node = boot(store);
		const documents = [{ rev: 1, interval: 10, deltaT: 0.5 }, { rev: 2, interval: 20, deltaT: 0.1, unit: "F" }];
		const writes = store.writes;
		for (let i = 0; i < 1000; i++) {
			node.send("device", documents[i % 2]);
			assert.equal(node.config.settings.interval, documents[i % 2].interval, "applied live at once");
			node.clock.advance(10);
		}
		const during = store.writes - writes;
		const mid = boot(store);
		assert.equal(mid.config.settings.interval, 10, "a reboot inside the store interval finds the first document");
		node.clock.advance(STORE_INTERVAL_MS);
		const total = store.writes - writes;
		assert.equal(node.config.counters.flashWrites, store.writes);
		assert.equal(node.config.counters.storesCoalesced, 998, "all but the first, stored at once, and the last");
		const rebooted = boot(store);
		assert.equal(rebooted.config.settings.interval, 20);
		assert.equal(rebooted.config.settings.unit, "F");
		// Each store: the layer's entries (settings, hash, rev), the slot checksum and the commit key.
		assert.deepEqual({ during, total }, { during: 4 + 2, total: 4 + 2 + 5 + 2 });
		console.log(`# flash: 1000 alternating documents in 10 s -> ${during} storage writes during the burst, ${total} in all (2 stores)`);
	});

	test("are at most one store per interval however documents arrive: 3,600 documents an hour cost at most 60 stores", () => {
		const store = new PreferenceStore();
		const node = boot(store);
		let stores = 0;
		let last = store.writes;
		for (let i = 0; i < 3600; i++) {
			node.send("device", { interval: 1 + (i % 7) });
			node.clock.advance(1000);
			if (store.writes !== last) stores++;
			last = store.writes;
		}
		assert.ok(stores <= 61, `${stores} stores`);
		console.log(`# flash: 3600 documents in an hour -> ${stores} stores, ${store.writes} storage writes`);
	});
});

describe("broker moves are damped", () => {
	test("a document that moved the node once does not move it again: the two-broker bounce stops", () => {
		const node = boot(new PreferenceStore());
		const move = { host: "10.0.0.2" };
		node.send("device", move); // on broker A: go to B
		node.config.connected();
		node.clock.advance(SWITCH_GAP_MS);
		node.send("device", ""); // on B: the document is cleared, back to A (the build's broker)
		node.config.connected();
		node.clock.advance(SWITCH_GAP_MS);
		assert.deepEqual(node.connections.map((c) => c.host), ["10.0.0.2", "10.0.0.1"]);
		node.send("device", move); // A still holds the moving document
		assert.deepEqual(node.connections.map((c) => c.host), ["10.0.0.2", "10.0.0.1"], "not moved again");
		const broker = node.lastReport().broker;
		assert.equal(broker.host, "10.0.0.1");
		assert.match(broker.note, /moved the node once already/);
		assert.equal(broker.switches, 2);
		assert.equal(broker.held, 1);
		node.send("device", { ...move, rev: 2 });
		assert.equal(node.connections.at(-1)!.host, "10.0.0.2", "a new rev moves it");
	});

	test("switches caused by documents are at least the switch gap apart; one held meanwhile is made with the latest settings", () => {
		const node = boot(new PreferenceStore());
		for (let i = 0; i < 100; i++) {
			node.send("device", { host: `10.0.1.${i}` });
			node.clock.advance(100);
		}
		assert.equal(node.connections.length, 1);
		assert.match(node.lastReport().broker.note, /trying 10\.0\.1\.0/);
		node.clock.advance(SWITCH_GAP_MS);
		assert.deepEqual(node.connections.map((c) => c.host), ["10.0.1.0", "10.0.1.99"]);
		assert.equal(node.config.counters.brokerSwitches, 2);
		assert.equal(node.config.counters.switchesHeld, 99);
	});
});
