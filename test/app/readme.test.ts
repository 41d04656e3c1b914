/*
 * The tables of `npm start` options, settings and topics, in the README or docs/, against the code they
 * describe: a flag, a setting, a range, a default or a topic added or changed on one side only fails here.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { describe, test } from "node:test";
import { SIMULATOR_OUTBOX } from "../../hosts/node/fleet";
import { discoveryTopic } from "../../src/app/discovery";
import { DEFAULTS, SETTINGS } from "../../src/app/settings";
import { topicsFor } from "../../src/app/topics";

const ROOT = path.join(import.meta.dirname, "../..");
/** The README and the reference pages it links, by path. */
const PAGES = new Map(["README.md", ...fs.readdirSync(path.join(ROOT, "docs")).filter((name) => name.endsWith(".md")).map((name) => `docs/${name}`)]
	.map((page) => [page, fs.readFileSync(path.join(ROOT, page), "utf8")]));

/** The rows (cells, trimmed) of the table whose header line is `header`, wherever it is: it must be in one place only. */
function table(header: string): string[][] {
	const found = [...PAGES].flatMap(([page, text]) => text.split("\n").flatMap((line, index, lines) => line === header ? [{ page, lines: lines.slice(index) }] : []));
	assert.equal(found.length, 1, `one table headed ${header} in the README and docs/, found in ${found.map(({ page }) => page).join(", ") || "none"}`);
	const [{ lines }] = found;
	const rows: string[][] = [];
	for (const line of lines.slice(2)) {
		if (!line.startsWith("|")) break;
		rows.push(line.slice(1, -1).split(/(?<!\\)\|/).map((cell) => cell.trim()));
	}
	return rows;
}

/** The backquoted names at the start of a cell: "`deltaT`, `deltaH`" gives both. */
const names = (cell: string) => [...cell.matchAll(/`([^`]+)`/g)].map((match) => match[1]);

describe("the README and docs/ agree with the code", () => {
	test("npm start's option table lists exactly the flags of --help", () => {
		const help = spawnSync(process.execPath, ["--import", "tsx", "hosts/node/main.ts", "--help"], { cwd: ROOT, encoding: "utf8" }).stdout;
		const flags = (text: string) => new Set([...text.matchAll(/(?<![\w-])(--?[a-z][a-z-]*)/g)].map((match) => match[1]));
		const documented = new Set(table("| option | meaning |").flatMap(([option]) => names(option).flatMap((name) => [...flags(name)])));
		const offered = new Set([...help.split("\n")].filter((line) => /^\s+-/.test(line)).flatMap((line) => [...flags(line.trim().split(/\s{2,}/)[0])]));
		assert.ok(offered.size >= 10, `${offered.size} flags in --help`);
		assert.deepEqual([...documented].sort(), [...offered].sort());
	});

	test("the settings table has every setting, with its type, range and default", () => {
		const rows = table("| setting | type | default | meaning |");
		const documented: string[] = [];
		for (const [keys, type, defaults] of rows) {
			for (const key of names(keys)) {
				documented.push(key);
				const spec = SETTINGS[key];
				assert.ok(spec, `${key} is a setting`);
				if (spec.type === "integer" || spec.type === "number") {
					const ranges = [`${spec.type} ${spec.min}–${spec.max}`, `${spec.type} ${spec.min}–0x${spec.max!.toString(16)}`, `${spec.min} or ${spec.max}`];
					assert.ok(ranges.includes(type), `${key}: "${type}" is one of ${ranges.join(", ")}`);
				}
				else if (spec.type === "string") assert.equal(type, `string ≤ ${spec.maxBytes} bytes`, key);
				else if (spec.type === "choice" && key !== "sensor") assert.equal(type, spec.choices!.map((choice) => `\`"${choice}"\``).join(" or "), key);
				else if (spec.type === "boolean") assert.equal(type, "boolean", key);
				if (key === "host") assert.equal(defaults, "build setting");
				else assert.equal(defaults.replaceAll("`", ""), typeof DEFAULTS[key] === "string" ? JSON.stringify(DEFAULTS[key]) : String(DEFAULTS[key]), key);
			}
		}
		assert.deepEqual(documented.sort(), Object.keys(SETTINGS).sort());
	});

	test("the topic table has every topic the node uses", () => {
		const id = "node-3f2a1c";
		const expand = (topic: string) => topic.replace("<n>", `nodes/${id}`).replace("<root>", "nodes").replace("<id>", id);
		const documented = table("| topic | retained | what |").map(([topic]) => expand(names(topic)[0]));
		const used = [...Object.values(topicsFor("nodes", id)), discoveryTopic(id, "<quantity>")];
		assert.deepEqual(documented.sort(), used.sort());
	});

	test("npm start's outbox is the one the docs and manifest.json give the simulator", () => {
		const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, "manifest.json"), "utf8"));
		for (const platform of ["lin", "mac", "win"]) {
			const { outbox_messages, outbox_bytes } = manifest.platforms[platform].config;
			assert.deepEqual({ messages: Number(outbox_messages), bytes: Number(outbox_bytes) }, SIMULATOR_OUTBOX, platform);
		}
		const says = (text: string) => [...PAGES.values()].some((page) => page.includes(text));
		assert.ok(says(`${SIMULATOR_OUTBOX.bytes / 1024} KB (${SIMULATOR_OUTBOX.messages} messages) on the ESP32 and the simulator`));
		assert.ok(says(`The simulator's outbox is ${SIMULATOR_OUTBOX.messages} messages / ${SIMULATOR_OUTBOX.bytes / 1024} KB`));
	});
});
