/*
 * The bridge protocol between the firmware in XS and its Node side (hosts/xs/protocol.ts), checked on
 * Node: both sides run the same module.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { OUTCOME, Reader, Writer, checkOutcome, readValue, writeOutcome, writeValue } from "../../hosts/xs/protocol";

const read = (writer: Writer) => new Reader(writer.finish());

describe("the XS bridge protocol", () => {
	test("reads back every field type in order, strings as UTF-8", () => {
		const reader = read(new Writer().begin(7).u8(255).u16(0xbeef).u32(0xdeadbeef).f64(-1.5).string("22 °C ✓").bytes(Uint8Array.of(1, 2, 3)));
		assert.equal(reader.u8(), 7);
		assert.equal(reader.u8(), 255);
		assert.equal(reader.u16(), 0xbeef);
		assert.equal(reader.u32(), 0xdeadbeef);
		assert.equal(reader.f64(), -1.5);
		assert.equal(reader.string(), "22 °C ✓");
		assert.deepEqual([...reader.rest()], [1, 2, 3]);
	});

	test("grows its buffer for long messages and starts afresh with each message", () => {
		const writer = new Writer();
		const big = new Uint8Array(5000).fill(9);
		assert.equal(writer.begin(1).bytes(big).finish().byteLength, 5001);
		const reader = read(writer.begin(2).u8(3));
		assert.equal(reader.u8(), 2);
		assert.equal(reader.u8(), 3);
		assert.equal(reader.rest().length, 0);
	});

	test("refuses strings it cannot carry and messages cut short", () => {
		assert.throws(() => new Writer().string("\ud800"), RangeError);
		assert.throws(() => new Writer().string("x".repeat(0x10000)), RangeError);
		assert.throws(() => new Reader(Uint8Array.of(5, 0, 0x61)).string(), /truncated/);
		assert.throws(() => new Reader(Uint8Array.of(1, 0, 0xff)).string(), /UTF-8/);
		assert.throws(() => new Reader(Uint8Array.of(1)).u32(), RangeError);
	});

	test("carries every stored value type, bytes as a copy the caller owns", () => {
		for (const value of [undefined, false, true, 0, -42, 2 ** 31 - 1, "", "C", new Uint8Array([0, 255, 7]).buffer]) {
			const writer = writeValue(new Writer().clear(), value);
			const message = new Uint8Array(writer.finish());
			const back = readValue(new Reader(message));
			if (value instanceof ArrayBuffer) {
				assert.ok(back instanceof ArrayBuffer);
				assert.deepEqual([...new Uint8Array(back)], [...new Uint8Array(value)]);
				message.fill(0);
				assert.deepEqual([...new Uint8Array(back)], [...new Uint8Array(value)], "not a view on the message");
			}
			else assert.equal(back, value);
		}
	});

	test("carries an operation's error as the class and message the device throws", () => {
		const outcome = (error?: unknown) => () => checkOutcome(read(writeOutcome(new Writer().clear(), error)));
		assert.doesNotThrow(outcome());
		assert.throws(outcome(new RangeError("too long")), (error: Error) => error instanceof RangeError && error.message === "too long");
		assert.throws(outcome(new TypeError("float unsupported")), (error: Error) => error instanceof TypeError && error.message === "float unsupported");
		assert.throws(outcome(new Error("write failed")), (error: Error) => error.constructor === Error && error.message === "write failed");
		assert.equal(new Uint8Array(writeOutcome(new Writer().clear()).finish())[0], OUTCOME.ok);
	});
});
