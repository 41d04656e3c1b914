/*
 * A simulated sensor board: one chip model on a simulated bus, wired the way a board exposes it
 * (`device.I2C.default` with the ESP32 nodemcu pins). What `npm start`, the Moddable simulator's setup
 * module and the XS host use to give the unchanged firmware a sensor. Portable: no Node API.
 */
import { Aht20Model } from "./aht20";
import { Bme280Model } from "./bme280";
import { SimulatedI2CBus } from "./bus";
import type { SimDevice } from "./device";
import { Hdc1080Model } from "./hdc1080";
import { Htu21dModel } from "./htu21d";
import { Sht3xModel } from "./sht3x";
import { Sht4xModel } from "./sht4x";
import type { Environment } from "../environment";
import type { I2CBus } from "src/io";

export const SIMULATED_CHIPS = Object.freeze(["SHT3x", "SHT4x", "AHT20", "AHT10", "HTU21D", "Si7021", "HDC1080", "BME280"] as const);
export type SimulatedChip = (typeof SIMULATED_CHIPS)[number];

/** Each chip's usual address (the one its breakout boards ship with). */
export const CHIP_ADDRESS: Readonly<Record<SimulatedChip, number>> = Object.freeze({
	SHT3x: 0x44, SHT4x: 0x44, AHT20: 0x38, AHT10: 0x38, HTU21D: 0x40, Si7021: 0x40, HDC1080: 0x40, BME280: 0x76,
});

export function chipModel(chip: SimulatedChip, env: Environment): SimDevice {
	switch (chip) {
		case "SHT3x": return new Sht3xModel({ env });
		case "SHT4x": return new Sht4xModel({ env });
		case "AHT20": return new Aht20Model({ env });
		case "AHT10": return new Aht20Model({ env, variant: "AHT10" });
		case "HTU21D": return new Htu21dModel({ env });
		case "Si7021": return new Htu21dModel({ env, variant: "Si7021" });
		case "HDC1080": return new Hdc1080Model({ env });
		case "BME280": return new Bme280Model({ env });
	}
}

export interface SimulatedBoard {
	bus: SimulatedI2CBus;
	device: SimDevice;
	address: number;
	/** What the firmware gets as its I2C bus, like `device.I2C.default` on an ESP32 nodemcu. */
	i2c: I2CBus;
}

/** `stats`: whether the bus keeps its counters (see SimulatedI2CBus). */
export function simulatedBoard(chip: SimulatedChip, env: Environment, clock: { ticks(): number }, address = CHIP_ADDRESS[chip], { stats = true } = {}): SimulatedBoard {
	const bus = new SimulatedI2CBus(clock, { stats });
	const device = chipModel(chip, env);
	bus.attach(address, device);
	return { bus, device, address, i2c: { io: bus.io, data: 21, clock: 22 } };
}
