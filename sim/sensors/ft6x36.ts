/*
 * An FT6x36 touch controller (FocalTech FT6206/FT6236/FT6336), the part that shares 0x38 with the AHT20 on many
 * boards (Moddable's AHT10 driver notes the clash). Only what a sensor probe can reach is modelled: a register
 * file behind a pointer. A write's first byte sets the pointer and the rest are written to registers from it;
 * a read returns registers from the pointer, which advances. Register writes are counted, so that a test can
 * tell whether a probe changed the controller. Portable: runs inside XS too, no Node API.
 */
import type { I2CTarget } from "./bus";

// Power-on values of the registers a driver reads (FT6x36 application note): device mode 0 (working), no touch
// points, touch threshold, active period, chip ID 0x64 (FT6336U), firmware 0x10, FocalTech's panel ID 0x11.
const RESET_VALUES: readonly (readonly [number, number])[] = Object.freeze([
	Object.freeze([0x80, 0x16] as const), Object.freeze([0x88, 0x0e] as const), Object.freeze([0xa3, 0x64] as const),
	Object.freeze([0xa6, 0x10] as const), Object.freeze([0xa8, 0x11] as const),
]);

export class Ft6x36Model implements I2CTarget {
	readonly maxHz = 400_000;
	readonly registers = new Uint8Array(256);
	/** Registers written since power-up. */
	writes = 0;
	/** The register the next read starts at. */
	pointer = 0;

	constructor() {
		for (const [register, value] of RESET_VALUES) this.registers[register] = value;
	}

	connect(): void {}

	handleWrite(data: Uint8Array): boolean {
		if (!data.length) return true;
		this.pointer = data[0];
		for (let i = 1; i < data.length; i++) {
			this.registers[this.pointer] = data[i];
			this.pointer = (this.pointer + 1) & 0xff;
			this.writes++;
		}
		return true;
	}

	handleRead(buffer: Uint8Array): boolean {
		for (let i = 0; i < buffer.length; i++) {
			buffer[i] = this.registers[this.pointer];
			this.pointer = (this.pointer + 1) & 0xff;
		}
		return true;
	}
}
