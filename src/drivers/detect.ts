/*
 * Finding and opening sensors: what the application calls.
 *
 *   SENSOR_MODELS: the model names openSensor accepts ("Si7021" and "HTU21D" open the same driver, which
 *     tells the two apart itself; "AHT10" is never detected, since only a measurement's missing CRC would
 *     tell it from an AHT20: configure it by name).
 *
 *   openSensor(model, {sensor: {...host.i2c, address?, hz?}, clock}): Sensor
 *     Constructs the driver, which checks synchronously that the chip answers (and its ID where it has one).
 *     Throws a SensorError ("absent", "unsupported", "bus") with nothing left open when it does not;
 *     RangeError for a model name not in SENSOR_MODELS. Then `sensor.sample(callback)` as in ./sensor.
 *
 *   detectSensors(bus, clock, callback(found: Detected[]))
 *     Probes 0x38, 0x40, 0x44, 0x45, 0x46, 0x76 and 0x77 at 100 kHz without blocking, and calls back once,
 *     asynchronously, with one entry per address where something answered: {address, model, chip}. `model` is
 *     the name to pass to openSensor, or undefined when the chip is not supported (`chip` says what it is:
 *     "BMP280", which has no humidity sensor, "HDC1000", or "unknown device"). Proving an AHT20 takes a
 *     measurement (81 ms, up to three times that when it answers late), an HTU21D a temperature conversion
 *     (up to 51 ms), an SHT3x or SHT4x its serial number (a few ms). No I2C instance stays open: every
 *     transaction opens and closes its own, so none is open during a wait or at the callback. An address
 *     that is already open (a driver in use) cannot be probed and is not reported.
 *
 *   detectSensors(host.i2c, host.clock, (found) => {
 *     for (const {model, address} of found)
 *       if (model) sensors.push(openSensor(model, {sensor: {...host.i2c, address}, clock: host.clock}));
 *   });
 *
 * A chip is named only after a reading that proves it: words with a valid CRC where the chip has a CRC,
 * identification registers that match where it has them, and values in the chip's range. A bus that ACKs
 * everything and reads 0xFF (or 0x00) fails all of these, and so, with near certainty, do two chips answering
 * on one address, whose replies are ANDed on the wire: both are reported as an "unknown device".
 *
 * Collisions: at 0x40 the HTU21D/Si7021 user-register read (E7) comes first: an HDC1080 NACKs E7 as a
 * reserved pointer, while the HDC1080's ID pointers FE/FF would be a soft reset and an unknown command to an
 * HTU21D. At 0x44/0x45 an SHT3x answers the two-byte status command F32D with a CRC'd word, and its serial
 * number command 3682 with two; an SHT4x answers neither, and answers the one-byte serial command 89 with two
 * CRC'd words. Both families are asked, so that an SHT3x and an SHT4x on one address are not taken for one.
 * At 0x38 an FT6x36 touch controller may sit, and a write there sets its registers: see probeAht20.
 */
import type { Clock, I2CBus } from "../io";
import { AHT10, AHT20, AHT20_BUSY, AHT20_COMMANDS, AHT20_LIMITS, aht20TemperatureC, aht20TemperatureRaw } from "./aht20";
import { BME280, BME280_REGISTER, bme280Chip } from "./bme280";
import { CRC_INIT_HTU21D, CRC_INIT_SENSIRION, checkedWord, crc8 } from "./crc8";
import { HDC1080, HDC1080_ID } from "./hdc1080";
import { HTU21D, HTU21D_COMMANDS, HTU21D_LIMITS, htu21dResolution, htu21dTemperatureC, htu21dVariant } from "./htu21d";
import { afterMax, within } from "./i2c-sensor";
import type { Sensor, SensorOptions } from "./sensor";
import { SHT3X_COMMANDS, SHT3x } from "./sht3x";
import { SHT4X_COMMANDS, SHT4x } from "./sht4x";
import type { Steps } from "./steps";
import { Stepper, pollUntil } from "./steps";

export const SENSOR_MODELS = Object.freeze(["SHT3x", "SHT4x", "AHT20", "AHT10", "HTU21D", "Si7021", "HDC1080", "BME280"] as const);
export type SensorModel = (typeof SENSOR_MODELS)[number];

const DRIVERS: Readonly<Record<SensorModel, new (options: SensorOptions) => Sensor>> = Object.freeze({
	SHT3x, SHT4x, AHT20, AHT10, HTU21D, Si7021: HTU21D, HDC1080, BME280,
});

export function openSensor(model: SensorModel, options: SensorOptions): Sensor {
	if (!SENSOR_MODELS.includes(model)) throw new RangeError(`no driver for sensor model "${model}"`);
	return new DRIVERS[model](options);
}

