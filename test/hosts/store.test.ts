import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import { PreferenceStore } from "../../hosts/node/store";

test("the store keeps booleans, integers, strings and bytes per domain", () => {
	const store = new PreferenceStore();
	store.set("cfg", "enabled", true);
	store.set("cfg", "interval", 60000);
	store.set("cfg", "name", "kitchen");
	store.set("cfg", "blob", Uint8Array.of(1, 2, 3).buffer);
	store.set("other", "name", "garage");
	assert.equal(store.get("cfg", "enabled"), true);
	assert.equal(store.get("cfg", "interval"), 60000);
	assert.equal(store.get("cfg", "name"), "kitchen");
	assert.deepEqual(new Uint8Array(store.get("cfg", "blob") as ArrayBuffer), Uint8Array.of(1, 2, 3));
	assert.deepEqual(store.keys("cfg").sort(), ["blob", "enabled", "interval", "name"]);
	assert.equal(store.get("cfg", "missing"), undefined);
	store.delete("cfg", "name");
	assert.equal(store.get("cfg", "name"), undefined);
	assert.equal(store.get("other", "name"), "garage");
});

test("the store refuses what a device refuses: long names, long values, floats", () => {
	const store = new PreferenceStore();
	assert.throws(() => store.set("cfg", "a-key-of-16-char", 1), /too long/);
	assert.throws(() => store.set("a-domain-16-char", "k", 1), /too long/);
	assert.throws(() => store.set("cfg", "k", "x".repeat(64)), /can't save prefs/);
	assert.throws(() => store.set("cfg", "k", "é".repeat(32)), /can't save prefs/, "64 bytes of UTF-8 in 32 characters");
	assert.throws(() => store.set("cfg", "k", new ArrayBuffer(64)), /can't save prefs/);
	assert.throws(() => store.set("cfg", "k", 21.5), /float unsupported/);
	store.set("cfg", "a-key-of-15-chr", "x".repeat(63));
	store.set("cfg", "k", -2147483648);
	assert.equal(store.writes, 2, "refused values never reach storage");
});

test("the store counts every write, so tests can see flash wear", () => {
	const store = new PreferenceStore();
	store.set("cfg", "k", 1);
	store.set("cfg", "k", 1);
	store.delete("cfg", "k");
	store.delete("cfg", "k");
	assert.equal(store.writes, 3, "deleting a missing key writes nothing");
});

test("a store with a file survives a simulated reboot", () => {
	const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "store-")), "prefs.json");
	const before = new PreferenceStore(file);
	before.set("cfg", "interval", 5000);
	before.set("cfg", "blob", Uint8Array.of(9).buffer);
	const after = new PreferenceStore(file);
	assert.equal(after.get("cfg", "interval"), 5000);
	assert.deepEqual(new Uint8Array(after.get("cfg", "blob") as ArrayBuffer), Uint8Array.of(9));
});
