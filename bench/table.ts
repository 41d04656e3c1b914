/* Plain-text tables for the benchmark report. */

export type Cell = string | number | boolean | undefined;

function text(cell: Cell): string {
	if (cell === undefined) return "–";
	if (typeof cell === "boolean") return cell ? "yes" : "no";
	if (typeof cell === "number") return Number.isInteger(cell) && Math.abs(cell) >= 1000 ? cell.toLocaleString("en-US") : String(cell);
	return cell;
}

/** Columns padded to their widest cell, numbers right-aligned. */
export function formatTable(title: string, header: readonly string[], rows: readonly Cell[][]): string {
	const cells = [header.map(text), ...rows.map((row) => row.map(text))];
	const widths = header.map((_, i) => Math.max(...cells.map((row) => (row[i] ?? "").length)));
	const numeric = header.map((_, i) => rows.every((row) => typeof row[i] === "number" || row[i] === undefined));
	const line = (row: string[]) => row.map((cell, i) => numeric[i] ? cell.padStart(widths[i]) : cell.padEnd(widths[i])).join("  ").trimEnd();
	return [title, line(cells[0]), widths.map((w) => "-".repeat(w)).join("  "), ...cells.slice(1).map(line)].join("\n") + "\n";
}
