/* Log lines for the Node host: to stdout/stderr with a prefix, or into an array for tests. */
import type { Log, LogLevel } from "../../src/io";

const RANK: Readonly<Record<LogLevel, number>> = Object.freeze({ debug: 0, info: 1, warn: 2, error: 3 });

/** A Log that prints lines at `level` and above, each prefixed (e.g. with the node id). */
export function consoleLog(prefix = "", level: LogLevel = "info"): Log {
	return (lineLevel, message, detail = "") => {
		if (RANK[lineLevel] < RANK[level]) return;
		const line = `${prefix}${message}${detail}\n`;
		if (RANK[lineLevel] >= RANK.warn) process.stderr.write(line);
		else process.stdout.write(line);
	};
}

/** A Log that keeps every line, for assertions. */
export function memoryLog(): Log & { lines: string[] } {
	const lines: string[] = [];
	return Object.assign((level: LogLevel, message: string, detail = "") => {
		lines.push(`${level}: ${message}${detail}`);
	}, { lines });
}
