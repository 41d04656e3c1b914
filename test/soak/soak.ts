/*
 * The soak: simulated nodes (the unchanged firmware, mixed sensor chips, one reading per second) talk to a
 * persistent Mosquitto through the fault-injecting proxy, on an accelerated clock, while ./faults breaks
 * the network, the broker and the sensors at random. An observer with a persistent session checks every
 * node's sequence numbers. At the end the faults are healed, the readings published so far are waited for,
 * and the report says what was lost, duplicated and re-sent, and how the heap moved.
 *
 * Outbox sizing: a node must hold every reading of the longest outage it can meet here: a blackhole of
 * up to maxOutageMs, plus dead-link detection (one keepalive, 10 s), plus the longest reconnect delay
 * (8 s), plus the state and status messages a reconnect and a sensor fault add. At one reading per second
 * that is about maxOutageMs/1000 + 25 messages; OUTBOX is several times that. Past the bound a node drops
 * its oldest reading by policy, counted in `dropped`: the report then shows drops, not losses.
 */
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { FaultPlan, type FaultKind } from "./faults";
import { SequenceObserver } from "./observer";
import { ScaledClock } from "./scaled-clock";
import { startMosquitto } from "../helpers/mosquitto";
import { startSimulatedNode, type SimulatedNode } from "../../hosts/node/fleet";
import { FaultyProxy } from "../../sim/network/proxy";
import type { ProxyCounters } from "../../sim/network/proxy";
import type { SimulatedChip } from "../../sim/sensors/board";
import { Random } from "../../sim/sensors/random";
import type { LogLevel } from "../../src/io";

/** Chips the firmware finds on its own (AHT10 needs to be named). */
const CHIPS: readonly SimulatedChip[] = Object.freeze(["SHT3x", "SHT4x", "AHT20", "HTU21D", "Si7021", "HDC1080", "BME280"]);
const ROOT = "soak";
export const OUTBOX = Object.freeze({ messages: 128, bytes: 24_576 });
const KEEPALIVE_S = 10;
const BACKOFF = Object.freeze({ min: 500, max: 8000 });

export interface SoakOptions {
	nodes: number;
	/** Simulated time the faults run for, ms. */
	durationMs: number;
	/** How much faster than real time the simulated clock runs. */
	speed: number;
	seed: number;
	/** Simulated ms between faults. */
	gap: { min: number; max: number };
	maxOutageMs: number;
	kinds?: readonly FaultKind[];
	/** Start the tick counter this many simulated ms before the signed 32-bit wrap (undefined: no wrap). */
	wrapAfterMs?: number;
	/** The nodes' outbox (default OUTBOX); a smaller one shows drops at the bound, counted. */
	outbox?: { messages: number; bytes: number };
	/** Real ms the end may wait for the last readings. */
	drainTimeoutMs?: number;
	progress?: (line: string) => void;
}

export interface HeapSample {
	/** Simulated seconds since the start. */
	at: number;
	/** V8 heap plus ArrayBuffer memory after a full collection, bytes. */
	bytes: number;
}

export interface SoakReport {
	nodes: number;
	simulatedSeconds: number;
	realSeconds: number;
	/** Readings the nodes published up to the end of the faults (every one must arrive). */
	readings: number;
	lost: number;
	/** Distinct readings the observer got, those published after the end mark included. */
	received: number;
	/** Some of the missing sequence numbers, by node. */
	missing: Record<string, number[]>;
	/** Copies caused by node re-sends (no DUP) and by the broker re-sending to the observer (DUP). */
	duplicates: number;
	redelivered: number;
	malformed: number;
	/** Summed over the nodes. */
	resent: number;
	dropped: number;
	reconnects: number;
	sensorErrors: number;
	/** Nodes that never published a reading. */
	silentNodes: number;
	faults: Record<FaultKind, number>;
	faultFailures: string[];
	proxy: ProxyCounters;
	heap: HeapSample[];
	/** Heap at the end (median of the last three samples) minus heap after warm-up (median of samples 2-3), bytes. */
	heapGrowth: number;
	logs: Record<LogLevel, number>;
	errorLines: string[];
	uncaught: string[];
	outbox: { messages: number; bytes: number };
}

