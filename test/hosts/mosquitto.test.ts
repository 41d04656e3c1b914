import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import mqtt from "mqtt";
import { startMosquitto, type Mosquitto } from "../helpers/mosquitto";

function connected(url: string, options: mqtt.IClientOptions = {}): Promise<mqtt.MqttClient> {
	return new Promise((resolve, reject) => {
		const client = mqtt.connect(url, { reconnectPeriod: 0, ...options });
		client.once("connect", () => resolve(client));
		client.once("error", (error) => {
			client.end(true);
			reject(error);
		});
	});
}

describe("the Mosquitto fixture", () => {
	let broker: Mosquitto;
	before(async () => (broker = await startMosquitto()));
	after(() => broker.stop());

	test("starts a real broker that routes messages", async () => {
		const client = await connected(broker.url);
		await client.subscribeAsync("fixture/#");
		const got = new Promise<string>((resolve) => client.once("message", (_topic, payload) => resolve(payload.toString())));
		await client.publishAsync("fixture/a", "hello");
		assert.equal(await got, "hello");
		await client.endAsync();
		assert.match(broker.log(), /mosquitto version .* running/);
	});

	test("restarts on the same port", async () => {
		const port = broker.port;
		await broker.restart();
		assert.equal(broker.port, port);
		const client = await connected(broker.url);
		await client.endAsync();
	});
});

describe("the Mosquitto fixture with a password file", () => {
	let broker: Mosquitto;
	before(async () => (broker = await startMosquitto({ users: { node: "s3cret" } })));
	after(() => broker.stop());

	test("lets a known user in and keeps everyone else out", async () => {
		const client = await connected(broker.url, { username: "node", password: "s3cret" });
		await client.endAsync();
		await assert.rejects(connected(broker.url, { username: "node", password: "wrong" }), /Not authorized|Bad username/);
		await assert.rejects(connected(broker.url), /Not authorized/);
	});
});
