import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { memoryLog } from "../../hosts/node/log";
import { PreferenceStore } from "../../hosts/node/store";
import { VirtualClock } from "../../hosts/node/virtual-clock";
import { Config, type ConfigOptions, type Connection } from "../../src/app/config";
import { splitUtf8 } from "../../src/app/config-store";
import { DEFAULTS, validateDocument, type Settings } from "../../src/app/settings";
import { encodeUtf8 } from "../../src/utf8";

const ROLLBACK_MS = 60_000;
/** The TLS part of a connection with none of it asked for. */
const PLAIN = { tls: false, pin: "", insecure: false };
const STORE_INTERVAL_MS = 60_000;

/** A Config with its outputs recorded. `store` may be shared to simulate a reboot. */
function boot(store = new PreferenceStore(), build: Settings = { host: "10.0.0.1" }, extra: Partial<ConfigOptions> = {}) {
	const clock = new VirtualClock();
	const log = memoryLog();
	const applied: { settings: Settings; changed: readonly string[] }[] = [];
	const connections: Connection[] = [];
	const reports: string[] = [];
	const config = new Config({
		store, clock, log, build,
		rollbackMs: ROLLBACK_MS,
		maxDocumentBytes: 1024,
		...extra,
	}, {
		onApply: (settings, changed) => applied.push({ settings: { ...settings }, changed }),
		onConnection: (connection) => connections.push({ ...connection }),
		onReport: (report) => reports.push(report),
	});
	const send = (source: "fleet" | "device", document: object | string) => {
		const bytes = encodeUtf8(typeof document === "string" ? document : JSON.stringify(document));
		config.receive(source, bytes, bytes.length);
	};
	const lastReport = () => JSON.parse(reports.at(-1)!);
	return { config, store, clock, log, applied, connections, reports, send, lastReport };
}

describe("validating a config document", () => {
	test("accepts known settings in range and keeps two decimals", () => {
		const result = validateDocument(`{"rev": 4, "interval": 30, "offsetT": -0.256, "unit": "F", "discovery": false, "deltaH": null}`);
		assert.deepEqual(result, { settings: { interval: 30, offsetT: -0.26, unit: "F", discovery: false }, rev: 4, errors: [] });
	});

	test("rejects the whole document and names every problem", () => {
		const result = validateDocument(`{"interval": 0, "colour": "red", "qos": 2, "retain": "yes", "unit": "K", "host": 5}`);
		assert.equal(result.settings, undefined);
		assert.deepEqual(result.errors, [
			"interval: must be an integer from 1 to 86400 (got 0)",
			"colour: unknown setting",
			"qos: must be an integer from 0 to 1 (got 2)",
			"retain: must be true or false (got \"yes\")",
			"unit: must be one of C, F (got \"K\")",
			"host: must be a string (got 5)",
		]);
	});

	test("rejects what is not a JSON object", () => {
		assert.match(validateDocument("{interval: 5}").errors[0], /^not JSON/);
		assert.deepEqual(validateDocument("[1]").errors, ["must be a JSON object of settings"]);
		assert.deepEqual(validateDocument("12").errors, ["must be a JSON object of settings"]);
	});

	test("says what it got for a number out of range, even one JSON makes infinite", () => {
		assert.deepEqual(validateDocument(`{"interval": 1e400}`).errors, ["interval: must be an integer from 1 to 86400 (got Infinity)"]);
	});

	test("takes a host name or an IP address as the host, nothing else", () => {
		for (const host of ["broker", "mqtt.example.com", "10.0.0.1", "::1", "fe80::1:2", "a-b.c0"])
			assert.deepEqual(validateDocument(JSON.stringify({ host })).errors, [], host);
		for (const host of ["", "bad host", "-a.b", "a..b", "999.1.1.1", "1.2.3", "http://x", "a_b"])
			assert.deepEqual(validateDocument(JSON.stringify({ host })).errors, [`host: must be a host name or an IP address (got ${JSON.stringify(host)})`], host);
	});

	test("never echoes a password in an error", () => {
		const result = validateDocument(`{"password": 123456}`);
		assert.deepEqual(result.errors, ["password: must be a string (got a value)"]);
	});
});

