import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { describe, test } from "node:test";
import { findImports, findViolations, type Rules } from "./portable-source";

const ROOT = path.resolve(import.meta.dirname, "../..");
/** Code that runs on the XS engine unchanged. sim/sensors and the environment model run inside XS too. */
const PORTABLE = ["src", "sim/sensors", "sim/environment.ts"];

function files(entry: string): string[] {
	const full = path.join(ROOT, entry);
	if (!fs.existsSync(full)) return [];
	if (fs.statSync(full).isFile()) return [entry];
	return fs.readdirSync(full, { recursive: true, encoding: "utf8" })
		.filter((name) => name.endsWith(".ts") && !name.endsWith(".d.ts"))
		.map((name) => path.join(entry, name));
}

/** Relative specifiers, and rooted module names (src/io, sim/sensors/board), that land inside `roots`. */
function staysIn(file: string, roots: string[]) {
	return (specifier: string) => {
		const target = specifier.startsWith(".") ? path.relative(ROOT, path.resolve(ROOT, path.dirname(file), specifier)) : specifier;
		return roots.some((root) => target === root.replace(/\.ts$/, "") || target.startsWith(root + path.sep));
	};
}

function scan(entries: string[], rules: (file: string) => Rules) {
	const found: string[] = [];
	for (const file of entries.flatMap(files)) {
		for (const v of findViolations(fs.readFileSync(path.join(ROOT, file), "utf8"), rules(file)))
			found.push(`${file}:${v.line}: ${v.why}\n    ${v.text}`);
	}
	return found;
}

describe("the I/O boundary", () => {
	test("src/ and the portable simulator use no Node API, no XS-only global and no host code", () => {
		const found = scan(PORTABLE, (file) => ({ isAllowedImport: staysIn(file, PORTABLE) }));
		assert.deepEqual(found, [], `firmware code must get its I/O injected:\n${found.join("\n")}`);
	});

	test("the XS host binding's engine side uses no Node API", () => {
		const engineSide = fs.readdirSync(path.join(ROOT, "hosts/xs")).filter((name) => name.endsWith(".ts")).map((name) => `hosts/xs/${name}`);
		const found = scan(engineSide, (file) => ({ isAllowedImport: staysIn(file, [...PORTABLE, "hosts/xs"]) }));
		assert.deepEqual(found, [], found.join("\n"));
	});

	test("the Moddable host bindings use no Node API", () => {
		const found = scan(["hosts/moddable"], () => ({ isAllowedImport: () => true, moddableHost: true }));
		assert.deepEqual(found, [], found.join("\n"));
	});

	test("the simulated world imports no host: a host's entry point puts the two together", () => {
		const found = files("sim").flatMap((file) => findImports(fs.readFileSync(path.join(ROOT, file), "utf8"))
			.filter(({ specifier }) => staysIn(file, ["hosts"])(specifier))
			.map(({ line, text }) => `${file}:${line}: ${text}`));
		assert.deepEqual(found, [], found.join("\n"));
	});
});

describe("the boundary scanner", () => {
	const firmware: Rules = { isAllowedImport: (s) => s.startsWith("./") };
	const whys = (source: string, rules = firmware) => findViolations(source, rules).map((v) => v.why);

	test("catches Node imports in every form", () => {
		assert.equal(whys(`import fs from "node:fs";`).length, 1);
		assert.equal(whys(`import { connect } from 'net';`).length, 1);
		assert.equal(whys(`export { x } from "node:path";`).length, 1);
		assert.equal(whys(`const m = await import("child_process");`).length, 1);
		assert.equal(whys(`import "node:crypto";`).length, 1);
	});

	test("catches imports that leave the portable tree", () => {
		assert.match(whys(`import { TCP } from "../hosts/node/tcp";`)[0], /outside the portable tree/);
		assert.match(whys(`import Timer from "timer";`)[0], /outside the portable tree/);
	});

	test("catches Node and XS globals", () => {
		assert.match(whys(`const b = Buffer.from("x");`)[0], /Buffer/);
		assert.match(whys(`setTimeout(() => {}, 10);`)[0], /setTimeout/);
		assert.match(whys(`if (process.env.X) {}`)[0], /process/);
		assert.match(whys(`console.log("x");`)[0], /console/);
		assert.match(whys(`trace("x\\n");`)[0], /trace/);
		assert.match(whys(`const s = String.fromArrayBuffer(b);`)[0], /XS-only/);
		assert.match(whys(`new device.I2C.default.io({});`)[0], /device/);
	});

	test("is not fooled by comments, strings, members or object keys", () => {
		assert.deepEqual(whys(`// setTimeout and process are fine in prose\nconst a = "Buffer"; /* console */`), []);
		assert.deepEqual(whys("const t = `uses setTimeout`;"), []);
		assert.deepEqual(whys(`clock.set(cb, 5); x.process(); const o = { process: 1, console: 2 };`), []);
		assert.deepEqual(whys(`interface I { device: string }`), []);
		assert.deepEqual(whys(`const device = read(); if (device === 1) {}`), [], "a local shadows the global");
	});

	test("lets Moddable host bindings use XS globals but not Node ones", () => {
		const host: Rules = { isAllowedImport: () => true, moddableHost: true };
		assert.deepEqual(whys(`trace("x"); Timer.set(f, 1); import Timer from "timer"; import Net from "net";`, host), []);
		assert.equal(whys(`import net from "node:net";`, host).length, 1);
		assert.equal(whys(`setImmediate(f);`, host).length, 1);
	});
});
