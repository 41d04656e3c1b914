/*
 * Home Assistant MQTT discovery: one retained config message per measured quantity, pointing at the
 * telemetry topic, with the availability topic so HA shows the node offline when its will fires.
 * Announced on connect, after every change that alters a document, and again whenever Home Assistant says
 * it came back online (`homeassistant/status`), because a restarted HA without retained discovery would
 * otherwise forget the node.
 *
 * The documents use Home Assistant's abbreviated keys and its `~` base topic, to keep them small: an
 * ESP8266's 2 KB outbox takes them one or two at a time, as room allows (see SensorNode's #flush).
 */
import type { Settings } from "./settings";

export const DISCOVERY_PREFIX = "homeassistant";
export const HA_STATUS_TOPIC = `${DISCOVERY_PREFIX}/status`;
const ORIGIN = "sensor-node-firmware";

const QUANTITIES = Object.freeze([
	Object.freeze({ key: "temperature", name: "Temperature" }),
	Object.freeze({ key: "humidity", name: "Humidity" }),
	Object.freeze({ key: "pressure", name: "Pressure" }),
] as const);

export interface DiscoveryContext {
	id: string;
	/** `<root>/<id>`, the base of the node's own topics. */
	base: string;
	/** The sensor chip, e.g. "SHT3x". */
	model: string;
	firmware: string;
	/** What the firmware runs on, e.g. "esp32"; "" leaves it out. */
	hardware: string;
}

export interface Announcement {
	topic: string;
	/** Empty removes the entity. */
	payload: string;
}

export function discoveryTopic(id: string, quantity: string): string {
	return `${DISCOVERY_PREFIX}/sensor/${id}/${quantity}/config`;
}

/**
 * Seconds after which HA should treat the last value as stale: three readings missed, or with
 * publish-on-change, `maxSilence` (the longest a node stays quiet) and two readings more.
 */
export function expireAfter(settings: Readonly<Settings>): number {
	const interval = settings.interval as number;
	return settings.deltaT || settings.deltaH ? (settings.maxSilence as number) + 2 * interval : 3 * interval;
}

/**
 * The discovery messages for this node and sensor. Quantities the sensor does not measure, and every one
 * when discovery is off, get an empty message, which removes the entity.
 */
export function discoveryMessages(context: DiscoveryContext, settings: Readonly<Settings>): Announcement[] {
	const enabled = settings.discovery as boolean;
	const hasPressure = context.model === "BME280";
	return QUANTITIES.map(({ key, name }) => {
		const topic = discoveryTopic(context.id, key);
		if (!enabled || (key === "pressure" && !hasPressure)) return { topic, payload: "" };
		const unit = key === "temperature" ? (settings.unit === "F" ? "°F" : "°C") : key === "humidity" ? "%" : "Pa";
		const device: Record<string, unknown> = {
			ids: [context.id],
			name: `Sensor node ${context.id}`,
			mf: ORIGIN,
			mdl: context.model,
			sw: context.firmware,
		};
		if (context.hardware) device.hw = context.hardware;
		return {
			topic,
			payload: JSON.stringify({
				"~": context.base,
				name,
				uniq_id: `${context.id}_${key}`,
				stat_t: "~/telemetry",
				val_tpl: `{{ value_json.${key} }}`,
				unit_of_meas: unit,
				dev_cla: key,
				stat_cla: "measurement",
				exp_aft: expireAfter(settings),
				avty_t: "~/status",
				qos: 1,
				dev: device,
				o: { name: ORIGIN, sw: context.firmware },
			}),
		};
	});
}
