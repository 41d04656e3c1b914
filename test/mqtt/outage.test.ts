import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { AutoBroker } from "../helpers/scripted-broker";
import { rig } from "../helpers/mqtt-client-rig";

/** Readings as the app publishes them: QoS 1 JSON with a sequence number. */
function seqOf(payload: Uint8Array): number {
	return JSON.parse(String.fromCharCode(...payload)).seq;
}

describe("a 30 s broker outage", () => {
	it("loses no reading, keeps their order, and duplicates only the reading in flight when the broker died", (t) => {
		// One reading per second (the fleet rate of the benchmarks), so the outbox must hold 30+ s of them.
		const { clock, net, client } = rig({ client: { keepalive: 10, outbox: { messages: 48, bytes: 8192 } } });
		const broker = new AutoBroker(net);
		clock.repeat(() => broker.serve(), 5);
		let seq = 0;
		const reading = clock.repeat(() => client.publish("nodes/n1/telemetry", JSON.stringify({ seq: ++seq, t: 21.5 }), { qos: 1 }), 1000);
		clock.advance(60_000 + 500);
		assert.equal(client.connected, true);

		// The broker receives the next reading, then dies before acknowledging it, and stays down for 30 s.
		broker.withholdAcks = true;
		clock.advance(600);
		assert.equal(seqOf(broker.received.at(-1)!.payload), seq, "the broker got the latest reading");
		net.down = true;
		net.last.drop();
		clock.advance(30_000);
		net.down = false;
		broker.withholdAcks = false;
		clock.advance(60_000);
		clock.clear(reading);
		clock.advance(10_000);
		assert.equal(client.connected, true);
		assert.equal(client.queued, 0, "everything acknowledged");

		const seqs = broker.received.map((p) => seqOf(p.payload));
		const unique = [...new Set(seqs)];
		const lost = seq - unique.length;
		const duplicates = seqs.length - unique.length;
		t.diagnostic(`readings: ${seq}, lost: ${lost}, duplicates delivered: ${duplicates}, re-sent: ${client.counters.resent}, reconnects: ${client.counters.reconnects}`);
		assert.equal(lost, 0);
		assert.deepEqual(unique, Array.from({ length: seq }, (_, i) => i + 1), "first arrivals are in publish order");
		assert.equal(duplicates, 1, "only the reading the broker got but never acknowledged");
		assert.ok(broker.received.filter((p) => p.dup).length >= duplicates, "every duplicate carries DUP");
		assert.equal(client.counters.dropped, 0);
	});
});
