/*
 * TE HTU21D(F) and Silicon Labs Si7021 at 0x40: one command set, told apart by the reserved bits of the user
 * register (reset value 0x02 on HTU21D, 0x3A on Si7021), which differ in conversion times.
 *
 * configure({humidityBits?: 12 | 11 | 10 | 8, heater?: boolean}); defaults 12 (with 14-bit temperature), false.
 * The humidity resolution fixes the temperature one (user register bits 7,0): RH12/T14, RH8/T12, RH10/T13,
 * RH11/T11. No-hold commands (hold mode stretches the clock up to 50 ms): the chip NACKs the read header until
 * done, so the driver waits the datasheet maximum, then reads, retrying until a deadline. Both words carry a
 * CRC (init 0x00); Si7021's E0 "temperature of the last RH measurement" has none, so temperature is measured
 * on its own with F3. An all-zero or all-one word is the open/short-circuit diagnostic code: "range". The
 * status bits are cleared, not checked: the datasheet's own RH example (7C 80) has them at 00.
 * Before each sample's conversions the user register is read back (their times depend on it): a resolution or
 * heater bit no longer as written means the chip was reset since (a brown-out), and its settings are restored.
 */
import { CRC_INIT_HTU21D, checkedWord } from "./crc8";
import { BOOLEANS, I2CSensor, afterMax, command, option } from "./i2c-sensor";
import type { Sample, SensorOptions } from "./sensor";
import type { Steps } from "./steps";

// Opcodes: HTU21D(F) datasheet (05/2017) command table, the same on Si7021-A20. Times: maximum conversion
// times per resolution index (user register bits 7,0); Si7021's humidity conversion also converts
// temperature, so its humidity time is tRH + tT. Soft reset: 15 ms on both.
export const HTU21D_COMMANDS = Object.freeze({
	humidity: Object.freeze({ bytes: Object.freeze([0xf5]), htu21dMs: Object.freeze([16, 3, 5, 8]), si7021Ms: Object.freeze([22.8, 6.9, 10.7, 9.4]) }),
	temperature: Object.freeze({ bytes: Object.freeze([0xf3]), htu21dMs: Object.freeze([50, 13, 25, 7]), si7021Ms: Object.freeze([10.8, 3.8, 6.2, 2.4]) }),
	readUser: command([0xe7], 0),
	softReset: command([0xfe], 15),
});
const WRITE_USER = 0xe6;

// Humidity bits for resolution index 0..3 (user register bits 7,0).
const HUMIDITY_BITS = Object.freeze([12, 8, 10, 11]);
const USER_RESOLUTION = 0x81;
const USER_HEATER = 0x04;
const USER_RESERVED = 0x38;
const USER_SETTINGS = USER_RESOLUTION | USER_HEATER;

export const HTU21D_LIMITS = Object.freeze({ minC: -40, maxC: 125 });

/** HTU21D / Si7021 datasheets: RH = -6 + 125 * S / 2^16, status bits cleared; may leave 0..100 (crop). */
export function htu21dHumidityPercent(raw: number): number {
	return -6 + (125 * (raw & 0xfffc)) / 65536;
}

/** HTU21D / Si7021 datasheets: T = -46.85 + 175.72 * S / 2^16, status bits cleared. */
export function htu21dTemperatureC(raw: number): number {
	return -46.85 + (175.72 * (raw & 0xfffc)) / 65536;
}

/** The resolution index (0..3) the user register selects. */
export function htu21dResolution(user: number): number {
	return ((user >> 6) & 2) | (user & 1);
}

/** Which part answers, from the user register's reserved bits (read as 0 on HTU21D, 1 on Si7021). */
export function htu21dVariant(user: number): "HTU21D" | "Si7021" {
	return (user & USER_RESERVED) === USER_RESERVED ? "Si7021" : "HTU21D";
}

export class HTU21D extends I2CSensor {
	readonly #frame = new Uint8Array(3);
	protected override phases = 2;
	/** Raw words of the two conversions of the sample under way. */
	#humidity = 0;
	#temperature = 0;
	readonly #user = this.#frame.subarray(0, 1);
	readonly #writeUser = new Uint8Array(2);
	#si7021 = false;
	#resolution = 0;
	#heater = false;

	constructor(options: SensorOptions) {
		super("HTU21D", options, 0x40, 400_000);
		this.startup(() => this.readUser());
	}

	configure(options: Record<string, unknown>): void {
		const bits = option<number>(options, "humidityBits", HUMIDITY_BITS);
		const heater = option(options, "heater", BOOLEANS);
		if (bits !== undefined) this.#resolution = HUMIDITY_BITS.indexOf(bits);
		if (heater !== undefined) this.#heater = heater;
		this.invalidate();
	}

	protected *initialise(): Steps<void> {
		yield* this.send(HTU21D_COMMANDS.softReset);
		const user = this.readUser();
		const resolution = ((this.#resolution & 2) << 6) | (this.#resolution & 1);
		// Read-modify-write: the other bits are reserved or read-only.
		this.#writeUser[0] = WRITE_USER;
		this.#writeUser[1] = (user & ~USER_SETTINGS) | resolution | (this.#heater ? USER_HEATER : 0);
		this.write(this.#writeUser);
	}

	// Two conversions: humidity (phase 0), then temperature (phase 1).
	protected start(phase: number): number {
		if (!phase) this.checkUser();
		const command = phase ? HTU21D_COMMANDS.temperature : HTU21D_COMMANDS.humidity;
		this.issue(command.bytes);
		return afterMax(command[this.#si7021 ? "si7021Ms" : "htu21dMs"][this.#resolution]);
	}

	protected collect(phase: number): boolean {
		if (!this.tryRead(this.#frame)) return false;
		if (phase) this.#temperature = this.word("temperature");
		else this.#humidity = this.word("humidity");
		return true;
	}

	protected convert(): Sample {
		return this.result(htu21dTemperatureC(this.#temperature), htu21dHumidityPercent(this.#humidity), HTU21D_LIMITS);
	}

	private readUser(): number {
		this.issue(HTU21D_COMMANDS.readUser.bytes);
		this.read(this.#user);
		const user = this.#user[0];
		const variant = htu21dVariant(user);
		this.#si7021 = variant === "Si7021";
		this.identified(variant);
		return user;
	}

	private checkUser(): void {
		const user = this.readUser();
		if ((user & USER_SETTINGS) !== (this.#writeUser[1] & USER_SETTINGS)) this.lost(`user register 0x${user.toString(16)}, set to 0x${this.#writeUser[1].toString(16)}`);
	}

	private word(quantity: string): number {
		const word = checkedWord(this.#frame, 0, CRC_INIT_HTU21D);
		if (word < 0) throw this.error("crc", `${quantity} CRC mismatch`);
		if (word === 0 || word === 0xffff) throw this.error("range", `diagnostic code 0x${word.toString(16)} (open or short circuit)`);
		return word;
	}
}
