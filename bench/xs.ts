/*
 * XS engine figures: the firmware in the real XS engine (xsnap, hosts/xs/), measured by the XS host's own
 * memory test (test/xs/memory.test.ts: the memory-probe worker, warm-up, reading cycles to their PUBACK),
 * which writes build/xs-figures.json. The bench runs that test and reports its figures, so there is one
 * way of measuring XS, not two. Should the XS host or its test be missing or fail, the part says so and
 * the rest of the bench still runs.
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

const ROOT = path.resolve(import.meta.dirname, "..");
const TEST = path.join(ROOT, "test/xs/memory.test.ts");
const FIGURES = path.join(ROOT, "build/xs-figures.json");

export interface XsResult {
	measured: boolean;
	/** Why not, when not measured. */
	reason?: string;
	engine?: string;
	/** Allocated per reading cycle once warmed up by the firmware (the XS binding's share left out): bytes on this 64-bit XS, and on a 32-bit MCU (16-byte slots). */
	bytesPerCycle?: number;
	bytesPerCycleMcu?: number;
	computronsPerCycle?: number;
	/** The node's heap after boot (MCU bytes, the XS binding's share left out), and the size of the bundle a board runs. */
	stateMcu?: number;
	bundleBytes?: number;
	bundleMinifiedBytes?: number;
	/** The largest allocation segments per cycle (MCU bytes), as the XS test attributes them. */
	topSegments?: { segment: string; mcu: number }[];
}

interface Size {
	bytes?: number;
	minifiedBytes?: number;
}

/** What the bench reads of build/xs-figures.json (older and newer layouts of the XS test's file). */
interface Figures {
	engine?: string;
	heap?: { node?: { mcu?: number }; state?: { mcu?: number } };
	cycle?: { firmware?: { bytes?: number; mcu?: number; computrons?: number } };
	segments?: { segment: string; mcu: number }[];
	/** The bundle a board runs (firmware and simulated sensors), or the XS test's whole bundle. */
	bundle?: Size & { board?: Size };
}

function runTest(): Promise<string | undefined> {
	return new Promise((resolve) => {
		const child = spawn(process.execPath, ["--import", "tsx", "--test", TEST], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
		let output = "";
		child.stdout.on("data", (chunk) => output += chunk);
		child.stderr.on("data", (chunk) => output += chunk);
		child.on("error", (error) => resolve(error.message));
		child.on("exit", (code) => resolve(code === 0 ? undefined : `test/xs/memory.test.ts failed (exit ${code}): ${output.split("\n").filter((line) => /not ok|Error/.test(line)).slice(0, 5).join(" / ")}`));
	});
}

export async function benchXs(progress: (line: string) => void = () => {}): Promise<XsResult> {
	if (!fs.existsSync(TEST)) return { measured: false, reason: "test/xs/memory.test.ts (the XS host's measurement) does not exist yet" };
	const started = Date.now();
	progress("xs: running test/xs/memory.test.ts");
	const failure = await runTest();
	if (failure) return { measured: false, reason: failure };
	if (!fs.existsSync(FIGURES) || fs.statSync(FIGURES).mtimeMs < started) return { measured: false, reason: "the XS memory test wrote no build/xs-figures.json" };
	const figures = JSON.parse(fs.readFileSync(FIGURES, "utf8")) as Figures;
	const cycle = figures.cycle?.firmware;
	if (cycle?.mcu === undefined || cycle.bytes === undefined) return { measured: false, reason: "build/xs-figures.json has no per-cycle firmware figures" };
	return {
		measured: true,
		engine: figures.engine,
		bytesPerCycle: Math.round(cycle.bytes),
		bytesPerCycleMcu: Math.round(cycle.mcu),
		computronsPerCycle: cycle.computrons,
		stateMcu: figures.heap?.node?.mcu ?? figures.heap?.state?.mcu,
		bundleBytes: figures.bundle?.board?.bytes ?? figures.bundle?.bytes,
		bundleMinifiedBytes: figures.bundle?.board?.minifiedBytes ?? figures.bundle?.minifiedBytes,
		topSegments: figures.segments?.slice(0, 3).map(({ segment, mcu }) => ({ segment, mcu: Math.round(mcu) })),
	};
}
