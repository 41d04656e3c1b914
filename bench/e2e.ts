/*
 * End-to-end benchmark: N QoS 1 publishes through one real Mosquitto on loopback, acknowledged, by
 *   - our client (src/mqtt/client.ts on the Node host: hosts/node/tcp.ts, RealClock, the resolver), once with
 *     a window like MQTT.js's (in flight and outbox as large as the driver's queue depth) and once with its
 *     ESP8266-sized defaults (8 in flight, outbox 16 messages / 4 KB);
 *   - MQTT.js, with the same driver and queue depth;
 *   - libmosquitto's mosquitto_pub (-q 1 -l, its default window of 20), fed N lines on stdin.
 * Runs alternate, their order rotating per round; the median of several rounds is reported.
 *
 * Throughput is N over the time from the first publish to the last PUBACK; CPU is this process's user +
 * system time over the same span (the broker is another process). mosquitto_pub is timed as a whole
 * process, with a one-message run subtracted to leave out its start-up, connect and disconnect.
 */
import { spawn } from "node:child_process";
import { performance } from "node:perf_hooks";
import mqtt from "mqtt";
import { collect, cpuMicros, median, round3 } from "./measure";
import { RealClock } from "../hosts/node/clock";
import { resolver } from "../hosts/node/dns";
import { TCP } from "../hosts/node/tcp";
import { MqttClient } from "../src/mqtt/client";
import type { MqttClientOptions, SocketOptions } from "../src/mqtt/client";
import { startMosquitto } from "../test/helpers/mosquitto";
import type { Mosquitto } from "../test/helpers/mosquitto";

export interface E2eOptions {
	messages: number;
	rounds: number;
	/** Messages the driver keeps published but unacknowledged (the "fair" runs). */
	depth: number;
	payloadBytes: number;
}

export interface E2eRun {
	/** Messages per second, first publish to last PUBACK. */
	throughput: number;
	/** Client CPU microseconds per message. */
	cpuPerMessage: number;
}

export interface E2eRow {
	client: string;
	config: string;
	throughput: number;
	cpuPerMessage: number;
	/** Against MQTT.js in the same run: throughput ratio (higher is better) and CPU ratio (lower is better). */
	throughputVsMqttjs: number;
	cpuVsMqttjs: number;
}

const TOPIC = "bench/e2e";

/** How both clients reach the broker: plain TCP here, TLS in the TLS bench (bench/tls.ts), same driver either way. */
export interface Transport {
	port: number;
	/** Our client's socket class and trust. */
	socket: SocketOptions;
	/** MQTT.js's URL and the trust it is given. */
	url: string;
	mqttjs?: mqtt.IClientOptions;
}

function plain(broker: Mosquitto): Transport {
	return { port: broker.port, socket: { io: TCP }, url: broker.url };
}

/** Publishes `messages` through `client`, keeping at most `depth` unacknowledged, and resolves when all are acknowledged. */
export async function timeOurs(
	broker: Mosquitto, options: E2eOptions, tuning: Pick<MqttClientOptions, "inflight" | "outbox">, depth: number, name: string,
	transport = plain(broker),
): Promise<E2eRun> {
	const payload = new Uint8Array(options.payloadBytes).fill(0x61);
	let published = 0;
	let acked = 0;
	let dropped = 0;
	let finish: () => void = () => {};
	const done = new Promise<void>((resolve) => finish = resolve);
	let up: () => void = () => {};
	const connected = new Promise<void>((resolve) => up = resolve);
	const feed = () => {
		while (published < options.messages && published - acked < depth) {
			client.publish(TOPIC, payload, { qos: 1 });
			published++;
		}
	};
	const client = new MqttClient({
		host: broker.host, port: transport.port, id: name, clean: true, keepalive: 60,
		socket: transport.socket, dns: resolver, clock: new RealClock(), ...tuning,
		onConnect: () => up(),
		onPublished: () => {
			if (++acked === options.messages) finish();
			else feed();
		},
		onDrop: () => dropped++,
	});
	await connected;
	collect();
	const cpu = process.cpuUsage();
	const start = performance.now();
	feed();
	await done;
	const seconds = (performance.now() - start) / 1000;
	const micros = cpuMicros(cpu);
	await closeOurs(client);
	if (dropped) throw new Error(`our client dropped ${dropped} messages: the driver must never overfill the outbox`);
	return { throughput: options.messages / seconds, cpuPerMessage: micros / options.messages };
}

function closeOurs(client: MqttClient): Promise<void> {
	return new Promise((resolve) => {
		client.onDisconnect = () => resolve();
		client.close();
	});
}