describe("the node's configuration", () => {
	test("starts from the build's defaults with nothing stored", () => {
		const { config } = boot();
		assert.equal(config.settings.interval, 60);
		assert.equal(config.connection.host, "10.0.0.1");
	});

	test("applies a valid device document live, stores it and acknowledges it", () => {
		const { config, store, send, applied, lastReport } = boot();
		send("device", { rev: 7, interval: 15, offsetT: 0.5 });
		assert.equal(config.settings.interval, 15);
		assert.deepEqual(applied, [{ settings: config.settings, changed: ["interval", "offsetT"] }]);
		const report = lastReport();
		assert.equal(report.device.status, "applied");
		assert.equal(report.device.rev, 7);
		assert.match(report.device.hash, /^[0-9a-f]{8}$/);
		assert.equal(report.effective.interval, 15);
		assert.equal(store.get("config", "d"), 0, "the commit key names the live slot");
		assert.equal(store.get("config", "d0.offsetT"), 50, "decimals are stored as an integer");
	});

	test("overlays the device document on the fleet document on the defaults", () => {
		const { config, send } = boot();
		send("fleet", { interval: 30, unit: "F" });
		send("device", { interval: 10 });
		assert.equal(config.settings.interval, 10);
		assert.equal(config.settings.unit, "F");
		send("device", "");
		assert.equal(config.settings.interval, 30, "clearing the device document falls back to the fleet's");
	});

	test("reports a cleared document as none, like a node that never had one, before and after a reboot", () => {
		const { store, send, lastReport } = boot();
		send("device", { rev: 2, interval: 10 });
		send("device", "");
		assert.deepEqual(lastReport().device, { status: "none", rev: null, hash: null, errors: [] });
		const rebooted = boot(store);
		assert.deepEqual(JSON.parse(rebooted.config.report()).device, { status: "none", rev: null, hash: null, errors: [] });
	});

	test("keeps what it had when a document is invalid, and stores nothing", () => {
		const { config, store, send, applied, lastReport } = boot();
		send("device", { interval: 20 });
		const writes = store.writes;
		send("device", { interval: 5, qos: 7 });
		assert.equal(config.settings.interval, 20);
		assert.equal(store.writes, writes);
		assert.equal(applied.length, 1);
		const report = lastReport();
		assert.equal(report.device.status, "rejected");
		assert.deepEqual(report.device.errors, ["qos: must be an integer from 0 to 1 (got 7)"]);
		assert.equal(report.effective.interval, 20);
	});

	test("does nothing at all when a retained document is replayed", () => {
		const { store, send, applied, reports } = boot();
		send("device", { interval: 20 });
		send("fleet", { interval: 5, qos: 7 });
		const before = { writes: store.writes, applied: applied.length, reports: reports.length };
		for (let reconnect = 0; reconnect < 5; reconnect++) {
			send("device", { interval: 20 });
			send("fleet", { interval: 5, qos: 7 });
		}
		assert.deepEqual({ writes: store.writes, applied: applied.length, reports: reports.length }, before);
	});

	test("rejects a document over the size limit, including one the client did not buffer", () => {
		const { config, lastReport } = boot();
		config.receive("device", undefined, 50_000);
		assert.deepEqual(lastReport().device.errors, ["document of 50000 bytes is over the 1024-byte limit"]);
		config.receive("fleet", new Uint8Array(2000), 2000);
		assert.equal(lastReport().fleet.status, "rejected");
	});

	test("rejects a document that is not UTF-8", () => {
		const { config, lastReport } = boot();
		config.receive("device", Uint8Array.of(0x7b, 0xff, 0x7d), 3);
		assert.deepEqual(lastReport().device.errors, ["not valid UTF-8"]);
	});

	test("comes back after a reboot with what it had applied, without a broker", () => {
		const first = boot();
		first.send("fleet", { rev: 2, interval: 30, deltaT: 0.25 });
		first.send("device", { offsetH: -3.5, sensor: "SHT4x" });
		first.clock.advance(STORE_INTERVAL_MS);
		const second = boot(first.store);
		assert.deepEqual(second.config.settings, first.config.settings);
		assert.equal(JSON.parse(second.config.report()).fleet.rev, 2);
		const writes = first.store.writes;
		second.send("fleet", { rev: 2, interval: 30, deltaT: 0.25 });
		assert.equal(first.store.writes, writes, "the replay after reboot is recognised too");
	});

	test("stores long strings in pieces a device accepts", () => {
		const password = "p".repeat(100) + "é".repeat(14);
		const first = boot();
		first.send("device", { password, user: "node" });
		assert.equal(first.store.get("config", "d0.password+1"), "p".repeat(37) + "é".repeat(13));
		assert.equal(boot(first.store).config.settings.password, password);
		first.send("device", { interval: 5 });
		first.clock.advance(STORE_INTERVAL_MS);
		first.send("device", { password: "short", user: "node" });
		first.clock.advance(STORE_INTERVAL_MS);
		assert.equal(first.store.get("config", "d"), 0);
		assert.equal(first.store.get("config", "d0.password+1"), undefined, "a shorter value leaves no stale pieces");
		assert.equal(boot(first.store).config.settings.password, "short");
	});

	test("writes to storage only the entries that changed, and a document alternating with another costs one write", () => {
		const { store, clock, send } = boot();
		const a = { interval: 20, unit: "F", discovery: false };
		const b = { interval: 25, unit: "F", discovery: false };
		send("device", a);
		clock.advance(STORE_INTERVAL_MS);
		let writes = store.writes;
		send("device", b);
		assert.equal(store.writes - writes, 6, "an empty slot: 3 settings and the hash, its checksum, the commit key");
		clock.advance(STORE_INTERVAL_MS);
		writes = store.writes;
		send("device", a);
		assert.equal(store.writes - writes, 1, "the other slot holds it already: only the commit key");
		clock.advance(STORE_INTERVAL_MS);
		writes = store.writes;
		send("device", { interval: 30, unit: "F", discovery: false });
		assert.equal(store.writes - writes, 5, "the interval and the hash, the checksum twice, the commit key");
	});

	test("splits UTF-8 only between characters", () => {
		assert.deepEqual(splitUtf8("abcd", 2), ["ab", "cd"]);
		assert.deepEqual(splitUtf8("aé", 2), ["a", "é"]);
		assert.deepEqual(splitUtf8("a😀b", 4), ["a", "😀", "b"]);
	});

	test("factory reset forgets every stored setting", () => {
		const { config, store, send } = boot();
		send("device", { interval: 20 });
		config.factoryReset();
		assert.equal(config.settings.interval, 60);
		assert.deepEqual(store.keys("config"), []);
	});
});

