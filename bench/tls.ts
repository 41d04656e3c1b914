/*
 * TLS benchmark (issue 12): against one real Mosquitto with a TLS listener, its certificates made by
 * `openssl` for this run (test/helpers/certificates.ts), our client on the Node TLS stand-in
 * (hosts/node/tls.ts) and MQTT.js over `mqtts://`, both trusting the same CA:
 *   - the handshake: time from creating the client to CONNACK (TCP connect, TLS handshake with the
 *     certificate checked, MQTT CONNECT), and this process's CPU over the same span;
 *   - QoS 1 publishes over TLS, with the end-to-end bench's driver (bench/e2e.ts) and windows.
 * Runs alternate, their order rotating per round; the median of several rounds is reported, as ratios
 * against MQTT.js. Both sit on Node's OpenSSL, so the handshake ratio shows what each client adds to it.
 */
import { performance } from "node:perf_hooks";
import mqtt from "mqtt";
import { timeMqttjs, timeOurs } from "./e2e";
import type { E2eOptions, E2eRow, E2eRun, Transport } from "./e2e";
import { collect, cpuMicros, median, round3 } from "./measure";
import { RealClock } from "../hosts/node/clock";
import { resolver } from "../hosts/node/dns";
import { makeTlsClass } from "../hosts/node/tls";
import { MqttClient } from "../src/mqtt/client";
import { makeCertificates, tlsListener } from "../test/helpers/certificates";
import { freePort, startMosquitto } from "../test/helpers/mosquitto";
import type { Mosquitto } from "../test/helpers/mosquitto";

export interface TlsOptions {
	/** Connections per contender and round, for the handshake figures. */
	handshakes: number;
	rounds: number;
	/** The QoS 1 run, as the end-to-end bench takes it. */
	messages: E2eOptions;
}

export interface HandshakeRow {
	client: string;
	/** Median milliseconds from creating the client to CONNACK. */
	handshakeMs: number;
	/** Median CPU milliseconds of this process per connection, over the same span. */
	cpuMs: number;
	handshakeVsMqttjs: number;
	cpuVsMqttjs: number;
}

export interface TlsResult {
	options: TlsOptions;
	handshake: HandshakeRow[];
	messages: E2eRow[];
}

interface Handshake {
	ms: number;
	cpuMicros: number;
}

function handshakeOurs(broker: Mosquitto, transport: Transport, name: string): Promise<Handshake> {
	return new Promise((resolve, reject) => {
		collect();
		const cpu = process.cpuUsage();
		const start = performance.now();
		const client = new MqttClient({
			host: broker.host, port: transport.port, id: name, clean: true, keepalive: 60,
			socket: transport.socket, dns: resolver, clock: new RealClock(),
			onConnect: () => {
				const handshake = { ms: performance.now() - start, cpuMicros: cpuMicros(cpu) };
				client.onDisconnect = () => resolve(handshake);
				client.close();
			},
			// Before CONNACK a disconnect is a refused handshake: a broken bench, not a figure.
			onDisconnect: (reason) => {
				client.close();
				reject(new Error(`our client could not connect over TLS: ${JSON.stringify(reason)}`));
			},
		});
	});
}

async function handshakeMqttjs(transport: Transport, name: string): Promise<Handshake> {
	collect();
	const cpu = process.cpuUsage();
	const start = performance.now();
	const client = await mqtt.connectAsync(transport.url, { ...transport.mqttjs, clientId: name, clean: true, reconnectPeriod: 0, keepalive: 60 });
	const handshake = { ms: performance.now() - start, cpuMicros: cpuMicros(cpu) };
	await client.endAsync();
	return handshake;
}

interface Contender<Run> {
	client: string;
	config?: string;
	run(name: string): Promise<Run>;
}

