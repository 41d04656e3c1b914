/*
 * Fleet benchmark: simulated nodes at one reading per second against Mosquitto, one fresh process and
 * broker per fleet size (bench/fleet-worker.ts). Sizes double from `start` until a fleet does not keep up
 * (or the file-descriptor limit stops them: every node holds a socket here and one in the broker), then
 * one step halfway between the largest that kept up and the first that did not.
 */
import { execFileSync, spawn } from "node:child_process";
import path from "node:path";
import type { FleetStep } from "./fleet-worker";

export interface FleetOptions {
	start: number;
	/** Largest size to try. */
	max: number;
	seconds: number;
	settle: number;
	/** Also bisect once between the last size that kept up and the first that did not. */
	refine: boolean;
}

export interface FleetResult {
	steps: FleetStep[];
	/** The largest size that kept up, and the smallest tried that did not (if any). */
	largestKeepingUp: number;
	firstFailing?: number;
	/** What capped the search when nothing failed. */
	limit?: string;
}

const WORKER = path.join(import.meta.dirname, "fleet-worker.ts");

function runStep(nodes: number, options: FleetOptions): Promise<FleetStep> {
	return new Promise((resolve, reject) => {
		const args = [...process.execArgv, WORKER, "--nodes", String(nodes), "--seconds", String(options.seconds), "--settle", String(options.settle)];
		const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] });
		let output = "";
		let errors = "";
		child.stdout.on("data", (chunk) => output += chunk);
		child.stderr.on("data", (chunk) => errors += chunk);
		child.on("error", reject);
		child.on("exit", (code) => {
			const line = output.trim().split("\n").at(-1);
			if (code !== 0 || !line) return reject(new Error(`fleet step of ${nodes} nodes failed (exit ${code}):\n${errors}`));
			resolve(JSON.parse(line) as FleetStep);
		});
	});
}

/** File descriptors this process may open (`ulimit -n`). */
function descriptorLimit(): number {
	try {
		return Number(execFileSync("sh", ["-c", "ulimit -n"], { encoding: "utf8" }).trim()) || Infinity;
	}
	catch {
		return Infinity;
	}
}

export async function benchFleet(options: FleetOptions, progress: (line: string) => void = () => {}): Promise<FleetResult> {
	const fdLimit = descriptorLimit() - 256;
	const steps: FleetStep[] = [];
	let largest = 0;
	let failing: number | undefined;
	let limit: string | undefined;
	const run = async (nodes: number) => {
		progress(`fleet: ${nodes} nodes...`);
		const step = await runStep(nodes, options);
		steps.push(step);
		progress(`fleet: ${nodes} nodes ${step.keepsUp ? "keep up" : "do not keep up"} (${step.published}/${step.expected} readings, CPU ${step.cpu} cores)`);
		if (step.keepsUp) largest = Math.max(largest, nodes);
		else failing = Math.min(failing ?? Infinity, nodes);
		return step.keepsUp;
	};
	for (let nodes = options.start; ; nodes *= 2) {
		if (nodes > options.max) {
			limit = `--fleet-max ${options.max}`;
			break;
		}
		if (nodes > fdLimit) {
			limit = `ulimit -n (${fdLimit + 256})`;
			break;
		}
		if (!await run(nodes)) break;
	}
	if (options.refine && failing !== undefined && largest && failing - largest > options.start / 2) await run(Math.round((largest + failing) / 2 / 100) * 100);
	const result: FleetResult = { steps, largestKeepingUp: largest };
	if (failing !== undefined) result.firstFailing = failing;
	if (limit && failing === undefined) result.limit = limit;
	return result;
}
