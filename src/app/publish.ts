/*
 * Publishing from the app: the node's own messages and the backlog's share these. A message the client
 * refuses (an invalid topic, after close) is logged, never thrown into a sensor callback or a timer.
 */
import type { Log } from "../io";
import type { PublishOptions } from "../mqtt/client";

/** What the app needs of the MQTT client (MqttClient has it). */
export interface Publisher {
	readonly connected: boolean;
	publish(topic: string, payload: string, options: PublishOptions): number;
	/** Whether a QoS 1 message goes into the outbox now without evicting an older one. */
	fits(topic: string, payload: string): boolean;
}

/** Options for `publish` by QoS and retain, made once rather than per message. */
const OPTIONS: readonly (readonly PublishOptions[])[] = Object.freeze([
	Object.freeze([Object.freeze({ qos: 0, retain: false }), Object.freeze({ qos: 0, retain: true })]),
	Object.freeze([Object.freeze({ qos: 1, retain: false }), Object.freeze({ qos: 1, retain: true })]),
]);

/** Publishes; the packet identifier as `publish` returns it, or 0 when the client refused (logged). */
export function publishOrLog(client: Publisher, log: Log, topic: string, payload: string, qos: 0 | 1, retain: boolean): number {
	try {
		return client.publish(topic, payload, OPTIONS[qos][retain ? 1 : 0]);
	}
	catch (error) {
		log("error", `mqtt: cannot publish to ${topic}: ${(error as Error).message}`);
		return 0;
	}
}
