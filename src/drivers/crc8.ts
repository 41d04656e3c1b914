/*
 * The one CRC-8 of these sensors: polynomial 0x31 (x^8 + x^5 + x^4 + 1), no reflection, no final XOR.
 * Only the initial value differs: 0xFF for Sensirion (SHT3x, SHT4x) and Aosong (AHT20), 0x00 for TE
 * HTU21D and Silicon Labs Si7021. Datasheet check values: CRC(BE EF) = 0x92 with 0xFF (SHT3x/SHT4x);
 * CRC(DC) = 0x79 with 0x00 (HTU21D).
 */

export const CRC_INIT_SENSIRION = 0xff;
export const CRC_INIT_HTU21D = 0x00;

/** CRC-8 of `bytes[start..end)`. */
export function crc8(bytes: Uint8Array, start: number, end: number, init: number): number {
	let crc = init;
	for (let i = start; i < end; i++) {
		crc ^= bytes[i];
		for (let bit = 0; bit < 8; bit++) crc = crc & 0x80 ? ((crc << 1) ^ 0x31) & 0xff : (crc << 1) & 0xff;
	}
	return crc;
}

/** The big-endian word at `offset` when the CRC byte after it matches, else -1. */
export function checkedWord(bytes: Uint8Array, offset: number, init: number): number {
	if (crc8(bytes, offset, offset + 2, init) !== bytes[offset + 2]) return -1;
	return (bytes[offset] << 8) | bytes[offset + 1];
}
