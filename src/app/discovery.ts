/*
 * Home Assistant MQTT discovery: one retained config message per measured quantity, pointing at the
 * telemetry topic, with the availability topic so HA shows the node offline when its will fires.
 * Announced on connect and again whenever Home Assistant says it came back online (`homeassistant/status`),
 * because a restarted HA without retained discovery would otherwise forget the node.
 */
import type { Topics } from "./topics";

export const DISCOVERY_PREFIX = "homeassistant";
export const HA_STATUS_TOPIC = `${DISCOVERY_PREFIX}/status`;

const QUANTITIES = Object.freeze([
	Object.freeze({ key: "temperature", name: "Temperature", deviceClass: "temperature" }),
	Object.freeze({ key: "humidity", name: "Humidity", deviceClass: "humidity" }),
	Object.freeze({ key: "pressure", name: "Pressure", deviceClass: "pressure" }),
] as const);

export interface DiscoveryContext {
	id: string;
	topics: Topics;
	/** The sensor chip, e.g. "SHT3x"; "" when none was found yet. */
	model: string;
	firmware: string;
	unit: string;
	hasPressure: boolean;
	/** Seconds after which HA should treat the last value as stale. */
	expireAfter: number;
}

export interface Announcement {
	topic: string;
	/** Empty removes the entity. */
	payload: string;
}

/** The discovery messages for this node; with `enabled` false, the messages that remove its entities. */
export function discoveryMessages(context: DiscoveryContext, enabled: boolean): Announcement[] {
	return QUANTITIES.map(({ key, name, deviceClass }) => {
		const topic = `${DISCOVERY_PREFIX}/sensor/${context.id}/${key}/config`;
		if (!enabled || (key === "pressure" && !context.hasPressure)) return { topic, payload: "" };
		const unit = key === "temperature" ? (context.unit === "F" ? "°F" : "°C") : key === "humidity" ? "%" : "Pa";
		return {
			topic,
			payload: JSON.stringify({
				name,
				unique_id: `${context.id}_${key}`,
				state_topic: context.topics.telemetry,
				value_template: `{{ value_json.${key} }}`,
				unit_of_measurement: unit,
				device_class: deviceClass,
				state_class: "measurement",
				expire_after: context.expireAfter,
				availability_topic: context.topics.status,
				payload_available: "online",
				payload_not_available: "offline",
				device: {
					identifiers: [context.id],
					name: `Sensor node ${context.id}`,
					model: context.model || "unknown sensor",
					manufacturer: "sensor-node-firmware",
					sw_version: context.firmware,
				},
			}),
		};
	});
}
