/*
 * A simulated I2C bus: devices at addresses, and the ECMA-419 `io` class that reaches them (`bus.io`). It is
 * the Node host's I2C stand-in and runs inside XS too (no Node API). It behaves like Moddable's
 * embedded:io/i2c on the strictest host, the ESP8266:
 *   - `new bus.io({data, clock, address, hz, ...})`: RangeError("data required" | "clock required") without pin
 *     numbers, RangeError("invalid address") unless 0..0x7F, RangeError("invalid hz") unless an integer in
 *     1..1 MHz, RangeError("duplicate address") while another instance has the address;
 *   - `read(buffer)`, `write(buffer)`, `writeRead(bytes, buffer)`: a NACK (no device, a device that does not
 *     answer, a clock faster than the device's maximum) throws Error("read failed" | "write failed" |
 *     "writeRead failed"); `read`/`writeRead` return the byte count;
 *   - `close()` is idempotent; any other call after it throws Error("closed").
 *
 * Counters, per address: transactions, NACKs, bytes on the wire (address bytes included; a transaction NACKed
 * on its address counts that byte only) and bus time at the instance's hz, counting 9 clocks a byte (8 bits and
 * the acknowledge) plus one for each START, repeated START and STOP.
 */
import type { I2C, I2CConstructor, I2COptions } from "src/io";

/** What answers at an address: a chip model (./device), or a fault of the bus itself (./bus-faults). */
export interface I2CTarget {
	/** The fastest clock it answers at; faster transactions are NACKed. */
	readonly maxHz: number;
	/** Called on attach with the bus's clock. */
	connect(ticks: () => number): void;
	/** A write transfer; false to NACK. */
	handleWrite(data: Uint8Array, now: number): boolean;
	/** A read transfer filling `buffer`; false to NACK the read header. */
	handleRead(buffer: Uint8Array, now: number): boolean;
}

export interface BusStats {
	transactions: number;
	nacks: number;
	bytes: number;
	microseconds: number;
}

const MAX_HZ = 1_000_000;

function zero(): BusStats {
	return { transactions: 0, nacks: 0, bytes: 0, microseconds: 0 };
}

export class SimulatedI2CBus {
	/** The ECMA-419 I2C class for this bus, e.g. `{io: bus.io, data: 21, clock: 22}` as `device.I2C.default`. */
	readonly io: I2CConstructor;
	readonly #ticks: () => number;
	readonly #devices = new Map<number, I2CTarget>();
	readonly #open = new Set<number>();
	/** Undefined when not kept (see the constructor). */
	readonly #stats: Map<number, BusStats> | undefined;

	/**
	 * `clock`: anything with the Clock's `ticks()` (ms); the devices' conversions are timed on it. `stats: false`
	 * keeps no counters: in mcsim, whose memory the check measures as the firmware's, an entry per probed address
	 * is about 8 slots a board's native bus does not have.
	 */
	constructor(clock: { ticks(): number }, { stats = true }: { stats?: boolean } = {}) {
		this.#ticks = () => clock.ticks();
		this.#stats = stats ? new Map() : undefined;
		const bus = this;
		this.io = class extends SimulatedI2C {
			constructor(options: I2COptions) {
				super(bus, options);
			}
		};
	}

	attach(address: number, device: I2CTarget): void {
		if (this.#devices.has(address)) throw new RangeError(`a device is already attached at 0x${address.toString(16)}`);
		this.#devices.set(address, device);
		device.connect(this.#ticks);
	}

	detach(address: number): void {
		this.#devices.delete(address);
	}

	/** Counters for one address, or for the whole bus. */
	stats(address?: number): BusStats {
		if (address !== undefined) return { ...(this.#stats?.get(address) ?? zero()) };
		const total = zero();
		for (const stats of this.#stats?.values() ?? []) {
			total.transactions += stats.transactions;
			total.nacks += stats.nacks;
			total.bytes += stats.bytes;
			total.microseconds += stats.microseconds;
		}
		return total;
	}

	resetStats(): void {
		this.#stats?.clear();
	}

	/** Whether an io instance is open at `address`. */
	isOpen(address: number): boolean {
		return this.#open.has(address);
	}

	/** For the io class. */
	claim(address: number): void {
		if (this.#open.has(address)) throw new RangeError("duplicate address");
		this.#open.add(address);
	}

	/** For the io class. */
	release(address: number): void {
		this.#open.delete(address);
	}

	/** For the io class: one transaction (write, read, or write then repeated-start read); false on NACK. */
	transfer(address: number, hz: number, write: Uint8Array | undefined, read: Uint8Array | undefined): boolean {
		const device = this.#devices.get(address);
		const now = this.#ticks();
		let ok = device !== undefined && hz <= device.maxHz;
		let bytes = 1;
		if (ok && write) {
			ok = device!.handleWrite(write, now);
			if (ok) bytes += write.length;
		}
		if (ok && read) {
			if (write) bytes++;
			ok = device!.handleRead(read, now);
			if (ok) bytes += read.length;
		}
		if (!this.#stats) return ok;
		const stats = this.#stats.get(address) ?? zero();
		this.#stats.set(address, stats);
		stats.transactions++;
		if (!ok) stats.nacks++;
		stats.bytes += bytes;
		stats.microseconds += ((9 * bytes + (write && read ? 3 : 2)) * 1e6) / hz;
		return ok;
	}
}

class SimulatedI2C implements I2C {
	readonly #bus: SimulatedI2CBus;
	readonly #address: number;
	readonly #hz: number;
	#closed = false;

	constructor(bus: SimulatedI2CBus, options: I2COptions) {
		const { address, hz, data, clock } = options;
		if (!Number.isInteger(data)) throw new RangeError("data required");
		if (!Number.isInteger(clock)) throw new RangeError("clock required");
		if (!Number.isInteger(address) || address < 0 || address > 0x7f) throw new RangeError("invalid address");
		if (!Number.isInteger(hz) || hz < 1 || hz > MAX_HZ) throw new RangeError("invalid hz");
		bus.claim(address);
		this.#bus = bus;
		this.#address = address;
		this.#hz = hz;
	}

	read(buffer: Uint8Array): number {
		this.#check();
		if (!this.#bus.transfer(this.#address, this.#hz, undefined, buffer)) throw new Error("read failed");
		return buffer.length;
	}

	write(buffer: Uint8Array): void {
		this.#check();
		if (!this.#bus.transfer(this.#address, this.#hz, buffer, undefined)) throw new Error("write failed");
	}

	writeRead(bytes: Uint8Array, buffer: Uint8Array): number {
		this.#check();
		if (!this.#bus.transfer(this.#address, this.#hz, bytes, buffer)) throw new Error("writeRead failed");
		return buffer.length;
	}

	close(): void {
		if (this.#closed) return;
		this.#closed = true;
		this.#bus.release(this.#address);
	}

	#check(): void {
		if (this.#closed) throw new Error("closed");
	}
}
