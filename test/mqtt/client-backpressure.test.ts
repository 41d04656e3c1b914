/*
 * Incoming bursts against a socket with little room: PUBACKs go out as messages are handled, the client
 * stops reading while they cannot be written, and nothing ever closes the connection (issue 11).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { concat, connack, disconnect, publish, puback, toHex } from "../helpers/mqtt-packets";
import { rig } from "../helpers/mqtt-client-rig";

const MAX_OWED = 32;

function burst(count: number, topic = "cmd"): Uint8Array {
	return concat(...Array.from({ length: count }, (_, i) => publish({ topic, payload: `m${i + 1}`, qos: 1, id: i + 1 })));
}

/**
 * Opens a connection on a rig with a 64-byte send buffer that never drains by itself: CONNECT fills the
 * buffer, the CONNACK is accepted, and the client is left with no room to write.
 */
function connectWithNoRoom(r: ReturnType<typeof rig>, sessionPresent = false) {
	const connection = r.open();
	connection.release(64);
	connection.send(connack(0, sessionPresent));
	r.clock.advance(0);
	connection.release(0);
	r.clock.advance(0);
	return connection;
}

describe("backpressure on incoming QoS 1", () => {
	it("takes 500 QoS 1 messages in one read through a 4-byte write budget: each delivered once, all acknowledged in order, no disconnect", () => {
		const r = rig({ network: { sendBuffer: 64, autoDrain: false } });
		const { clock, client, seen } = r;
		const connection = connectWithNoRoom(r, true);
		connection.send(burst(500));
		clock.advance(0);
		// No room at all: the client handles what fits its ring of owed PUBACKs, then stops reading.
		assert.equal(seen.messages.length, MAX_OWED);
		let acks = 0;
		let mostOwed = 0;
		for (let turn = 0; turn < 10_000 && acks < 500; turn++) {
			connection.release(4); // one PUBACK's worth of socket space at a time
			clock.advance(0);
			const written = connection.take();
			for (const frame of written) assert.equal(frame, toHex(puback(++acks)));
			mostOwed = Math.max(mostOwed, seen.messages.length - acks);
		}
		assert.equal(acks, 500);
		assert.deepEqual(seen.messages.map((m) => String.fromCharCode(...m.payload)), Array.from({ length: 500 }, (_, i) => `m${i + 1}`));
		assert.ok(mostOwed <= MAX_OWED, `at most ${MAX_OWED} PUBACKs owed (saw ${mostOwed})`);
		assert.deepEqual(seen.disconnects, []);
		assert.deepEqual(seen.errors, []);
		assert.equal(client.connected, true);
		assert.equal(client.counters.received, 500);
	});

	it("stops reading the socket while the ring is full, and reads what arrived meanwhile once there is room", () => {
		const r = rig({ network: { sendBuffer: 64, autoDrain: false } });
		const { clock, seen } = r;
		const connection = connectWithNoRoom(r);
		connection.send(burst(40));
		clock.advance(0);
		connection.send(publish({ topic: "late", payload: "x", qos: 1, id: 41 }));
		clock.advance(0);
		assert.equal(seen.messages.length, MAX_OWED, "the second read waits in the socket");
		connection.release(1000);
		clock.advance(0);
		assert.equal(seen.messages.length, 41);
		assert.equal(connection.take().length, 41);
		assert.deepEqual(seen.disconnects, []);
	});

	it("with room in the socket, acknowledges each message before handling the next", () => {
		const { clock, client, connect } = rig();
		const connection = connect();
		const acksBefore: number[] = [];
		client.onMessage = () => acksBefore.push(connection.writes.length);
		const before = connection.writes.length;
		connection.send(burst(200));
		clock.advance(0);
		assert.deepEqual(acksBefore, Array.from({ length: 200 }, (_, i) => before + i));
		assert.equal(connection.take().length, 200);
	});
});

describe("a handler that leaves the connection acknowledges its message first", () => {
	it("reconfigure() from onMessage writes the message's PUBACK, then DISCONNECT, and leaves the rest unacknowledged for the broker to keep", () => {
		const { clock, net, client, seen, connect } = rig();
		const first = connect();
		client.onMessage = (message) => {
			seen.messages.push(message);
			client.reconfigure({ host: "other.test" });
		};
		first.send(concat(publish({ topic: "cfg", payload: "move", qos: 1, id: 5 }), publish({ topic: "cfg", payload: "next", qos: 1, id: 6 })));
		clock.advance(0);
		first.expect(puback(5), disconnect());
		assert.equal(seen.messages.length, 1);
		assert.deepEqual(seen.disconnects, ["reconfigure"]);
		assert.equal(first.closed, true);
		assert.deepEqual(net.resolved, ["broker.test", "other.test"]);
	});

	it("waits for socket space to acknowledge before switching, and gives up waiting after connackTimeout", () => {
		const r = rig({ client: { connackTimeout: 3000 }, network: { sendBuffer: 64, autoDrain: false } });
		const { clock, net, client, seen } = r;
		const first = connectWithNoRoom(r);
		client.onMessage = () => client.reconfigure({ host: "other.test" });
		first.send(publish({ topic: "cfg", payload: "move", qos: 1, id: 9 }));
		clock.advance(0);
		assert.equal(net.connections.length, 1, "no switch while the PUBACK is owed");
		first.release(4);
		clock.advance(0);
		first.expect(puback(9));
		assert.equal(first.closed, false, "DISCONNECT does not fit yet");
		clock.advance(3000);
		assert.equal(first.closed, true);
		assert.deepEqual(seen.disconnects, ["reconfigure"]);
		assert.equal(net.connections.length, 2);
	});

	it("close() from onMessage acknowledges the QoS 1 message before DISCONNECT", () => {
		const { clock, client, connect } = rig();
		const connection = connect();
		client.onMessage = () => client.close();
		connection.send(publish({ topic: "cmd", payload: "restart", qos: 1, id: 3 }));
		clock.advance(0);
		connection.expect(puback(3), disconnect());
		assert.equal(connection.closed, true);
	});
});
