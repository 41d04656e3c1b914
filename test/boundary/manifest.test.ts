/*
 * mcconfig builds exactly what manifest.json lists, so a module left out, or an import the XS module
 * loader cannot resolve, only shows up on a board. These tests find both on the desktop.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { blankCommentsAndStrings } from "./portable-source";
import { resolveLikeXs } from "./xs-modules";

const ROOT = path.resolve(import.meta.dirname, "../..");
const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, "manifest.json"), "utf8"));
type Modules = Record<string, string>;

function sources(dir: string): string[] {
	return fs.readdirSync(path.join(ROOT, dir), { recursive: true, encoding: "utf8" })
		.filter((name) => name.endsWith(".ts") && !name.endsWith(".d.ts"))
		.map((name) => path.join(dir, name.slice(0, -3)));
}

/** Module specifiers a file imports (type-only imports vanish in the build). */
function imports(file: string): string[] {
	const code = fs.readFileSync(path.join(ROOT, `${file}.ts`), "utf8");
	const blanked = blankCommentsAndStrings(code);
	const found: string[] = [];
	for (const match of blanked.matchAll(/\b(import|export)\s+(type\s+)?[^;]*?\bfrom\s*["']/g)) {
		if (match[2]) continue;
		const start = match.index! + match[0].length;
		found.push(code.slice(start, code.indexOf(code[start - 1], start)));
	}
	return found;
}

/** Every import of every listed module must name a listed module, or an SDK module for host code. */
function unresolved(modules: Modules): string[] {
	const problems: string[] = [];
	for (const [name, file] of Object.entries(modules)) {
		for (const specifier of imports(file.replace(/^\.\//, ""))) {
			const target = resolveLikeXs(name, specifier);
			if (target !== undefined && Object.hasOwn(modules, target)) continue;
			// Host bindings may import the SDK's own modules (timer, net, mc/config...); firmware may not.
			if (!specifier.startsWith(".") && file.startsWith("./hosts/moddable/")) continue;
			problems.push(`${name} imports "${specifier}" (${target}), which the manifest does not list`);
		}
	}
	return problems;
}

/** Files that platform sections map (setup modules; hosts/moddable/tls, which is ./no-tls on the ESP8266). */
const platformFiles = new Set(Object.values(manifest.platforms as Record<string, { modules?: Modules }>)
	.flatMap((section) => Object.values(section.modules ?? {})));

test("the manifest lists every firmware module under its own path", () => {
	const listed: Modules = manifest.modules;
	// Setup modules and TLS belong to platform sections, and the memory probe to the check's own manifest.
	const expected = [...sources("src"), ...sources("hosts/moddable").filter((name) => !platformFiles.has(`./${name}`) && !/\/check\//.test(name))];
	for (const name of expected) assert.equal(listed[name], `./${name}`, `${name} is missing from manifest.json`);
	for (const name of sources("hosts/moddable").filter((name) => /setup-|tls/.test(name))) assert.ok(platformFiles.has(`./${name}`), `${name} is in no platform section`);
	for (const [name, file] of Object.entries(listed)) assert.ok(fs.existsSync(path.join(ROOT, `${file}.ts`)), `${name}: no ${file}.ts`);
	assert.equal(manifest.creation.main, "hosts/moddable/main");
	assert.ok(Object.hasOwn(listed, manifest.creation.main));
});

test("every import resolves on each platform: boards, and the simulator with its simulated sensors", () => {
	for (const platform of ["lin", "mac", "win"]) {
		const section = manifest.platforms[platform];
		assert.equal(section.modules["setup/simulator"], "./hosts/moddable/setup-simulator");
		assert.equal(section.modules["hosts/moddable/tls"], "./hosts/moddable/tls");
		assert.deepEqual(unresolved({ ...manifest.modules, ...section.modules }), [], platform);
	}
	for (const platform of ["esp32/*", "esp"]) {
		const section = manifest.platforms[platform];
		assert.equal(section.modules["setup/wifi"], "./hosts/moddable/setup-wifi");
		assert.equal(section.modules["hosts/moddable/tls"], platform === "esp" ? "./hosts/moddable/no-tls" : "./hosts/moddable/tls");
		assert.deepEqual(unresolved({ ...manifest.modules, ...section.modules }), [], platform);
	}
});

test("what the real SDK build needs: the instrumentation module, a stack set on purpose, Wi-Fi and storage per platform", () => {
	// host.ts imports instrumentation; the base manifest brings only its C part.
	assert.ok(manifest.include.includes("$(MODULES)/base/instrumentation/manifest.json"));
	// Allocated whole. check:moddable measures the peaks: about 260 slots over TCP (the node's constructors at
	// boot; a connect about 240, a reading about 226, the simulated I2C bus's frames included), now that the node
	// publishes readings and what it owes from a timer turn of its own and detection, the Stepper and the
	// session's tick call less deep (the ESP8266's default is 256), and about 400 while a TLS handshake runs,
	// which the ESP8266 never does. 304 keeps the ESP8266 at least 15 % above its peak.
	assert.ok(manifest.creation.stack >= 640);
	assert.equal(manifest.platforms.esp.creation.stack, 304);
	const boards = ["esp32/*", "esp"].map((platform) => manifest.platforms[platform]);
	const simulators = ["lin", "mac", "win"].map((platform) => manifest.platforms[platform]);
	// The legacy wifi module would start a second driver next to the SDK's ECMA-419 one.
	assert.ok(!JSON.stringify(manifest).includes('"hosts/moddable/wifi"'));
	for (const section of boards) assert.ok(section.preload.includes("setup/wifi"));
	// The lin Preference cannot save once preloaded: the host binding, which imports it, is preloaded on boards only.
	assert.ok(!manifest.preload.includes("hosts/moddable/host"));
	for (const section of boards) assert.ok(section.preload.includes("hosts/moddable/host"));
	// The entry imports the host binding, so it is preloaded where that is: then it costs no RAM.
	assert.ok(!manifest.preload.includes("hosts/moddable/main"));
	for (const section of boards) assert.ok(section.preload.includes("hosts/moddable/main"));
	// A desktop has no MAC for the default id.
	for (const section of simulators) {
		assert.ok(!section.preload.includes("hosts/moddable/host"));
		assert.match(section.config.id, /^[\w-]+$/);
	}
});

test("host.flash per platform: the SDK's flash module on a named partition on boards, a file in the simulators", () => {
	const partitions: Record<string, string> = { "esp32/*": "backlog", esp: "storage" };
	for (const [platform, partition] of Object.entries(partitions)) {
		const section = manifest.platforms[platform];
		assert.equal(section.modules["hosts/moddable/flash"], "./hosts/moddable/flash", platform);
		assert.ok(section.include.includes("$(MODULES)/files/flash/manifest.json"), platform);
		assert.equal(section.config.flash_partition, partition, platform);
		// SNTP after a failed first try, from setup/wifi: boards only.
		assert.equal(section.modules["hosts/moddable/sntp"], "./hosts/moddable/sntp", platform);
		// The SDK's file module mounts SPIFFS on the ESP8266, and formats it when the mount fails: host.flash uses that region raw.
		assert.ok(!section.include.includes("$(MODULES)/files/file/manifest.json"), platform);
	}
	// esp32/nodemcu gets the partition table with `backlog` in it.
	assert.ok(manifest.platforms["esp32/*"].include.includes("./hosts/moddable/esp32/manifest.json"));
	const table = fs.readFileSync(path.join(ROOT, "hosts/moddable/esp32/partitions.csv"), "utf8");
	assert.match(table, /^backlog,\s*data,\s*undefined,\s*0x3C0000,\s*0x040000,/m);
	for (const platform of ["lin", "mac", "win"]) {
		const section = manifest.platforms[platform];
		assert.equal(section.modules["hosts/moddable/flash"], "./hosts/moddable/file-flash", platform);
		assert.ok(section.include.includes("$(MODULES)/files/file/manifest.json"), platform);
		assert.equal(section.config.flash_partition, "backlog", platform);
		assert.equal(section.modules["hosts/moddable/sntp"], undefined, platform);
	}
});

test("module names resolve the way the XS engine resolves them", () => {
	assert.equal(resolveLikeXs("src/app/node", "./config"), "src/app/config");
	assert.equal(resolveLikeXs("src/app/node", "../io"), "src/io");
	assert.equal(resolveLikeXs("src/app/node", "../drivers/detect.js"), "src/drivers/detect");
	assert.equal(resolveLikeXs("hosts/moddable/main", "src/app/node"), "src/app/node");
	assert.equal(resolveLikeXs("hosts/moddable/main", "../../src/app/node"), "hosts/../src/app/node", "XS does not normalise a second ../");
	assert.equal(resolveLikeXs("main", "../x"), undefined);
});

test("the manifest has sections for the ESP32, the ESP8266 and the desktop simulator, and refuses other targets", () => {
	for (const platform of ["esp32/*", "esp", "lin", "mac", "win"]) assert.ok(manifest.platforms[platform], platform);
	assert.match(manifest.platforms["..."].error, /unsupported target/);
	assert.equal(manifest.platforms.esp.config.outbox_bytes, "2048", "the 32 KB ESP8266 gets the small outbox");
});

test("every preloaded module is listed, and main, which starts the firmware, is not preloaded", () => {
	const all: Modules = { ...manifest.modules, ...manifest.platforms.lin.modules };
	for (const name of [...manifest.preload, ...manifest.platforms.lin.preload]) assert.ok(Object.hasOwn(all, name), name);
	assert.ok(!manifest.preload.includes(manifest.creation.main));
});
