/*
 * A transaction-script I2C for driver tests: the expected writes and the bytes each read returns, in order,
 * optionally with the virtual time each must happen at. `done()` asserts the whole script was used.
 */
import assert from "node:assert/strict";
import type { VirtualClock } from "../../hosts/node/virtual-clock";
import type { I2C, I2CBus, I2COptions } from "../../src/io";

export interface Step {
	write?: number[];
	read?: number[];
	/** The transaction NACKs (throws as the device's I2C does). */
	nack?: boolean;
	/** Virtual ms at which the transaction must happen. */
	at?: number;
}

export function scripted(clock: VirtualClock, steps: Step[]): { bus: I2CBus; done(): void; opened: I2COptions[] } {
	const queue = steps.slice();
	const opened: I2COptions[] = [];
	function next(kind: string, bytes: Uint8Array | undefined, buffer: Uint8Array | undefined): void {
		const step = queue.shift();
		assert.ok(step, `unexpected ${kind} after the end of the script`);
		if (step.at !== undefined) assert.equal(clock.now, step.at, `${kind} at ${clock.now} ms, expected at ${step.at} ms`);
		assert.deepEqual(bytes && [...bytes], step.write, `${kind}: wrong bytes written`);
		if (step.nack) throw new Error(`${kind} failed`);
		assert.equal(buffer?.length, step.read?.length, `${kind}: wrong read length`);
		if (buffer) buffer.set(step.read!);
	}
	class ScriptedI2C implements I2C {
		constructor(options: I2COptions) {
			opened.push(options);
		}
		read(buffer: Uint8Array): void {
			next("read", undefined, buffer);
		}
		write(buffer: Uint8Array): void {
			next("write", buffer, undefined);
		}
		writeRead(bytes: Uint8Array, buffer: Uint8Array): void {
			next("writeRead", bytes, buffer);
		}
		close(): void {}
	}
	return {
		bus: { io: ScriptedI2C, data: 21, clock: 22 },
		opened,
		done: () => assert.deepEqual(queue, [], "script not used up"),
	};
}

/** "66 66 93" -> [0x66, 0x66, 0x93]. */
export function bytes(hex: string): number[] {
	return hex.trim().split(/\s+/).map((byte) => parseInt(byte, 16));
}
