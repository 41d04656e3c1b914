/*
 * TI HDC1080 at 0x40.
 *
 * configure({temperatureBits?: 14 | 11, humidityBits?: 14 | 11 | 8, heater?: boolean}); defaults 14, 14, false.
 * Acquisition mode 1: writing the pointer 0x00 starts temperature then humidity; the chip NACKs the read
 * header until both are done, then gives 4 bytes. TI publishes typical conversion times only, so the driver
 * waits their sum plus 20 % and then reads, retrying until a deadline. There is no CRC: the only integrity
 * checks are the two low bits of each word, which the chip always sends as 0, and the all-zero frame of a
 * stuck bus; both are rejected as "range". Initialisation: ID registers (constructor), software reset,
 * configuration. After each measurement the configuration is read back: one no longer as written means the
 * chip was reset since (a brown-out; a reset restores 0x1000, so only settings other than the defaults can be
 * lost), and it is restored before a reading is trusted.
 */
import { BOOLEANS, I2CSensor, command, option } from "./i2c-sensor";
import type { Sample, SensorOptions } from "./sensor";
import type { Steps } from "./steps";

// Registers and reset: HDC1080 datasheet SNAS672A register map and configuration register (RST self-clears,
// start-up 15 ms maximum). Conversion times: its electrical characteristics, typical only.
const COMMANDS = Object.freeze({
	measure: command([0x00], 0),
	reset: command([0x02, 0x80, 0x00], 15),
});
const CONFIGURATION = 0x02;
/** Identification registers and their values (HDC1000 has the same manufacturer and device 0x1000). */
export const HDC1080_ID = Object.freeze({ manufacturerRegister: 0xfe, deviceRegister: 0xff, manufacturer: 0x5449, device: 0x1050 });

// Bit 11 of the configuration (BTST, battery low) is read-only; the high byte holds every setting.
const CONFIG_READ_ONLY = 0x08;
const CONFIG_HEATER = 0x20;
const CONFIG_MODE_BOTH = 0x10;
const CONFIG_T11 = 0x04;
const CONFIG_RH = Object.freeze({ 14: 0x00, 11: 0x01, 8: 0x02 });
const TEMPERATURE_MS = Object.freeze({ 14: 6.35, 11: 3.65 });
const HUMIDITY_MS = Object.freeze({ 14: 6.5, 11: 3.85, 8: 2.5 });
const TEMPERATURE_BITS = Object.freeze([14, 11] as const);
const HUMIDITY_BITS = Object.freeze([14, 11, 8] as const);
const MARGIN = 1.2;

const LIMITS = Object.freeze({ minC: -40, maxC: 125 });

/** HDC1080 datasheet: T = S / 2^16 * 165 - 40. */
export function hdc1080TemperatureC(raw: number): number {
	return (raw / 65536) * 165 - 40;
}

/** HDC1080 datasheet: RH = S / 2^16 * 100. */
export function hdc1080HumidityPercent(raw: number): number {
	return (raw / 65536) * 100;
}

export class HDC1080 extends I2CSensor {
	readonly #frame = new Uint8Array(4);
	readonly #word = this.#frame.subarray(0, 2);
	readonly #pointer = new Uint8Array(1);
	readonly #config = new Uint8Array([CONFIGURATION, 0, 0]);
	#temperatureBits: 14 | 11 = 14;
	#humidityBits: 14 | 11 | 8 = 14;
	#heater = false;
	#waitMs = 0;
	/** The configuration's high byte as the last set-up wrote it. */
	#configSet = 0;

	constructor(options: SensorOptions) {
		super("HDC1080", options, 0x40, 400_000);
		this.startup(() => {
			const manufacturer = this.register(HDC1080_ID.manufacturerRegister);
			const device = this.register(HDC1080_ID.deviceRegister);
			if (manufacturer !== HDC1080_ID.manufacturer || device !== HDC1080_ID.device)
				throw this.error("unsupported", `manufacturer 0x${manufacturer.toString(16)}, device 0x${device.toString(16)}: not an HDC1080`);
		});
		this.configure({});
	}

	configure(options: Record<string, unknown>): void {
		const temperatureBits = option(options, "temperatureBits", TEMPERATURE_BITS);
		const humidityBits = option(options, "humidityBits", HUMIDITY_BITS);
		const heater = option(options, "heater", BOOLEANS);
		if (temperatureBits !== undefined) this.#temperatureBits = temperatureBits;
		if (humidityBits !== undefined) this.#humidityBits = humidityBits;
		if (heater !== undefined) this.#heater = heater;
		this.#config[1] = CONFIG_MODE_BOTH | (this.#heater ? CONFIG_HEATER : 0) | (this.#temperatureBits === 11 ? CONFIG_T11 : 0) | CONFIG_RH[this.#humidityBits];
		this.#waitMs = Math.ceil((TEMPERATURE_MS[this.#temperatureBits] + HUMIDITY_MS[this.#humidityBits]) * MARGIN);
		this.invalidate();
	}

	protected *initialise(): Steps<void> {
		yield* this.send(COMMANDS.reset);
		this.write(this.#config);
		this.#configSet = this.#config[1];
	}

	protected start(): number {
		this.issue(COMMANDS.measure.bytes);
		return this.#waitMs;
	}

	protected collect(): boolean {
		return this.tryRead(this.#frame);
	}

	protected convert(): Sample {
		const frame = this.#frame;
		const temperature = (frame[0] << 8) | frame[1];
		const humidity = (frame[2] << 8) | frame[3];
		// The register read reuses the frame's first word.
		const config = this.register(CONFIGURATION) >> 8;
		if ((config & ~CONFIG_READ_ONLY) !== this.#configSet) this.lost(`configuration 0x${config.toString(16)}00, set to 0x${this.#configSet.toString(16)}00`);
		if ((temperature | humidity) & 3 || (temperature | humidity) === 0)
			throw this.error("range", `impossible frame 0x${temperature.toString(16)} 0x${humidity.toString(16)}`);
		return this.result(hdc1080TemperatureC(temperature), hdc1080HumidityPercent(humidity), LIMITS);
	}

	private register(pointer: number): number {
		this.#pointer[0] = pointer;
		this.writeRead(this.#pointer, this.#word);
		return (this.#word[0] << 8) | this.#word[1];
	}
}
