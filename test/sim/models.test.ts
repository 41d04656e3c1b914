/*
 * The device models at the byte level, through the bus, without a driver: each behaves as its datasheet says,
 * so that a driver that skips a wait, forgets a command or misreads a frame fails against it.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { VirtualClock } from "../../hosts/node/virtual-clock";
import { CRC_INIT_HTU21D, CRC_INIT_SENSIRION, checkedWord, crc8 } from "../../src/drivers/crc8";
import type { I2C } from "../../src/io";
import { Environment } from "../../sim/environment";
import { Aht20Model } from "../../sim/sensors/aht20";
import { Bme280Model } from "../../sim/sensors/bme280";
import { SimulatedI2CBus } from "../../sim/sensors/bus";
import type { DeviceOptions, SimDevice } from "../../sim/sensors/device";
import { Hdc1080Model } from "../../sim/sensors/hdc1080";
import { Htu21dModel } from "../../sim/sensors/htu21d";
import { Sht3xModel } from "../../sim/sensors/sht3x";
import { Sht4xModel } from "../../sim/sensors/sht4x";
import { bytes } from "../drivers/script";
import { bme280Vectors } from "../drivers/vectors";

function rig<T extends SimDevice>(make: (options: DeviceOptions) => T, timing: "typical" | "maximum" = "typical") {
	const clock = new VirtualClock();
	const env = new Environment({ temperature: 25, humidity: 50, pressure: 100_000, noise: { temperature: 0, humidity: 0, pressure: 0 }, swing: { temperature: 0, humidity: 0, pressure: 0 } });
	const bus = new SimulatedI2CBus(clock);
	const device = make({ env, timing });
	bus.attach(0x44, device);
	const io: I2C = new bus.io({ data: 21, clock: 22, address: 0x44, hz: 100_000 });
	const write = (hex: string): void => io.write(Uint8Array.from(bytes(hex)));
	const read = (n: number): number[] => {
		const buffer = new Uint8Array(n);
		io.read(buffer);
		return [...buffer];
	};
	const register = (hex: string, n: number): number[] => {
		const buffer = new Uint8Array(n);
		io.writeRead(Uint8Array.from(bytes(hex)), buffer);
		return [...buffer];
	};
	return { clock, env, device, io, write, read, register };
}

const hex = (data: number[]): string => data.map((b) => b.toString(16).padStart(2, "0").toUpperCase()).join(" ");

test("SHT3x NACKs a no-stretch read until its 15 ms maximum, then gives a CRC'd frame once", () => {
	const { clock, write, read } = rig((o) => new Sht3xModel(o), "maximum");
	write("24 00");
	assert.throws(() => read(6), { message: "read failed" });
	clock.advance(14);
	assert.throws(() => read(6), { message: "read failed" });
	clock.advance(1);
	const frame = Uint8Array.from(read(6));
	assert.ok(Math.abs(-45 + (175 * checkedWord(frame, 0, CRC_INIT_SENSIRION)) / 65535 - 25) < 0.01);
	assert.ok(Math.abs((100 * checkedWord(frame, 3, CRC_INIT_SENSIRION)) / 65535 - 50) < 0.01);
	assert.throws(() => read(6), { message: "read failed" }, "data read twice");
});

test("SHT3x stretching reads work when the rest of the conversion fits the host's limit, and fail past it", () => {
	const typical = rig((o) => new Sht3xModel(o));
	typical.write("2C 06");
	typical.read(6);
	const maximum = rig((o) => new Sht3xModel(o), "maximum");
	maximum.write("2C 06");
	assert.throws(() => maximum.read(6), { message: "read failed" });
});

test("SHT3x status reads 80 10 E1 after reset, shows the heater and a refused command, and clears", () => {
	const { clock, write, read, device } = rig((o) => new Sht3xModel(o));
	write("F3 2D");
	assert.equal(hex(read(3)), "80 10 E1");
	write("30 41");
	write("F3 2D");
	assert.equal(hex(read(3)), "00 00 81");
	write("30 6D");
	write("F3 2D");
	assert.equal(hex(read(3)), "20 00 5D");
	assert.throws(() => write("12 34"), { message: "write failed" });
	assert.equal(device.status, 0x2002);
	write("30 A2");
	assert.throws(() => write("F3 2D"), { message: "write failed" }, "answered during its soft reset");
	clock.advance(1);
	write("F3 2D");
	assert.equal(hex(read(3)), "80 10 E1");
	write("36 82");
	assert.equal(hex(read(6)), "12 34 37 AB CD 6F");
});

test("SHT4x NACKs while measuring, gives data once, answers 89 with its serial and NACKs what it does not know", () => {
	const { clock, write, read } = rig((o) => new Sht4xModel(o), "maximum");
	write("FD");
	clock.advance(8);
	assert.throws(() => read(6), { message: "read failed" });
	clock.advance(1);
	const frame = Uint8Array.from(read(6));
	assert.ok(Math.abs(-6 + (125 * checkedWord(frame, 3, CRC_INIT_SENSIRION)) / 65535 - 50) < 0.01);
	assert.throws(() => read(6), { message: "read failed" });
	write("89");
	clock.advance(1);
	assert.equal(hex(read(6)), "12 34 37 AB CD 6F");
	assert.throws(() => write("F3 2D"), { message: "write failed" });
	write("39");
	clock.advance(1100);
	assert.throws(() => read(6), { message: "read failed" }, "heater pulse shorter than its maximum");
	clock.advance(9);
	read(6);
});

test("AHT20 answers with the busy bit and stale data for 80 ms, then the new frame with its CRC", () => {
	const { clock, write, read } = rig((o) => new Aht20Model(o), "maximum");
	assert.equal(hex(read(1)), "18");
	write("AC 33 00");
	clock.advance(79);
	const busy = read(7);
	assert.equal(busy[0], 0x98);
	assert.deepEqual(busy.slice(1, 6), [0, 0, 0, 0, 0]);
	clock.advance(1);
	const frame = Uint8Array.from(read(7));
	assert.equal(frame[0], 0x18);
	assert.equal(crc8(frame, 0, 6, CRC_INIT_SENSIRION), frame[6]);
	const humidity = (frame[1] << 12) | (frame[2] << 4) | (frame[3] >> 4);
	assert.ok(Math.abs((humidity / 1048576) * 100 - 50) < 0.001);
});

test("an uncalibrated AHT20 reports bit 3 clear until BE 08 00, NACKs AHT10's E1, and ignores soft reset's 20 ms", () => {
	const { clock, write, read } = rig((o) => new Aht20Model({ ...o, calibrated: false }), "maximum");
	assert.equal(hex(read(1)), "10");
	assert.throws(() => write("E1 08 00"), { message: "write failed" });
	write("BE 08 00");
	assert.equal(hex(read(1)), "18");
	write("BA");
	assert.throws(() => read(1), { message: "read failed" });
	clock.advance(20);
	assert.equal(hex(read(1)), "18");
});

test("AHT10 frames have six bytes: a seventh reads as a released bus", () => {
	const { clock, write, read } = rig((o) => new Aht20Model({ ...o, variant: "AHT10" }));
	write("AC 33 00");
	clock.advance(80);
	const frame = read(7);
	assert.equal(frame[0], 0x08);
	assert.equal(frame[6], 0xff);
});

test("HTU21D: user register 0x02, no-hold reads NACK until done, hold reads exceed the ESP32's stretch limit", () => {
	const { clock, write, read } = rig((o) => new Htu21dModel(o), "maximum");
	write("E7");
	assert.equal(hex(read(1)), "02");
	write("F3");
	clock.advance(49);
	assert.throws(() => read(3), { message: "read failed" });
	clock.advance(1);
	const frame = Uint8Array.from(read(3));
	const word = checkedWord(frame, 0, CRC_INIT_HTU21D);
	assert.equal(word & 3, 0);
	assert.ok(Math.abs(-46.85 + (175.72 * word) / 65536 - 25) < 0.011);
	write("E3");
	assert.throws(() => read(3), { message: "read failed" }, "a 50 ms clock stretch on an ESP32");
	write("F5");
	clock.advance(16);
	const humidity = checkedWord(Uint8Array.from(read(3)), 0, CRC_INIT_HTU21D);
	assert.equal(humidity & 3, 2);
	assert.throws(() => write("E0"), { message: "write failed" }, "E0 is Si7021 only");
});

test("HTU21D resolution masks unused bits and shortens conversions; soft reset keeps the heater bit", () => {
	const { clock, write, read, device } = rig((o) => new Htu21dModel(o), "maximum");
	write("E6 87");
	assert.equal(device.user, 0x87);
	write("F5");
	clock.advance(8);
	const humidity = checkedWord(Uint8Array.from(read(3)), 0, CRC_INIT_HTU21D);
	assert.equal(humidity & 0x1f, 0x02);
	write("FE");
	assert.throws(() => write("E7"), { message: "write failed" });
	clock.advance(15);
	assert.equal(device.user, 0x06);
});

test("Si7021: user register 0x3A; an RH conversion includes a temperature one, which E0 returns without CRC", () => {
	const { clock, write, read } = rig((o) => new Htu21dModel({ ...o, variant: "Si7021" }), "maximum");
	write("E7");
	assert.equal(hex(read(1)), "3A");
	write("F5");
	clock.advance(22);
	assert.throws(() => read(3), { message: "read failed" });
	clock.advance(1);
	read(3);
	write("E0");
	const [msb, lsb] = read(2);
	assert.ok(Math.abs(-46.85 + (175.72 * ((msb << 8) | lsb)) / 65536 - 25) < 0.011);
});

test("HDC1080: IDs, reset configuration, reserved pointers NACKed, and a trigger that NACKs reads until done", () => {
	const { clock, write, read, register } = rig((o) => new Hdc1080Model(o));
	assert.equal(hex(register("FE", 2)), "54 49");
	assert.equal(hex(register("FF", 2)), "10 50");
	assert.equal(hex(register("02", 2)), "10 00");
	assert.throws(() => write("03"), { message: "write failed" });
	write("00");
	clock.advance(12);
	assert.throws(() => read(4), { message: "read failed" });
	clock.advance(1);
	const [t0, t1, h0, h1] = read(4);
	assert.equal(t1 & 3, 0);
	assert.ok(Math.abs((((t0 << 8) | t1) / 65536) * 165 - 40 - 25) < 0.011);
	assert.ok(Math.abs((((h0 << 8) | h1) / 65536) * 100 - 50) < 0.01);
	write("02 26 00");
	assert.equal(hex(register("02", 2)), "26 00");
	write("02 80 00");
	assert.throws(() => register("02", 2), { message: "writeRead failed" }, "answered during its reset");
	clock.advance(10);
	assert.equal(hex(register("02", 2)), "10 00");
});

test("BME280: chip ID, the vector's trimming image, data registers at reset, and 2 ms of NVM copy after a reset", () => {
	const { clock, write, register } = rig((o) => new Bme280Model(o));
	const v = bme280Vectors.A_pimoroni;
	assert.equal(hex(register("D0", 1)), "60");
	assert.equal(hex(register("88", 26)), v.reg_0x88_0xA1);
	assert.equal(hex(register("E1", 7)), v.reg_0xE1_0xE7);
	assert.equal(hex(register("F7", 8)), "80 00 00 80 00 00 80 00");
	write("E0 B6");
	assert.equal(register("F3", 1)[0], 0x01);
	assert.deepEqual(register("88", 2), [0, 0]);
	clock.advance(2);
	assert.equal(register("F3", 1)[0], 0x00);
	assert.equal(hex(register("88", 2)), "69 6D");
});

test("BME280 forced mode: ctrl_hum is latched by ctrl_meas, measuring for 9.3 ms at x1, then sleep and new data", () => {
	const { clock, write, register, device } = rig((o) => new Bme280Model(o), "maximum");
	write("F2 01");
	write("F4 25");
	assert.equal(register("F3", 1)[0], 0x08);
	assert.equal(hex(register("F7", 8)), "80 00 00 80 00 00 80 00", "data registers changed during the conversion");
	clock.advance(9);
	assert.equal(register("F3", 1)[0], 0x08);
	clock.advance(1);
	assert.equal(register("F3", 1)[0], 0x00);
	assert.equal(device.register(0xf4) & 3, 0);
	const data = register("F7", 8);
	assert.notEqual((data[6] << 8) | data[7], 0x8000);
	// Without a ctrl_meas write after it, a ctrl_hum change does not take effect: humidity stays skipped.
	write("F2 00 F4 25");
	write("F2 01");
	clock.advance(10);
	const skipped = register("F7", 8);
	assert.equal((skipped[6] << 8) | skipped[7], 0x8000);
});
