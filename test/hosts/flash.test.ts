import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import { SimulatedFlash } from "../../hosts/node/flash";
import { VirtualClock } from "../../hosts/node/virtual-clock";

const bytes = (flash: SimulatedFlash, offset: number, byteLength: number) => [...new Uint8Array(flash.read(offset, byteLength))];

function tempFile(): string {
	return path.join(fs.mkdtempSync(path.join(os.tmpdir(), "flash-")), "region.flash");
}

test("flash starts erased; a write only clears bits, and only an erase sets them again", () => {
	const flash = new SimulatedFlash({ byteLength: 8192 });
	assert.equal(flash.blockSize, 4096);
	assert.deepEqual(bytes(flash, 0, 8), Array(8).fill(0xff));
	flash.write(4, 4, Uint8Array.of(0xf0, 0x0f, 0x00, 0xaa));
	flash.write(4, 4, Uint8Array.of(0x3c, 0xff, 0xff, 0x55).buffer);
	assert.deepEqual(bytes(flash, 0, 12), [0xff, 0xff, 0xff, 0xff, 0x30, 0x0f, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff], "old AND new");
	flash.write(4096, 4, Uint8Array.of(0, 0, 0, 0));
	flash.erase(0);
	assert.deepEqual(bytes(flash, 0, 8), Array(8).fill(0xff));
	assert.deepEqual(bytes(flash, 4096, 4), [0, 0, 0, 0], "an erase stays within its sector");
});

test("a write takes the bytes a view shows, not its whole buffer, and reads are copies", () => {
	const flash = new SimulatedFlash({ byteLength: 4096 });
	const backing = Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8);
	flash.write(0, 4, backing.subarray(4));
	const read = new Uint8Array(flash.read(0, 4));
	assert.deepEqual([...read], [5, 6, 7, 8]);
	read[0] = 0;
	assert.deepEqual(bytes(flash, 0, 4), [5, 6, 7, 8]);
});

test("flash refuses what the device refuses, and offsets and lengths that are not multiples of 4", () => {
	const flash = new SimulatedFlash({ byteLength: 8192 });
	const four = new Uint8Array(4);
	assert.throws(() => flash.read(-4, 4), RangeError);
	assert.throws(() => flash.read(8192, 4), /invalid offset/);
	assert.throws(() => flash.read(8188, 8), /invalid length/);
	assert.throws(() => flash.read(0, 0), /invalid length/);
	assert.throws(() => flash.write(8192, 4, four), /invalid offset/);
	assert.throws(() => flash.write(8188, 8, new Uint8Array(8)), /invalid length/);
	assert.throws(() => flash.write(0, 8, four), /invalid buffer/);
	assert.throws(() => flash.write(2, 4, four), /multiples of 4/);
	assert.throws(() => flash.write(0, 6, new Uint8Array(8)), /multiples of 4/);
	assert.throws(() => flash.read(1, 4), RangeError);
	assert.throws(() => flash.erase(2), /invalid sector/);
	assert.throws(() => flash.erase(-1), RangeError);
	assert.throws(() => flash.erase(0.5), RangeError);
	assert.throws(() => new SimulatedFlash({ byteLength: 5000 }), /whole number of 4096-byte sectors/);
	assert.equal(flash.operations, 0, "refused calls never reach the region");
	assert.deepEqual(bytes(flash, 0, 4), [0xff, 0xff, 0xff, 0xff]);
});

test("flash counts erases per sector, and writes", () => {
	const flash = new SimulatedFlash({ byteLength: 16384, blockSize: 4096 });
	flash.erase(1);
	flash.erase(1);
	flash.erase(3);
	flash.write(0, 4, new Uint8Array(4));
	assert.deepEqual([...flash.erases], [0, 2, 0, 1]);
	assert.equal(flash.writes, 1);
	assert.equal(flash.operations, 4);
});

