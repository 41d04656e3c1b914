/*
 * Home Assistant's MQTT sensor discovery, transcribed for tests from its documentation
 * (home-assistant.io/integrations/mqtt#discovery-messages, /integrations/sensor.mqtt) and source
 * (homeassistant/components/mqtt: abbreviations.py, discovery.py, sensor.py, schemas.py;
 * homeassistant/components/sensor/const.py for the units and state classes per device class).
 *
 * `expandDiscovery` does what HA does to a payload before validating it (abbreviations, the `~` base
 * topic); `sensorProblems` lists every way a payload breaks the sensor schema.
 */

/** discovery.py: `<prefix>/<component>/[<node_id>/]<object_id>/config`, ids of [a-zA-Z0-9_-]. */
export const DISCOVERY_TOPIC = /^homeassistant\/(?<component>\w+)\/(?:(?<nodeId>[a-zA-Z0-9_-]+)\/)?(?<objectId>[a-zA-Z0-9_-]+)\/config$/;

/** abbreviations.py: ABBREVIATIONS (the keys a sensor may use). */
const ABBREVIATIONS: Readonly<Record<string, string>> = {
	avty: "availability",
	avty_mode: "availability_mode",
	avty_t: "availability_topic",
	avty_tpl: "availability_template",
	dev: "device",
	dev_cla: "device_class",
	def_ent_id: "default_entity_id",
	en: "enabled_by_default",
	ent_cat: "entity_category",
	ent_pic: "entity_picture",
	e: "encoding",
	exp_aft: "expire_after",
	frc_upd: "force_update",
	ic: "icon",
	json_attr_t: "json_attributes_topic",
	json_attr_tpl: "json_attributes_template",
	lrst_val_tpl: "last_reset_value_template",
	o: "origin",
	obj_id: "object_id",
	opt: "options",
	pl_avail: "payload_available",
	pl_not_avail: "payload_not_available",
	p: "platform",
	stat_cla: "state_class",
	stat_t: "state_topic",
	sug_dsp_prc: "suggested_display_precision",
	t: "topic",
	uniq_id: "unique_id",
	unit_of_meas: "unit_of_measurement",
	val_tpl: "value_template",
};

/** abbreviations.py: DEVICE_ABBREVIATIONS. */
const DEVICE_ABBREVIATIONS: Readonly<Record<string, string>> = {
	cns: "connections",
	ids: "identifiers",
	name: "name",
	mf: "manufacturer",
	mdl: "model",
	mdl_id: "model_id",
	hw: "hw_version",
	sw: "sw_version",
	sa: "suggested_area",
	sn: "serial_number",
	cu: "configuration_url",
	via_device: "via_device",
};

/** abbreviations.py: ORIGIN_ABBREVIATIONS. */
const ORIGIN_ABBREVIATIONS: Readonly<Record<string, string>> = { name: "name", sw: "sw_version", url: "support_url" };

type Check = (value: unknown) => boolean;
const string: Check = (value) => typeof value === "string";
const boolean: Check = (value) => typeof value === "boolean";
const positiveInt: Check = (value) => Number.isInteger(value) && (value as number) >= 0;
const oneOf = (...choices: unknown[]): Check => (value) => choices.includes(value);
/** valid_publish_topic/valid_subscribe_topic: non-empty UTF-8, no U+0000 (wildcards allowed in subscriptions). */
const topic: Check = (value) => typeof value === "string" && value.length > 0 && !value.includes("\u0000");

/** sensor.py PLATFORM_SCHEMA with MQTT_RO_SCHEMA, MQTT_ENTITY_COMMON_SCHEMA and MQTT_AVAILABILITY_SCHEMA. */
const SENSOR_FIELDS: Readonly<Record<string, Check>> = {
	availability: (value) => Array.isArray(value) && value.every((item) => typeof item === "object" && item !== null && topic((item as { topic?: unknown }).topic)),
	availability_mode: oneOf("all", "any", "latest"),
	availability_template: string,
	availability_topic: topic,
	default_entity_id: string,
	device: (value) => typeof value === "object" && value !== null,
	device_class: string,
	enabled_by_default: boolean,
	encoding: string,
	entity_category: oneOf("config", "diagnostic"),
	entity_picture: string,
	expire_after: positiveInt,
	force_update: boolean,
	icon: string,
	json_attributes_template: string,
	json_attributes_topic: topic,
	last_reset_value_template: string,
	name: (value) => value === null || typeof value === "string",
	object_id: string,
	options: Array.isArray,
	origin: (value) => typeof value === "object" && value !== null,
	payload_available: string,
	payload_not_available: string,
	platform: oneOf("mqtt"),
	qos: oneOf(0, 1, 2),
	state_class: oneOf("measurement", "measurement_angle", "total", "total_increasing"),
	state_topic: topic,
	suggested_display_precision: positiveInt,
	unique_id: string,
	unit_of_measurement: string,
	value_template: string,
};

