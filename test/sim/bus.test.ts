/*
 * The simulated bus is the Node host's I2C: it must keep the ECMA-419 / Moddable contract (ESP8266 flavour).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { VirtualClock } from "../../hosts/node/virtual-clock";
import type { I2COptions } from "../../src/io";
import { Environment } from "../../sim/environment";
import { SimulatedI2CBus } from "../../sim/sensors/bus";
import type { DeviceOptions } from "../../sim/sensors/device";
import { SimDevice, fill } from "../../sim/sensors/device";

/** A register-less echo chip: remembers the last write and reads it back; NACKs writes starting with 0xFF. */
class Echo extends SimDevice {
	readonly maxHz = 400_000;
	written: number[] = [];
	constructor(options: DeviceOptions) {
		super(options);
	}
	protected powerUpMs(): number {
		return 5;
	}
	protected reset(): void {
		this.written = [];
	}
	protected onWrite(data: Uint8Array): boolean {
		if (data[0] === 0xff) return false;
		this.written = [...data];
		return true;
	}
	protected onRead(buffer: Uint8Array): boolean {
		fill(buffer, this.written);
		return true;
	}
}

function setUp() {
	const clock = new VirtualClock();
	const bus = new SimulatedI2CBus(clock);
	const echo = new Echo({ env: new Environment() });
	bus.attach(0x50, echo);
	const options = (more: Partial<I2COptions> = {}): I2COptions => ({ data: 21, clock: 22, address: 0x50, hz: 100_000, ...more });
	return { clock, bus, echo, options };
}

test("write, read and writeRead reach the device, and read/writeRead return the byte count", () => {
	const { bus, echo, options } = setUp();
	const i2c = new bus.io(options());
	i2c.write(Uint8Array.of(1, 2, 3));
	assert.deepEqual(echo.written, [1, 2, 3]);
	const buffer = new Uint8Array(4);
	assert.equal(i2c.read(buffer), 4);
	assert.deepEqual([...buffer], [1, 2, 3, 0xff]);
	assert.equal(i2c.writeRead(Uint8Array.of(9), buffer.subarray(0, 1)), 1);
	assert.equal(buffer[0], 9);
	i2c.close();
});

test("the constructor refuses bad options with RangeError", () => {
	const { bus, options } = setUp();
	for (const address of [-1, 0x80, 1.5, Number.NaN, undefined]) assert.throws(() => new bus.io(options({ address: address as number })), { name: "RangeError", message: "invalid address" });
	for (const hz of [0, -100_000, 1_000_001, 100.5, Number.NaN, undefined]) assert.throws(() => new bus.io(options({ hz: hz as number })), { name: "RangeError", message: "invalid hz" });
	assert.throws(() => new bus.io(options({ data: undefined as never })), { name: "RangeError", message: "data required" });
	assert.throws(() => new bus.io(options({ clock: undefined as never })), { name: "RangeError", message: "clock required" });
	assert.equal(bus.isOpen(0x50), false);
});

test("a second instance at an open address throws duplicate address, and the address is free again after close", () => {
	const { bus, options } = setUp();
	const first = new bus.io(options());
	assert.throws(() => new bus.io(options({ hz: 400_000 })), { name: "RangeError", message: "duplicate address" });
	const other = new bus.io(options({ address: 0x51 }));
	first.close();
	new bus.io(options()).close();
	other.close();
});

test("close twice is harmless, and every use after close throws", () => {
	const { bus, options } = setUp();
	const i2c = new bus.io(options());
	i2c.close();
	i2c.close();
	assert.throws(() => i2c.write(Uint8Array.of(1)), { message: "closed" });
	assert.throws(() => i2c.read(new Uint8Array(1)), { message: "closed" });
	assert.throws(() => i2c.writeRead(Uint8Array.of(1), new Uint8Array(1)), { message: "closed" });
	assert.equal(bus.isOpen(0x50), false);
});

