/*
 * The backend of a soak: an MQTT.js client with a persistent session on the broker itself (not through the
 * proxy), subscribed at QoS 1 to every node's telemetry, keeping per node which sequence numbers arrived
 * and how often. Memory is one byte per reading.
 *
 * A second copy of a reading is a duplicate. MQTT 3.1.1 does not pass a publisher's DUP flag on to
 * subscribers [MQTT-3.3.1-3], so a copy the broker re-sends to this observer (after the observer's own
 * connection broke before its PUBACK) arrives with DUP set, while a copy caused by a node re-sending
 * arrives without it: the two are counted apart.
 */
import mqtt from "mqtt";
import { Signal } from "../helpers/mqtt-real";

interface NodeRecord {
	boot: string;
	/** Arrivals per sequence number (index = seq), saturating at 255. */
	seen: Uint8Array;
	/** Every sequence number 1..contiguous has arrived. */
	contiguous: number;
	highest: number;
	unique: number;
	/** Copies that arrived without DUP (a node's re-send) and with DUP (the broker's re-send to us). */
	duplicates: number;
	redelivered: number;
}

export interface ObserverTotals {
	nodes: number;
	/** Distinct readings received. */
	unique: number;
	duplicates: number;
	redelivered: number;
	/** Readings that were not JSON with a sequence number, or came from a second boot of a node. */
	malformed: number;
}

export class SequenceObserver {
	readonly #client: mqtt.MqttClient;
	readonly #nodes = new Map<string, NodeRecord>();
	readonly #signal = new Signal();
	#malformed = 0;

	static async connect(url: string, root: string, clientId: string): Promise<SequenceObserver> {
		const client = mqtt.connect(url, { clientId, clean: false, reconnectPeriod: 100, connectTimeout: 5000 });
		// Listening before the connection is up: a resumed session's queued messages may come with the CONNACK.
		const observer = new SequenceObserver(client, root);
		try {
			await new Promise((resolve, reject) => {
				client.once("connect", resolve);
				client.once("error", reject);
			});
			await client.subscribeAsync(`${root}/+/telemetry`, { qos: 1 });
		}
		catch (error) {
			await client.endAsync(true);
			throw error;
		}
		return observer;
	}

	private constructor(client: mqtt.MqttClient, root: string) {
		this.#client = client;
		const prefix = `${root}/`;
		client.on("message", (topic, payload, packet) => {
			this.#record(topic.slice(prefix.length, topic.length - "/telemetry".length), payload, packet.dup);
			this.#signal.notify();
		});
	}

	/** Whether node `id` delivered every reading from 1 to `last`. */
	complete(id: string, last: number): boolean {
		return last <= 0 || (this.#nodes.get(id)?.contiguous ?? 0) >= last;
	}

	/** Sequence numbers from 1 to `last` that node `id` never delivered (the first `limit`). */
	missing(id: string, last: number, limit = 10): number[] {
		const seen = this.#nodes.get(id)?.seen;
		const out: number[] = [];
		for (let seq = 1; seq <= last && out.length < limit; seq++) if (!seen || seq >= seen.length || !seen[seq]) out.push(seq);
		return out;
	}

	/** Highest sequence number seen from node `id`. */
	highest(id: string): number {
		return this.#nodes.get(id)?.highest ?? 0;
	}

	get totals(): ObserverTotals {
		const totals: ObserverTotals = { nodes: this.#nodes.size, unique: 0, duplicates: 0, redelivered: 0, malformed: this.#malformed };
		for (const record of this.#nodes.values()) {
			totals.unique += record.unique;
			totals.duplicates += record.duplicates;
			totals.redelivered += record.redelivered;
		}
		return totals;
	}

	/** Resolves once `done()` holds, checked now and after every message; rejects after `ms`. */
	until(done: () => boolean, what: string, ms: number): Promise<void> {
		return this.#signal.until(done, what, ms);
	}

	close(): Promise<void> {
		return this.#client.endAsync();
	}

	#record(id: string, payload: Buffer, dup: boolean): void {
		let reading: { seq?: unknown; boot?: unknown };
		try {
			reading = JSON.parse(payload.toString());
		}
		catch {
			this.#malformed++;
			return;
		}
		const { seq, boot } = reading;
		if (typeof seq !== "number" || !Number.isInteger(seq) || seq < 1 || typeof boot !== "string") {
			this.#malformed++;
			return;
		}
		let record = this.#nodes.get(id);
		if (!record) this.#nodes.set(id, record = { boot, seen: new Uint8Array(1024), contiguous: 0, highest: 0, unique: 0, duplicates: 0, redelivered: 0 });
		// The soak's nodes never reboot: readings from another boot would make sequence numbers ambiguous.
		if (boot !== record.boot) {
			this.#malformed++;
			return;
		}
		if (seq >= record.seen.length) {
			const larger = new Uint8Array(Math.max(2 * record.seen.length, seq + 1));
			larger.set(record.seen);
			record.seen = larger;
		}
		const seen = record.seen;
		if (seen[seq]) {
			if (dup) record.redelivered++;
			else record.duplicates++;
		}
		else record.unique++;
		if (seen[seq] < 255) seen[seq]++;
		if (seq > record.highest) record.highest = seq;
		while (record.contiguous + 1 < seen.length && seen[record.contiguous + 1]) record.contiguous++;
	}
}
