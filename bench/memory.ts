/*
 * Memory on Node, the firmware alone: simulated nodes (hosts/node/fleet.ts) on one VirtualClock with the
 * in-memory broker of ./loopback-broker, so no socket or event loop is in the figures.
 *
 * - Heap per node: the retained heap of `nodes` running nodes (each with its simulated sensor and
 *   environment), after a full collection, divided by their number (V8 object sizes, not XS's: see the XS
 *   figures for the device).
 * - Bytes allocated per reading cycle: one node, warmed up, run `cycles` one-second cycles at a time (sensor
 *   read, telemetry JSON, PUBLISH into the outbox, write, PUBACK, and the firmware's log calls);
 *   the growth of V8's heap and of ArrayBuffer memory in between, over rounds with no collection in them
 *   (a round that saw one is measured again), median. The host side here (virtual timers, the socket's
 *   read buffer) is counted too: a device's host allocates those as well.
 */
import { PerformanceObserver } from "node:perf_hooks";
import { loopbackBroker } from "./loopback-broker";
import { collect, median, round3 } from "./measure";
import { VirtualClock } from "../hosts/node/virtual-clock";
import { startSimulatedNode } from "../hosts/node/fleet";
import type { SimulatedNode } from "../hosts/node/fleet";
import type { TcpConstructor } from "../src/io";

export interface MemoryOptions {
	nodes: number;
	cycles: number;
	rounds: number;
}

export interface MemoryResult {
	/** Retained V8 heap per running node, bytes. */
	heapPerNode: number;
	/** Allocated per reading cycle once warmed up, bytes: V8 heap, and ArrayBuffer backing stores. */
	heapPerCycle: number;
	arrayBuffersPerCycle: number;
	/** Readings published per cycle in the measurement (1 when every cycle produced a reading). */
	readingsPerCycle: number;
}

/** Nodes on `clock` whose sockets reach the loopback broker; resolves once their name lookups (microtasks on the Node host) are done. */
async function startNodes(count: number, clock: VirtualClock, tcp: TcpConstructor): Promise<SimulatedNode[]> {
	const nodes: SimulatedNode[] = [];
	for (let i = 0; i < count; i++) {
		nodes.push(startSimulatedNode({
			broker: { host: "127.0.0.1", port: 1883 }, chip: "SHT3x", name: `memory-${i}`, id: `memory-${i}`,
			settings: { interval: 1 }, clock, tcp, log: () => {},
		}));
	}
	await turn();
	return nodes;
}

function sinceGc(): { count(): number; stop(): void } {
	let seen = 0;
	const observer = new PerformanceObserver((list) => {
		seen += list.getEntries().length;
	});
	observer.observe({ entryTypes: ["gc"] });
	return { count: () => seen, stop: () => observer.disconnect() };
}

/** Lets microtasks run; and, with ms, lets the GC observer's entries arrive (they take a couple of event-loop turns). */
const turn = (ms = 0) => new Promise((resolve) => setTimeout(resolve, ms));

export async function benchMemory(options: MemoryOptions): Promise<MemoryResult> {
	const clock = new VirtualClock();
	const tcp = loopbackBroker(clock);

	collect();
	const empty = process.memoryUsage().heapUsed;
	const fleet = await startNodes(options.nodes, clock, tcp);
	// A second at a time, with a turn between: a node connects once its sensor search is over, and the name
	// lookup that starts then answers on a microtask, not on the virtual clock.
	for (let second = 0; second < 10; second++) {
		clock.advance(1000);
		await turn();
	}
	if (!fleet.every(({ node }) => node.connected && node.counters.published >= 5)) throw new Error("the memory bench's nodes did not run");
	collect();
	const heapPerNode = (process.memoryUsage().heapUsed - empty) / options.nodes;
	for (const { crash } of fleet) crash();

	const single = new VirtualClock();
	const [{ node }] = await startNodes(1, single, loopbackBroker(single));
	single.advance(60_000);
	const heap: number[] = [];
	const buffers: number[] = [];
	const gcs = sinceGc();
	let readings = 0;
	for (let attempts = 0; heap.length < options.rounds && attempts < options.rounds * 4; attempts++) {
		collect();
		await turn(20);
		const before = gcs.count();
		const start = process.memoryUsage();
		const published = node.counters.published;
		for (let i = 0; i < options.cycles; i++) single.advance(1000);
		const end = process.memoryUsage();
		readings = node.counters.published - published;
		await turn(20);
		if (gcs.count() !== before) continue;
		heap.push((end.heapUsed - start.heapUsed) / options.cycles);
		buffers.push((end.arrayBuffers - start.arrayBuffers) / options.cycles);
	}
	gcs.stop();
	if (heap.length < options.rounds) throw new Error("could not measure a round without a garbage collection in it");
	return {
		heapPerNode: Math.round(heapPerNode),
		heapPerCycle: Math.round(median(heap)),
		arrayBuffersPerCycle: Math.round(median(buffers)),
		readingsPerCycle: round3(readings / options.cycles),
	};
}
