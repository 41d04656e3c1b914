/*
 * A raw flash region with NOR semantics, as Moddable's `flash` module gives one: `erase` sets a whole sector
 * to 0xFF and `write` can only clear bits (the new bytes are ANDed into the old). Out-of-range offsets,
 * lengths, sectors and short buffers throw, as in the device's modules/files/flash, and so do offsets and
 * lengths that are not multiples of 4, which the firmware promises (src/io.ts) and ESP8266's SPI writes need.
 *
 * Kept in memory, and in a file when given a path: every write and erase goes to the file at once, so a
 * process killed at any point (Ctrl-C, SIGKILL) leaves the file as the region was after the last operation.
 * `erases` (per sector), `writes` and `operations` count wear. `cutPowerAfter(n)` simulates a power cut in
 * the middle of the operation after the next n (see there), so a test can try every point of a sequence.
 */
import fs from "node:fs";
import type { Flash } from "../../src/io";

export interface SimulatedFlashOptions {
	byteLength: number;
	/** The sector size; default 4096, as on ESP32 and ESP8266. */
	blockSize?: number;
	/** A file holding the region, created full of 0xFF when missing; in memory when omitted. */
	path?: string;
	/** Hears about a file of the wrong size, which is set aside (default console.warn). */
	warn?: (message: string) => void;
}

export class SimulatedFlash implements Flash {
	readonly byteLength: number;
	readonly blockSize: number;
	/** Erases per sector, torn ones included: a sector's wear. */
	readonly erases: Uint32Array;
	readonly #bytes: Uint8Array;
	readonly #file: number | undefined;
	#writes = 0;
	#operations = 0;
	#powerLeft = Infinity;
	#off = false;

	constructor(options: SimulatedFlashOptions) {
		const { byteLength, blockSize = 4096, path } = options;
		if (!(Number.isInteger(blockSize) && blockSize > 0 && blockSize % 4 === 0)) throw new RangeError(`flash: block size ${blockSize} is not a positive multiple of 4`);
		if (!(Number.isInteger(byteLength) && byteLength > 0 && byteLength % blockSize === 0)) throw new RangeError(`flash: ${byteLength} bytes is not a whole number of ${blockSize}-byte sectors`);
		this.byteLength = byteLength;
		this.blockSize = blockSize;
		this.erases = new Uint32Array(byteLength / blockSize);
		this.#bytes = new Uint8Array(byteLength).fill(0xff);
		if (!path) return;
		// Like PreferenceStore's unreadable file: set aside, not deleted, and the node boots with an erased region.
		if (fs.existsSync(path) && fs.statSync(path).size !== byteLength) {
			fs.renameSync(path, `${path}.corrupt`);
			(options.warn ?? console.warn)(`flash: ${path} is not a ${byteLength}-byte region; starting with an erased one, the file is kept as ${path}.corrupt`);
		}
		if (!fs.existsSync(path)) {
			// Made under another name and renamed: a process killed while making it leaves no short file behind.
			fs.writeFileSync(`${path}.tmp`, this.#bytes);
			fs.renameSync(`${path}.tmp`, path);
		}
		const file = fs.openSync(path, "r+");
		fs.readSync(file, this.#bytes, 0, byteLength, 0);
		this.#file = file;
	}

	/** write calls that reached the region (a torn one included) since this object was made. */
	get writes(): number {
		return this.#writes;
	}

	/** Writes and erases that reached the region, a torn one included: the range of n for `cutPowerAfter(n)` to step through. */
	get operations(): number {
		return this.#operations;
	}

	/**
	 * Simulates a power cut: the next `operations` writes and erases complete, the one after is torn and
	 * throws `Error("power cut")`, and every later one throws the same without changing anything until
	 * `powerOn()`. A torn write programs its first half, rounded down to a multiple of 4 bytes (nothing of
	 * a 4-byte write); a torn erase sets the first half of the sector to 0xFF. Reads keep working.
	 */
	cutPowerAfter(operations: number): void {
		this.#powerLeft = operations;
	}

	/** Power is back: writes and erases work again, with no cut scheduled. */
	powerOn(): void {
		this.#off = false;
		this.#powerLeft = Infinity;
	}

	erase(sector: number): void {
		if (!(Number.isInteger(sector) && sector >= 0 && sector < this.erases.length)) throw new RangeError(`flash: invalid sector ${sector} (0..${this.erases.length - 1})`);
		const torn = this.#power();
		const start = sector * this.blockSize;
		this.#bytes.fill(0xff, start, start + (torn ? this.blockSize / 2 : this.blockSize));
		this.erases[sector]++;
		this.#operations++;
		this.#save(start, this.blockSize);
		if (torn) throw new Error("power cut");
	}

	read(offset: number, byteLength: number): ArrayBuffer {
		this.#check(offset, byteLength);
		return this.#bytes.slice(offset, offset + byteLength).buffer;
	}

	write(offset: number, byteLength: number, buffer: ArrayBuffer | Uint8Array): void {
		this.#check(offset, byteLength);
		const source = ArrayBuffer.isView(buffer) ? new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength) : new Uint8Array(buffer);
		if (source.length < byteLength) throw new RangeError(`flash: invalid buffer: ${source.length} bytes, fewer than the ${byteLength} to write`);
		const torn = this.#power();
		const programmed = torn ? Math.floor(byteLength / 8) * 4 : byteLength;
		for (let i = 0; i < programmed; i++) this.#bytes[offset + i] &= source[i];
		this.#writes++;
		this.#operations++;
		this.#save(offset, programmed);
		if (torn) throw new Error("power cut");
	}

	#check(offset: number, byteLength: number): void {
		if (!(Number.isInteger(offset) && offset >= 0 && offset < this.byteLength)) throw new RangeError(`flash: invalid offset ${offset} (region of ${this.byteLength} bytes)`);
		if (!(Number.isInteger(byteLength) && byteLength > 0 && offset + byteLength <= this.byteLength)) throw new RangeError(`flash: invalid length ${byteLength} at offset ${offset} (region of ${this.byteLength} bytes)`);
		if (offset % 4 || byteLength % 4) throw new RangeError(`flash: offset ${offset} and length ${byteLength} must be multiples of 4`);
	}

	/** Whether this operation is the one the power cut tears; throws for every one after it. */
	#power(): boolean {
		if (this.#off) throw new Error("power cut");
		if (this.#powerLeft-- > 0) return false;
		this.#off = true;
		return true;
	}

	#save(offset: number, byteLength: number): void {
		// A positional write reaches the OS at once, which is all a killed process needs; no fsync, since the
		// simulation has no crash of the computer itself to survive.
		if (this.#file !== undefined) fs.writeSync(this.#file, this.#bytes, offset, byteLength, offset);
	}
}
