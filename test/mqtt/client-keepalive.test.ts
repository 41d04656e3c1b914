import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { connack, pingreq, pingresp, publish, puback } from "../helpers/mqtt-packets";
import { rig } from "../helpers/mqtt-client-rig";
import type { RigOptions } from "../helpers/mqtt-client-rig";

/** A connected client with keepalive `seconds`, recording when it declared the link dead. */
function connected(seconds: number, options: RigOptions = {}) {
	const setup = rig({ ...options, client: { keepalive: seconds, ...options.client } });
	const deaths: number[] = [];
	setup.client.onDisconnect = (reason) => {
		setup.seen.disconnects.push(reason);
		deaths.push(setup.clock.now);
	};
	const connection = setup.connect();
	return { ...setup, connection, deaths, connectedAt: setup.clock.now };
}

describe("keepalive", () => {
	it("declares a silent link dead exactly 1.0 x keepalive after the last packet received", (t) => {
		const { clock, connection, deaths, connectedAt, seen } = connected(10);
		clock.advance(4999);
		connection.expect();
		clock.advance(1);
		connection.expect(pingreq()); // nothing received for k/2
		clock.advance(4999);
		assert.equal(connection.closed, false);
		clock.advance(1);
		assert.equal(connection.closed, true);
		assert.deepEqual(seen.disconnects, ["keepalive"]);
		const multiple = (deaths[0] - connectedAt) / 10_000;
		t.diagnostic(`dead-link detection: ${multiple} x keepalive`);
		assert.equal(multiple, 1.0);
	});

	it("stays up for as long as the broker answers, pinging every half keepalive on an idle link", () => {
		const { clock, connection, seen } = connected(10);
		const pingsAt: number[] = [];
		for (let i = 0; i < 120; i++) {
			clock.advance(5000);
			if (connection.take().length) {
				pingsAt.push(clock.now);
				connection.send(pingresp());
			}
		}
		assert.equal(pingsAt.length, 120);
		assert.equal(connection.closed, false);
		assert.deepEqual(seen.disconnects, []);
	});

	it("still pings within one keepalive of the last packet SENT while messages keep arriving", () => {
		const { clock, connection } = connected(10);
		const pingsAt: number[] = [];
		for (let s = 1; s <= 30; s++) {
			connection.send(publish({ topic: "t", payload: String(s) }));
			clock.advance(1000);
			for (const packet of connection.take()) {
				assert.equal(packet, "c0 00");
				pingsAt.push(clock.now);
			}
		}
		assert.deepEqual(pingsAt, [10_000, 20_000, 30_000]);
	});

	it("declares the link dead even while the app keeps publishing (sending does not prove the link)", () => {
		const { clock, client, connection, deaths, connectedAt } = connected(10);
		for (let s = 0; s < 12 && !connection.closed; s++) {
			client.publish("t", "x");
			clock.advance(1000);
		}
		assert.equal(deaths[0] - connectedAt, 10_000);
	});

	it("measures the keepalive from the last packet received, not from the last PINGRESP", () => {
		const { clock, connection, deaths } = connected(10);
		clock.advance(8000);
		connection.send(publish({ topic: "t", payload: "late" }));
		clock.advance(0);
		const lastReceived = clock.now;
		clock.advance(20_000);
		assert.equal(deaths[0] - lastReceived, 10_000);
	});

	it("sends no PINGREQ and detects nothing by time with keepalive 0", () => {
		const { clock, connection } = connected(0);
		clock.advance(3600_000);
		connection.expect();
		assert.equal(connection.closed, false);
	});
});

describe("ticks near the 32-bit wrap", () => {
	const nearWrap: RigOptions = { clock: { startTicks: 2 ** 31 - 2500, wrap32: true } };

	it("keeps keepalive timing exact across the wrap", () => {
		const { clock, connection, deaths, connectedAt } = connected(10, nearWrap);
		clock.advance(5000);
		connection.expect(pingreq());
		assert.ok(clock.ticks() < 0, "ticks wrapped to negative");
		clock.advance(4999);
		assert.equal(connection.closed, false);
		clock.advance(1);
		assert.equal(deaths[0] - connectedAt, 10_000);
	});

	it("keeps backoff and the PUBACK probe exact across the wrap", () => {
		const { clock, net, client, connection } = connected(60, { ...nearWrap, client: { ackTimeout: 2000 } });
		client.publish("t", "x", { qos: 1 });
		connection.take();
		clock.advance(1999);
		connection.expect();
		clock.advance(1);
		connection.expect(pingreq());
		clock.advance(2000);
		assert.equal(connection.closed, true);
		const closedAt = clock.now;
		clock.advance(749);
		assert.equal(net.connections.length, 1);
		clock.advance(1);
		assert.equal(net.last.openedAt - closedAt, 750);
		net.last.take();
		net.last.send(connack(0, true));
		clock.advance(0);
		net.last.expect("3a 06 00 01 74 00 01 78");
		net.last.send(puback(1));
		clock.advance(0);
		assert.equal(client.queued, 0);
	});
});
