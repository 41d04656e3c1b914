/*
 * `npm start`, the Node host's entry point (hosts/moddable/main.ts is a board's): the firmware on the
 * desktop. One simulated node (or a fleet with --devices), each the unchanged firmware from src/ on the
 * Node host, with a simulated I2C sensor, against an embedded broker (aedes, in-process) or the one given
 * with --broker. Ctrl-C stops every node gracefully.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { SIMULATOR_OUTBOX, simulatedMac, startSimulatedNode, type SimulatedNode } from "./fleet";
import { consoleLog } from "./log";
import { makeTlsClass } from "./tls";
import { startEmbeddedBroker, type EmbeddedBroker } from "../../sim/broker";
import { SIMULATED_CHIPS, type SimulatedChip } from "../../sim/sensors/board";
import { FIRMWARE_VERSION } from "../../src/app/node";
import { settingsFromStrings } from "../../src/app/settings";
import { topicProblem } from "../../src/app/topics";
import type { Log } from "../../src/io";

const HELP = `Usage: npm start -- [options]

  --broker mqtt://[user:password@]host[:port]
                              use this broker instead of the embedded one (port 1883 by default);
                              mqtts://... for MQTT over TLS (port 8883 by default)
  --ca <file>                 TLS: trust the CA certificates in this PEM file (default: Node's CA store)
  --cert <file>               TLS: client certificate (PEM), for brokers that require one; with --key
  --key <file>                TLS: the client certificate's private key (PEM)
  --pin <sha256>              TLS: trust exactly the broker certificate with this SHA-256 (hex, colons allowed)
  --insecure                  TLS without any certificate check (the node says so at every connect)
  --user <name>               broker user name (overrides one in --broker)
  --password <secret>         broker password (overrides one in --broker; needs a user name)
  --sensor <chip>             simulated chip: ${SIMULATED_CHIPS.join(", ")} (default SHT3x)
  --id <id>                   node id: letters, digits, _ and - (default: derived from a simulated MAC)
  --root <root>               topic root (default nodes)
  --interval <seconds>        reading interval, 1-86400 (default 5; a device defaults to 60)
  --devices <n>               run a fleet of n simulated nodes
  --fresh                     forget what the node stored in earlier runs: its settings and the
                              readings waiting in its flash for the broker
  -h, --help                  this text

Settings the node stored from config documents in earlier runs (broker, interval, ...) take precedence
over these flags, as on a board; the node says so when they do, and --fresh forgets them.
`;

function fail(message: string): never {
	process.stderr.write(`npm start: ${message}\n\n${HELP}`);
	process.exit(2);
}

const OPTIONS = {
	broker: { type: "string" },
	ca: { type: "string" },
	cert: { type: "string" },
	key: { type: "string" },
	pin: { type: "string" },
	insecure: { type: "boolean", default: false },
	user: { type: "string" },
	password: { type: "string" },
	sensor: { type: "string", default: "SHT3x" },
	id: { type: "string" },
	root: { type: "string", default: "nodes" },
	interval: { type: "string", default: "5" },
	devices: { type: "string", default: "1" },
	fresh: { type: "boolean", default: false },
	help: { type: "boolean", short: "h", default: false },
} as const;

function parse() {
	try {
		return parseArgs({ options: OPTIONS }).values;
	}
	catch (error) {
		// Node's messages go on with advice about "--" that does not apply here: the first sentence says it.
		fail((error as Error).message.split(". ")[0]);
	}
}

const args = parse();
if (args.help) {
	process.stdout.write(HELP);
	process.exit(0);
}
const chip = args.sensor as SimulatedChip;
if (!SIMULATED_CHIPS.includes(chip)) fail(`unknown sensor "${args.sensor}"`);
const devices = Number(args.devices);
if (!Number.isInteger(devices) || devices < 1) fail("--devices must be a whole number, at least 1");
if (args.id && devices > 1) fail("--id names one node; a fleet's nodes are named from their MACs");
const problem = topicProblem(args.id ?? "node", args.root);
if (problem) fail(problem);

/** The flags as the firmware's own settings, checked by the firmware's own rules. */
const flags: Record<string, string | undefined> = { interval: args.interval, user: args.user, password: args.password };
if (args.broker) {
	let url: URL;
	try {
		url = new URL(args.broker);
	}
	catch {
		fail(`--broker must look like mqtt://host:port, not "${args.broker}"`);
	}
	if (url.protocol !== "mqtt:" && url.protocol !== "mqtts:") fail(`--broker must be mqtt:// or mqtts://, not ${url.protocol}//`);
	if (url.pathname.replace(/^\/$/, "") || url.search || url.hash) fail(`--broker takes no path or query: "${args.broker}"`);
	const secure = url.protocol === "mqtts:";
	flags.host = url.hostname;
	flags.port = url.port || (secure ? "8883" : "1883");
	flags.tls = String(secure);
	flags.user ??= url.username ? decodeURIComponent(url.username) : undefined;
	flags.password ??= url.password ? decodeURIComponent(url.password) : undefined;
}
const tlsFlags = (["ca", "cert", "key", "pin", "insecure"] as const).filter((flag) => args[flag]);
if (tlsFlags.length && flags.tls !== "true") fail(`--${tlsFlags.join(", --")}: only with an mqtts:// --broker`);
if (!args.cert !== !args.key) fail("--cert and --key go together");
flags.pin = args.pin;
flags.insecure = String(args.insecure);
/** The file a TLS flag names, read now so that a wrong path stops here rather than at every connect. */
function readFlagFile(flag: "ca" | "cert" | "key"): Buffer | undefined {
	const file = args[flag];
	try {
		return file === undefined ? undefined : fs.readFileSync(file);
	}
	catch (error) {
		fail(`--${flag}: ${(error as Error).message}`);
	}
}
const tls = makeTlsClass({ ca: readFlagFile("ca"), cert: readFlagFile("cert"), key: readFlagFile("key") });
if (flags.password && !flags.user) fail("a password needs a user name (MQTT 3.1.1): add --user or user@ in --broker");
const FLAG_OF: Readonly<Record<string, string>> = { host: "--broker host", port: "--broker port", user: "--user", password: "--password", interval: "--interval", pin: "--pin" };
const errors: string[] = [];
const settings = settingsFromStrings(flags, errors);
if (errors.length) fail(errors.map((error) => error.replace(/^(\w+):/, (_, key: string) => `${FLAG_OF[key]}:`)).join("; "));