test("a flash file survives a simulated reboot, and a file of the wrong size is set aside for an erased region", () => {
	const file = tempFile();
	const before = new SimulatedFlash({ byteLength: 8192, path: file });
	assert.equal(fs.statSync(file).size, 8192);
	assert.deepEqual([...fs.readFileSync(file)].slice(0, 4), [0xff, 0xff, 0xff, 0xff], "created erased");
	before.write(4100, 4, Uint8Array.of(1, 2, 3, 4));
	before.erase(0);
	const after = new SimulatedFlash({ byteLength: 8192, path: file });
	assert.deepEqual(bytes(after, 4100, 4), [1, 2, 3, 4]);
	const warnings: string[] = [];
	const larger = new SimulatedFlash({ byteLength: 16384, path: file, warn: (message) => warnings.push(message) });
	assert.match(warnings.join(), /is not a 16384-byte region; starting with an erased one, the file is kept as .*\.corrupt/);
	assert.deepEqual(bytes(larger, 4100, 4), [0xff, 0xff, 0xff, 0xff]);
	assert.equal(fs.statSync(file).size, 16384);
	assert.deepEqual([...fs.readFileSync(`${file}.corrupt`).subarray(4100, 4104)], [1, 2, 3, 4], "the old region is kept");
});

test("a process killed right after a write leaves it in the file", () => {
	const file = tempFile();
	new SimulatedFlash({ byteLength: 4096, path: file }).write(8, 4, Uint8Array.of(9, 8, 7, 6));
	// No close, no exit handler: what is in the file now is what a SIGKILL would leave.
	assert.deepEqual([...fs.readFileSync(file).subarray(8, 12)], [9, 8, 7, 6]);
});

test("a power cut tears the operation after the next n: a write keeps its first half, rounded down to 4 bytes", () => {
	const flash = new SimulatedFlash({ byteLength: 8192 });
	flash.cutPowerAfter(1);
	flash.write(0, 4, new Uint8Array(4));
	assert.throws(() => flash.write(16, 12, new Uint8Array(12)), /power cut/);
	assert.deepEqual(bytes(flash, 0, 32), [0, 0, 0, 0, ...Array(12).fill(0xff), 0, 0, 0, 0, ...Array(12).fill(0xff)]);
	assert.equal(flash.operations, 2, "the torn write counts");
	assert.throws(() => flash.write(64, 4, new Uint8Array(4)), /power cut/);
	assert.throws(() => flash.erase(1), /power cut/);
	assert.deepEqual(bytes(flash, 64, 4), [0xff, 0xff, 0xff, 0xff], "nothing changes while the power is off");
	assert.equal(flash.operations, 2);
	assert.deepEqual([...flash.erases], [0, 0]);
	flash.powerOn();
	flash.write(64, 4, new Uint8Array(4));
	assert.deepEqual(bytes(flash, 64, 4), [0, 0, 0, 0]);
});

test("a torn erase sets only the first half of the sector, and reads work while the power is off", () => {
	const flash = new SimulatedFlash({ byteLength: 8192, path: tempFile() });
	flash.write(4096, 4096, new Uint8Array(4096));
	flash.cutPowerAfter(0);
	assert.throws(() => flash.erase(1), /power cut/);
	assert.deepEqual(bytes(flash, 4096 + 2044, 8), [0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]);
	assert.deepEqual([...flash.erases], [0, 1], "the torn erase wore the sector");
	assert.throws(() => flash.erase(1), /power cut/);
	flash.powerOn();
	flash.erase(1);
	assert.deepEqual(bytes(flash, 8188, 4), [0xff, 0xff, 0xff, 0xff]);
});

test("a test can cut the power at every operation of a sequence", () => {
	const sequence = (flash: SimulatedFlash) => {
		flash.erase(0);
		flash.write(0, 8, new Uint8Array(8));
		flash.write(8, 8, new Uint8Array(8));
	};
	const whole = new SimulatedFlash({ byteLength: 4096 });
	sequence(whole);
	const states = new Set<string>();
	for (let n = 0; n < whole.operations; n++) {
		const flash = new SimulatedFlash({ byteLength: 4096 });
		flash.cutPowerAfter(n);
		assert.throws(() => sequence(flash), /power cut/);
		assert.equal(flash.operations, n + 1);
		states.add(bytes(flash, 0, 16).join());
	}
	assert.equal(states.size, 3, "each cut leaves a different region");
});

test("a virtual clock's date is unknown until given, then advances with virtual time", () => {
	const clock = new VirtualClock();
	assert.equal(clock.date(), undefined);
	clock.advance(5000);
	clock.setDate(1_700_000_000_000);
	assert.equal(clock.date(), 1_700_000_000_000);
	clock.advance(1500);
	assert.equal(clock.date(), 1_700_000_001_500);
	clock.setDate(undefined);
	assert.equal(clock.date(), undefined);
	const known = new VirtualClock({ date: 1_000_000 });
	known.advance(250);
	assert.equal(known.date(), 1_000_250);
});