describe("new broker settings", () => {
	test("are rejected when a password has no user name, here or in a layer below", () => {
		const { config, clock, send, connections, lastReport } = boot();
		send("device", { password: "secret" });
		assert.equal(lastReport().device.status, "rejected");
		assert.deepEqual(lastReport().device.errors, ["password: needs a user name (MQTT 3.1.1), here or in a layer below"]);
		assert.equal(config.settings.password, "");
		send("fleet", { user: "node" });
		send("device", { rev: 2, password: "secret" });
		assert.equal(lastReport().device.status, "applied");
		clock.advance(20_000); // the broker-switch gap after the move the fleet's user name made
		assert.deepEqual(connections.at(-1), { host: "10.0.0.1", port: 1883, user: "node", password: "secret", ...PLAIN });
	});

	test("TLS settings: a pin is kept in one spelling, stored within the key and value limits, and survives a reboot", () => {
		const pin = "ab".repeat(32);
		const { config, store, clock, send, connections, lastReport } = boot();
		send("device", { tls: true, port: 8883, pin: pin.toUpperCase().match(/../g)!.join(":") });
		assert.equal(lastReport().device.status, "applied");
		assert.deepEqual(connections, [{ host: "10.0.0.1", port: 8883, user: "", password: "", tls: true, pin, insecure: false }]);
		config.connected();
		clock.advance(STORE_INTERVAL_MS);
		// The store refuses keys over 15 characters and values over 63 bytes, as a board does: reaching here means it fit.
		const rebooted = boot(store).config;
		assert.equal(rebooted.settings.pin, pin);
		assert.deepEqual(rebooted.connection, connections[0]);
		send("device", { rev: 2, pin: "12:34" });
		assert.match(lastReport().device.errors[0], /^pin: must be a SHA-256 of 64 hex digits/);
	});

	test("TLS settings on a host without TLS: a document asking for it is rejected whole, saying why", () => {
		const { config, send, connections, lastReport } = boot(undefined, undefined, { noTls: "not on this board" });
		send("device", { tls: true, port: 8883, interval: 5 });
		assert.equal(lastReport().device.status, "rejected");
		assert.deepEqual(lastReport().device.errors, ["tls: not on this board"]);
		assert.equal(config.settings.interval, DEFAULTS.interval);
		assert.deepEqual(connections, []);
	});

	test("are tried, and kept once a connection succeeds with them", () => {
		const { config, store, clock, send, connections, lastReport } = boot();
		send("device", { host: "10.0.0.2", port: 1884 });
		assert.deepEqual(connections, [{ host: "10.0.0.2", port: 1884, user: "", password: "", ...PLAIN }]);
		assert.equal(lastReport().broker.state, "trying");
		config.connected();
		assert.equal(lastReport().broker.state, "confirmed");
		clock.advance(ROLLBACK_MS * 2);
		assert.equal(connections.length, 1, "no rollback after a confirmed connection");
		assert.equal(store.get("config", `w${store.get("config", "w")}.host`), "10.0.0.2");
		assert.equal(boot(store).config.connection.host, "10.0.0.2", "a reboot starts with the settings that worked");
	});

	test("are rolled back when no connection succeeds in time, and not tried again on replay", () => {
		const { config, clock, send, connections, lastReport } = boot();
		send("device", { host: "10.9.9.9", interval: 30 });
		clock.advance(ROLLBACK_MS - 1);
		assert.equal(connections.length, 1);
		clock.advance(1);
		assert.deepEqual(connections.at(-1), { host: "10.0.0.1", port: 1883, user: "", password: "", ...PLAIN });
		assert.equal(config.connection.host, "10.0.0.1");
		const report = lastReport();
		assert.equal(report.broker.state, "rolled-back");
		assert.equal(report.broker.note, "could not connect to 10.9.9.9:1883 within 60 s (timeout); back to 10.0.0.1:1883");
		assert.equal(config.settings.interval, 30, "the document's other settings stay applied");
		config.connected();
		send("device", "");
		send("device", { host: "10.9.9.9", interval: 30 });
		assert.equal(connections.length, 2, "the refused settings are not tried again");
		send("device", { host: "10.0.0.3", interval: 30 });
		assert.equal(connections.at(-1)!.host, "10.0.0.3", "different settings get their own trial");
	});

	test("say why they were rolled back, and the note goes with the document", () => {
		const { config, clock, send, lastReport } = boot();
		send("device", { host: "10.9.9.9", user: "node", password: "wrong" });
		config.connectFailed("bad-username-or-password");
		clock.advance(ROLLBACK_MS);
		assert.equal(lastReport().broker.note, "could not connect to 10.9.9.9:1883 within 60 s (not-authorized); back to 10.0.0.1:1883");
		config.connected();
		send("device", "");
		assert.equal(lastReport().broker.state, "confirmed");
		assert.equal(lastReport().broker.note, null);
	});

	test("that were refused stay refused after a reboot", () => {
		const first = boot();
		first.send("device", { host: "10.9.9.9" });
		first.clock.advance(ROLLBACK_MS);
		const second = boot(first.store);
		assert.equal(second.config.connection.host, "10.0.0.1");
		second.send("fleet", { interval: 45 });
		assert.equal(second.connections.length, 0);
	});

	test("never show the password in a report or a log line", () => {
		const secret = "correct-horse-battery";
		const { config, clock, send, reports, log } = boot();
		send("device", { host: "10.9.9.9", user: "node", password: secret });
		send("fleet", { password: 5 });
		clock.advance(ROLLBACK_MS);
		config.connected();
		assert.ok(reports.length >= 3);
		for (const text of [...reports, ...log.lines]) assert.ok(!text.includes(secret), text);
		assert.equal(JSON.parse(reports[0]).effective.password, "***");
	});
});
