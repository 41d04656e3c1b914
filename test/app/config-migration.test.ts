/*
 * Settings stored by the firmware before the two-slot layout ("d.interval", "w.host", ...) are carried over
 * on the first boot of the new one, atomically: a node moved to another broker by a document must not come
 * back from an update on the build's broker, and a power cut during the carry-over loses nothing.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { PreferenceStore } from "../../hosts/node/store";
import { ConfigStore } from "../../src/app/config-store";

/** What the previous firmware (before the two slots) left in storage: a device document and working broker settings. */
function previousFirmware(): PreferenceStore {
	const store = new PreferenceStore();
	const put = (key: string, value: string | number) => store.set("config", key, value);
	put("d.interval", 30);
	put("d.offsetT", -25); // -0.25, kept as hundredths
	put("d.#", "c301aebf");
	put("d.@", 4);
	put("w.host", "broker-b.example");
	put("w.port", 1884);
	put("w.user", "node");
	put("w.password", "p".repeat(63));
	put("w.password+1", "q".repeat(10));
	put("x#", "0badc0de");
	return store;
}

const EXPECTED = {
	device: { settings: { interval: 30, offsetT: -0.25 }, hash: "c301aebf", rev: 4 },
	working: { settings: { host: "broker-b.example", port: 1884, user: "node", password: "p".repeat(63) + "q".repeat(10) }, hash: "", rev: undefined },
	fleet: { settings: {}, hash: "" },
};

function layers(store: PreferenceStore) {
	const config = new ConfigStore(store);
	return { device: config.load("device"), working: config.load("working"), fleet: config.load("fleet"), refused: config.refused() };
}

test("the previous layout is read back, saved in slots, and its entries removed", () => {
	const store = previousFirmware();
	const loaded = layers(store);
	assert.deepEqual({ device: loaded.device, working: loaded.working, fleet: loaded.fleet }, EXPECTED);
	assert.equal(loaded.refused, "0badc0de");
	assert.deepEqual(store.keys("config").filter((key) => /^[dfw]\./.test(key)), []);
	const writes = store.writes;
	layers(store);
	assert.equal(store.writes, writes, "a second boot writes nothing");
});

test("a power cut at any write of the carry-over boots with the same settings", () => {
	const total = (() => {
		const store = previousFirmware();
		const before = store.writes;
		layers(store);
		return store.writes - before;
	})();
	assert.ok(total > 10);
	for (let cut = 0; cut < total; cut++) {
		const store = previousFirmware();
		store.cutPowerAfter(cut);
		assert.throws(() => layers(store));
		store.cutPowerAfter(Infinity); // power back: the same storage, rebooted
		const loaded = layers(store);
		assert.deepEqual({ device: loaded.device, working: loaded.working, fleet: loaded.fleet }, EXPECTED, `cut after ${cut} writes`);
		assert.deepEqual(store.keys("config").filter((key) => /^[dfw]\./.test(key)), [], `cut after ${cut} writes: old entries gone`);
	}
});
