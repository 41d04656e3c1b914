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
 *     asynchronously, with one entry per address where a chip answered: {address, model, chip}. `model` is
 *     the name to pass to openSensor, or undefined when the chip is not supported (`chip` says what it is:
 *     "BMP280", which has no humidity sensor, "HDC1000", or "unknown"). Takes about 100 ms with an AHT20 on
 *     the bus (identifying one takes a measurement), a few ms otherwise. No I2C instance stays open: every
 *     transaction opens and closes its own, so none is open during a wait or at the callback. An address
 *     that is already open (a driver in use) cannot be probed and is not reported.
 *
 *   detectSensors(host.i2c, host.clock, (found) => {
 *     for (const {model, address} of found)
 *       if (model) sensors.push(openSensor(model, {sensor: {...host.i2c, address}, clock: host.clock}));
 *   });
 *
 * Collisions: at 0x40 the HTU21D/Si7021 user-register read (E7) comes first: an HDC1080 NACKs E7 as a
 * reserved pointer, while the HDC1080's ID pointers FE/FF would be a soft reset and an unknown command to an
 * HTU21D. At 0x44/0x45 an SHT3x answers the two-byte status command F32D with a CRC'd word; an SHT4x does not,
 * and answers the one-byte serial command 89 with two CRC'd words.
 */
import type { Clock, I2CBus } from "../io";
import { AHT10, AHT20, AHT20_BUSY, AHT20_COMMANDS } from "./aht20";
import { BME280, BME280_REGISTER, bme280Chip } from "./bme280";
import { CRC_INIT_SENSIRION, checkedWord, crc8 } from "./crc8";
import { HDC1080, HDC1080_ID } from "./hdc1080";
import { HTU21D, HTU21D_COMMANDS, htu21dVariant } from "./htu21d";
import type { Sensor, SensorOptions } from "./sensor";
import { SHT3X_COMMANDS, SHT3x } from "./sht3x";
import { SHT4X_COMMANDS, SHT4x } from "./sht4x";
import type { Steps } from "./steps";
import { Stepper } from "./steps";

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
	new Stepper<Detected[]>(clock).start(probeAll(bus), (_error, found) => callback(found ?? []));
}

const PROBE_HZ = 100_000;
const ADDRESSES = Object.freeze([0x38, 0x40, 0x44, 0x45, 0x46, 0x76, 0x77]);

function* probeAll(bus: I2CBus): Steps<Detected[]> {
	const found: Detected[] = [];
	for (const address of ADDRESSES) {
		const detected = yield* probe(bus, address);
		if (detected) found.push(detected);
	}
	return found;
}

function* probe(bus: I2CBus, address: number): Steps<Detected | undefined> {
	switch (address) {
		case 0x38: return yield* probeAht20(bus, address);
		case 0x40: return probe0x40(bus, address);
		case 0x76: case 0x77: return probeBme280(bus, address);
		default: return yield* probeSensirion(bus, address);
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

function* probeAht20(bus: I2CBus, address: number): Steps<Detected | undefined> {
	const frame = new Uint8Array(7);
	if (!transfer(bus, address, AHT20_COMMANDS.measure.bytes)) return undefined;
	yield AHT20_COMMANDS.measure.waitMs;
	if (transfer(bus, address, undefined, frame) && !(frame[0] & AHT20_BUSY) && crc8(frame, 0, 6, CRC_INIT_SENSIRION) === frame[6])
		return detected(address, "AHT20", "AHT20");
	return detected(address, undefined, "unknown");
}

function probe0x40(bus: I2CBus, address: number): Detected | undefined {
	const word = new Uint8Array(2);
	if (transfer(bus, address, HTU21D_COMMANDS.readUser.bytes, word.subarray(0, 1))) {
		const variant = htu21dVariant(word[0]);
		return detected(address, variant, variant);
	}
	if (!transfer(bus, address, [HDC1080_ID.manufacturerRegister], word)) return undefined;
	const manufacturer = (word[0] << 8) | word[1];
	const device = transfer(bus, address, [HDC1080_ID.deviceRegister], word) ? (word[0] << 8) | word[1] : -1;
	if (manufacturer === HDC1080_ID.manufacturer && device === HDC1080_ID.device) return detected(address, "HDC1080", "HDC1080");
	return detected(address, undefined, manufacturer === HDC1080_ID.manufacturer && device === 0x1000 ? "HDC1000" : "unknown");
}

function* probeSensirion(bus: I2CBus, address: number): Steps<Detected | undefined> {
	const frame = new Uint8Array(6);
	let answered = false;
	// No SHT3x has the address 0x46.
	if (address !== 0x46 && transfer(bus, address, SHT3X_COMMANDS.readStatus.bytes)) {
		answered = true;
		yield SHT3X_COMMANDS.readStatus.waitMs;
		if (transfer(bus, address, undefined, frame.subarray(0, 3)) && checkedWord(frame, 0, CRC_INIT_SENSIRION) >= 0)
			return detected(address, "SHT3x", "SHT3x");
	}
	if (transfer(bus, address, SHT4X_COMMANDS.serial.bytes)) {
		answered = true;
		yield SHT4X_COMMANDS.serial.waitMs;
		if (transfer(bus, address, undefined, frame) && checkedWord(frame, 0, CRC_INIT_SENSIRION) >= 0 && checkedWord(frame, 3, CRC_INIT_SENSIRION) >= 0)
			return detected(address, "SHT4x", "SHT4x");
	}
	return answered ? detected(address, undefined, "unknown") : undefined;
}

function probeBme280(bus: I2CBus, address: number): Detected | undefined {
	const id = new Uint8Array(1);
	if (!transfer(bus, address, [BME280_REGISTER.chipId], id)) return undefined;
	const chip = bme280Chip(id[0]);
	return detected(address, chip === "BME280" ? chip : undefined, chip ?? "unknown");
}
