/*
 * A deterministic Clock for tests: time moves only when a test calls `advance`, timers fire in due-time
 * order (ties in the order they were set), and hours of device time pass in milliseconds of real time.
 * `ticks()` can be made to behave like an MCU's signed 32-bit counter, starting wherever a test likes,
 * so code that compares ticks without `elapsed()` breaks in tests the way it would on a board.
 * The wall-clock date is unknown until a test gives one, as on a board before SNTP answers.
 */
import type { Clock, TimerId } from "../../src/io";

interface VirtualTimer {
	due: number;
	seq: number;
	interval: number;
	callback: () => void;
	live: boolean;
}

export interface VirtualClockOptions {
	/** The value `ticks()` returns before any time has passed. */
	startTicks?: number;
	/** Report ticks as a signed 32-bit value that wraps, as on ESP32/ESP8266. */
	wrap32?: boolean;
	/** Milliseconds since 1970 at virtual time 0; omitted, the date is unknown until `setDate`. */
	date?: number;
}

export class VirtualClock implements Clock {
	#now = 0;
	#seq = 0;
	#heap: VirtualTimer[] = [];
	readonly #start: number;
	readonly #wrap32: boolean;
	/** The date at virtual time 0, so that the date moves with `advance`; undefined while unknown. */
	#dateOrigin: number | undefined;

	constructor(options: VirtualClockOptions = {}) {
		this.#start = options.startTicks ?? 0;
		this.#wrap32 = options.wrap32 ?? false;
		this.#dateOrigin = options.date;
	}

	/** Milliseconds of virtual time since the clock was made (never wraps; for tests, not for firmware). */
	get now(): number {
		return this.#now;
	}

	ticks(): number {
		const ticks = this.#start + this.#now;
		return this.#wrap32 ? ticks | 0 : ticks;
	}

	set(callback: () => void, ms: number): TimerId {
		return this.#add(callback, ms, 0);
	}

	repeat(callback: () => void, ms: number): TimerId {
		return this.#add(callback, ms, Math.max(1, ms));
	}

	clear(id: TimerId | undefined): void {
		if (id) (id as VirtualTimer).live = false;
	}

	date(): number | undefined {
		return this.#dateOrigin === undefined ? undefined : this.#dateOrigin + this.#now;
	}

	/** What `date()` returns now, advancing with virtual time from here (SNTP answering); undefined forgets it. */
	setDate(ms: number | undefined): void {
		this.#dateOrigin = ms === undefined ? undefined : ms - this.#now;
	}

	/** How many timers are armed. */
	get pending(): number {
		let count = 0;
		for (const timer of this.#heap) if (timer.live) count++;
		return count;
	}

	/** Due time of the next live timer, in `now` terms, or undefined. */
	nextDue(): number | undefined {
		this.#dropDead();
		return this.#heap.length ? this.#heap[0].due : undefined;
	}

	/** Moves time forward by `ms`, firing every timer that falls due on the way, in order. */
	advance(ms: number): void {
		if (!(ms >= 0)) throw new RangeError("advance needs a non-negative duration");
		const until = this.#now + ms;
		for (;;) {
			const due = this.nextDue();
			if (due === undefined || due > until) break;
			this.#fireNext();
		}
		this.#now = until;
	}

	/** Fires timers one at a time until `done()` holds; throws if it does not within `limitMs` of virtual time. */
	runUntil(done: () => boolean, limitMs: number): void {
		const limit = this.#now + limitMs;
		while (!done()) {
			const due = this.nextDue();
			if (due === undefined || due > limit) throw new Error(`condition not met within ${limitMs} ms of virtual time`);
			this.#fireNext();
		}
	}

	#fireNext(): void {
		const timer = this.#pop();
		this.#now = Math.max(this.#now, timer.due);
		if (timer.interval) {
			timer.due += timer.interval;
			timer.seq = this.#seq++;
			this.#push(timer);
		}
		else timer.live = false;
		timer.callback();
	}

	#add(callback: () => void, ms: number, interval: number): VirtualTimer {
		const timer: VirtualTimer = { due: this.#now + Math.max(0, ms), seq: this.#seq++, interval, callback, live: true };
		this.#push(timer);
		return timer;
	}

	#dropDead(): void {
		while (this.#heap.length && !this.#heap[0].live) this.#pop();
	}

	// A binary heap keeps fleets of thousands of simulated nodes cheap on one clock.
	#before(a: VirtualTimer, b: VirtualTimer): boolean {
		return a.due < b.due || (a.due === b.due && a.seq < b.seq);
	}

	#push(timer: VirtualTimer): void {
		const heap = this.#heap;
		let i = heap.push(timer) - 1;
		while (i > 0) {
			const parent = (i - 1) >> 1;
			if (!this.#before(heap[i], heap[parent])) break;
			[heap[i], heap[parent]] = [heap[parent], heap[i]];
			i = parent;
		}
	}

	#pop(): VirtualTimer {
		const heap = this.#heap;
		const top = heap[0];
		const last = heap.pop()!;
		if (heap.length) {
			heap[0] = last;
			let i = 0;
			for (;;) {
				const left = 2 * i + 1;
				const right = left + 1;
				let best = i;
				if (left < heap.length && this.#before(heap[left], heap[best])) best = left;
				if (right < heap.length && this.#before(heap[right], heap[best])) best = right;
				if (best === i) break;
				[heap[i], heap[best]] = [heap[best], heap[i]];
				i = best;
			}
		}
		return top;
	}
}
