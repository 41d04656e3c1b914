/*
 * The xsnap host's imitation of preload (hosts/xs/preload.ts, hosts/xs/node/bundle.ts), in the real XS
 * engine: a fixture (test/xs/fixtures/) with preloaded modules fails where a device fails, and the old
 * telemetry code that crashed the device (fixed in 54c1993) now fails here too. test/xs/boot.test.ts runs
 * the firmware itself with the imitation on.
 */
import assert from "node:assert/strict";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { bootInXs, type XsNode } from "../../hosts/xs/node/boot";
import { bundleFirmware, bundleFirmwareWith, bundleForXs } from "../../hosts/xs/node/bundle";
import { XsWorker } from "../../hosts/xs/node/worker";
import { startMosquitto, type Mosquitto } from "../helpers/mosquitto";

const FIXTURES = path.join(import.meta.dirname, "fixtures");
const PRELOADS = new Set(["test/xs/fixtures/preloaded.ts", "test/xs/fixtures/telemetry-before-54c1993.ts"]);
const READ_ONLY = /XS: TypeError: read only value \(in stringify\)/;

describe("the preload imitation in the XS engine", () => {
	let xs: XsWorker;
	/** Calls fixture.<name>() in XS; resolves with what it returns, as a string. */
	const call = async (name: string) => Buffer.from((await xs.evaluate(`new TextEncoder().encode(String(fixture.${name}())).buffer`)).reply).toString();

	before(async () => {
		const { code } = await bundleForXs(path.join(FIXTURES, "main.ts"), PRELOADS);
		xs = new XsWorker({ onRequest: () => { throw new Error("the fixture sends no requests"); } });
		await xs.evaluate(code);
	});
	after(async () => {
		await xs?.close();
	});

	test("JSON.stringify throws, as XS does on a device, on a preloaded module's table wherever it is met", async () => {
		await assert.rejects(call("stringifyTable"), READ_ONLY);
		await assert.rejects(call("stringifyHoldingTable"), READ_ONLY);
		await assert.rejects(call("stringifyShallowCopy"), READ_ONLY);
	});

	test("JSON.stringify of what is built at run time works, replacers included", async () => {
		assert.equal(await call("stringifyBuiltAtRunTime"), `{"unit":"°C","limits":[-40,125]}`);
		assert.equal(await call("stringifyWithReplacer"), `{"a":1}`);
	});

	test("a preloaded module's plain objects and arrays stay writable, as through a device's RAM aliases", async () => {
		assert.equal(await call("writePlainState"), "°F 150 1");
	});

	test("its functions and classes are frozen, and so are the built-in prototypes", async () => {
		assert.equal(await call("isFrozen"), "true,true,true,true,true,false");
		await assert.rejects(call("writeStatic"), /XS: TypeError: .*count: not writable/);
		await assert.rejects(call("extendFunction"), /XS: TypeError: .*not extensible/);
		await assert.rejects(call("nameError"), /XS: TypeError: .*name: not writable/);
	});

	test("catches the telemetry bug that crashed the device until 54c1993: preloaded unit tables in the payload", async () => {
		await assert.rejects(call("telemetryBefore54c1993"), READ_ONLY);
	});
});

describe("the firmware bundle's preload", () => {
	test("hands petrify the top-level bindings of every module a simulator build preloads, and of no other", async () => {
		const { preloaded } = await bundleFirmware();
		assert.deepEqual(preloaded["src/app/telemetry.ts"], ["round2", "Telemetry", "ChangeFilter"]);
		assert.ok(preloaded["sim/environment.ts"].includes("Environment"));
		assert.ok(preloaded["src/mqtt/client.ts"].includes("MqttClient"));
		const modules = Object.keys(preloaded);
		assert.ok(modules.every((module) => /^(src|sim)\//.test(module)), modules.join(", "));
	});

	test("refuses a top-level declaration it cannot attribute", async () => {
		await assert.rejects(bundleForXs(path.join(FIXTURES, "destructuring.ts"), new Set(["test/xs/fixtures/destructuring.ts"])), /cannot tell the bindings/);
	});
});

describe("the firmware as it was before 54c1993", () => {
	let broker: Mosquitto;
	let xs: XsNode | undefined;
	after(async () => {
		await xs?.close();
		await broker?.stop();
	});

	test("fails its first reading in XS with the error the device showed", async () => {
		broker = await startMosquitto();
		const bundle = await bundleFirmwareWith({ "src/app/telemetry.ts": "test/xs/fixtures/telemetry-before-54c1993.ts" });
		xs = await bootInXs({ broker, id: "xs-54c1993", settings: { interval: 1 }, bundle });
		await assert.rejects(xs.until((status) => status.published >= 1, "a reading"), READ_ONLY);
	});
});
