/*
 * What answers at an address besides a single healthy chip: a bus that ACKs everything, two chips on one
 * address, the touch controller that shares the AHT20's address, and a chip power-cycled behind a driver's back.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { VirtualClock } from "../../hosts/node/virtual-clock";
import type { I2C } from "../../src/io";
import { Environment } from "../../sim/environment";
import { Bme280Model } from "../../sim/sensors/bme280";
import type { I2CTarget } from "../../sim/sensors/bus";
import { SimulatedI2CBus } from "../../sim/sensors/bus";
import { AnswerEverything, WiredAnd } from "../../sim/sensors/bus-faults";
import { Ft6x36Model } from "../../sim/sensors/ft6x36";
import { Hdc1080Model } from "../../sim/sensors/hdc1080";
import { Htu21dModel } from "../../sim/sensors/htu21d";
import { Sht3xModel } from "../../sim/sensors/sht3x";
import { bytes } from "../drivers/script";

function rig(target: (env: Environment) => I2CTarget) {
	const clock = new VirtualClock();
	const env = new Environment({ temperature: 25, humidity: 50 });
	const bus = new SimulatedI2CBus(clock);
	bus.attach(0x40, target(env));
	const io: I2C = new bus.io({ data: 21, clock: 22, address: 0x40, hz: 100_000 });
	const write = (hex: string): void => io.write(Uint8Array.from(bytes(hex)));
	const read = (n: number): string => {
		const buffer = new Uint8Array(n);
		io.read(buffer);
		return [...buffer].map((b) => b.toString(16).padStart(2, "0").toUpperCase()).join(" ");
	};
	return { clock, write, read };
}

test("a bus that answers everything ACKs any write and reads its one value", () => {
	for (const [value, expected] of [[0xff, "FF FF FF"], [0x00, "00 00 00"]] as const) {
		const { write, read } = rig(() => new AnswerEverything(value));
		write("E7");
		write("12 34 56");
		assert.equal(read(3), expected);
	}
});

test("two chips on one address: a byte is ACKed when either ACKs, reads are the AND of both, NACK only when both NACK", () => {
	const { write, read } = rig((env) => new WiredAnd(new Sht3xModel({ env, serial: 0x1234abcd }), new Sht3xModel({ env, serial: 0x0badcafe })));
	write("36 82");
	// 12 34 37 AB CD 6F AND 0B AD 2B CA FE 58: the CRC bytes no longer match their words.
	assert.equal(read(6), "02 24 23 8A CC 48");
	assert.throws(() => write("12 34"), { message: "write failed" });
	assert.throws(() => read(3), { message: "read failed" });
	const mixed = rig((env) => new WiredAnd(new Htu21dModel({ env }), new Hdc1080Model({ env })));
	// E7 is a reserved pointer to the HDC1080, which NACKs it but then answers the read from its pointer 00.
	mixed.write("E7");
	assert.equal(mixed.read(1), "00");
});

test("an FT6x36 writes the bytes after a write's first to its registers, and reads them back from its pointer", () => {
	const touch = new Ft6x36Model();
	const { write, read } = rig(() => touch);
	write("A3");
	assert.equal(read(1), "64");
	assert.equal(touch.writes, 0);
	write("AC 33 00");
	assert.equal(touch.writes, 2);
	assert.equal(touch.registers[0xac], 0x33);
	write("AC");
	assert.equal(read(2), "33 00");
});

test("a power cycle sets the SHT3x status reset-detected bit and turns its heater off; BME280 and HDC1080 lose their settings", () => {
	const clock = new VirtualClock();
	const env = new Environment();
	const sht3x = new Sht3xModel({ env });
	const bme280 = new Bme280Model({ env });
	const hdc1080 = new Hdc1080Model({ env });
	const bus = new SimulatedI2CBus(clock);
	bus.attach(0x44, sht3x);
	bus.attach(0x76, bme280);
	bus.attach(0x40, hdc1080);
	const write = (address: number, hex: string) => {
		const io = new bus.io({ data: 21, clock: 22, address, hz: 100_000 });
		io.write(Uint8Array.from(bytes(hex)));
		io.close();
	};
	write(0x44, "30 41");
	write(0x44, "30 6D");
	write(0x76, "F5 10");
	write(0x40, "02 30 00");
	assert.equal(sht3x.status, 0x2000);
	for (const chip of [sht3x, bme280, hdc1080]) chip.replug();
	assert.equal(sht3x.status, 0x8010);
	assert.equal(bme280.register(0xf5), 0);
	assert.equal(hdc1080.config, 0x1000);
});
