/*
 * Timing helpers for the benchmarks: throughput of a function over a fixed slice of time, medians, and a
 * sink that keeps results alive so the optimiser cannot drop the work being measured. Figures are only ever
 * reported next to a peer measured in the same run.
 */
import { performance } from "node:perf_hooks";

/** Written by every measured call: a module variable the optimiser must keep up to date. */
let sink = 0;

/** Keeps `value` observable. */
function consume(value: unknown): void {
	sink = (sink + (typeof value === "object" && value !== null ? 1 : Number(value) | 0)) | 0;
}

/** Calls `fn` in batches until `ms` have passed; returns calls per second. */
export function opsPerSecond(fn: () => unknown, ms: number): number {
	let batch = 1;
	let calls = 0;
	const start = performance.now();
	let now = start;
	while (now - start < ms) {
		for (let i = 0; i < batch; i++) consume(fn());
		calls += batch;
		now = performance.now();
		// Batches grow until one takes about a millisecond, so reading the clock costs nothing measurable.
		if (now - start < 1 && batch < 1 << 20) batch *= 2;
	}
	return calls / ((now - start) / 1000);
}

export function median(values: readonly number[]): number {
	if (!values.length) return NaN;
	const sorted = [...values].sort((a, b) => a - b);
	const middle = sorted.length >> 1;
	return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** CPU time (user + system) of this process in microseconds since `from` (a process.cpuUsage() value). */
export function cpuMicros(from: NodeJS.CpuUsage): number {
	const used = process.cpuUsage(from);
	return used.user + used.system;
}

/** A full garbage collection, when the process runs with --expose-gc (the bench script does). */
export function collect(): void {
	const gc = (globalThis as { gc?: () => void }).gc;
	if (!gc) throw new Error("run with node --expose-gc (npm run bench does)");
	gc();
}

/** Rounds a figure to 3 significant digits for tables. */
export function round3(value: number): number {
	if (!Number.isFinite(value) || value === 0) return value;
	const digits = Math.max(0, 2 - Math.floor(Math.log10(Math.abs(value))));
	return Number(value.toFixed(digits));
}
