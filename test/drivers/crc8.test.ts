import assert from "node:assert/strict";
import { test } from "node:test";
import { CRC_INIT_HTU21D, CRC_INIT_SENSIRION, checkedWord, crc8 } from "../../src/drivers/crc8";
import { bytes } from "./script";
import { vectors } from "./vectors";

function crc(hex: string, init: number): number {
	const data = Uint8Array.from(bytes(hex));
	return crc8(data, 0, data.length, init);
}

test("the Sensirion CRC of BE EF is the datasheets' 0x92", () => {
	assert.equal(crc("BE EF", CRC_INIT_SENSIRION), Number(vectors.crc.sensirion_BEEF));
});

test("the HTU21D CRC (init 0x00) matches the datasheet's three examples", () => {
	assert.equal(crc("DC", CRC_INIT_HTU21D), Number(vectors.crc.htu_DC));
	assert.equal(crc("68 3A", CRC_INIT_HTU21D), Number(vectors.crc.htu_683A));
	assert.equal(crc("4E 85", CRC_INIT_HTU21D), Number(vectors.crc.htu_4E85));
});

test("stuck-low and stuck-high words fail the Sensirion CRC but an all-zero HTU21D frame passes", () => {
	assert.equal(crc("00 00", CRC_INIT_SENSIRION), 0x81);
	assert.equal(crc("FF FF", CRC_INIT_SENSIRION), 0xac);
	assert.equal(crc("00 00", CRC_INIT_HTU21D), 0x00);
});

test("the AHT20 CRC covers six bytes: 0x6A over zeros, 0x22 over ones", () => {
	assert.equal(crc("00 00 00 00 00 00", CRC_INIT_SENSIRION), 0x6a);
	assert.equal(crc("FF FF FF FF FF FF", CRC_INIT_SENSIRION), 0x22);
});

test("every reference frame carries valid CRCs", () => {
	for (const { frame } of vectors.sensirion) {
		const data = Uint8Array.from(bytes(frame));
		assert.ok(checkedWord(data, 0, CRC_INIT_SENSIRION) >= 0 && checkedWord(data, 3, CRC_INIT_SENSIRION) >= 0, frame);
	}
	for (const status of [...vectors.sht3x_status, vectors.sensirion_serial_0x1234ABCD])
		assert.ok(checkedWord(Uint8Array.from(bytes(status)), 0, CRC_INIT_SENSIRION) >= 0, status);
	for (const { frame } of vectors.aht) {
		const data = Uint8Array.from(bytes(frame));
		assert.equal(crc8(data, 0, 6, CRC_INIT_SENSIRION), data[6], frame);
	}
	for (const { frame } of vectors.htu21d_si7021) assert.ok(checkedWord(Uint8Array.from(bytes(frame)), 0, CRC_INIT_HTU21D) >= 0, frame);
});

test("checkedWord gives the word when its CRC matches and -1 when one bit differs", () => {
	assert.equal(checkedWord(Uint8Array.from(bytes("66 66 93")), 0, CRC_INIT_SENSIRION), 0x6666);
	assert.equal(checkedWord(Uint8Array.from(bytes("66 66 92")), 0, CRC_INIT_SENSIRION), -1);
	assert.equal(checkedWord(Uint8Array.from(bytes("80 00 A3")), 0, CRC_INIT_SENSIRION), -1);
});