export interface Detected {
	readonly address: number;
	/** The name for openSensor, or undefined when the chip is not supported. */
	readonly model: SensorModel | undefined;
	readonly chip: string;
}

export function detectSensors(bus: I2CBus, clock: Clock, callback: (found: Detected[]) => void): void {
	const stepper = new Stepper<Detected | undefined>(clock);
	const found: Detected[] = [];
	let index = 0;
	// One address's probe at a time, each run by the stepper on its own: no outer generator whose saved frame
	// would hold the previous address's finished probes alive while the next one runs.
	const next = (error: unknown, detected?: Detected): void => {
		if (error) callback([]);
		else {
			if (detected) found.push(detected);
			if (index < ADDRESSES.length) stepper.start(probe(bus, ADDRESSES[index++]), next);
			else callback(found);
		}
	};
	// Probing starts on a timer turn of its own, not on the caller's stack: at boot that is the node's
	// constructor, and with the probes on top it was the deepest XS stack of all.
	clock.set(() => next(undefined), 0);
}

const PROBE_HZ = 100_000;
const ADDRESSES = Object.freeze([0x38, 0x40, 0x44, 0x45, 0x46, 0x76, 0x77]);
const UNKNOWN = "unknown device";
// AHT20 status bit 4: set in every captured AHT20 status (0x18, 0x1C), clear in an FT6x36's usual registers.
const AHT20_BIT4 = 0x10;
// HTU21D/Si7021 measurement words: bit 1 of the LSB is 0 for a temperature.
const HTU21D_HUMIDITY_BIT = 0x02;

// A plain function, not a generator delegating with yield*: every generator level keeps its frame in a chunk
// while the probe runs. The probes keep few locals for the same reason, and none for what needs no wait.
function probe(bus: I2CBus, address: number): Steps<Detected | undefined> {
	switch (address) {
		case 0x38: return probeAht20(bus, address);
		case 0x40: return probe0x40(bus, address);
		case 0x76: case 0x77: return probeBme280(bus, address);
		default: return probeSensirion(bus, address);
	}
}

/** One transaction on its own I2C instance: writes `bytes` or fills `buffer`; false on any failure. */
function transfer(bus: I2CBus, address: number, bytes: readonly number[] | undefined, buffer?: Uint8Array): boolean {
	let io;
	try {
		io = new bus.io({ ...bus, address, hz: PROBE_HZ });
	}
	catch {
		return false;
	}
	try {
		if (bytes) io.write(Uint8Array.from(bytes));
		if (buffer) io.read(buffer);
		return true;
	}
	catch {
		return false;
	}
	finally {
		io.close();
	}
}

function detected(address: number, model: SensorModel | undefined, chip: string): Detected {
	return Object.freeze({ address, model, chip });
}

/** The model when `proven`, else an unknown device. */
function named(address: number, model: SensorModel, proven: boolean): Detected {
	return proven ? detected(address, model, model) : detected(address, undefined, UNKNOWN);
}

/** An AHT20 frame at rest: not busy, status bit 4 set, and the CRC over the first six bytes. */
function aht20Frame(frame: Uint8Array): boolean {
	return (frame[0] & (AHT20_BUSY | AHT20_BIT4)) === AHT20_BIT4 && crc8(frame, 0, 6, CRC_INIT_SENSIRION) === frame[6];
}

/**
 * 0x38 is also the address of FT6x36 touch controllers, where a write's first byte is a register address and
 * the rest is written to the registers: the measurement command AC 33 00 would set registers 0xAC and 0xAD.
 * So nothing is written until a plain read, which an FT6x36 answers with its registers and changes nothing,
 * looks like an AHT20 frame at rest. Registers pass that by chance about once in a thousand (the CRC one in
 * 256, the status pattern one in four): the risk that remains, taken only by a board with both parts. Then a
 * measurement, polled like the driver does, proves the AHT20.
 */
function* probeAht20(bus: I2CBus, address: number): Steps<Detected | undefined> {
	const frame = new Uint8Array(7);
	if (!transfer(bus, address, undefined, frame)) return undefined;
	const measured = aht20Frame(frame) && transfer(bus, address, AHT20_COMMANDS.measure.bytes) &&
		(yield* pollUntil(() => transfer(bus, address, undefined, frame) && !(frame[0] & AHT20_BUSY), AHT20_COMMANDS.measure.waitMs));
	return named(address, "AHT20", measured && aht20Frame(frame) && within(AHT20_LIMITS, aht20TemperatureC(aht20TemperatureRaw(frame))));
}

