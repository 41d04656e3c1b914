/*
 * Builds the memory-probe XS worker: @agoric/xsnap's own worker, from the XS sources the package ships and
 * with its own makefile, plus memory-probe.c (the `memory()` and `memoryAccount()` globals) and a few
 * one-line counters in xsMemory.c and xsRun.c. The stock worker reports only live slots; chunk bytes and
 * per-account allocation tallies need these.
 *
 * Built on first use into node_modules/.cache/xs-memory-worker/<hash of the inputs>/, so a clean `npm ci`
 * rebuilds it and a changed patch never reuses a stale binary. Builds run in a private directory and the
 * binary is moved into place at the end, so concurrent test processes cannot see half a binary.
 */
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

const ROOT = path.resolve(import.meta.dirname, "../../..");
const XSNAP = path.join(ROOT, "node_modules/@agoric/xsnap");
const MODDABLE = path.join(XSNAP, "moddable");
const WORKER_SOURCES = path.join(XSNAP, "xsnap-native/xsnap/sources");
const MAKEFILES = path.join(XSNAP, "xsnap-native/xsnap/makefiles/lin");
const PROBE = path.join(import.meta.dirname, "memory-probe.c");
const CACHE = path.join(ROOT, "node_modules/.cache/xs-memory-worker");
const NAME = "xsnap-memory";

/** One edit to an XS source file: `text` is inserted after `anchor`, which must occur exactly once. */
interface Insertion {
	file: string;
	anchor: string;
	text: string;
}

const XS_MEMORY = path.join(MODDABLE, "xs/sources/xsMemory.c");
const XS_RUN = path.join(MODDABLE, "xs/sources/xsRun.c");
const WORKER = path.join(WORKER_SOURCES, "xsnap-worker.c");
const PROBE_GLOBALS = "extern int gxProbeAccount, gxProbeLiteral;\nextern double gxProbeSlots[2], gxProbeChunks[2], gxProbeLiterals[2], gxProbeCollections;\n";

const INSERTIONS: readonly Insertion[] = Object.freeze([
	{ file: XS_MEMORY, anchor: "#include \"xsAll.h\"\n", text: PROBE_GLOBALS },
	{ file: XS_MEMORY, anchor: "\t\tthe->currentHeapCount++;\n", text: "\t\tgxProbeSlots[gxProbeAccount]++;\n" },
	{ file: XS_MEMORY, anchor: "\t\tthe->currentChunksSize += capacity;\n", text: "\t\tif (gxProbeLiteral) gxProbeLiterals[gxProbeAccount] += capacity; else gxProbeChunks[gxProbeAccount] += capacity;\n" },
	{ file: XS_MEMORY, anchor: "\t\t\t\taBlock->current += delta;\n", text: "\t\t\t\tgxProbeChunks[gxProbeAccount] += delta;\n" },
	{ file: XS_MEMORY, anchor: "void fxCollect(txMachine* the, txFlag theFlag)\n{\n", text: "\tgxProbeCollections++;\n" },
	// A string literal is copied into a chunk each time it is evaluated in code compiled at run time, as here;
	// xsc-compiled code on a board refers to it in flash instead. Counted apart, so the figures are a board's.
	{ file: XS_RUN, anchor: "#include \"xsAll.h\"\n", text: PROBE_GLOBALS },
	{ file: XS_RUN, anchor: "\t\tXS_CODE_STRING:\n\t\t\tmxSaveState;\n", text: "\t\t\tgxProbeLiteral = 1;\n" },
	{ file: XS_RUN, anchor: "\t\t\tscratch.value.string = (txString)fxNewChunk(the, index);\n", text: "\t\t\tgxProbeLiteral = 0;\n" },
	{ file: WORKER, anchor: "\tmodInstallBase64(the);\n", text: "\tfxInstallMemoryProbe(the);\n" },
	{ file: WORKER, anchor: "static void xsBuildAgent(xsMachine* the);\n", text: "#include \"memory-probe.c\"\n" },
]);

let building: Promise<string> | undefined;

/** The path of the memory-probe worker, built first if needed. */
export function memoryWorker(): Promise<string> {
	building ??= build();
	return building;
}

