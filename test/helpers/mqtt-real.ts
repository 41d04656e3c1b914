/*
 * Our MqttClient on Node's real sockets and clock, recording its events, with promise-based waiting on
 * them (no sleeps: a wait ends on the event it waits for, or fails after a generous deadline). Plus an
 * MQTT.js observer for the backend side.
 */
import mqtt from "mqtt";
import type { MqttClient as Observer } from "mqtt";
import { RealClock } from "../../hosts/node/clock";
import { resolver } from "../../hosts/node/dns";
import { TCP } from "../../hosts/node/tcp";
import type { Tcp, TcpConstructor, TcpOptions } from "../../src/io";
import { MqttClient } from "../../src/mqtt/client";
import type { MqttClientOptions } from "../../src/mqtt/client";
import type { Recorded } from "./mqtt-client-rig";

/** Resolves waits when something they look at may have changed. */
export class Signal {
	#waiters = new Set<() => void>();

	notify(): void {
		for (const waiter of [...this.#waiters]) waiter();
	}

	/** Resolves once `done()` holds, checking now and after each notify; rejects after `ms`. */
	until(done: () => boolean, what: string, ms = 15_000): Promise<void> {
		return new Promise((resolve, reject) => {
			const check = () => {
				if (!done()) return;
				this.#waiters.delete(check);
				clearTimeout(timer);
				resolve();
			};
			const timer = setTimeout(() => {
				this.#waiters.delete(check);
				reject(new Error(`timed out waiting for ${what}`));
			}, ms);
			this.#waiters.add(check);
			check();
		});
	}
}

/** A TCP class whose sockets a test can kill abruptly: closed without DISCONNECT, the client told via onError. */
export function killableTcp(): { io: TcpConstructor; sockets: { kill(): void }[] } {
	const sockets: { kill(): void }[] = [];
	class KillableTcp implements Tcp {
		readonly #inner: Tcp;
		#dead = false;
		constructor(options: TcpOptions) {
			const guard = <A extends unknown[]>(callback: ((this: Tcp, ...args: A) => void) | undefined) =>
				(...args: A) => {
					if (!this.#dead) callback?.call(this, ...args);
				};
			this.#inner = new TCP({
				...options,
				onReadable: guard(options.onReadable),
				onWritable: guard(options.onWritable),
				onError: guard(options.onError),
			});
			sockets.push({
				kill: () => {
					this.#dead = true;
					this.#inner.close();
					setImmediate(() => options.onError?.call(this));
				},
			});
		}
		read(byteLength?: number) {
			return this.#inner.read(byteLength);
		}
		write(data: Uint8Array) {
			this.#inner.write(data);
		}
		close() {
			this.#inner.close();
		}
	}
	return { io: KillableTcp, sockets };
}

export interface RealClient {
	client: MqttClient;
	seen: Recorded;
	signal: Signal;
}

/** Our client against a real broker; every event is recorded and notifies `signal`. */
export function realClient(options: Partial<MqttClientOptions> & { host: string; port: number; id: string }): RealClient {
	const signal = new Signal();
	const seen: Recorded = { connects: [], messages: [], oversize: [], subscribes: [], disconnects: [], errors: [], drops: [], logs: [] };
	const record = <T>(list: T[]) => (value: T) => {
		list.push(value);
		signal.notify();
	};
	const client = new MqttClient({
		socket: { io: TCP },
		dns: resolver,
		clock: new RealClock(),
		backoff: { min: 100, max: 1000 },
		log: (level, message) => seen.logs.push(`${level}: ${message}`),
		onConnect: ({ sessionPresent }) => record(seen.connects)(sessionPresent),
		onMessage: (message) => record(seen.messages)({ ...message, payload: message.payload.slice() }),
		onSubscribe: record(seen.subscribes),
		onDisconnect: record(seen.disconnects),
		onError: record(seen.errors),
		onDrop: record(seen.drops),
		onPublished: () => signal.notify(),
		...options,
	});
	return { client, seen, signal };
}

export interface Watcher {
	observer: Observer;
	messages: { topic: string; payload: string; retain: boolean }[];
	signal: Signal;
}

/** An MQTT.js client subscribed to `filters`, recording what it receives. */
export async function watch(url: string, filters: string[], options: mqtt.IClientOptions = {}): Promise<Watcher> {
	const observer = await mqtt.connectAsync(url, { reconnectPeriod: 200, ...options });
	const signal = new Signal();
	const messages: Watcher["messages"] = [];
	observer.on("message", (topic, payload, packet) => {
		messages.push({ topic, payload: payload.toString(), retain: packet.retain });
		signal.notify();
	});
	if (filters.length) await observer.subscribeAsync(filters, { qos: 1 });
	return { observer, messages, signal };
}
