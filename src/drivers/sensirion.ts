/*
 * The temperature transfer function SHT3x and SHT4x share (Datasheets SHT3x-DIS v4 and SHT4x v6.1,
 * conversion of signal output). The datasheets divide by 65535; Sensirion's fixed-point drivers by 65536 (< 0.003 C apart).
 */

/** T = -45 + 175 * S / 65535. */
export function sensirionTemperatureC(raw: number): number {
	return -45 + (175 * raw) / 65535;
}
