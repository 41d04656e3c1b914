/*
 * Runs before main in the Moddable desktop simulator (mcsim), which has no I2C and no `device` global:
 * it installs `device.I2C.default` backed by a simulated sensor from sim/, so the unchanged firmware finds
 * a sensor and publishes simulated readings. Build with `sim_sensor=BME280` (etc.) to pick the chip.
 */
import config from "mc/config";
import Time from "time";
import { Environment } from "sim/environment";
import { SIMULATED_CHIPS, simulatedBoard, type SimulatedChip } from "sim/sensors/board";

export default function setup(done: () => void): void {
	const wanted = (config.sim_sensor ?? "SHT3x") as SimulatedChip;
	const chip = SIMULATED_CHIPS.includes(wanted) ? wanted : "SHT3x";
	// No bus counters: nothing reads them here, and the memory check would count them as the firmware's.
	const board = simulatedBoard(chip, new Environment({ seed: Time.ticks & 0xffff }), { ticks: () => Time.ticks }, undefined, { stats: false });
	const provider = { ...(globalThis as { device?: object }).device, I2C: { default: board.i2c } };
	(globalThis as { device?: object }).device = Object.freeze(provider, true);
	trace(`setup: simulated ${chip} at 0x${board.address.toString(16)} on device.I2C.default\n`);
	done();
}