test("an address with no device NACKs every transaction with the device's messages", () => {
	const { bus, options } = setUp();
	const i2c = new bus.io(options({ address: 0x51 }));
	assert.throws(() => i2c.write(Uint8Array.of(1)), { message: "write failed" });
	assert.throws(() => i2c.read(new Uint8Array(1)), { message: "read failed" });
	assert.throws(() => i2c.writeRead(Uint8Array.of(1), new Uint8Array(1)), { message: "writeRead failed" });
	assert.deepEqual(bus.stats(0x51), { transactions: 3, nacks: 3, bytes: 3, microseconds: (3 * 9 + 2 + 2 + 3) * 10 });
});

test("a device's NACK, a clock above its maximum, an unplugged device and an injected bus error all throw", () => {
	const { clock, bus, echo, options } = setUp();
	const i2c = new bus.io(options());
	assert.throws(() => i2c.write(Uint8Array.of(0xff)), { message: "write failed" });
	i2c.close();
	const fast = new bus.io(options({ hz: 1_000_000 }));
	assert.throws(() => fast.write(Uint8Array.of(1)), { message: "write failed" });
	fast.close();
	const slow = new bus.io(options());
	echo.unplug();
	assert.throws(() => slow.read(new Uint8Array(1)), { message: "read failed" });
	echo.replug();
	assert.throws(() => slow.read(new Uint8Array(1)), { message: "read failed" }, "answered during its power-up time");
	clock.advance(5);
	slow.read(new Uint8Array(1));
	echo.faults.busErrors = 1;
	echo.faults.busErrorsAfter = 1;
	slow.write(Uint8Array.of(1));
	assert.throws(() => slow.writeRead(Uint8Array.of(1), new Uint8Array(1)), { message: "writeRead failed" });
	slow.write(Uint8Array.of(1));
});

test("the counters give transactions, bytes on the wire and bus time at the instance's clock, per address and in total", () => {
	const { bus, options } = setUp();
	const slow = new bus.io(options());
	slow.write(Uint8Array.of(1, 2));
	slow.read(new Uint8Array(6));
	slow.close();
	const fast = new bus.io(options({ hz: 400_000 }));
	fast.writeRead(Uint8Array.of(1), new Uint8Array(2));
	fast.close();
	// 100 kHz: (3 bytes x 9 + START + STOP) + (7 x 9 + 2) clocks; 400 kHz: 2 addresses + 3 bytes, and a repeated START.
	const expected = (3 * 9 + 2) * 10 + (7 * 9 + 2) * 10 + (5 * 9 + 3) * 2.5;
	assert.deepEqual(bus.stats(0x50), { transactions: 3, nacks: 0, bytes: 15, microseconds: expected });
	assert.deepEqual(bus.stats(), bus.stats(0x50));
	bus.resetStats();
	assert.deepEqual(bus.stats(), { transactions: 0, nacks: 0, bytes: 0, microseconds: 0 });
});

test("a bus made without counters still carries every transaction, NACKs included, and counts none", () => {
	const bus = new SimulatedI2CBus(new VirtualClock(), { stats: false });
	bus.attach(0x50, new Echo({ env: new Environment() }));
	const i2c = new bus.io({ address: 0x50, hz: 100_000, data: 21, clock: 22 });
	const reply = new Uint8Array(2);
	assert.equal(i2c.writeRead(Uint8Array.of(1), reply), 2);
	const absent = new bus.io({ address: 0x51, hz: 100_000, data: 21, clock: 22 });
	assert.throws(() => absent.read(new Uint8Array(1)), { message: "read failed" });
	assert.deepEqual(bus.stats(), { transactions: 0, nacks: 0, bytes: 0, microseconds: 0 });
	assert.deepEqual(bus.stats(0x51), { transactions: 0, nacks: 0, bytes: 0, microseconds: 0 });
});

test("attaching two devices at one address is refused", () => {
	const { bus } = setUp();
	assert.throws(() => bus.attach(0x50, new Echo({ env: new Environment() })), RangeError);
});
