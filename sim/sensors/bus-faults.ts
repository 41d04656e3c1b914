/*
 * Faults of the bus itself rather than of one chip, for testing detection: whatever answers at an address
 * without being the chip a probe hopes for. Portable: runs inside XS too, no Node API.
 */
import type { I2CTarget } from "./bus";

/**
 * Something that ACKs every transfer and reads `value` in every byte: 0x00 is SDA stuck low, 0xFF a device
 * that ACKs but never drives data.
 */
export class AnswerEverything implements I2CTarget {
	readonly maxHz = 1_000_000;
	readonly #value: number;

	constructor(value: number) {
		this.#value = value;
	}

	connect(): void {}

	handleWrite(): boolean {
		return true;
	}

	handleRead(buffer: Uint8Array): boolean {
		buffer.fill(this.#value);
		return true;
	}
}

/**
 * Two (or more) chips strapped to one address. Every chip sees every transfer; SDA is open drain, so a byte is
 * ACKed when any chip ACKs it, and each bit read is the AND of what the chips drive (a chip that NACKed the read
 * header has released SDA and reads as 0xFF).
 */
export class WiredAnd implements I2CTarget {
	readonly maxHz: number;
	readonly #chips: readonly I2CTarget[];

	constructor(...chips: I2CTarget[]) {
		this.#chips = chips;
		this.maxHz = Math.min(...chips.map((chip) => chip.maxHz));
	}

	connect(ticks: () => number): void {
		for (const chip of this.#chips) chip.connect(ticks);
	}

	handleWrite(data: Uint8Array, now: number): boolean {
		let acked = false;
		for (const chip of this.#chips) acked = chip.handleWrite(data, now) || acked;
		return acked;
	}

	handleRead(buffer: Uint8Array, now: number): boolean {
		const driven = new Uint8Array(buffer.length);
		let acked = false;
		buffer.fill(0xff);
		for (const chip of this.#chips) {
			if (!chip.handleRead(driven, now)) continue;
			acked = true;
			for (let i = 0; i < buffer.length; i++) buffer[i] &= driven[i];
		}
		return acked;
	}
}
