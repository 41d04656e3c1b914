import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";

const ROOT = path.resolve(import.meta.dirname, "../..");
const TSC = path.join(ROOT, "node_modules/.bin/tsc");

/** Type-checks one file under the device program's compiler options; returns tsc's output. */
function checkAsFirmware(source: string): { ok: boolean; output: string } {
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), "typecheck-"));
	fs.writeFileSync(path.join(dir, "firmware.ts"), source);
	fs.writeFileSync(path.join(dir, "tsconfig.json"), JSON.stringify({ extends: path.join(ROOT, "tsconfig.json"), include: ["firmware.ts"] }));
	const result = spawnSync(TSC, ["-p", path.join(dir, "tsconfig.json")], { encoding: "utf8" });
	return { ok: result.status === 0, output: result.stdout + result.stderr };
}

test("the device program accepts plain ES2022", () => {
	const result = checkAsFirmware(`export const ticks: number[] = [1, 2].map((n) => n * 2);\n`);
	assert.ok(result.ok, result.output);
});

test("the device program rejects type errors and Node globals in firmware", () => {
	const result = checkAsFirmware([
		`export const n: number = "not a number";`,
		`export const b = Buffer.from("x");`,
		`process.exit(1);`,
		`setTimeout(() => {}, 1);`,
		`console.log("x");`,
		`export const last = [1].findLast((x) => x > 0);`,
	].join("\n"));
	assert.equal(result.ok, false);
	assert.match(result.output, /firmware\.ts\(1,\d+\): error TS2322/);
	for (const name of ["Buffer", "process", "setTimeout", "console"]) assert.match(result.output, new RegExp(`Cannot find name '${name}'`));
	assert.match(result.output, /Property 'findLast' does not exist/, "ES2023 is newer than the XS we test on");
});