/** A full collection, without needing the process started with --expose-gc. */
function collector(): () => void {
	setFlagsFromString("--expose-gc");
	return runInNewContext("gc") as () => void;
}

function memory(): number {
	const { heapUsed, arrayBuffers } = process.memoryUsage();
	return heapUsed + arrayBuffers;
}

export async function runSoak(options: SoakOptions): Promise<SoakReport> {
	const progress = options.progress ?? (() => {});
	const gc = collector();
	const uncaught: string[] = [];
	const onUncaught = (error: unknown) => uncaught.push(String((error as Error)?.stack ?? error));
	process.on("uncaughtException", onUncaught);
	process.on("unhandledRejection", onUncaught);
	// Separate streams: how many connections a drop happens to find must not change the fault schedule.
	const random = new Random(options.seed);
	const proxyRandom = new Random(options.seed ^ 0x5eed);
	const clock = new ScaledClock({
		speed: options.speed,
		...(options.wrapAfterMs === undefined ? {} : { startTicks: 2 ** 31 - options.wrapAfterMs, wrap32: true }),
	});
	const logs: Record<LogLevel, number> = { debug: 0, info: 0, warn: 0, error: 0 };
	const errorLines: string[] = [];
	const started = performance.now();
	const outbox = options.outbox ?? OUTBOX;

	// The observer may be away while the broker restarts: its queue must hold whatever arrives meanwhile.
	const broker = await startMosquitto({ persistence: true, config: ["max_queued_messages 0"] });
	const nodes: SimulatedNode[] = [];
	let observer: SequenceObserver | undefined;
	let proxy: FaultyProxy | undefined;
	let plan: FaultPlan | undefined;
	try {
		observer = await SequenceObserver.connect(broker.url, ROOT, `${ROOT}-observer`);
		proxy = await FaultyProxy.start({ target: broker, clock, random: () => proxyRandom.next() });
		for (let i = 0; i < options.nodes; i++) {
			const id = `node-${i}`;
			nodes.push(startSimulatedNode({
				broker: proxy, chip: CHIPS[i % CHIPS.length], name: `${ROOT}-${id}`, id, root: ROOT, clock,
				settings: { interval: 1, keepalive: KEEPALIVE_S },
				mqtt: { outbox, backoff: BACKOFF, stableAfter: 10_000 },
				log: (level, message) => {
					logs[level]++;
					if (level === "error" && errorLines.length < 20) errorLines.push(`${id}: ${message}`);
				},
			}));
			// Spread over a simulated second: a real fleet's readings are not in phase.
			await clock.wait(1000 / options.nodes);
		}
		plan = new FaultPlan({
			clock, random, proxy, devices: nodes.map(({ board }) => board.device), gap: options.gap, maxOutageMs: options.maxOutageMs,
			kinds: options.kinds, restartBroker: () => broker.restart(), log: (line) => progress(`  ${Math.round(clock.now / 1000)} s: ${line}`),
		});
		const readings = () => nodes.reduce((sum, { node }) => sum + node.counters.published, 0);
		await clock.wait(5000);
		plan.start();

		const heap: HeapSample[] = [];
		const samples = 8;
		for (let i = 1; i <= samples; i++) {
			await clock.wait(options.durationMs / samples);
			gc();
			heap.push({ at: Math.round(clock.now / 1000), bytes: memory() });
			const connected = nodes.filter(({ node }) => node.connected).length;
			progress(`${Math.round(clock.now / 1000)} s simulated: ${readings()} readings, ${connected}/${nodes.length} connected, heap ${(heap.at(-1)!.bytes / 2 ** 20).toFixed(1)} MB`);
		}

		await plan.stop();
		const marks = nodes.map(({ node }) => node.counters.published);
		progress(`faults stopped; waiting for ${marks.reduce((a, b) => a + b, 0)} readings`);
		const seen = observer;
		const complete = () => nodes.every(({ node }, i) => seen.complete(node.id, marks[i]));
		// A reading still missing at the deadline is what the report is for: no exception here.
		await seen.until(complete, "every reading published before the end", options.drainTimeoutMs ?? 60_000).catch(() => {});
		gc();
		heap.push({ at: Math.round(clock.now / 1000), bytes: memory() });

		const totals = seen.totals;
		const missing: Record<string, number[]> = {};
		let lost = 0;
		nodes.forEach(({ node }, i) => {
			const gaps = seen.missing(node.id, marks[i], Infinity);
			if (!gaps.length) return;
			lost += gaps.length;
			missing[node.id] = gaps.slice(0, 10);
		});
		const sum = (pick: (node: SimulatedNode["node"]) => number) => nodes.reduce((total, { node }) => total + pick(node), 0);
		const middle = (list: HeapSample[]) => list.map((sample) => sample.bytes).sort((a, b) => a - b)[list.length >> 1];
		return {
			nodes: nodes.length,
			simulatedSeconds: Math.round(clock.now / 1000),
			realSeconds: Math.round((performance.now() - started) / 1000),
			readings: marks.reduce((a, b) => a + b, 0),
			received: totals.unique,
			lost,
			missing,
			duplicates: totals.duplicates,
			redelivered: totals.redelivered,
			malformed: totals.malformed,
			resent: sum((node) => node.mqtt.resent),
			dropped: sum((node) => node.mqtt.dropped),
			reconnects: sum((node) => node.mqtt.reconnects),
			sensorErrors: sum((node) => node.counters.sensorErrors),
			silentNodes: marks.filter((mark) => mark === 0).length,
			faults: plan.counts,
			faultFailures: plan.failures,
			proxy: proxy.counters,
			heap,
			heapGrowth: middle(heap.slice(-3)) - middle(heap.slice(1, 3)),
			logs,
			errorLines,
			uncaught,
			outbox: { ...outbox },
		};
	}
	finally {
		await plan?.stop();
		for (const { crash } of nodes) crash();
		await proxy?.close();
		await observer?.close();
		await broker.stop();
		process.off("uncaughtException", onUncaught);
		process.off("unhandledRejection", onUncaught);
	}
}

