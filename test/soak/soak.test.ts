/*
 * The bounded soak for CI (about half a minute): 64 nodes, 3 simulated minutes at 8x real time, every
 * fault kind at least once, the tick counter crossing its 32-bit wrap, against a real, persistent Mosquitto
 * behind the fault-injecting proxy. `npm run soak` runs the same harness for longer.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { FAULT_KINDS } from "./faults";
import { runSoak, type SoakReport } from "./soak";

const MB = 2 ** 20;

describe("a fleet soaked in faults", () => {
	let report: SoakReport;

	test("runs three simulated minutes of faults and drains", { timeout: 150_000 }, async (t) => {
		report = await runSoak({
			nodes: 64, durationMs: 170_000, speed: 8, seed: 3, gap: { min: 3000, max: 10_000 }, maxOutageMs: 20_000, wrapAfterMs: 60_000,
		});
		const { heap, missing, ...summary } = report;
		t.diagnostic(JSON.stringify(summary));
		t.diagnostic(`heap after collections (MB): ${heap.map((s) => `${s.at} s ${(s.bytes / MB).toFixed(1)}`).join(", ")}`);
		assert.ok(report.readings >= 10_000, `${report.readings} readings`);
		assert.equal(report.silentNodes, 0, "every node published");
	});

	test("injected every kind of fault, and each took effect", () => {
		for (const kind of FAULT_KINDS) assert.ok(report.faults[kind] >= 1, `no ${kind} fault`);
		assert.deepEqual(report.faultFailures, []);
		assert.ok(report.proxy.cut > 0 && report.proxy.swallowed > 0, "connections cut and PUBACKs lost");
		assert.ok(report.reconnects > 0 && report.sensorErrors > 0, "nodes reconnected and saw sensor errors");
	});

	test("lost no reading: every sequence number up to the end arrived", () => {
		assert.deepEqual(report.missing, {});
		assert.equal(report.lost, 0);
		assert.equal(report.malformed, 0);
		assert.equal(report.dropped, 0, "nothing dropped at the outbox bound: it holds the longest outage injected");
	});

	test("duplicated readings only after re-sends, and counted every one", () => {
		assert.ok(report.resent > 0, "the lost PUBACKs forced re-sends");
		assert.ok(report.duplicates <= report.resent, `${report.duplicates} duplicates from ${report.resent} re-sends`);
	});

	test("kept its memory bounded and threw nothing", () => {
		assert.ok(report.heapGrowth < 8 * MB, `heap grew ${(report.heapGrowth / MB).toFixed(1)} MB after warm-up`);
		assert.deepEqual(report.uncaught, []);
		assert.deepEqual(report.errorLines, []);
	});
});
