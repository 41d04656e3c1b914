/*
 * The globals of the @agoric/xsnap worker that the XS host binding uses, typed, and reached through
 * `globalThis` so that no file declares them as globals (Node's typings declare some of the same names).
 * `memory` and `memoryAccount` exist only in the memory-probe worker (hosts/xs/node/memory-probe.c).
 */
import type { XsMemory } from "./protocol";

interface XsnapGlobals {
	/** Sends a message to the Node side and blocks until its answer. */
	issueCommand(message: ArrayBuffer): ArrayBuffer;
	/** Installed by the binding: receives each event from the Node side; its return value is the answer. */
	handleCommand: (message: ArrayBuffer) => ArrayBuffer;
	/** Milliseconds of the worker's wall clock (gettimeofday), with a fraction. */
	performance: { now(): number };
	gc(): void;
	memory?: () => XsMemory;
	/** Charges what follows to `account` (FIRMWARE or HOST); `crank`: a new crank began. Returns the previous account. */
	memoryAccount?: (account: number, crank?: boolean) => number;
}

export const xsnap = globalThis as unknown as XsnapGlobals;

/** Whom the probe worker charges allocations and computrons to. */
export const FIRMWARE = 0;
export const HOST = 1;

/**
 * Charges what follows to `account` and returns the account that was charged before, to hand back to
 * `charge` when done. Allocates nothing, so switching costs the firmware's figures nothing.
 */
export function charge(account: number, crank = false): number {
	return xsnap.memoryAccount ? xsnap.memoryAccount(account, crank) : HOST;
}