const DEVICE_FIELDS: Readonly<Record<string, Check>> = {
	configuration_url: string,
	connections: (value) => Array.isArray(value) && value.every((pair) => Array.isArray(pair) && pair.length === 2),
	hw_version: string,
	identifiers: (value) => string(value) || (Array.isArray(value) && value.every(string)),
	manufacturer: string,
	model: string,
	model_id: string,
	name: string,
	serial_number: string,
	suggested_area: string,
	sw_version: string,
	via_device: string,
};

const ORIGIN_FIELDS: Readonly<Record<string, Check>> = { name: string, sw_version: string, support_url: string };

/** sensor/const.py: DEVICE_CLASS_UNITS and DEVICE_CLASS_STATE_CLASSES, for the classes a node can use. */
export const DEVICE_CLASSES: Readonly<Record<string, { units: readonly string[]; stateClasses: readonly string[] }>> = {
	temperature: { units: ["°C", "°F", "K"], stateClasses: ["measurement"] },
	humidity: { units: ["%"], stateClasses: ["measurement"] },
	pressure: { units: ["cbar", "bar", "hPa", "mmHg", "inHg", "kPa", "mbar", "Pa", "psi"], stateClasses: ["measurement"] },
	atmospheric_pressure: { units: ["cbar", "bar", "hPa", "mmHg", "inHg", "kPa", "mbar", "Pa", "psi"], stateClasses: ["measurement"] },
};

function expandKeys(object: Record<string, unknown>, table: Readonly<Record<string, string>>): Record<string, unknown> {
	const out: Record<string, unknown> = {};
	for (const [key, value] of Object.entries(object)) out[table[key] ?? key] = value;
	return out;
}

/** discovery.py: the payload as HA sees it once abbreviations and `~` are expanded. */
export function expandDiscovery(payload: Record<string, unknown>): Record<string, unknown> {
	const expanded = expandKeys(payload, ABBREVIATIONS);
	for (const [key, table] of [["device", DEVICE_ABBREVIATIONS], ["origin", ORIGIN_ABBREVIATIONS]] as const) {
		const value = expanded[key];
		if (typeof value === "object" && value !== null) expanded[key] = expandKeys(value as Record<string, unknown>, table);
	}
	if ("~" in expanded) {
		const base = expanded["~"] as string;
		delete expanded["~"];
		for (const [key, value] of Object.entries(expanded)) {
			if (typeof value !== "string" || !value || !key.endsWith("topic")) continue;
			if (value.startsWith("~")) expanded[key] = base + value.slice(1);
			else if (value.endsWith("~")) expanded[key] = value.slice(0, -1) + base;
		}
	}
	return expanded;
}

function fieldProblems(object: Record<string, unknown>, fields: Readonly<Record<string, Check>>, where: string): string[] {
	const problems: string[] = [];
	for (const [key, value] of Object.entries(object)) {
		const check = fields[key];
		if (!check) problems.push(`${where}${key}: not a field of the schema`);
		else if (!check(value)) problems.push(`${where}${key}: invalid value ${JSON.stringify(value)}`);
	}
	return problems;
}

/** Every way an expanded sensor discovery payload breaks HA's schema; empty when HA accepts it. */
export function sensorProblems(doc: Record<string, unknown>): string[] {
	const problems = fieldProblems(doc, SENSOR_FIELDS, "");
	if (!("state_topic" in doc)) problems.push("state_topic: required");
	const deviceClass = doc.device_class as string | undefined;
	if (deviceClass !== undefined) {
		const allowed = DEVICE_CLASSES[deviceClass];
		if (!allowed) problems.push(`device_class: ${deviceClass} is not transcribed here`);
		else {
			if (doc.unit_of_measurement !== undefined && !allowed.units.includes(doc.unit_of_measurement as string))
				problems.push(`unit_of_measurement: ${String(doc.unit_of_measurement)} is not a unit of ${deviceClass}`);
			if (doc.state_class !== undefined && !allowed.stateClasses.includes(doc.state_class as string))
				problems.push(`state_class: ${String(doc.state_class)} is not allowed for ${deviceClass}`);
		}
	}
	const device = doc.device as Record<string, unknown> | undefined;
	if (device) {
		problems.push(...fieldProblems(device, DEVICE_FIELDS, "device."));
		if (!("identifiers" in device) && !("connections" in device)) problems.push("device: needs identifiers or connections");
	}
	const origin = doc.origin as Record<string, unknown> | undefined;
	if (origin) {
		problems.push(...fieldProblems(origin, ORIGIN_FIELDS, "origin."));
		if (typeof origin.name !== "string") problems.push("origin.name: required");
	}
	return problems;
}
