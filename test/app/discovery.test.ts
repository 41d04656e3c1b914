import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { discoveryMessages, expireAfter, type DiscoveryContext } from "../../src/app/discovery";
import { DEFAULTS, type Settings } from "../../src/app/settings";
import { topicProblem } from "../../src/app/topics";
import { SENSOR_MODELS } from "../../src/drivers/detect";
import { DISCOVERY_TOPIC, expandDiscovery, sensorProblems } from "../helpers/ha-discovery";

const context = (model: string, id = "node-3f2a1c"): DiscoveryContext =>
	({ id, base: `nodes/${id}`, model, firmware: "0.1.0", hardware: "esp32" });
const settings = (extra: Settings = {}): Settings => ({ ...DEFAULTS, ...extra });

/** Every combination that changes a document: sensor model, unit, discovery, publish-on-change, interval extremes. */
const VARIANTS: Settings[] = [];
for (const unit of ["C", "F"])
	for (const discovery of [true, false])
		for (const deltas of [{}, { deltaT: 0.2 }, { deltaH: 2 }] as Settings[])
			for (const timing of [{ interval: 1, maxSilence: 1 }, { interval: 60 }, { interval: 86400, maxSilence: 86400 }] as Settings[])
				VARIANTS.push(settings({ unit, discovery, ...deltas, ...timing }));

describe("Home Assistant discovery", () => {
	test("every document the node can produce passes Home Assistant's sensor schema, on a topic it accepts", () => {
		let checked = 0;
		for (const model of SENSOR_MODELS) {
			for (const variant of VARIANTS) {
				for (const { topic, payload } of discoveryMessages(context(model), variant)) {
					const match = DISCOVERY_TOPIC.exec(topic);
					assert.ok(match, `${topic} is a discovery topic`);
					assert.equal(match.groups!.component, "sensor");
					assert.equal(match.groups!.nodeId, "node-3f2a1c");
					if (!payload) continue;
					const doc = expandDiscovery(JSON.parse(payload));
					assert.deepEqual(sensorProblems(doc), [], `${model} ${JSON.stringify(variant)}: ${payload}`);
					checked++;
				}
			}
		}
		assert.ok(checked > 100, `${checked} documents checked`);
	});

	test("a document carries availability, QoS 1, device and origin information, and points at the telemetry", () => {
		const [temperature, humidity, pressure] = discoveryMessages(context("BME280"), settings({ unit: "F" }))
			.map(({ payload }) => expandDiscovery(JSON.parse(payload)));
		assert.deepEqual(temperature, {
			name: "Temperature",
			unique_id: "node-3f2a1c_temperature",
			state_topic: "nodes/node-3f2a1c/telemetry",
			value_template: "{{ value_json.temperature }}",
			unit_of_measurement: "°F",
			device_class: "temperature",
			state_class: "measurement",
			expire_after: 180,
			availability_topic: "nodes/node-3f2a1c/status",
			qos: 1,
			device: {
				identifiers: ["node-3f2a1c"],
				name: "Sensor node node-3f2a1c",
				manufacturer: "sensor-node-firmware",
				model: "BME280",
				sw_version: "0.1.0",
				hw_version: "esp32",
			},
			origin: { name: "sensor-node-firmware", sw_version: "0.1.0" },
		});
		assert.equal(humidity.unit_of_measurement, "%");
		assert.equal(pressure.unit_of_measurement, "Pa");
		assert.equal(pressure.value_template, "{{ value_json.pressure }}");
	});

	test("leaves out the hardware when the host does not say", () => {
		const [{ payload }] = discoveryMessages({ ...context("SHT3x"), hardware: "" }, settings());
		assert.equal("hw_version" in (expandDiscovery(JSON.parse(payload)).device as object), false);
	});

	test("removes the quantities the sensor does not measure, and every entity when discovery is off", () => {
		const topics = (model: string, extra: Settings = {}) =>
			discoveryMessages(context(model), settings(extra)).map(({ topic, payload }) => `${topic.split("/")[3]}:${payload ? "doc" : "remove"}`);
		assert.deepEqual(topics("BME280"), ["temperature:doc", "humidity:doc", "pressure:doc"]);
		assert.deepEqual(topics("SHT3x"), ["temperature:doc", "humidity:doc", "pressure:remove"]);
		assert.deepEqual(topics("BME280", { discovery: false }), ["temperature:remove", "humidity:remove", "pressure:remove"]);
	});

	test("expire_after follows maxSilence whenever publish-on-change is on, and the interval otherwise", () => {
		assert.equal(expireAfter(settings({ interval: 10 })), 30);
		assert.equal(expireAfter(settings({ interval: 3, deltaT: 0.2 })), 906);
		assert.equal(expireAfter(settings({ interval: 3, deltaH: 1, maxSilence: 60 })), 66);
		// Whatever the settings, a node publishes at least every max(interval, maxSilence + interval) seconds.
		for (const variant of VARIANTS) {
			const interval = variant.interval as number;
			const longestSilence = variant.deltaT || variant.deltaH ? Math.max(interval, (variant.maxSilence as number) + interval) : interval;
			assert.ok(expireAfter(variant) > longestSilence, JSON.stringify(variant));
		}
	});
});

describe("node ids and topic roots", () => {
	test("ids are what Home Assistant allows in a discovery topic", () => {
		for (const id of ["node-3f2a1c", "kitchen_1", "A-Z_0-9"]) assert.equal(topicProblem(id, "nodes"), "", id);
		for (const id of ["kitchen.1", "a/b", "a+b", "a#", "", "küche", "a b"])
			assert.match(topicProblem(id, "nodes"), /may hold only letters, digits, _ and -/, id);
		assert.match(topicProblem("all", "nodes"), /"all" is taken: nodes\/all\/config is the fleet's config topic/);
	});

	test("a root is one or more non-empty MQTT topic levels without wildcards", () => {
		for (const root of ["nodes", "site/floor-1", "maison/étage"]) assert.equal(topicProblem("n1", root), "", root);
		for (const root of ["", "a//b", "/nodes", "a/+", "a/#"]) assert.match(topicProblem("n1", root), /topic root/, root);
	});

	test("an id derived from any MAC is valid", () => {
		for (const mac of ["000000000000", "ffffffffffff", "02ab34cd56ef"]) assert.equal(topicProblem(`node-${mac.slice(-6)}`, "nodes"), "");
	});
});