export async function timeMqttjs(broker: Mosquitto, options: E2eOptions, name: string, transport = plain(broker)): Promise<E2eRun> {
	const payload = Buffer.alloc(options.payloadBytes, 0x61);
	const client = await mqtt.connectAsync(transport.url, { ...transport.mqttjs, clientId: name, clean: true, reconnectPeriod: 0, keepalive: 60 });
	let published = 0;
	let acked = 0;
	let failure: Error | undefined;
	let finish: () => void = () => {};
	const done = new Promise<void>((resolve) => finish = resolve);
	const onAck = (error?: Error) => {
		if (error) failure ??= error;
		if (++acked === options.messages) finish();
		else feed();
	};
	const feed = () => {
		while (published < options.messages && published - acked < options.depth) {
			published++;
			client.publish(TOPIC, payload, { qos: 1 }, onAck);
		}
	};
	collect();
	const cpu = process.cpuUsage();
	const start = performance.now();
	feed();
	await done;
	const seconds = (performance.now() - start) / 1000;
	const micros = cpuMicros(cpu);
	await client.endAsync();
	if (failure) throw failure;
	return { throughput: options.messages / seconds, cpuPerMessage: micros / options.messages };
}

interface ProcessRun {
	seconds: number;
	cpuMicros: number;
}

/** One mosquitto_pub process fed `count` lines; wall time here, CPU from bash's `times` (its waited-for children). */
function runMosquittoPub(broker: Mosquitto, count: number, payloadBytes: number, name: string): Promise<ProcessRun> {
	const args = ["-h", broker.host, "-p", String(broker.port), "-t", TOPIC, "-q", "1", "-l", "-i", name];
	return new Promise((resolve, reject) => {
		const start = performance.now();
		const child = spawn("bash", ["-c", "mosquitto_pub \"$@\" || exit 1; times", "mosquitto_pub", ...args], { stdio: ["pipe", "pipe", "pipe"] });
		let output = "";
		child.stdout.on("data", (chunk) => output += chunk);
		child.stderr.on("data", (chunk) => output += chunk);
		child.on("error", reject);
		child.on("exit", (code) => {
			const seconds = (performance.now() - start) / 1000;
			// `times` prints the shell's user/system time, then its children's: "0m0.123s 0m0.045s".
			const children = output.trim().split("\n").at(-1)?.match(/^(\d+)m([\d.]+)s (\d+)m([\d.]+)s$/);
			if (code !== 0 || !children) return reject(new Error(`mosquitto_pub failed (exit ${code}): ${output}`));
			const [, um, us, sm, ss] = children;
			resolve({ seconds, cpuMicros: ((Number(um) * 60 + Number(us)) + (Number(sm) * 60 + Number(ss))) * 1e6 });
		});
		const line = "a".repeat(payloadBytes) + "\n";
		child.stdin.end(line.repeat(count));
	});
}

async function timeMosquittoPub(broker: Mosquitto, options: E2eOptions, name: string): Promise<E2eRun> {
	const base = await runMosquittoPub(broker, 1, options.payloadBytes, `${name}-base`);
	const full = await runMosquittoPub(broker, options.messages, options.payloadBytes, name);
	const n = options.messages - 1;
	return { throughput: n / Math.max(1e-6, full.seconds - base.seconds), cpuPerMessage: Math.max(0, full.cpuMicros - base.cpuMicros) / n };
}

interface Contender {
	client: string;
	config: string;
	run(broker: Mosquitto, name: string): Promise<E2eRun>;
}

export async function benchE2e(options: E2eOptions, progress: (line: string) => void = () => {}): Promise<E2eRow[]> {
	const fair = { inflight: options.depth, outbox: { messages: options.depth, bytes: options.depth * (options.payloadBytes + 64) } };
	const contenders: Contender[] = [
		{ client: "ours", config: `window ${options.depth} (like MQTT.js), outbox ${options.depth} msgs`, run: (b, n) => timeOurs(b, options, fair, options.depth, n) },
		{ client: "MQTT.js 5", config: `queue depth ${options.depth}`, run: (b, n) => timeMqttjs(b, options, n) },
		{ client: "ours", config: "defaults: 8 in flight, outbox 16 msgs / 4 KB", run: (b, n) => timeOurs(b, options, {}, 16, n) },
		{ client: "mosquitto_pub", config: "-q 1 -l, libmosquitto window 20", run: (b, n) => timeMosquittoPub(b, options, n) },
	];
	const broker = await startMosquitto();
	const runs = contenders.map((): E2eRun[] => []);
	try {
		// One warm-up run each, not counted: JIT, connection set-up paths, broker caches.
		for (const [i, contender] of contenders.entries()) await contender.run(broker, `warm-${i}`);
		for (let round = 0; round < options.rounds; round++) {
			for (let k = 0; k < contenders.length; k++) {
				const i = (k + round) % contenders.length;
				runs[i].push(await contenders[i].run(broker, `bench-${round}-${i}`));
			}
			progress(`end to end: round ${round + 1}/${options.rounds}`);
		}
	}
	finally {
		await broker.stop();
	}
	const summary = runs.map((list) => ({ throughput: median(list.map((r) => r.throughput)), cpuPerMessage: median(list.map((r) => r.cpuPerMessage)) }));
	const peer = summary[1];
	return contenders.map((contender, i) => ({
		client: contender.client,
		config: contender.config,
		throughput: Math.round(summary[i].throughput),
		cpuPerMessage: round3(summary[i].cpuPerMessage),
		throughputVsMqttjs: round3(summary[i].throughput / peer.throughput),
		cpuVsMqttjs: round3(summary[i].cpuPerMessage / peer.cpuPerMessage),
	}));
}
