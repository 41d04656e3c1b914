/*
 * One fleet step, in a process of its own so that its heap, RSS and CPU are its alone: starts Mosquitto,
 * starts `--nodes` simulated nodes (hosts/node/fleet.ts: the unchanged firmware, one reading per second each, real
 * sockets), their start-up spread over one second as a fleet's would be, lets them settle, then measures a
 * window. Prints one JSON line (FleetStep) on stdout; bench/fleet.ts runs it.
 *
 * "Keeps up" means, over the window: readings published and PUBACKs received each at least 98% of nodes x
 * seconds, and nothing dropped at an outbox bound (a backlog that grows ends in drops within 16 s).
 */
import { parseArgs } from "node:util";
import { monitorEventLoopDelay, performance } from "node:perf_hooks";
import { collect, cpuMicros, round3 } from "./measure";
import { childCpuSeconds, coresBusy, machineCpu } from "./proc";
import { startSimulatedNode } from "../hosts/node/fleet";
import type { SimulatedNode } from "../hosts/node/fleet";
import { startMosquitto } from "../test/helpers/mosquitto";

export interface FleetStep {
	nodes: number;
	seconds: number;
	connected: number;
	/** Telemetry readings expected (nodes x seconds) and published in the window. */
	expected: number;
	published: number;
	/** PUBACKs received in the window (telemetry and the retained state documents). */
	acked: number;
	/** QoS 1 messages written and not yet acknowledged at the end of the window. */
	inFlight: number;
	dropped: number;
	keepsUp: boolean;
	/** This process: CPU in cores (1 = one core busy), RSS and heap after a collection. */
	cpu: number;
	rssMB: number;
	heapMB: number;
	/** Per node: heap and RSS growth over the process without nodes. */
	heapPerNodeKB: number;
	rssPerNodeKB: number;
	/** The broker process and the whole machine, in cores (Linux only). */
	brokerCpu?: number;
	machineCpu?: number;
	/** Event-loop delay, 99th percentile, ms. */
	loopDelayP99: number;
}

const { values } = parseArgs({ options: { nodes: { type: "string" }, seconds: { type: "string", default: "10" }, settle: { type: "string", default: "5" } } });
const count = Number(values.nodes);
const seconds = Number(values.seconds);
const settle = Number(values.settle);
if (!(count > 0) || !(seconds > 0) || !(settle >= 0)) throw new Error("usage: fleet-worker --nodes N [--seconds S] [--settle S]");

const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const sum = (nodes: SimulatedNode[], pick: (node: SimulatedNode) => number) => nodes.reduce((total, node) => total + pick(node), 0);

const broker = await startMosquitto();
collect();
const base = process.memoryUsage();
const nodes: SimulatedNode[] = [];
const silent = () => {};
for (let i = 0; i < count; i++) {
	// Ids given: the default one, from 24 bits of a hashed simulated MAC, repeats in fleets of thousands, and
	// two nodes with one client id take turns throwing each other off the broker.
	nodes.push(startSimulatedNode({ broker, chip: "SHT3x", name: `fleet-${i}`, id: `fleet-${i}`, settings: { interval: 1 }, log: silent }));
	// Spread over a second: a real fleet's nodes are not in phase.
	if (i % Math.max(1, Math.ceil(count / 200)) === 0) await wait(5);
}
const deadline = performance.now() + 30_000;
while (sum(nodes, ({ node }) => node.connected ? 1 : 0) < count && performance.now() < deadline) await wait(100);
await wait(settle * 1000);

collect();
const loaded = process.memoryUsage();
const delay = monitorEventLoopDelay({ resolution: 10 });
const before = {
	published: sum(nodes, ({ node }) => node.counters.published),
	acked: sum(nodes, ({ node }) => node.mqtt.acked),
	cpu: process.cpuUsage(),
	machine: machineCpu(),
	broker: childCpuSeconds("mosquitto"),
	at: performance.now(),
};
delay.enable();
await wait(seconds * 1000);
delay.disable();
const elapsed = (performance.now() - before.at) / 1000;
const after = { machine: machineCpu(), broker: childCpuSeconds("mosquitto") };
const cpu = cpuMicros(before.cpu) / 1e6 / elapsed;
const published = sum(nodes, ({ node }) => node.counters.published) - before.published;
const acked = sum(nodes, ({ node }) => node.mqtt.acked) - before.acked;
const expected = Math.round(count * elapsed);
const dropped = sum(nodes, ({ node }) => node.mqtt.dropped);
// Every message a node publishes is QoS 1: written once and not yet acknowledged means in flight.
const inFlight = sum(nodes, ({ node }) => node.mqtt.sent - node.mqtt.acked - node.mqtt.dropped);

const step: FleetStep = {
	nodes: count,
	seconds: round3(elapsed),
	connected: sum(nodes, ({ node }) => node.connected ? 1 : 0),
	expected,
	published,
	acked,
	inFlight,
	dropped,
	keepsUp: published >= 0.98 * expected && acked >= 0.98 * expected && dropped === 0,
	cpu: round3(cpu),
	rssMB: round3(loaded.rss / 2 ** 20),
	heapMB: round3(loaded.heapUsed / 2 ** 20),
	heapPerNodeKB: round3((loaded.heapUsed - base.heapUsed) / count / 1024),
	rssPerNodeKB: round3((loaded.rss - base.rss) / count / 1024),
	loopDelayP99: round3(delay.percentile(99) / 1e6),
};
const brokerCpu = before.broker !== undefined && after.broker !== undefined ? (after.broker - before.broker) / elapsed : undefined;
if (brokerCpu !== undefined) step.brokerCpu = round3(brokerCpu);
const machine = coresBusy(before.machine, after.machine);
if (machine !== undefined) step.machineCpu = round3(machine);
process.stdout.write(JSON.stringify(step) + "\n");
for (const { crash } of nodes) crash();
await broker.kill();
process.exit(0);