async function build(): Promise<string> {
	if (process.platform !== "linux") throw new Error(`the XS memory-probe worker is built with xsnap's Linux makefile; this is ${process.platform}`);
	const edited = editedSources();
	const key = createHash("sha256");
	for (const [file, text] of edited) key.update(file).update(text);
	key.update(fs.readFileSync(PROBE));
	const version = JSON.parse(fs.readFileSync(path.join(XSNAP, "package.json"), "utf8")).version as string;
	key.update(version);
	const dir = path.join(CACHE, key.digest("hex").slice(0, 16));
	const binary = path.join(dir, NAME);
	if (fs.existsSync(binary)) return binary;

	for (const tool of ["cc", "make"]) {
		if (spawnSync(tool, ["--version"], { stdio: "ignore" }).status !== 0)
			throw new Error(`building the XS memory-probe worker needs \`${tool}\`: install a C toolchain (Debian/Ubuntu: sudo apt-get install -y build-essential), then run the tests again`);
	}
	fs.mkdirSync(CACHE, { recursive: true });
	const work = fs.mkdtempSync(path.join(CACHE, "build-"));
	try {
		const sources = path.join(work, "sources");
		fs.mkdirSync(sources);
		for (const file of fs.readdirSync(WORKER_SOURCES)) fs.copyFileSync(path.join(WORKER_SOURCES, file), path.join(sources, file));
		for (const [file, text] of edited) fs.writeFileSync(path.join(sources, path.basename(file)), text);
		fs.copyFileSync(PROBE, path.join(sources, path.basename(PROBE)));
		await make(work, sources, version);
		fs.mkdirSync(dir, { recursive: true });
		fs.renameSync(path.join(work, "build/bin/lin/release", NAME), binary);
		// Workers built from older inputs are never used again.
		for (const entry of fs.readdirSync(CACHE)) {
			if (!entry.startsWith("build-") && path.join(CACHE, entry) !== dir) fs.rmSync(path.join(CACHE, entry), { recursive: true, force: true });
		}
	}
	finally {
		fs.rmSync(work, { recursive: true, force: true });
	}
	return binary;
}

/** The XS and worker sources with the probe's insertions, by original path. */
function editedSources(): Map<string, string> {
	const edited = new Map<string, string>();
	for (const { file, anchor, text } of INSERTIONS) {
		const source = edited.get(file) ?? fs.readFileSync(file, "utf8");
		const at = source.indexOf(anchor);
		if (at < 0 || source.indexOf(anchor, at + 1) >= 0)
			throw new Error(`${path.relative(ROOT, file)} changed: the memory probe expects ${JSON.stringify(anchor)} exactly once (update hosts/xs/node/memory-worker.ts)`);
		edited.set(file, source.slice(0, at + anchor.length) + text + source.slice(at + anchor.length));
	}
	// The heap figures need the machine's internals (xsAll.h), which xsnapPlatform.c includes.
	const platform = path.join(WORKER_SOURCES, "xsnapPlatform.c");
	edited.set(platform, `${fs.readFileSync(platform, "utf8")}\n#define mxMemoryProbeInternals 1\n#include "${path.basename(PROBE)}"\n`);
	return edited;
}

/** Runs xsnap's makefile with the edited sources first on its search path. */
function make(work: string, sources: string, version: string): Promise<void> {
	const vpath = [sources, path.join(MODDABLE, "xs/sources"), ...["decoder", "encoder"].map((dir) => path.join(MODDABLE, "modules/data/text", dir)), path.join(MODDABLE, "modules/data/base64")];
	const args = [
		"-f", "xsnap-worker.mk", `-j${os.availableParallelism()}`,
		`MODDABLE=${MODDABLE}`, "GOAL=release", `NAME=${NAME}`, `XSNAP_VERSION=${version}`,
		// As @agoric/xsnap's build.js compiles it.
		"CC=cc \"-D__has_builtin(x)=1\"",
		`BUILD_DIR=${path.join(work, "build")}`, `TLS_DIR=${sources}`, `VPATH=${vpath.join(" ")}`,
	];
	return new Promise((resolve, reject) => {
		const child = spawn("make", args, { cwd: MAKEFILES, stdio: ["ignore", "pipe", "pipe"] });
		let output = "";
		child.stdout.on("data", (chunk) => output += chunk);
		child.stderr.on("data", (chunk) => output += chunk);
		child.on("error", reject);
		child.on("exit", (code) => code === 0 ? resolve() : reject(new Error(`building the XS memory-probe worker failed (make exited ${code}):\n${output.slice(-4000)}`)));
	});
}
