/*
 * `npm start`: the firmware on the desktop. One simulated node (or a fleet with --devices), each the
 * unchanged firmware from src/ on the Node host, with a simulated I2C sensor, against an embedded broker
 * (aedes, in-process) or the one given with --broker. Ctrl-C stops every node gracefully.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { startEmbeddedBroker, type EmbeddedBroker } from "./broker";
import { simulatedMac, startSimulatedNode, type SimulatedNode } from "./fleet";
import { SIMULATED_CHIPS, type SimulatedChip } from "./sensors/board";
import { consoleLog } from "../hosts/node/log";
import { FIRMWARE_VERSION } from "../src/app/node";
import type { Log } from "../src/io";

const HELP = `Usage: npm start -- [options]

  --broker mqtt://host:port   use this broker instead of the embedded one
  --sensor <chip>             simulated chip: ${SIMULATED_CHIPS.join(", ")} (default SHT3x)
  --id <id>                   node id (default: derived from a simulated MAC)
  --root <root>               topic root (default nodes)
  --interval <seconds>        reading interval (default 5; a device defaults to 60)
  --devices <n>               run a fleet of n simulated nodes
  --fresh                     forget what the node stored in earlier runs
  --help                      this text
`;

function fail(message: string): never {
	process.stderr.write(`${message}\n\n${HELP}`);
	process.exit(2);
}

const { values: args } = parseArgs({
	options: {
		broker: { type: "string" },
		sensor: { type: "string", default: "SHT3x" },
		id: { type: "string" },
		root: { type: "string", default: "nodes" },
		interval: { type: "string", default: "5" },
		devices: { type: "string", default: "1" },
		fresh: { type: "boolean", default: false },
		help: { type: "boolean", default: false },
	},
});
if (args.help) {
	process.stdout.write(HELP);
	process.exit(0);
}
const chip = args.sensor as SimulatedChip;
if (!SIMULATED_CHIPS.includes(chip)) fail(`unknown sensor "${args.sensor}"`);
const interval = Number(args.interval);
if (!Number.isInteger(interval) || interval < 1) fail("--interval must be a whole number of seconds, at least 1");
const devices = Number(args.devices);
if (!Number.isInteger(devices) || devices < 1) fail("--devices must be a whole number, at least 1");
if (args.id && devices > 1) fail("--id names one node; a fleet's nodes are named from their MACs");

let broker: { host: string; port: number };
let embedded: EmbeddedBroker | undefined;
if (args.broker) {
	let url: URL;
	try {
		url = new URL(args.broker);
	}
	catch {
		fail(`--broker must look like mqtt://host:port, not "${args.broker}"`);
	}
	if (url.protocol !== "mqtt:") fail("--broker: only mqtt:// is supported (the firmware has no TLS yet)");
	broker = { host: url.hostname, port: Number(url.port || 1883) };
}
else {
	embedded = await startEmbeddedBroker();
	broker = { host: embedded.host, port: embedded.port };
}

const time = () => new Date().toISOString().slice(11, 19);
/** One node: every line it logs, with the time. A fleet: warnings only, plus a summary every 10 s. */
function nodeLog(label: string): Log {
	const print = consoleLog("", devices > 1 ? "warn" : "info");
	return (level, message, detail) => print(level, `${time()} ${label}${message}`, detail);
}

process.stdout.write(`Sensor node simulator: firmware ${FIRMWARE_VERSION} on the Node host, ${devices > 1 ? `${devices} nodes` : "one node"} with a simulated ${chip}
Broker: ${embedded ? `embedded (aedes) on mqtt://${broker.host}:${broker.port}` : `mqtt://${broker.host}:${broker.port}`}
`);

const storeDir = path.join(os.tmpdir(), "sensor-node-sim");
const machine = os.hostname();
const nodes: SimulatedNode[] = [];
for (let i = 0; i < devices; i++) {
	const name = devices > 1 ? `${machine}/${i}` : `${machine}/${args.id ?? ""}`;
	const label = devices > 1 ? `[${i}] ` : "";
	const storePath = devices > 1 ? undefined : path.join(storeDir, `${args.id ?? "default"}.json`);
	if (storePath && args.fresh) fs.rmSync(storePath, { force: true });
	nodes.push(startSimulatedNode({
		broker, chip, name, storePath,
		// A fleet's ids are numbered: ids from 24 bits of hashed MAC collide in fleets of thousands, and two
		// nodes with one client id throw each other off the broker.
		id: devices > 1 ? `node-${simulatedMac(machine).slice(-6)}-${i}` : args.id,
		root: args.root,
		settings: { interval },
		log: nodeLog(label),
	}));
}

const first = nodes[0].node;
const where = `-h ${broker.host} -p ${broker.port}`;
process.stdout.write(`
${devices > 1 ? `${devices} nodes, e.g. ${args.root}/${first.id}` : `Node ${args.root}/${first.id}`}: a reading every ${interval} s${storeDirNote()}

  watch it:          mosquitto_sub ${where} -v -t '${args.root}/#'
  change its config: mosquitto_pub ${where} -r -t ${first.topics.config} -m '{"interval": 10, "unit": "F"}'
  whole fleet:       mosquitto_pub ${where} -r -t ${first.topics.fleetConfig} -m '{"deltaT": 0.2}'
  what it made of it: mosquitto_sub ${where} -v -t ${first.topics.configState}
  stop: Ctrl-C

`);

if (devices > 1) {
	setInterval(() => {
		const total = (key: "readings" | "published") => nodes.reduce((sum, { node }) => sum + node.counters[key], 0);
		const acked = nodes.reduce((sum, { node }) => sum + node.mqtt.acked, 0);
		const connected = nodes.filter(({ node }) => node.connected).length;
		process.stdout.write(`${time()} fleet: ${connected}/${devices} connected, ${total("readings")} readings, ${total("published")} published, ${acked} acknowledged\n`);
	}, 10_000).unref();
}

function storeDirNote(): string {
	return devices > 1 ? "" : `; its settings persist in ${path.join(storeDir, `${args.id ?? "default"}.json`)} (--fresh forgets them)`;
}

let stopping = false;
process.on("SIGINT", async () => {
	if (stopping) process.exit(130);
	stopping = true;
	process.stdout.write(`\n${time()} stopping: each node publishes "offline" and disconnects\n`);
	await Promise.all(nodes.map(({ node }) => new Promise<void>((resolve) => node.stop(resolve))));
	await embedded?.close();
	process.stdout.write(`${time()} stopped\n`);
	process.exit(0);
});
