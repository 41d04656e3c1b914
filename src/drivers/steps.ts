/*
 * Runs a sequence of bus steps without blocking the event loop. A sequence is a generator that does
 * synchronous work and `yield`s how many milliseconds to wait before its next step; each yield becomes
 * one timer on the injected Clock, so MQTT keepalive and socket I/O go on during a conversion.
 * A generator rather than promises: the continuation runs inside the timer callback itself, which keeps
 * the order of events deterministic under a virtual clock and needs no job queue.
 */
import type { Clock, TimerId } from "../io";

/** Synchronous steps separated by `yield <milliseconds to wait>`, returning a T. */
export type Steps<T> = Generator<number, T, undefined>;

export type StepsDone<T> = (error: unknown, result?: T) => void;

/**
 * Waits `waitMs` (a datasheet maximum), then checks `ready` every quarter of it until it holds (true), giving
 * up (false) when it still does not at three times `waitMs`. Drivers and detection poll a chip alike.
 */
export function* pollUntil(ready: () => boolean, waitMs: number): Steps<boolean> {
	const step = Math.max(1, Math.ceil(waitMs / 4));
	yield waitMs;
	for (let waited = waitMs; !ready(); waited += step) {
		if (waited >= 3 * waitMs) return false;
		yield step;
	}
	return true;
}

/** Runs one sequence at a time; reusable, so a driver allocates it once. */
export class Stepper<T> {
	readonly #clock: Clock;
	#steps: Steps<T> | undefined;
	#done: StepsDone<T> | undefined;
	#timer: TimerId | undefined;
	#synchronous = false;
	#error: unknown;
	#result: T | undefined;
	/** The sequence ended inside `start`: the next turn of #resume delivers its result. */
	#finished = false;

	constructor(clock: Clock) {
		this.#clock = clock;
	}

	/** Runs `steps` up to its first wait now; `done` is called exactly once, never from inside `start`. */
	start(steps: Steps<T>, done: StepsDone<T>): void {
		if (this.#steps) throw new Error("already running");
		this.#steps = steps;
		this.#done = done;
		this.#synchronous = true;
		this.#resume();
		this.#synchronous = false;
	}

	/** Abandons the running sequence (or its pending result); its `done` is not called. */
	cancel(): void {
		this.#clock.clear(this.#timer);
		this.#timer = this.#steps = this.#done = this.#error = this.#result = undefined;
		this.#finished = false;
	}

	// Also delivers a result that came inside `start`: one timer callback, not two, held for good.
	// `done` is reached through tail calls (`return f()`), which XS runs in the caller's frame: what `done`
	// starts (a sensor opened, its first sample) is on the stack right above this timer callback.
	readonly #resume = (): void => {
		this.#timer = undefined;
		if (this.#finished) return this.deliver();
		let next: IteratorResult<number, T>;
		try {
			next = this.#steps!.next();
		}
		catch (error) {
			this.#error = error;
			return this.finish();
		}
		if (!next.done) this.#timer = this.#clock.set(this.#resume, next.value);
		else {
			this.#result = next.value;
			return this.finish();
		}
	};

	/** The sequence ended, with `#error` or `#result`. */
	private finish(): void {
		if (!this.#synchronous) return this.deliver();
		this.#finished = true;
		this.#timer = this.#clock.set(this.#resume, 0);
	}

	private deliver(): void {
		const done = this.#done!;
		const error = this.#error;
		const result = this.#result;
		this.#timer = this.#steps = this.#done = this.#error = this.#result = undefined;
		this.#finished = false;
		return done(error, result);
	}
}
