/*
 * Inbound benchmark (issue 11): N QoS 1 messages queued by Mosquitto for a persistent session, taken by a
 * subscriber that connects to collect them (the resume burst), by our client with its ESP8266-sized
 * defaults and by MQTT.js. mosquitto_pub, another process, fills the queue before each run, so only the
 * subscriber's work is in this process. Runs alternate; the median of several rounds is reported.
 *
 * Throughput is N over the time from creating the client to the last message; CPU is this process's user
 * + system time over the same span.
 */
import { spawn } from "node:child_process";
import { performance } from "node:perf_hooks";
import mqtt from "mqtt";
import { collect, cpuMicros, median, round3 } from "./measure";
import { RealClock } from "../hosts/node/clock";
import { resolver } from "../hosts/node/dns";
import { TCP } from "../hosts/node/tcp";
import { MqttClient } from "../src/mqtt/client";
import { startMosquitto } from "../test/helpers/mosquitto";
import type { Mosquitto } from "../test/helpers/mosquitto";

export interface InboundOptions {
	messages: number;
	rounds: number;
	payloadBytes: number;
}

export interface InboundRow {
	client: string;
	throughput: number;
	cpuPerMessage: number;
	throughputVsMqttjs: number;
	cpuVsMqttjs: number;
	/** Connections lost during the runs: must be 0. */
	disconnects: number;
}

interface Run {
	throughput: number;
	cpuPerMessage: number;
	disconnects: number;
}

const TOPIC = "bench/inbound";

/** Creates the persistent session `id` subscribed to TOPIC, then has mosquitto_pub queue `count` messages for it. */
async function fill(broker: Mosquitto, id: string, options: InboundOptions): Promise<void> {
	const session = await mqtt.connectAsync(broker.url, { clientId: id, clean: false, reconnectPeriod: 0 });
	await session.subscribeAsync(TOPIC, { qos: 1 });
	await session.endAsync();
	await new Promise<void>((resolve, reject) => {
		const child = spawn("mosquitto_pub", ["-h", broker.host, "-p", String(broker.port), "-t", TOPIC, "-q", "1", "-l"], { stdio: ["pipe", "ignore", "inherit"] });
		child.on("error", reject);
		child.on("exit", (code) => code === 0 ? resolve() : reject(new Error(`mosquitto_pub exit ${code}`)));
		child.stdin.end(("a".repeat(options.payloadBytes) + "\n").repeat(options.messages));
	});
}

function timeOurs(broker: Mosquitto, id: string, options: InboundOptions): Promise<Run> {
	return new Promise((resolve) => {
		let received = 0;
		let disconnects = 0;
		collect();
		const cpu = process.cpuUsage();
		const start = performance.now();
		const client = new MqttClient({
			host: broker.host, port: broker.port, id, clean: false, keepalive: 60,
			socket: { io: TCP }, dns: resolver, clock: new RealClock(),
			onMessage: () => {
				if (++received !== options.messages) return;
				const seconds = (performance.now() - start) / 1000;
				const micros = cpuMicros(cpu);
				client.onDisconnect = () => resolve({ throughput: options.messages / seconds, cpuPerMessage: micros / options.messages, disconnects });
				client.close();
			},
			onDisconnect: () => disconnects++,
		});
	});
}

function timeMqttjs(broker: Mosquitto, id: string, options: InboundOptions): Promise<Run> {
	return new Promise((resolve) => {
		let received = 0;
		let disconnects = 0;
		collect();
		const cpu = process.cpuUsage();
		const start = performance.now();
		const client = mqtt.connect(broker.url, { clientId: id, clean: false, reconnectPeriod: 100, keepalive: 60 });
		client.on("offline", () => disconnects++);
		client.on("message", () => {
			if (++received !== options.messages) return;
			const seconds = (performance.now() - start) / 1000;
			const micros = cpuMicros(cpu);
			// Let the last PUBACK go out before closing.
			setImmediate(() => client.end(false, {}, () => resolve({ throughput: options.messages / seconds, cpuPerMessage: micros / options.messages, disconnects })));
		});
	});
}

export async function benchInbound(options: InboundOptions, progress: (line: string) => void = () => {}): Promise<InboundRow[]> {
	const contenders = [
		{ client: "ours, defaults", run: timeOurs },
		{ client: "MQTT.js 5", run: timeMqttjs },
	];
	const broker = await startMosquitto({ config: [`max_queued_messages ${options.messages * 2}`] });
	const runs = contenders.map((): Run[] => []);
	try {
		for (let round = -1; round < options.rounds; round++) {
			for (let k = 0; k < contenders.length; k++) {
				const i = (k + Math.max(0, round)) % contenders.length;
				const id = `inbound-${round + 1}-${i}`;
				await fill(broker, id, options);
				const run = await contenders[i].run(broker, id, options);
				// Round -1 warms up (JIT, broker caches) and is not counted.
				if (round >= 0) runs[i].push(run);
			}
			if (round >= 0) progress(`inbound: round ${round + 1}/${options.rounds}`);
		}
	}
	finally {
		await broker.stop();
	}
	const summary = runs.map((list) => ({
		throughput: median(list.map((r) => r.throughput)),
		cpuPerMessage: median(list.map((r) => r.cpuPerMessage)),
		disconnects: list.reduce((n, r) => n + r.disconnects, 0),
	}));
	const peer = summary[1];
	return contenders.map((contender, i) => ({
		client: contender.client,
		throughput: Math.round(summary[i].throughput),
		cpuPerMessage: round3(summary[i].cpuPerMessage),
		throughputVsMqttjs: round3(summary[i].throughput / peer.throughput),
		cpuVsMqttjs: round3(summary[i].cpuPerMessage / peer.cpuPerMessage),
		disconnects: summary[i].disconnects,
	}));
}
