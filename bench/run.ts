/*
 * `npm run bench`: every benchmark of issue 7, a table on stdout, and the figures as JSON (bench/results.json
 * for a full run, the committed latest figures). `--quick` runs each part small (a smoke run, about a
 * minute); `--only codec,e2e,tls,memory,fleet,xs` picks parts. Partial runs write JSON only with `--out`.
 *
 * Every timing is a ratio against a peer measured in the same run: absolute figures depend on the machine.
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { benchCodec } from "./codec";
import type { CodecRow } from "./codec";
import { benchE2e } from "./e2e";
import type { E2eRow } from "./e2e";
import { benchInbound } from "./inbound";
import type { InboundRow } from "./inbound";
import { benchFleet } from "./fleet";
import type { FleetResult } from "./fleet";
import { benchMemory } from "./memory";
import type { MemoryResult } from "./memory";
import { formatTable } from "./table";
import { benchTls } from "./tls";
import type { TlsResult } from "./tls";
import { benchXs } from "./xs";
import type { XsResult } from "./xs";

const PARTS = ["codec", "e2e", "tls", "memory", "fleet", "xs"] as const;
type Part = (typeof PARTS)[number];

const HELP = `Usage: npm run bench -- [--quick] [--only ${PARTS.join(",")}] [--out file.json] [--fleet-max N]
`;

const { values: args } = parseArgs({
	options: {
		quick: { type: "boolean", default: false },
		only: { type: "string" },
		out: { type: "string" },
		"fleet-max": { type: "string" },
		help: { type: "boolean", default: false },
	},
});
if (args.help) {
	process.stdout.write(HELP);
	process.exit(0);
}
const parts = new Set<Part>((args.only?.split(",") ?? PARTS) as Part[]);
for (const part of parts) if (!PARTS.includes(part)) throw new Error(`unknown part "${part}"\n${HELP}`);
const quick = args.quick;
const full = !quick && !args.only;
const out = args.out ?? (full ? path.join(import.meta.dirname, "results.json") : undefined);

const progress = (line: string) => process.stderr.write(`  ${line}\n`);

interface Target {
	target: string;
	measured: string;
	met: boolean | undefined;
	note: string;
}

interface BenchResults {
	date: string;
	machine: Record<string, string | number>;
	quick: boolean;
	codec?: CodecRow[];
	e2e?: { options: Parameters<typeof benchE2e>[0]; rows: E2eRow[] };
	inbound?: { options: Parameters<typeof benchInbound>[0]; rows: InboundRow[] };
	tls?: TlsResult;
	memory?: MemoryResult;
	fleet?: FleetResult;
	xs?: XsResult;
	targets: Target[];
}

function mosquittoVersion(): string {
	try {
		return execFileSync("mosquitto_pub", ["--help"], { encoding: "utf8" }).match(/version (\S+)/)?.[1] ?? "?";
	}
	catch (error) {
		return (error as { stdout?: string }).stdout?.match(/version (\S+)/)?.[1] ?? "?";
	}
}

const results: BenchResults = {
	date: new Date().toISOString(),
	machine: {
		cpu: os.cpus()[0]?.model ?? "?",
		cores: os.availableParallelism(),
		memoryGB: Math.round(os.totalmem() / 2 ** 30),
		os: `${os.type()} ${os.release()}`,
		node: process.version,
		mosquitto: mosquittoVersion(),
	},
	quick,
	targets: [],
};

if (parts.has("codec")) {
	process.stderr.write("codec: ours against mqtt-packet\n");
	results.codec = benchCodec(quick ? { rounds: 3, sliceMs: 40 } : { rounds: 7, sliceMs: 100 }, progress);
	process.stdout.write("\n" + formatTable("Codec: operations per second, median of rounds (same process, alternating)",
		["packet", "operation", "ours", "mqtt-packet", "ours / theirs"],
		results.codec.map((row) => [row.packet, row.operation, row.ours, row.mqttPacket, row.ratio])));
}

if (parts.has("e2e")) {
	process.stderr.write("end to end: QoS 1 through Mosquitto on loopback\n");
	const options = quick ? { messages: 5000, rounds: 3, depth: 1000, payloadBytes: 64 } : { messages: 20_000, rounds: 7, depth: 1000, payloadBytes: 64 };
	results.e2e = { options, rows: await benchE2e(options, progress) };
	process.stdout.write("\n" + formatTable(`End to end: ${options.messages} QoS 1 publishes of ${options.payloadBytes} B, median of ${options.rounds} rounds`,
		["client", "configuration", "msg/s", "CPU µs/msg", "throughput vs MQTT.js", "CPU vs MQTT.js"],
		results.e2e.rows.map((row) => [row.client, row.config, row.throughput, row.cpuPerMessage, row.throughputVsMqttjs, row.cpuVsMqttjs])));
	process.stderr.write("inbound: a persistent session's queued QoS 1 messages, taken on resume\n");
	const inbound = quick ? { messages: 5000, rounds: 3, payloadBytes: 64 } : { messages: 20_000, rounds: 7, payloadBytes: 64 };
	results.inbound = { options: inbound, rows: await benchInbound(inbound, progress) };
	process.stdout.write("\n" + formatTable(`Inbound: ${inbound.messages} queued QoS 1 messages of ${inbound.payloadBytes} B taken on resume, median of ${inbound.rounds} rounds`,
		["client", "msg/s", "CPU µs/msg", "throughput vs MQTT.js", "CPU vs MQTT.js", "disconnects"],
		results.inbound.rows.map((row) => [row.client, row.throughput, row.cpuPerMessage, row.throughputVsMqttjs, row.cpuVsMqttjs, row.disconnects])));
}

if (parts.has("tls")) {
	process.stderr.write("TLS: handshake and QoS 1 through Mosquitto's TLS listener on loopback\n");
	const messages = quick ? { messages: 5000, rounds: 3, depth: 1000, payloadBytes: 64 } : { messages: 20_000, rounds: 7, depth: 1000, payloadBytes: 64 };
	results.tls = await benchTls(quick ? { handshakes: 10, rounds: 3, messages } : { handshakes: 20, rounds: 7, messages }, progress);
	const t = results.tls;
	process.stdout.write("\n" + formatTable(`TLS handshake: connect to CONNACK (RSA 2048 certificate, CA given), median of ${t.options.rounds} x ${t.options.handshakes} connections`,
		["client", "handshake ms", "CPU ms", "time vs MQTT.js", "CPU vs MQTT.js"],
		t.handshake.map((row) => [row.client, row.handshakeMs, row.cpuMs, row.handshakeVsMqttjs, row.cpuVsMqttjs])));
	process.stdout.write("\n" + formatTable(`Over TLS: ${messages.messages} QoS 1 publishes of ${messages.payloadBytes} B, median of ${messages.rounds} rounds`,
		["client", "configuration", "msg/s", "CPU µs/msg", "throughput vs MQTT.js", "CPU vs MQTT.js"],
		t.messages.map((row) => [row.client, row.config, row.throughput, row.cpuPerMessage, row.throughputVsMqttjs, row.cpuVsMqttjs])));
}

if (parts.has("memory")) {
	process.stderr.write("memory: the firmware on Node, virtual clock, in-memory broker\n");
	results.memory = await benchMemory(quick ? { nodes: 100, cycles: 50, rounds: 5 } : { nodes: 500, cycles: 100, rounds: 9 });
	const m = results.memory;
	process.stdout.write("\n" + formatTable("Memory on Node (V8), the firmware alone",
		["figure", "bytes"],
		[["retained heap per running node", m.heapPerNode], ["heap allocated per reading cycle", m.heapPerCycle], ["ArrayBuffer memory per reading cycle", m.arrayBuffersPerCycle]]));
}

if (parts.has("fleet")) {
	process.stderr.write("fleet: simulated nodes at 1 reading/s against Mosquitto\n");
	const max = Number(args["fleet-max"] ?? (quick ? 2000 : 64_000));
	results.fleet = await benchFleet(quick ? { start: 1000, max, seconds: 5, settle: 2, refine: false } : { start: 1000, max, seconds: 10, settle: 3, refine: true }, progress);
	const f = results.fleet;
	process.stdout.write("\n" + formatTable("Fleet: simulated nodes (real sockets) at one reading per second, Mosquitto on the same 2 cores",
		["nodes", "keeps up", "readings/expected", "acked", "dropped", "CPU (cores)", "broker CPU", "machine CPU", "RSS MB", "heap MB", "heap/node KB", "RSS/node KB", "loop delay p99 ms"],
		f.steps.map((s) => [s.nodes, s.keepsUp, `${s.published}/${s.expected}`, s.acked, s.dropped, s.cpu, s.brokerCpu, s.machineCpu, s.rssMB, s.heapMB, s.heapPerNodeKB, s.rssPerNodeKB, s.loopDelayP99])));
	process.stdout.write(`Largest fleet that kept up: ${f.largestKeepingUp}${f.firstFailing ? `; ${f.firstFailing} did not` : ""}${f.limit ? ` (search capped by ${f.limit})` : ""}\n`);
}

if (parts.has("xs")) {
	process.stderr.write("XS engine: the firmware in xsnap\n");
	results.xs = await benchXs(progress);
	const x = results.xs;
	process.stdout.write("\n" + (x.measured
		? formatTable(`XS engine (${x.engine ?? "xsnap"}), measured by test/xs/memory.test.ts`,
			["figure", "value"],
			[
				["bytes allocated per reading cycle, 32-bit MCU equivalent", x.bytesPerCycleMcu],
				["bytes allocated per reading cycle, this 64-bit XS", x.bytesPerCycle],
				["computrons per reading cycle", x.computronsPerCycle],
				["node heap after boot, MCU bytes", x.stateMcu],
				["bundle a board runs, bytes (minified)", x.bundleMinifiedBytes],
				...(x.topSegments ?? []).map((s): [string, number] => [`  cycle segment ${s.segment}, MCU bytes`, s.mcu]),
			])
		: `XS engine: not measured: ${x.reason}\n`));
}

results.targets = targets(results);
process.stdout.write("\n" + formatTable("Targets (issue 7)", ["target", "measured", "met", "note"],
	results.targets.map((t) => [t.target, t.measured, t.met, t.note])));
if (out) {
	fs.writeFileSync(out, JSON.stringify(results, null, "\t") + "\n");
	process.stdout.write(`\nFigures written to ${path.relative(process.cwd(), out)}\n`);
}

function targets(r: BenchResults): Target[] {
	const list: Target[] = [];
	const row = (operation: string) => r.codec?.find((c) => c.target && c.operation === operation);
	for (const [operation, label] of [["encode", "encode (new array, like generate)"], ["encode into buffer", "encode into the caller's buffer (codec API)"], ["decode", "decode"]] as const) {
		const found = row(operation);
		if (found) list.push({ target: `codec ${label}, 64 B QoS 1 PUBLISH >= 5x mqtt-packet`, measured: `${found.ratio}x`, met: found.ratio >= 5, note: `${found.ours.toLocaleString("en-US")} vs ${found.mqttPacket.toLocaleString("en-US")} ops/s` });
	}
	const fair = r.e2e?.rows[0];
	const peer = r.e2e?.rows[1];
	if (fair && peer) {
		list.push({ target: "end to end throughput >= MQTT.js", measured: `${fair.throughputVsMqttjs}x`, met: fair.throughputVsMqttjs >= 1, note: `${fair.throughput} vs ${peer.throughput} msg/s (window like MQTT.js's)` });
		list.push({ target: "end to end CPU/message <= 1/3 of MQTT.js", measured: `${fair.cpuVsMqttjs}x`, met: fair.cpuVsMqttjs <= 1 / 3, note: `${fair.cpuPerMessage} vs ${peer.cpuPerMessage} µs/msg` });
	}
	if (r.xs) {
		list.push({
			target: "XS: <= 1 KB allocated per reading cycle",
			measured: r.xs.measured ? `${r.xs.bytesPerCycleMcu} B` : "not measured",
			met: r.xs.measured ? r.xs.bytesPerCycleMcu! <= 1024 : undefined,
			note: r.xs.measured ? "32-bit MCU equivalent (16-byte slots)" : r.xs.reason ?? "",
		});
	}
	if (r.fleet) {
		const thousand = r.fleet.steps.find((s) => s.nodes === 1000);
		list.push({
			target: "1000 nodes at 1 reading/s keep up on 2 cores",
			measured: thousand ? `${thousand.published}/${thousand.expected} readings, CPU ${thousand.cpu} cores` : "not run",
			met: thousand?.keepsUp,
			note: `largest fleet that kept up: ${r.fleet.largestKeepingUp}`,
		});
	}
	return list;
}