/** One warm-up run each (not counted), then `rounds` rounds of `times` runs each, alternating with the order rotating. */
async function alternate<Run>(contenders: Contender<Run>[], rounds: number, times: number, label: string, progress: (line: string) => void): Promise<Run[][]> {
	const runs = contenders.map((): Run[] => []);
	for (const [i, contender] of contenders.entries()) await contender.run(`${label}-warm-${i}`);
	for (let round = 0; round < rounds; round++) {
		for (let n = 0; n < times; n++) {
			for (let k = 0; k < contenders.length; k++) {
				const i = (k + round + n) % contenders.length;
				runs[i].push(await contenders[i].run(`${label}-${round}-${n}-${i}`));
			}
		}
		progress(`tls ${label}: round ${round + 1}/${rounds}`);
	}
	return runs;
}

export async function benchTls(options: TlsOptions, progress: (line: string) => void = () => {}): Promise<TlsResult> {
	const certificates = makeCertificates();
	const port = await freePort();
	let broker: Mosquitto | undefined;
	try {
		// Without TCP_NODELAY, Mosquitto's CONNACK waits behind its TLS session tickets for the client's delayed
		// ACK, and every connection measures the 40 ms timer instead of the handshake.
		broker = await startMosquitto({ config: [...tlsListener(port, certificates, certificates.server), "set_tcp_nodelay true"] });
		const b = broker;
		const transport: Transport = {
			port,
			socket: { io: makeTlsClass({ ca: certificates.ca }) },
			url: `mqtts://${b.host}:${port}`,
			mqttjs: { ca: certificates.ca },
		};

		const connectors: Contender<Handshake>[] = [
			{ client: "ours (Node TLS stand-in)", run: (name) => handshakeOurs(b, transport, name) },
			{ client: "MQTT.js 5 (mqtts://)", run: (name) => handshakeMqttjs(transport, name) },
		];
		const handshakes = await alternate(connectors, options.rounds, options.handshakes, "handshake", progress);
		const handshake = handshakes.map((list) => ({ ms: median(list.map((h) => h.ms)), cpuMicros: median(list.map((h) => h.cpuMicros)) }));

		const m = options.messages;
		const fair = { inflight: m.depth, outbox: { messages: m.depth, bytes: m.depth * (m.payloadBytes + 64) } };
		const publishers: Contender<E2eRun>[] = [
			{ client: "ours", config: `window ${m.depth} (like MQTT.js), outbox ${m.depth} msgs`, run: (name) => timeOurs(b, m, fair, m.depth, name, transport) },
			{ client: "MQTT.js 5", config: `queue depth ${m.depth}`, run: (name) => timeMqttjs(b, m, name, transport) },
			{ client: "ours", config: "defaults: 8 in flight, outbox 16 msgs / 4 KB", run: (name) => timeOurs(b, m, {}, 16, name, transport) },
		];
		const published = await alternate(publishers, m.rounds, 1, "qos1", progress);
		const summary = published.map((list) => ({ throughput: median(list.map((r) => r.throughput)), cpuPerMessage: median(list.map((r) => r.cpuPerMessage)) }));

		return {
			options,
			handshake: handshake.map((h, i) => ({
				client: connectors[i].client,
				handshakeMs: round3(h.ms),
				cpuMs: round3(h.cpuMicros / 1000),
				handshakeVsMqttjs: round3(h.ms / handshake[1].ms),
				cpuVsMqttjs: round3(h.cpuMicros / handshake[1].cpuMicros),
			})),
			messages: publishers.map((publisher, i) => ({
				client: publisher.client,
				config: publisher.config ?? "",
				throughput: Math.round(summary[i].throughput),
				cpuPerMessage: round3(summary[i].cpuPerMessage),
				throughputVsMqttjs: round3(summary[i].throughput / summary[1].throughput),
				cpuVsMqttjs: round3(summary[i].cpuPerMessage / summary[1].cpuPerMessage),
			})),
		};
	}
	finally {
		await broker?.stop();
		certificates.remove();
	}
}
