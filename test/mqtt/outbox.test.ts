import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { Outbox, REFUSED } from "../../src/mqtt/outbox";

interface Entry {
	id: number;
	qos: number;
	bytes: number[];
	sent: boolean;
}

type Op =
	| { kind: "append"; length: number; qos: number }
	| { kind: "send" }
	| { kind: "ack"; pick: number }
	| { kind: "requeue" };

const op: fc.Arbitrary<Op> = fc.oneof(
	fc.record({ kind: fc.constant("append" as const), length: fc.integer({ min: 4, max: 40 }), qos: fc.constantFrom(0, 1) }),
	fc.constant({ kind: "send" as const }),
	fc.record({ kind: fc.constant("ack" as const), pick: fc.nat() }),
	fc.constant({ kind: "requeue" as const }),
);

describe("outbox", () => {
	it("behaves like a simple list under any sequence of appends, sends, acks and requeues, and says when an append evicts nothing (model check)", () => {
		fc.assert(fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
			const MESSAGES = 6;
			const BYTES = 100;
			const evicted: number[][] = [];
			const outbox: Outbox = new Outbox({ messages: MESSAGES, bytes: BYTES }, {
				evicted(offset, length) {
					evicted.push(Array.from(outbox.bytes.subarray(offset, offset + length)));
				},
			});
			const model: Entry[] = [];
			let nextId = 1;
			for (const step of ops) {
				if (step.kind === "append") {
					const id = step.qos ? nextId++ : 0;
					const expected: number[][] = [];
					const used = () => model.reduce((n, e) => n + e.bytes.length, 0);
					let refused = false;
					while (model.length === MESSAGES || used() + step.length > BYTES) {
						let victim = model.findIndex((e) => e.qos === 0);
						if (victim < 0) {
							if (!step.qos) {
								refused = true;
								break;
							}
							victim = 0;
						}
						expected.push(model.splice(victim, 1)[0].bytes);
					}
					// fits: the append evicts nothing (and an empty outbox takes anything).
					assert.equal(outbox.fits(step.length), !model.length || (!expected.length && !refused));
					evicted.length = 0;
					const offset = outbox.append(step.length, step.qos, id);
					assert.deepEqual(evicted, expected, "evicted the entries the policy names, bytes intact");
					if (refused) {
						assert.equal(offset, REFUSED);
						continue;
					}
					const bytes = Array.from({ length: step.length }, (_, i) => (i ? (id * 7 + i) & 0xff : step.qos << 1));
					outbox.bytes.set(bytes, offset);
					model.push({ id, qos: step.qos, bytes, sent: false });
				}
				else if (step.kind === "send") {
					const i = model.findIndex((e) => !e.sent);
					assert.equal(outbox.next, i);
					if (i < 0) continue;
					outbox.markSent(0);
					if (model[i].qos) model[i].sent = true;
					else model.splice(i, 1);
				}
				else if (step.kind === "ack") {
					const ids = [0, ...model.map((e) => e.id)];
					const id = ids[step.pick % ids.length] || 65_000;
					const i = model.findIndex((e) => e.sent && e.id === id);
					assert.equal(outbox.ack(id), i >= 0);
					if (i >= 0) model.splice(i, 1);
				}
				else {
					outbox.requeue();
					for (const e of model) {
						if (e.sent) e.bytes[0] |= 0x08;
						e.sent = false;
					}
				}
				assert.equal(outbox.count, model.length);
				assert.equal(outbox.inflight, model.filter((e) => e.sent).length);
				model.forEach((e, i) => {
					assert.deepEqual(Array.from(outbox.frame(i)), e.bytes, `entry ${i} intact and in order`);
					assert.equal(outbox.dup(i), (e.bytes[0] & 0x08) !== 0);
				});
			}
		}), { seed: 7, numRuns: 3000 });
	});

	it("re-sends by setting DUP in the stored bytes, without re-encoding", () => {
		const outbox = new Outbox({}, { evicted() {} });
		const offset = outbox.append(4, 1, 9);
		outbox.bytes.set([0x32, 0x02, 0x00, 0x09], offset);
		outbox.markSent(0);
		outbox.requeue();
		assert.deepEqual(Array.from(outbox.frame(0)), [0x3a, 0x02, 0x00, 0x09]);
		assert.equal(outbox.inflight, 0);
		assert.equal(outbox.next, 0);
	});

	it("refuses a bound too small to hold anything", () => {
		assert.throws(() => new Outbox({ messages: 0 }, { evicted() {} }), RangeError);
		assert.throws(() => new Outbox({ bytes: 8 }, { evicted() {} }), RangeError);
	});
});

describe("outbox identifiers", () => {
	it("answers holds() exactly, through evictions, out-of-order acks, requeues and the wrap at 65535", () => {
		const starts = fc.oneof(fc.integer({ min: 0xffff - 16, max: 0xffff }), fc.integer({ min: 1, max: 0xffff }));
		fc.assert(fc.property(starts, fc.array(op, { maxLength: 200 }), (start, ops) => {
			const outbox = new Outbox({ messages: 8, bytes: 200 }, { evicted() {} });
			// Identifiers as the session takes them: the next in sequence that is not held, wrapping to 1.
			let next = start;
			const take = () => {
				for (;;) {
					next = next === 0xffff ? 1 : next + 1;
					if (!outbox.holds(next)) return next;
				}
			};
			const held = () => {
				const ids = new Set<number>();
				for (let i = 0; i < outbox.count; i++) if (outbox.qos(i)) ids.add(idOf(outbox, i));
				return ids;
			};
			for (const step of ops) {
				if (step.kind === "append") {
					const id = step.qos ? take() : 0;
					const offset = outbox.append(step.length, step.qos, id);
					// Byte 0 is the header, where requeue() sets DUP: the identifier goes after it.
					if (offset !== REFUSED) outbox.bytes.set([0x32, id >> 8, id & 0xff], offset);
				}
				else if (step.kind === "send" && outbox.next >= 0) outbox.markSent(0);
				else if (step.kind === "ack" && outbox.inflight) outbox.ack(idOf(outbox, step.pick % outbox.inflight));
				else if (step.kind === "requeue") outbox.requeue();
				const ids = held();
				for (const probe of [next, next === 0xffff ? 1 : next + 1, ...ids, start]) assert.equal(outbox.holds(probe), ids.has(probe), `holds(${probe})`);
			}
		}), { numRuns: 300 });
	});
});

/** The identifier the test wrote into entry `i`, after its header byte. */
function idOf(outbox: Outbox, i: number): number {
	const frame = outbox.frame(i);
	return (frame[1] << 8) | frame[2];
}