/**
 * The report's verdict: what is wrong with it, if anything (empty: the soak passed). With `allowDrops`
 * (an outbox deliberately smaller than the outages), readings missing are acceptable only as far as the
 * nodes counted drops at their outbox bound.
 */
export function problems(report: SoakReport, options: { minReadings: number; maxHeapGrowth: number; allowDrops?: boolean }): string[] {
	const out: string[] = [];
	if (report.readings < options.minReadings) out.push(`only ${report.readings} readings (at least ${options.minReadings} wanted)`);
	if (!options.allowDrops) {
		if (report.lost) out.push(`${report.lost} readings lost: ${JSON.stringify(report.missing)}`);
		if (report.dropped) out.push(`${report.dropped} messages dropped at the outbox bound: the outbox is too small for the outages injected`);
	}
	else if (report.lost > report.dropped) out.push(`${report.lost} readings missing but only ${report.dropped} drops counted: ${JSON.stringify(report.missing)}`);
	if (report.duplicates > report.resent) out.push(`${report.duplicates} duplicates but only ${report.resent} re-sends`);
	if (report.malformed) out.push(`${report.malformed} malformed or foreign readings`);
	if (report.silentNodes) out.push(`${report.silentNodes} nodes never published`);
	if (report.heapGrowth > options.maxHeapGrowth) out.push(`heap grew by ${(report.heapGrowth / 2 ** 20).toFixed(1)} MB after warm-up (bound ${(options.maxHeapGrowth / 2 ** 20).toFixed(1)} MB)`);
	if (report.errorLines.length) out.push(`error lines logged: ${report.errorLines.join(" | ")}`);
	if (report.uncaught.length) out.push(`uncaught: ${report.uncaught.join(" | ")}`);
	if (report.faultFailures.length) out.push(`faults that failed: ${report.faultFailures.join(" | ")}`);
	return out;
}
