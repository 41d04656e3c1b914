import assert from "node:assert/strict";
import { test } from "node:test";
import { RealClock } from "../../hosts/node/clock";
import { VirtualClock } from "../../hosts/node/virtual-clock";
import { elapsed } from "../../src/io";

test("virtual timers fire in due order, ties in the order they were set", () => {
	const clock = new VirtualClock();
	const fired: string[] = [];
	clock.set(() => fired.push("b"), 20);
	clock.set(() => fired.push("a"), 10);
	clock.set(() => fired.push("c"), 20);
	clock.advance(15);
	assert.deepEqual(fired, ["a"]);
	clock.advance(5);
	assert.deepEqual(fired, ["a", "b", "c"]);
});

test("a virtual timer callback sees the time it was due, and timers it sets in the window fire too", () => {
	const clock = new VirtualClock();
	const seen: number[] = [];
	clock.set(() => {
		seen.push(clock.now);
		clock.set(() => seen.push(clock.now), 5);
	}, 10);
	clock.advance(100);
	assert.deepEqual(seen, [10, 15]);
	assert.equal(clock.now, 100);
});

test("a repeating virtual timer runs every interval until cleared", () => {
	const clock = new VirtualClock();
	let count = 0;
	const id = clock.repeat(() => count++, 1000);
	clock.advance(5500);
	assert.equal(count, 5);
	clock.clear(id);
	clock.advance(5000);
	assert.equal(count, 5);
	assert.equal(clock.pending, 0);
});

test("hours of device time pass in milliseconds", () => {
	const clock = new VirtualClock();
	let count = 0;
	clock.repeat(() => count++, 100);
	const started = performance.now();
	clock.advance(10 * 3600_000);
	assert.equal(count, 360_000);
	assert.ok(performance.now() - started < 5000);
});

test("runUntil fires timers until a condition holds, and fails past its limit", () => {
	const clock = new VirtualClock();
	let done = false;
	clock.set(() => (done = true), 300);
	clock.runUntil(() => done, 1000);
	assert.equal(clock.now, 300);
	clock.set(() => {}, 5000);
	assert.throws(() => clock.runUntil(() => false, 1000), /not met within 1000 ms/);
});

test("ticks wrap like a signed 32-bit MCU counter, and elapsed() measures across the wrap", () => {
	const clock = new VirtualClock({ startTicks: 0x7fff_ff00, wrap32: true });
	const start = clock.ticks();
	clock.advance(0x200);
	const end = clock.ticks();
	assert.ok(end < 0, "the counter wrapped to negative");
	assert.ok(end < start, "a naive comparison would go backwards");
	assert.equal(elapsed(start, end), 0x200);
});

test("elapsed() works on the simulator's large float ticks", () => {
	assert.equal(elapsed(1795311394957, 1795311395957), 1000);
});

test("the real clock can start below the wrap and still measure elapsed time", async () => {
	const clock = new RealClock({ startTicks: 0x7fff_ffff, wrap32: true });
	const start = clock.ticks();
	await new Promise<void>((resolve) => clock.set(resolve, 5));
	const end = clock.ticks();
	assert.ok(end < 0, "wrapped");
	assert.ok(elapsed(start, end) >= 4, `elapsed ${elapsed(start, end)}`);
});

test("the real clock runs a 0 ms timer on the next turn of the loop, with no 1 ms floor, and can clear it", async () => {
	const clock = new RealClock();
	let chained = 0;
	let cleared = false;
	clock.clear(clock.set(() => cleared = true, 0));
	// Node's setTimeout(0) waits at least 1 ms: 100 chained timers would take over 100 ms, and lose this race.
	await new Promise<void>((resolve) => {
		const next = () => {
			if (++chained < 100) clock.set(next, 0);
		};
		clock.set(next, 0);
		clock.set(resolve, 100);
	});
	assert.equal(chained, 100);
	assert.equal(cleared, false);
});
