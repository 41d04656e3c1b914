/*
 * Where the firmware's allocations go, without touching the firmware: its work is cut at the host
 * boundaries it crosses (an event starting it, a host call, returning), and the memory-probe worker's
 * tallies are read at each one. "timer → tcp.write" is what the firmware did from a timer firing until it
 * wrote to the socket. Off until started; all of its own work is charged to the host, so it costs the
 * firmware's figures nothing. Needs the memory-probe worker.
 */
import type { XsTally } from "./protocol";
import { xsnap } from "./xsnap";

export interface Segment {
	from: string;
	to: string;
	/** Times the firmware went this way. */
	count: number;
	/** Totals over all of them. */
	slots: number;
	chunks: number;
	literals: number;
	computrons: number;
}

export class Segments {
	readonly #table = new Map<string, Segment>();
	#on = false;
	#since = "";
	#mark: XsTally | undefined;

	start(): void {
		if (!xsnap.memory) throw new Error("segments need the memory-probe worker");
		this.#table.clear();
		this.#mark = xsnap.memory().firmware;
		this.#on = true;
	}

	stop(): Segment[] {
		this.#on = false;
		return [...this.#table.values()];
	}

	/** The firmware starts running after `label` (an event). */
	resume(label: string): void {
		this.#since = label;
	}

	/** The firmware reached the host boundary `label`: the stretch since the previous boundary ends here. */
	reach(label: string): void {
		if (!this.#on) return;
		const now = xsnap.memory!().firmware;
		const mark = this.#mark!;
		const key = `${this.#since} → ${label}`;
		let segment = this.#table.get(key);
		if (!segment) this.#table.set(key, segment = { from: this.#since, to: label, count: 0, slots: 0, chunks: 0, literals: 0, computrons: 0 });
		segment.count++;
		segment.slots += now.slots - mark.slots;
		segment.chunks += now.chunks - mark.chunks;
		segment.literals += now.literals - mark.literals;
		segment.computrons += now.computrons - mark.computrons;
		this.#mark = now;
		this.#since = label;
	}
}
