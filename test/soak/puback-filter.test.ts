/*
 * The PUBACK filter the proxy runs on the broker -> node stream: exact bytes out, whatever the chunking.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { PubackFilter } from "../../sim/network/puback-filter";
import { concat, pingresp, puback, publish, suback } from "../helpers/mqtt-packets";

const config = publish({ topic: "nodes/a/config", payload: "x".repeat(200), qos: 1, id: 9 });
const stream = concat(puback(1), suback(2, 1), puback(3), config, pingresp(), puback(4));
const withoutAcks = concat(suback(2, 1), config, pingresp());

function run(filter: PubackFilter, chunks: Uint8Array[]): number[] {
	const out: number[] = [];
	for (const chunk of chunks) out.push(...filter.filter(chunk)!);
	return out;
}

describe("the PUBACK filter", () => {
	test("passes the stream unchanged while not swallowing", () => {
		assert.deepEqual(run(new PubackFilter(), [stream]), [...stream]);
	});

	test("leaves out exactly the PUBACKs while swallowing, split at every offset", () => {
		for (let cut = 0; cut <= stream.length; cut++) {
			const filter = new PubackFilter();
			filter.swallow = true;
			assert.deepEqual(run(filter, [stream.subarray(0, cut), stream.subarray(cut)]), [...withoutAcks], `split at ${cut}`);
			assert.equal(filter.swallowed, 3);
		}
	});

	test("leaves out the PUBACKs of a stream fed one byte at a time", () => {
		const filter = new PubackFilter();
		filter.swallow = true;
		assert.deepEqual(run(filter, [...stream].map((b) => Uint8Array.of(b))), [...withoutAcks]);
	});

	test("gives up on a packet it cannot hold whole, rather than corrupt the stream", () => {
		const filter = new PubackFilter(64);
		assert.equal(filter.filter(config), undefined);
	});
});
