import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { connack, disconnect, hex, publish, puback, toHex } from "../helpers/mqtt-packets";
import { rig } from "../helpers/mqtt-client-rig";

describe("CONNECT encoding", () => {
	it("sends a persistent-session CONNECT with the client id and a 60 s keepalive by default", () => {
		const { clock, net } = rig();
		clock.advance(0);
		assert.deepEqual(net.resolved, ["broker.test"]);
		assert.equal(net.last.port, 1883);
		net.last.expect(hex(`
			10 12 00 04 4d 51 54 54 04
			00              # flags: no clean session, no will, no credentials
			00 3c           # keepalive 60
			00 06 6e 6f 64 65 2d 31 # "node-1"
		`.replace(/#.*$/gm, "")));
	});

	it("encodes clean session, a retained QoS 1 will, user name and password", () => {
		const { clock, net } = rig({
			client: {
				id: "n", clean: true, keepalive: 30, user: "u", password: "pw", port: 8883,
				will: { topic: "s/n", payload: "off", qos: 1, retain: true },
			},
		});
		clock.advance(0);
		assert.equal(net.last.port, 8883);
		net.last.expect(hex(`
			10 1e 00 04 4d 51 54 54 04
			ee              # user 80 | password 40 | will retain 20 | will QoS 1 08 | will 04 | clean 02
			00 1e           # keepalive 30
			00 01 6e        # client id "n"
			00 03 73 2f 6e  # will topic "s/n"
			00 03 6f 66 66  # will payload "off"
			00 01 75        # user "u"
			00 02 70 77     # password "pw"
		`.replace(/#.*$/gm, "")));
	});

	it("encodes a QoS 0 will that is not retained with only the will flag", () => {
		const { clock, net } = rig({ client: { id: "n", will: { topic: "w", payload: hex("00 ff") } } });
		clock.advance(0);
		net.last.expect("10 14 00 04 4d 51 54 54 04 04 00 3c 00 01 6e 00 01 77 00 02 00 ff");
	});

	it("with manualConnect, resolves nothing until connect(), and a second connect() opens no second socket", () => {
		const { client, clock, net } = rig({ client: { manualConnect: true } });
		client.publish("t", "queued before the connect", { qos: 1 });
		clock.advance(60_000);
		assert.deepEqual(net.resolved, []);
		client.connect();
		client.connect();
		clock.advance(0);
		assert.deepEqual(net.resolved, ["broker.test"]);
		assert.equal(net.connections.length, 1);
	});

	it("refuses invalid settings at construction", () => {
		assert.throws(() => rig({ client: { id: "", clean: false } }), /clean/);
		assert.throws(() => rig({ client: { keepalive: 70_000 } }), /keepalive/);
		assert.throws(() => rig({ client: { password: "p" } }), /user name/);
		assert.throws(() => rig({ client: { will: { topic: "a/+" } } }), /wildcards/);
		assert.throws(() => rig({ client: { port: 0 } }), /port/);
	});
});

describe("CONNACK", () => {
	it("reports the connection and whether the broker kept a session", () => {
		const { client, seen, connect } = rig();
		assert.equal(client.connected, false);
		connect(true);
		assert.equal(client.connected, true);
		assert.deepEqual(seen.connects, [true]);
	});

	const refusals: [number, string][] = [
		[1, "unacceptable-protocol-version"],
		[2, "identifier-rejected"],
		[3, "server-unavailable"],
		[4, "bad-username-or-password"],
		[5, "not-authorized"],
	];
	for (const [code, name] of refusals) {
		it(`surfaces return code ${code} as the named error "${name}" and retries only after a backoff delay`, () => {
			const { clock, net, client, seen, open } = rig();
			const first = open();
			first.send(connack(code));
			clock.advance(0);
			assert.equal(client.connected, false);
			assert.equal(first.closed, true);
			assert.equal(seen.errors.length, 1);
			assert.equal(seen.errors[0].name, "MqttError");
			assert.equal(seen.errors[0].code, name);
			assert.equal(seen.errors[0].returnCode, code);
			assert.match(seen.errors[0].message, new RegExp(name));
			assert.deepEqual(seen.connects, []);
			assert.deepEqual(seen.disconnects, [], "never connected, so no disconnect");
			clock.advance(749);
			assert.equal(net.connections.length, 1);
			clock.advance(1);
			assert.equal(net.connections.length, 2);
		});
	}
});

describe("connection timeouts and failures", () => {
	it("gives up on a TCP connect that never completes after connectTimeout", () => {
		const { clock, net, seen } = rig({ client: { connectTimeout: 3000 } });
		net.behaviours.push("silent");
		clock.advance(2999);
		assert.equal(seen.errors.length, 0);
		clock.advance(1);
		assert.equal(seen.errors[0]?.code, "connect-timeout");
		assert.equal(net.connections[0].closed, true);
		clock.advance(750);
		assert.equal(net.connections.length, 2);
	});

	it("gives up on a broker that accepts TCP but never sends CONNACK after connackTimeout", () => {
		const { clock, net, seen, open } = rig({ client: { connackTimeout: 4000 } });
		open();
		clock.advance(3999);
		assert.equal(seen.errors.length, 0);
		clock.advance(1);
		assert.equal(seen.errors[0]?.code, "connack-timeout");
		assert.equal(net.connections[0].closed, true);
	});

	it("reports a name that does not resolve and tries again later", () => {
		const { clock, net, seen } = rig();
		net.unresolvable.add("broker.test");
		clock.advance(0);
		assert.equal(seen.errors[0]?.code, "dns");
		assert.equal(net.connections.length, 0);
		clock.advance(750);
		assert.deepEqual(net.resolved, ["broker.test", "broker.test"]);
	});

	it("treats a refused TCP connection as a transport failure", () => {
		const { clock, net, seen } = rig();
		net.behaviours.push("refuse");
		clock.advance(0);
		assert.equal(seen.errors[0]?.code, "transport");
	});
});

describe("reconnect backoff", () => {
	it("waits exponentially longer with jitter between attempts (seeded random 0.5)", () => {
		const { clock, net } = rig();
		for (let i = 0; i < 9; i++) net.behaviours.push("refuse");
		clock.advance(200_000);
		const gaps = net.connections.slice(1, 9).map((c, i) => c.openedAt - net.connections[i].openedAt);
		// min + 0.5 * (cap - min), the cap doubling from 1 s up to 60 s.
		assert.deepEqual(gaps, [750, 1250, 2250, 4250, 8250, 16250, 30250, 30250]);
	});

	it("draws each delay uniformly between min and the cap", () => {
		const draws = [0, 0.999, 0.25];
		const { clock, net } = rig({ client: { random: () => draws.shift() ?? 0, backoff: { min: 1000, max: 5000 } } });
		for (let i = 0; i < 4; i++) net.behaviours.push("refuse");
		clock.advance(100_000);
		const gaps = net.connections.slice(1, 4).map((c, i) => c.openedAt - net.connections[i].openedAt);
		assert.deepEqual(gaps, [1000, Math.round(1000 + 0.999 * 3000), 2000]);
	});

	it("keeps backing off when the broker accepts and then drops us at once, so it cannot cause a storm", () => {
		const { clock, net, seen } = rig();
		for (let i = 0; i < 6; i++) {
			const count = net.connections.length;
			clock.runUntil(() => net.connections.length > count, 120_000);
			clock.advance(0);
			const connection = net.last;
			connection.send(connack(0));
			clock.advance(0);
			connection.drop();
			clock.advance(0);
		}
		assert.equal(seen.connects.length, 6);
		const gaps = net.connections.slice(1).map((c, i) => c.openedAt - net.connections[i].openedAt);
		assert.deepEqual(gaps, [750, 1250, 2250, 4250, 8250]);
	});

	it("ignores what a socket it has let go of still reports, its callbacks being called on it", () => {
		const { clock, net, client, seen, connect } = rig({ client: { keepalive: 0 } });
		const old = connect();
		old.drop();
		clock.advance(0);
		assert.equal(old.closed, true);
		clock.advance(750);
		const current = net.last;
		assert.notEqual(current, old);
		current.take();
		old.options.onWritable!.call(old.socket, 1000);
		old.options.onReadable!.call(old.socket, 4);
		old.options.onError!.call(old.socket);
		clock.advance(0);
		assert.deepEqual(current.take(), [], "no second CONNECT");
		assert.equal(seen.errors.length, 1, "only the first connection's loss");
		current.send(connack(0));
		clock.advance(0);
		assert.equal(client.connected, true);
	});

	it("starts again from the shortest delay once a connection stayed up for stableAfter", () => {
		const { clock, net } = rig({ client: { stableAfter: 30_000, keepalive: 0 } });
		net.behaviours.push("refuse", "refuse");
		clock.advance(750 + 1250);
		assert.equal(net.connections.length, 3, "two refusals, backing off 750 then 1250 ms");
		const connection = net.last;
		connection.send(connack(0));
		clock.advance(30_000);
		connection.drop();
		clock.advance(0);
		const dropAt = clock.now;
		clock.advance(750);
		assert.equal(net.last.openedAt - dropAt, 750);
	});
});

describe("close and reconfigure", () => {
	it("close() writes what is queued, then DISCONNECT, closes the socket and reports the disconnect", () => {
		const { client, seen, connect, net } = rig({ client: { inflight: 1 } });
		const connection = connect();
		client.publish("t/a", "1", { qos: 1 });
		client.publish("t/b", "2", { qos: 1 });
		connection.expect(publish({ topic: "t/a", payload: "1", qos: 1, id: 1 }));
		client.publish("status", "offline", { qos: 1, retain: true });
		client.close();
		connection.expect(
			publish({ topic: "t/b", payload: "2", qos: 1, id: 2 }),
			publish({ topic: "status", payload: "offline", qos: 1, retain: true, id: 3 }),
			disconnect(),
		);
		assert.equal(connection.closed, true);
		assert.equal(client.connected, false);
		assert.deepEqual(seen.disconnects, ["closed"]);
		assert.deepEqual(seen.drops, [], "everything was handed to the broker before DISCONNECT");
		assert.throws(() => client.publish("t/c", "3"), /closed/);
		assert.equal(net.connections.length, 1);
	});

	it("close() on a congested socket gives up after connackTimeout and reports what it could not write", () => {
		const { clock, client, seen, open } = rig({ client: { connackTimeout: 5000 }, network: { sendBuffer: 30, autoDrain: false } });
		const connection = open();
		connection.release(30);
		connection.send(connack(0));
		clock.advance(0);
		client.publish("t/a", "x".repeat(20), { qos: 1 });
		client.publish("t/b", "y", { qos: 1 });
		client.close();
		clock.advance(4999);
		assert.equal(connection.closed, false);
		clock.advance(1);
		assert.equal(connection.closed, true);
		assert.deepEqual(connection.take().length, 1, "only the first message fitted; no room for DISCONNECT");
		assert.deepEqual(seen.drops, [
			{ topic: "t/a", qos: 1, id: 1, reason: "closed" },
			{ topic: "t/b", qos: 1, id: 2, reason: "closed" },
		]);
		assert.deepEqual(seen.disconnects, ["closed"]);
	});

	it("close() while waiting to reconnect stops for good without a DISCONNECT", () => {
		const { clock, net, client } = rig();
		net.behaviours.push("refuse");
		clock.advance(0);
		client.close();
		clock.advance(600_000);
		assert.equal(net.connections.length, 1);
		assert.equal(clock.pending, 0, "no timer left armed");
	});

	it("reconfigure() reconnects at once with the new settings and keeps the outbox", () => {
		const { clock, net, client, seen, connect } = rig({ client: { inflight: 1 } });
		const first = connect();
		client.publish("t", "x", { qos: 1 });
		first.expect(publish({ topic: "t", payload: "x", qos: 1, id: 1 }));
		client.reconfigure({ host: "other.test", port: 1884, user: "u", password: "p", keepalive: 10 });
		first.expect(disconnect());
		assert.equal(first.closed, true);
		assert.deepEqual(seen.disconnects, ["reconfigure"]);
		clock.advance(0);
		assert.deepEqual(net.resolved, ["broker.test", "other.test"]);
		const second = net.last;
		assert.equal(second.port, 1884);
		second.expect("10 18 00 04 4d 51 54 54 04 c0 00 0a 00 06 6e 6f 64 65 2d 31 00 01 75 00 01 70");
		second.send(connack(0, true));
		clock.advance(0);
		second.expect(publish({ topic: "t", payload: "x", qos: 1, id: 1, dup: true }));
		second.send(puback(1));
		clock.advance(0);
		assert.equal(client.queued, 0);
	});

	it("reconfigure() refuses invalid settings and changes nothing", () => {
		const { client, connect, net } = rig();
		const connection = connect();
		assert.throws(() => client.reconfigure({ keepalive: -1 }), /keepalive/);
		assert.throws(() => client.reconfigure({ port: 70_000 }), /port/);
		assert.equal(client.connected, true);
		assert.equal(connection.closed, false);
		assert.equal(net.connections.length, 1);
	});

	it("reconfigure() can remove the will with null", () => {
		const { clock, net, client, connect } = rig({ client: { will: { topic: "w" } } });
		connect();
		client.reconfigure({ will: null });
		clock.advance(0);
		assert.equal(toHex(net.last.writes[0]).slice(0, 29), "10 12 00 04 4d 51 54 54 04 00");
	});

	it("reconfigure() starts the reconnect backoff again from its minimum", () => {
		const { clock, net, client } = rig({ client: { backoff: { min: 1000, max: 60_000 } } });
		net.down = true;
		clock.advance(0);
		for (let attempt = 0; attempt < 5; attempt++) clock.advance(60_000);
		const before = net.connections.length;
		client.reconfigure({ host: "other.test" });
		clock.advance(0);
		assert.equal(net.connections.length, before + 1, "the new settings are tried at once");
		clock.advance(1499);
		assert.equal(net.connections.length, before + 1);
		clock.advance(1);
		assert.equal(net.connections.length, before + 2, "then after the first delay again: 1000-2000 ms, 1500 with random pinned at 0.5");
	});

	it("accepts a will with QoS 2, which asks nothing of the client", () => {
		const { clock, net } = rig({ client: { id: "n", will: { topic: "w", payload: "x", qos: 2 } } });
		clock.advance(0);
		assert.equal(toHex(net.last.writes[0]).slice(27, 29), "14", "will flag 04 | will QoS 2 10");
	});
});
