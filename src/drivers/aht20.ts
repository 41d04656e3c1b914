/*
 * Aosong AHT20 at 0x38, and the older AHT10 (class AHT10: no CRC byte, init command E1).
 *
 * configure() has no options (the chip has none). The chip neither NACKs nor stretches while it measures: it
 * answers with its status byte, bit 7 set, and stale data. So the driver waits the datasheet's 80 ms, reads
 * the whole frame, and reads it again until bit 7 clears or the deadline passes. Initialisation: the 100 ms
 * power-up time first (a set-up follows a boot, a chip that was away, or a reset), soft reset, then the
 * calibration bit; when it is clear, the init command and a second look (AHT20 datasheet V1.0,
 * and the older sheet's BE 08 00 as Adafruit's driver sends it; newer AHT20s NACK AHT10's E1, older ones
 * accept BE). The vendor's register routine for 0x1B/0x1C/0x1E is undocumented and not attempted.
 * A frame with the calibration bit clear means the chip was reset since: it is initialised again and measured
 * again (the chip has no other settings).
 */
import { CRC_INIT_SENSIRION, crc8 } from "./crc8";
import { I2CSensor, afterMax, command } from "./i2c-sensor";
import type { Sample, SensorOptions } from "./sensor";
import type { Steps } from "./steps";

// AHT20 datasheet V1.0 (trigger, wait 80 ms; power-up 100 ms) and AHT10 technical manual V1.1 (soft reset,
// 20 ms); init waits from the older AHT20 sheet quoted by Adafruit (10 ms).
export const AHT20_COMMANDS = Object.freeze({
	measure: command([0xac, 0x33, 0x00], 80),
	softReset: command([0xba], 20),
	initAht20: command([0xbe, 0x08, 0x00], 10),
	initAht10: command([0xe1, 0x08, 0x00], 10),
});
const POWER_UP_MS = afterMax(100);

export const AHT20_BUSY = 0x80;
const CALIBRATED = 0x08;
// The AHT20 datasheet's readiness test after power-up: (status & 0x18) == 0x18 (bit 4 is undocumented).
const AHT20_READY = 0x18;

export const AHT20_LIMITS = Object.freeze({ minC: -40, maxC: 85 });

/** 20-bit humidity code from a frame: status, then RH in bytes 1-2 and the high nibble of byte 3. */
export function aht20HumidityRaw(frame: Uint8Array): number {
	return (frame[1] << 12) | (frame[2] << 4) | (frame[3] >> 4);
}

/** 20-bit temperature code from a frame: the low nibble of byte 3, then bytes 4-5. */
export function aht20TemperatureRaw(frame: Uint8Array): number {
	return ((frame[3] & 0x0f) << 16) | (frame[4] << 8) | frame[5];
}

/** AHT20 datasheet V1.0: RH = S / 2^20 * 100. */
export function aht20HumidityPercent(raw: number): number {
	return (raw / 1048576) * 100;
}

/** AHT20 datasheet V1.0: T = S / 2^20 * 200 - 50. */
export function aht20TemperatureC(raw: number): number {
	return (raw / 1048576) * 200 - 50;
}

export class AHT20 extends I2CSensor {
	readonly #aht10: boolean;
	readonly #frame: Uint8Array;
	readonly #status: Uint8Array;

	constructor(options: SensorOptions, aht10 = false) {
		super(aht10 ? "AHT10" : "AHT20", options, 0x38, 400_000);
		this.#aht10 = aht10;
		this.#frame = new Uint8Array(aht10 ? 6 : 7);
		this.#status = this.#frame.subarray(0, 1);
		// A status read needs no command and changes nothing: a presence check.
		this.startup(() => this.read(this.#status));
	}

	configure(_options: Record<string, unknown>): void {}

	protected *initialise(): Steps<void> {
		yield POWER_UP_MS;
		yield* this.send(AHT20_COMMANDS.softReset);
		this.read(this.#status);
		const ready = this.#aht10 ? CALIBRATED : AHT20_READY;
		if ((this.#status[0] & ready) === ready) return;
		const init = this.#aht10 ? AHT20_COMMANDS.initAht10 : AHT20_COMMANDS.initAht20;
		try {
			this.issue(init.bytes);
		}
		catch {
			// Some AHT20 revisions NACK the init command; the status read below tells whether it is needed.
		}
		yield init.waitMs;
		this.read(this.#status);
		if (!(this.#status[0] & CALIBRATED)) throw this.error("range", `calibration bit still clear (status 0x${this.#status[0].toString(16)})`);
	}

	protected start(): number {
		this.issue(AHT20_COMMANDS.measure.bytes);
		return AHT20_COMMANDS.measure.waitMs;
	}

	protected collect(): boolean {
		return this.measured();
	}

	protected convert(): Sample {
		const frame = this.#frame;
		if (!this.#aht10 && crc8(frame, 0, 6, CRC_INIT_SENSIRION) !== frame[6]) throw this.error("crc", "frame CRC mismatch");
		if (!(frame[0] & CALIBRATED)) this.lost(`calibration bit clear (status 0x${frame[0].toString(16)})`);
		return this.result(aht20TemperatureC(aht20TemperatureRaw(frame)), aht20HumidityPercent(aht20HumidityRaw(frame)), AHT20_LIMITS);
	}

	private measured(): boolean {
		this.read(this.#frame);
		return (this.#frame[0] & AHT20_BUSY) === 0;
	}
}

export class AHT10 extends AHT20 {
	constructor(options: SensorOptions) {
		super(options, true);
	}
}
