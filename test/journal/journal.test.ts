/*
 * The telemetry journal on a simulated NOR flash: order, acknowledgement, reboots, summaries when full,
 * wear spread, and a power cut at every single write and erase of appends, acks and reclaims.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { SimulatedFlash } from "../../hosts/node/flash";
import { Journal } from "../../src/journal/journal";
import { JournalRecord, READING, SUMMARY, slotsOf } from "../../src/journal/records";

/** Small sectors (7 records each), so that filling and reclaiming take few operations. */
const small = (sectors = 4) => new SimulatedFlash({ byteLength: sectors * 256, blockSize: 256 });

const record = new JournalRecord();
function reading(seq: number, boot = 0xb0071): JournalRecord {
	return record.setReading(boot, seq, seq * 60, 0, false, 20 + (seq % 10) / 10, 40 + (seq % 7), undefined);
}

interface Waiting {
	kind: number;
	boot: number;
	seq: number;
	lastSeq: number;
	count: number;
	ticket: number;
	temperature: { min: number; max: number; mean: number };
}

/** Everything that waits, oldest first. */
function waitingIn(journal: Journal): Waiting[] {
	const found: Waiting[] = [];
	for (let ticket = journal.next(journal.tail); ticket >= 0; ticket = journal.next(ticket + slotsOf(journal.record.kind))) {
		const r = journal.record;
		found.push({
			kind: r.kind, boot: r.boot, seq: r.seq, lastSeq: r.lastSeq, count: r.count, ticket,
			temperature: { min: r.tMin, max: r.tMax, mean: r.tSum / r.count },
		});
	}
	return found;
}

/** The seqs waiting, as readings or inside summaries. */
function covered(waiting: Waiting[]): Set<number> {
	const seqs = new Set<number>();
	for (const w of waiting) for (let seq = w.seq; seq <= w.lastSeq; seq++) seqs.add(seq);
	return seqs;
}