let embedded: EmbeddedBroker | undefined;
if (!args.broker) {
	embedded = await startEmbeddedBroker();
	settings.host = embedded.host;
	settings.port = embedded.port;
}
const broker = { host: settings.host as string, port: settings.port as number };

const time = () => new Date().toISOString().slice(11, 19);
/** One node: every line it logs, with the time. A fleet: warnings only, plus a summary every 10 s. */
function nodeLog(label: string): Log {
	const print = consoleLog("", devices > 1 ? "warn" : "info");
	return (level, message, detail) => print(level, `${time()} ${label}${message}`, detail);
}

process.stdout.write(`Sensor node simulator: firmware ${FIRMWARE_VERSION} on the Node host, ${devices > 1 ? `${devices} nodes` : "one node"} with a simulated ${chip}
${embedded ? `Embedded broker (aedes) listening on mqtt://${broker.host}:${broker.port}` : `Broker: ${settings.tls ? "mqtts" : "mqtt"}://${broker.host}:${broker.port}`}
`);

const storeDir = path.join(os.tmpdir(), "sensor-node-sim");
/**
 * Where a single node keeps its settings (.json) and its flash region (.flash). A fleet has neither: its
 * settings live in memory and its nodes have no flash, so backlogs wait in RAM: a 256 KB region per node
 * is 256 MB per thousand nodes, and files left in the temporary folder run after run buy a fleet nothing.
 */
const persisted = devices > 1 ? undefined : path.join(storeDir, args.id ?? "default");
const machine = os.hostname();
const nodes: SimulatedNode[] = [];
for (let i = 0; i < devices; i++) {
	const name = devices > 1 ? `${machine}/${i}` : `${machine}/${args.id ?? ""}`;
	const label = devices > 1 ? `[${i}] ` : "";
	const storePath = persisted && `${persisted}.json`;
	const flashPath = persisted && `${persisted}.flash`;
	if (args.fresh) for (const file of [storePath, flashPath]) if (file) fs.rmSync(file, { force: true });
	nodes.push(startSimulatedNode({
		broker, chip, name, storePath, flashPath, tls,
		// A fleet's ids are numbered: ids from 24 bits of hashed MAC collide in fleets of thousands, and two
		// nodes with one client id throw each other off the broker.
		id: devices > 1 ? `node-${simulatedMac(machine).slice(-6)}-${i}` : args.id,
		root: args.root,
		settings,
		mqtt: { outbox: SIMULATOR_OUTBOX },
		log: nodeLog(label),
	}));
}

// Before the banner: a Ctrl-C as soon as it shows must still stop the nodes gracefully.
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

const first = nodes[0].node;
// What the node runs with, which stored settings may have changed from what the flags asked for.
const inForce = first.broker;
const interval = first.settings.interval as number;
const overridden = [
	inForce.host !== broker.host || inForce.port !== broker.port ? `broker ${inForce.host}:${inForce.port} instead of ${broker.host}:${broker.port}` : "",
	interval !== settings.interval ? `a reading every ${interval} s instead of ${settings.interval as number} s` : "",
].filter(Boolean);
// Mosquitto's clients need the same trust as the node: its CA file, or the system's store, and its certificate.
const tlsWhere = !inForce.tls ? ""
	: `${args.ca ? ` --cafile ${args.ca}` : " --capath /etc/ssl/certs"}${args.cert ? ` --cert ${args.cert} --key ${args.key}` : ""}${args.insecure ? " --insecure" : ""}`;
const where = `-h ${inForce.host} -p ${inForce.port}${tlsWhere}`;
process.stdout.write(`
${devices > 1 ? `${devices} nodes, e.g. ${args.root}/${first.id}` : `Node ${args.root}/${first.id}`}: broker ${inForce.host}:${inForce.port}, a reading every ${interval} s${storeDirNote()}
${overridden.length ? `Settings it stored from config documents in an earlier run take precedence over the flags: ${overridden.join(", ")} (--fresh forgets them)\n` : ""}
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
	return persisted ? `; its settings persist in ${persisted}.json, readings waiting for the broker in ${persisted}.flash (--fresh forgets both)` : "";
}
