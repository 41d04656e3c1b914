/*
 * CPU figures from Linux's /proc, for what process.cpuUsage() cannot see: the whole machine, and the
 * Mosquitto broker a fixture started as our child. Elsewhere they read as unknown (undefined).
 */
import fs from "node:fs";
import os from "node:os";

/** Clock ticks per second for /proc's CPU times (USER_HZ: 100 on every Linux that matters). */
const TICKS_PER_SECOND = 100;

export interface MachineCpu {
	/** Busy and total jiffies summed over all cores. */
	busy: number;
	total: number;
}

export function machineCpu(): MachineCpu | undefined {
	try {
		const fields = fs.readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).slice(1).map(Number);
		const idle = fields[3] + (fields[4] ?? 0);
		const total = fields.reduce((sum, value) => sum + value, 0);
		return { busy: total - idle, total };
	}
	catch {
		return undefined;
	}
}

/** Share of all cores busy between two samples, in "cores" (0 .. number of cores). */
export function coresBusy(from: MachineCpu | undefined, to: MachineCpu | undefined): number | undefined {
	if (!from || !to || to.total === from.total) return undefined;
	return ((to.busy - from.busy) / (to.total - from.total)) * os.availableParallelism();
}

/** CPU seconds (user + system) used so far by this process's child named `command`, e.g. "mosquitto". */
export function childCpuSeconds(command: string): number | undefined {
	try {
		for (const entry of fs.readdirSync("/proc")) {
			if (!/^\d+$/.test(entry)) continue;
			let stat: string;
			try {
				stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8");
			}
			catch {
				continue;
			}
			// "pid (comm) state ppid ... utime stime ...": comm may hold spaces, so split after its ")".
			const close = stat.lastIndexOf(")");
			const comm = stat.slice(stat.indexOf("(") + 1, close);
			const fields = stat.slice(close + 2).split(" ");
			if (comm !== command || Number(fields[1]) !== process.pid) continue;
			return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
		}
	}
	catch {
		// Not Linux.
	}
	return undefined;
}