describe("journal", () => {
	it("keeps readings in order until acknowledged, across a reboot", () => {
		const flash = small();
		const journal = new Journal(flash);
		const tickets = [1, 2, 3, 4, 5].map((seq) => journal.append(reading(seq)));
		assert.deepEqual(tickets, [...tickets].sort((a, b) => a - b), "tickets grow in append order");
		journal.acknowledge(tickets[1]);
		journal.acknowledge(tickets[3]);
		assert.equal(journal.waiting, 3);
		assert.deepEqual(waitingIn(journal).map((w) => w.seq), [1, 3, 5]);

		const rebooted = new Journal(flash);
		assert.equal(rebooted.waiting, 3);
		const waiting = waitingIn(rebooted);
		assert.deepEqual(waiting.map((w) => w.seq), [1, 3, 5]);
		assert.deepEqual(waiting[1].temperature, { min: 20.3, max: 20.3, mean: 20.3 });
		rebooted.append(reading(6));
		assert.deepEqual(waitingIn(rebooted).map((w) => w.seq), [1, 3, 5, 6], "appends go on after the last record");
		assert.ok(rebooted.next(tickets[4] + 1) > tickets[4], "the new record comes after the old ones");
	});

	it("a reboot erases nothing and keeps the free sectors free", () => {
		const flash = small(8);
		const journal = new Journal(flash);
		for (let seq = 1; seq <= 10; seq++) journal.append(reading(seq));
		const erased = flash.erases.reduce((a, b) => a + b, 0);
		const rebooted = new Journal(flash);
		assert.equal(flash.erases.reduce((a, b) => a + b, 0), erased);
		assert.equal(rebooted.waiting, 10);
		assert.equal(rebooted.capacity - rebooted.waiting, 7 * 7 - 10, "room for the rest");
	});

	it("acknowledging twice, or a record reclaimed meanwhile, changes nothing", () => {
		const flash = small(2);
		const journal = new Journal(flash);
		const first = journal.append(reading(1));
		journal.acknowledge(first);
		journal.acknowledge(first);
		assert.equal(journal.waiting, 0);
		for (let seq = 2; seq <= 20; seq++) journal.acknowledge(journal.append(reading(seq)));
		journal.acknowledge(first);
		assert.equal(journal.waiting, 0);
	});

	it("refuses a region of fewer than two sectors", () => {
		assert.throws(() => new Journal(new SimulatedFlash({ byteLength: 4096 })), /at least 2 sectors/);
	});

	it("when full, merges the oldest waiting readings into summaries and loses none", () => {
		const flash = small(4);
		const journal = new Journal(flash);
		const total = 200;
		for (let seq = 1; seq <= total; seq++) journal.append(reading(seq));
		const waiting = waitingIn(journal);
		assert.ok(waiting.some((w) => w.kind === SUMMARY), "summaries were made");
		const seqs = covered(waiting);
		for (let seq = 1; seq <= total; seq++) assert.ok(seqs.has(seq), `reading ${seq} is a reading or inside a summary`);
		assert.equal(waiting.reduce((sum, w) => sum + w.count, 0), total, "the counts add up to every reading");
		assert.equal(journal.counters.lost, 0);
		assert.ok(journal.counters.summarized > 0);
		// Summaries of summaries keep exact min, max and mean.
		const all = Array.from({ length: total }, (_, i) => 20 + ((i + 1) % 10) / 10);
		const merged = waiting.filter((w) => w.kind === SUMMARY);
		const spanned = merged.flatMap((w) => all.slice(w.seq - 1, w.lastSeq));
		assert.equal(Math.min(...merged.map((w) => w.temperature.min)), Math.min(...spanned));
		assert.equal(Math.max(...merged.map((w) => w.temperature.max)), Math.max(...spanned));
		const first = merged[0];
		const values = all.slice(first.seq - 1, first.lastSeq);
		assert.ok(Math.abs(first.temperature.mean - values.reduce((a, b) => a + b, 0) / values.length) < 0.006, "mean within rounding");
		assert.deepEqual(waitingIn(new Journal(flash)), waiting, "a reboot sees the same");
	});

	it("does not merge readings of different boots or units", () => {
		const journal = new Journal(small(3));
		for (let seq = 1; seq <= 30; seq++) journal.append(record.setReading(seq <= 15 ? 1 : 2, seq, seq, 0, seq > 25, 20, 40, undefined));
		const waiting = waitingIn(journal);
		assert.deepEqual([...covered(waiting)].sort((a, b) => a - b), Array.from({ length: 30 }, (_, i) => i + 1), "every reading of both boots is kept");
		for (const w of waiting) {
			if (w.kind !== SUMMARY) continue;
			assert.ok(w.lastSeq <= 15 || w.seq > 15, `summary ${w.seq}-${w.lastSeq} stays within one boot`);
			assert.ok(w.lastSeq <= 25 || w.seq > 25, `summary ${w.seq}-${w.lastSeq} stays within one unit`);
		}
	});

	it("spreads erases evenly over the sectors", () => {
		const flash = small(8);
		const journal = new Journal(flash);
		for (let seq = 1; seq <= 7 * 8 * 25; seq++) journal.acknowledge(journal.append(reading(seq)));
		const erases = [...flash.erases];
		assert.ok(Math.max(...erases) - Math.min(...erases) <= 1, `erases per sector: ${erases.join(" ")}`);
		assert.equal(journal.counters.erases, erases.reduce((a, b) => a + b, 0));
	});

	describe("a power cut at every write and erase", () => {
		/**
		 * Appends readings 1..40, acknowledging every third right away and the others later in batches, so the
		 * run holds appends, acks, sector opens and reclaims of both empty and waiting sectors. Returns the
		 * seqs whose append and whose acknowledgement completed before the cut.
		 */
		function scenario(journal: Journal, appended: Set<number>, acked: Set<number>): void {
			const tickets = new Map<number, number>();
			for (let seq = 1; seq <= 40; seq++) {
				tickets.set(seq, journal.append(reading(seq)));
				appended.add(seq);
				if (seq % 3 === 0 || (seq > 20 && seq < 30)) {
					journal.acknowledge(tickets.get(seq)!);
					acked.add(seq);
				}
			}
		}

		const clean = small(4);
		scenario(new Journal(clean), new Set(), new Set());
		const operations = clean.operations;

		it(`covers all ${operations} operations of the scenario`, () => {
			assert.ok(operations > 60, `the scenario has ${operations} operations`);
		});

		for (let cut = 0; cut < operations; cut++) {
			it(`after operation ${cut}: nothing unacknowledged lost, nothing acknowledged waiting again`, () => {
				const flash = small(4);
				const appended = new Set<number>();
				const acked = new Set<number>();
				flash.cutPowerAfter(cut);
				assert.throws(() => scenario(new Journal(flash), appended, acked), /power cut/);
				flash.powerOn();
				const journal = new Journal(flash);
				const waiting = waitingIn(journal);
				const readings = new Set(waiting.filter((w) => w.kind === READING).map((w) => w.seq));
				const seqs = covered(waiting);
				for (const seq of appended) if (!acked.has(seq)) assert.ok(seqs.has(seq), `unacknowledged reading ${seq} is kept`);
				for (const seq of acked) assert.ok(!readings.has(seq), `acknowledged reading ${seq} does not wait again`);
				const summaries = waiting.filter((w) => w.kind === SUMMARY);
				for (const [i, a] of summaries.entries()) for (const b of summaries.slice(i + 1))
					assert.ok(a.boot !== b.boot || a.lastSeq < b.seq || b.lastSeq < a.seq, `summaries ${a.seq}-${a.lastSeq} and ${b.seq}-${b.lastSeq} do not overlap`);
				assert.equal(journal.waiting, waiting.length, "the count of waiting records matches what is there");
				assert.equal(journal.counters.lost, 0);
				// The journal works on after the reboot.
				for (let seq = 41; seq <= 60; seq++) journal.append(reading(seq));
				const after = covered(waitingIn(journal));
				for (let seq = 41; seq <= 60; seq++) assert.ok(after.has(seq), `reading ${seq} appended after the reboot is kept`);
			});
		}
	});
});
