/*
 * `hosts/moddable/flash` in the desktop simulators, which have no flash module: a file with the flash
 * module's API and NOR rules (erase sets a sector to 0xFF; write only clears bits), so that a backlog
 * outlives an mcsim restart as a board's outlives a power cut. The file sits next to the SDK's simulated
 * Preference, in `config.file.root` (/tmp/ on lin): modflash-<flash_partition>.bin, 256 KB like the
 * ESP32's partition. It stays open; the SDK's File flushes every write, so a killed mcsim loses none.
 */
import { File } from "file";
import config from "mc/config";
import type { Flash, Log } from "src/io";

const BYTE_LENGTH = 256 * 1024;
const SECTOR = 4096;
/**
 * A sector is erased a piece at a time: a board's erase allocates nothing in XS, and a 4 KB buffer here
 * would be a simulator-only peak in the memory the check measures.
 */
const ERASE_PIECE = 256;

class FileFlash implements Flash {
	readonly byteLength = BYTE_LENGTH;
	readonly blockSize = SECTOR;
	readonly #file: File;

	constructor(path: string) {
		this.#file = new File(path, true);
		if (this.#file.length === BYTE_LENGTH) return;
		// A new file, or one cut short or of another size, is a new chip: erased throughout.
		this.#file.close();
		File.delete(path);
		this.#file = new File(path, true);
		for (let sector = 0; sector < BYTE_LENGTH / SECTOR; sector++) this.erase(sector);
	}

	erase(sector: number): void {
		this.#check(sector * SECTOR, SECTOR);
		const piece = new Uint8Array(ERASE_PIECE).fill(0xff).buffer;
		for (let offset = 0; offset < SECTOR; offset += ERASE_PIECE) this.#put(sector * SECTOR + offset, piece);
	}

	read(offset: number, byteLength: number): ArrayBuffer {
		this.#check(offset, byteLength);
		this.#file.position = offset;
		return this.#file.read(ArrayBuffer, byteLength);
	}

	write(offset: number, byteLength: number, buffer: ArrayBuffer | Uint8Array): void {
		const bytes = new Uint8Array(this.read(offset, byteLength));
		const data = ArrayBuffer.isView(buffer) ? new Uint8Array(buffer.buffer, buffer.byteOffset, byteLength) : new Uint8Array(buffer, 0, byteLength);
		for (let i = 0; i < byteLength; i++) bytes[i] &= data[i];
		this.#put(offset, bytes.buffer);
	}

	#put(offset: number, buffer: ArrayBuffer): void {
		this.#file.position = offset;
		this.#file.write(buffer);
	}

	/** What the boards refuse too (modules/files/flash/esp/flash.c: "invalid offset", "invalid length"). */
	#check(offset: number, byteLength: number): void {
		if (!(offset >= 0 && byteLength > 0 && offset + byteLength <= BYTE_LENGTH)) throw new RangeError(`flash: ${byteLength} bytes at ${offset} are outside the region`);
	}
}

/** The region, or undefined (a log line says why) when this build names none or the file cannot be made. */
export function openFlash(log: Log): Flash | undefined {
	const partition = config.flash_partition as string | undefined;
	if (!partition) return undefined;
	try {
		return new FileFlash(`${config.file.root}modflash-${partition}.bin`);
	}
	catch (error) {
		log("warn", `flash: no file for "${partition}" (${(error as Error).message}); readings wait in RAM only`);
		return undefined;
	}
}
