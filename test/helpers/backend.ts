/*
 * The other side of the broker in end-to-end tests: an MQTT.js client that records every message and lets
 * a test wait for the one it expects. Waits are event-driven; the deadline only turns a hang into a failure.
 */
import mqtt from "mqtt";

export interface Received {
	topic: string;
	text: string;
	retain: boolean;
	/** Set on the broker's redelivery to this backend (its own session), not on a node's re-send. */
	dup: boolean;
	json(): any;
}

export interface Backend {
	client: mqtt.MqttClient;
	messages: Received[];
	/** Resolves with the first message (already received or still to come) that matches. */
	waitFor(match: (message: Received) => boolean, what: string, timeoutMs?: number): Promise<Received>;
	publish(topic: string, payload: string | object, options?: { retain?: boolean; qos?: 0 | 1 }): Promise<void>;
	close(): Promise<void>;
}

export async function connectBackend(url: string, filters: string[], options: mqtt.IClientOptions = {}): Promise<Backend> {
	const client = mqtt.connect(url, { reconnectPeriod: 200, ...options });
	const messages: Received[] = [];
	const waiters = new Set<{ match: (m: Received) => boolean; resolve: (m: Received) => void }>();
	client.on("message", (topic, payload, packet) => {
		const text = payload.toString();
		const message: Received = { topic, text, retain: packet.retain, dup: packet.dup, json: () => JSON.parse(text) };
		messages.push(message);
		for (const waiter of waiters) {
			if (!waiter.match(message)) continue;
			waiters.delete(waiter);
			waiter.resolve(message);
		}
	});
	// Listening before the connection is up: a resumed session delivers queued messages right after CONNACK.
	await new Promise<void>((resolve, reject) => {
		client.once("connect", () => resolve());
		client.once("error", reject);
	});
	await client.subscribeAsync(filters, { qos: 1 });
	return {
		client,
		messages,
		waitFor(match, what, timeoutMs = 15_000) {
			const seen = messages.find(match);
			if (seen) return Promise.resolve(seen);
			return new Promise((resolve, reject) => {
				const waiter = {
					match,
					resolve: (message: Received) => {
						clearTimeout(timer);
						resolve(message);
					},
				};
				const timer = setTimeout(() => {
					waiters.delete(waiter);
					reject(new Error(`timed out waiting for ${what}`));
				}, timeoutMs);
				waiters.add(waiter);
			});
		},
		async publish(topic, payload, { retain = false, qos = 1 } = {}) {
			await client.publishAsync(topic, typeof payload === "string" ? payload : JSON.stringify(payload), { retain, qos });
		},
		close: () => client.endAsync(),
	};
}