function* probe0x40(bus: I2CBus, address: number): Steps<Detected | undefined> {
	const word = new Uint8Array(3);
	if (!transfer(bus, address, HTU21D_COMMANDS.readUser.bytes, word.subarray(0, 1))) return probeHdc1080(bus, address, word);
	const variant = htu21dVariant(word[0]);
	const waitMs = afterMax(HTU21D_COMMANDS.temperature[variant === "Si7021" ? "si7021Ms" : "htu21dMs"][htu21dResolution(word[0])]);
	const measured = transfer(bus, address, HTU21D_COMMANDS.temperature.bytes) && (yield* pollUntil(() => transfer(bus, address, undefined, word), waitMs));
	return named(address, variant, measured && htu21dTemperatureWord(word));
}

/** A temperature conversion: a CRC'd word that is no diagnostic code, marked as a temperature, in range. */
function htu21dTemperatureWord(word: Uint8Array): boolean {
	const raw = checkedWord(word, 0, CRC_INIT_HTU21D);
	return raw > 0 && raw !== 0xffff && !(raw & HTU21D_HUMIDITY_BIT) && within(HTU21D_LIMITS, htu21dTemperatureC(raw));
}

function probeHdc1080(bus: I2CBus, address: number, word: Uint8Array): Detected | undefined {
	if (!transfer(bus, address, [HDC1080_ID.manufacturerRegister], word.subarray(0, 2))) return undefined;
	const manufacturer = (word[0] << 8) | word[1];
	const device = transfer(bus, address, [HDC1080_ID.deviceRegister], word.subarray(0, 2)) ? (word[0] << 8) | word[1] : -1;
	if (manufacturer === HDC1080_ID.manufacturer && device === HDC1080_ID.device) return detected(address, "HDC1080", "HDC1080");
	return detected(address, undefined, manufacturer === HDC1080_ID.manufacturer && device === 0x1000 ? "HDC1000" : UNKNOWN);
}

// What a Sensirion family's probe found: nothing answered, something answered but proved nothing, the family proven.
const SILENT = 0;
const ANSWERED = 1;
const PROVEN = 2;

/** Two CRC'd words (a serial number): two chips ANDing different serial numbers fail the CRCs. */
function serialFrame(frame: Uint8Array): boolean {
	return checkedWord(frame, 0, CRC_INIT_SENSIRION) >= 0 && checkedWord(frame, 3, CRC_INIT_SENSIRION) >= 0;
}

// The SHT3x and SHT4x checks are steps of this one generator rather than generators of their own, which
// would each keep a frame in a chunk while waiting.
function* probeSensirion(bus: I2CBus, address: number): Steps<Detected | undefined> {
	const frame = new Uint8Array(6);
	// An SHT3x: its status word with CRC, then its serial number. No SHT3x has the address 0x46.
	let sht3x = SILENT;
	if (address !== 0x46 && transfer(bus, address, SHT3X_COMMANDS.readStatus.bytes)) {
		sht3x = ANSWERED;
		yield SHT3X_COMMANDS.readStatus.waitMs;
		if (transfer(bus, address, undefined, frame.subarray(0, 3)) && checkedWord(frame, 0, CRC_INIT_SENSIRION) >= 0 && transfer(bus, address, SHT3X_COMMANDS.serial.bytes)) {
			yield SHT3X_COMMANDS.serial.waitMs;
			if (transfer(bus, address, undefined, frame) && serialFrame(frame)) sht3x = PROVEN;
		}
	}
	// An SHT4x: its serial number.
	let sht4x = SILENT;
	if (transfer(bus, address, SHT4X_COMMANDS.serial.bytes)) {
		yield SHT4X_COMMANDS.serial.waitMs;
		sht4x = transfer(bus, address, undefined, frame) && serialFrame(frame) ? PROVEN : ANSWERED;
	}
	if (sht3x === SILENT && sht4x === SILENT) return undefined;
	// Neither proven, or both: an SHT3x and an SHT4x on one address, where each driver's commands reach the other chip.
	return named(address, sht3x === PROVEN ? "SHT3x" : "SHT4x", (sht3x === PROVEN) !== (sht4x === PROVEN));
}

// A generator that never waits, so that the stepper runs it like the other probes.
function* probeBme280(bus: I2CBus, address: number): Steps<Detected | undefined> {
	const id = new Uint8Array(1);
	if (!transfer(bus, address, [BME280_REGISTER.chipId], id)) return undefined;
	const chip = bme280Chip(id[0]);
	return detected(address, chip === "BME280" ? chip : undefined, chip ?? UNKNOWN);
}
