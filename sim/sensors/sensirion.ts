/*
 * What the SHT3x and SHT4x models share: a word and its CRC in a frame, and the inverse of the temperature
 * transfer function (S_T = (T + 45) * 65535 / 175).
 */
import { crc8 } from "src/drivers/crc8";
import { code } from "./device";

/** Puts `word` big-endian at `offset` with its CRC after it, wrong by one bit when `corrupt`. */
export function putWord(frame: Uint8Array, offset: number, word: number, init: number, corrupt: boolean): void {
	frame[offset] = word >> 8;
	frame[offset + 1] = word & 0xff;
	frame[offset + 2] = crc8(frame, offset, offset + 2, init) ^ (corrupt ? 0x01 : 0);
}

export function sensirionTemperatureCode(temperature: number): number {
	return code(((temperature + 45) * 65535) / 175, 0xffff);
}
