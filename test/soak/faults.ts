/*
 * A soak's fault schedule: at random moments of simulated time (seeded, so a failing run can be replayed),
 * the next fault from a shuffled deck of the enabled kinds, so every kind comes up once per round. Network
 * faults go through the proxy and take turns (one at a time, each healed before the next: a network card
 * drawn while one is in force waits for the next draw); sensor faults hit one random node's simulated chip
 * and may overlap them.
 *
 *   drop       cut a random share (10-100%) of the connections
 *   delay      add 50-1500 ms of latency both ways, for a while
 *   blackhole  forward nothing, close nothing, for up to maxOutageMs
 *   swallow    lose every PUBACK for a while, then the connections die (so the unacknowledged go again)
 *   restart    restart the broker (persistent: sessions and queued messages survive)
 *   crc, bus, stuck, unplug, range   sensor faults: wrong CRCs, bus errors, a conversion that never ends,
 *              the chip unplugged (replugged later), physically impossible readings
 */
import type { FaultyProxy } from "../../sim/network/proxy";
import type { SimDevice } from "../../sim/sensors/device";
import type { Random } from "../../sim/sensors/random";
import type { Clock, TimerId } from "../../src/io";

export const FAULT_KINDS = Object.freeze(["drop", "delay", "blackhole", "swallow", "restart", "crc", "bus", "stuck", "unplug", "range"] as const);
export type FaultKind = (typeof FAULT_KINDS)[number];

const NETWORK: ReadonlySet<FaultKind> = new Set(["drop", "delay", "blackhole", "swallow", "restart"]);

export interface FaultPlanOptions {
	clock: Clock;
	random: Random;
	proxy: FaultyProxy;
	/** Restarts the broker; resolves when it is running again. */
	restartBroker: () => Promise<void>;
	devices: readonly SimDevice[];
	/** Simulated ms between faults, uniform in [min, max]. */
	gap: { min: number; max: number };
	/** Longest blackhole, and the longest time PUBACKs are lost, in simulated ms. */
	maxOutageMs: number;
	kinds?: readonly FaultKind[];
	log?: (line: string) => void;
}

export class FaultPlan {
	readonly counts = Object.fromEntries(FAULT_KINDS.map((kind) => [kind, 0])) as Record<FaultKind, number>;
	/** Faults that could not be injected (a broker that would not restart): a soak with any has failed. */
	readonly failures: string[] = [];
	readonly #options: FaultPlanOptions;
	readonly #kinds: readonly FaultKind[];
	#deck: FaultKind[] = [];
	/** Faults in force: their timers, and what heals them. */
	readonly #pending = new Map<TimerId, () => void>();
	#next: TimerId | undefined;
	/** A network fault is in force (or a restart under way) until this settles. */
	#network: Promise<void> | undefined;
	#stopped = false;

	constructor(options: FaultPlanOptions) {
		this.#options = options;
		this.#kinds = options.kinds ?? FAULT_KINDS;
		if (!this.#kinds.length) throw new RangeError("no fault kinds enabled");
	}

	start(): void {
		this.#schedule();
	}

	/** Stops injecting, heals every fault in force, and resolves once the broker is up and the network clean. */
	async stop(): Promise<void> {
		this.#stopped = true;
		const { clock, proxy, devices } = this.#options;
		clock.clear(this.#next);
		for (const [timer, heal] of this.#pending) {
			clock.clear(timer);
			heal();
		}
		this.#pending.clear();
		await this.#network;
		proxy.blackhole(false);
		proxy.delay(0);
		proxy.swallowPubacks(false);
		for (const device of devices) {
			Object.assign(device.faults, { crc: 0, stuckBusy: false, outOfRange: false, busErrors: 0, busErrorsAfter: 0 });
			if (!device.plugged) device.replug();
		}
	}

	#schedule(): void {
		const { clock, gap } = this.#options;
		this.#next = clock.set(() => this.#inject(), this.#between(gap.min, gap.max));
	}

	#between(min: number, max: number): number {
		return min + this.#options.random.next() * (max - min);
	}

	/** Runs `heal` after `ms` of simulated time, or at once when stop() comes first. */
	#later(ms: number, heal: () => void): void {
		const timer = this.#options.clock.set(() => {
			this.#pending.delete(timer);
			heal();
		}, ms);
		this.#pending.set(timer, heal);
	}

	/** The next card that can be played now (a network fault only when none is in force), or undefined. */
	#draw(): FaultKind | undefined {
		if (!this.#deck.length) {
			const deck = [...this.#kinds];
			for (let i = deck.length - 1; i > 0; i--) {
				const j = this.#options.random.below(i + 1);
				[deck[i], deck[j]] = [deck[j], deck[i]];
			}
			this.#deck = deck;
		}
		const index = this.#deck.findIndex((kind) => !NETWORK.has(kind) || !this.#network);
		return index < 0 ? undefined : this.#deck.splice(index, 1)[0];
	}

	#inject(): void {
		if (this.#stopped) return;
		// Nothing playable (only network cards left while one is in force): try again at the next draw.
		const kind = this.#draw();
		if (kind && !NETWORK.has(kind)) this.#sensor(kind);
		else if (kind) {
			this.#network = this.#networkFault(kind)
				.catch((error) => {
					this.failures.push(`${kind}: ${error}`);
				})
				.finally(() => this.#network = undefined);
		}
		this.#schedule();
	}

	#networkFault(kind: FaultKind): Promise<void> {
		const { proxy, maxOutageMs, log, restartBroker } = this.#options;
		this.counts[kind]++;
		const span = (min: number) => this.#between(Math.min(min, maxOutageMs), maxOutageMs);
		return new Promise<void>((resolve, reject) => {
			switch (kind) {
				case "drop": {
					const fraction = this.#between(0.1, 1);
					log?.(`drop: cut ${proxy.drop(fraction)} of ${proxy.connections} connections`);
					return resolve();
				}
				case "delay": {
					const latency = Math.round(this.#between(50, 1500));
					const ms = span(5000);
					log?.(`delay: ${latency} ms for ${Math.round(ms)} ms`);
					proxy.delay(latency);
					return this.#later(ms, () => {
						proxy.delay(0);
						resolve();
					});
				}
				case "blackhole": {
					const ms = span(5000);
					log?.(`blackhole: ${Math.round(ms)} ms`);
					proxy.blackhole(true);
					return this.#later(ms, () => {
						proxy.blackhole(false);
						resolve();
					});
				}
				case "swallow": {
					const ms = span(3000);
					log?.(`swallow PUBACKs: ${Math.round(ms)} ms, then cut every connection`);
					proxy.swallowPubacks(true);
					return this.#later(ms, () => {
						proxy.swallowPubacks(false);
						proxy.drop(1);
						resolve();
					});
				}
				default:
					log?.("restart the broker");
					restartBroker().then(resolve, reject);
			}
		});
	}

	#sensor(kind: FaultKind): void {
		const { devices, random, log } = this.#options;
		if (!devices.length) return;
		this.counts[kind]++;
		const index = random.below(devices.length);
		const device = devices[index];
		const ms = this.#between(2000, 20_000);
		log?.(`sensor ${index}: ${kind}`);
		switch (kind) {
			case "crc":
				device.faults.crc += 1 + random.below(3);
				return;
			case "bus":
				device.faults.busErrorsAfter = random.below(3);
				device.faults.busErrors += 1 + random.below(4);
				return;
			case "stuck":
				device.faults.stuckBusy = true;
				return this.#later(ms, () => device.faults.stuckBusy = false);
			case "range":
				device.faults.outOfRange = true;
				return this.#later(ms, () => device.faults.outOfRange = false);
			default:
				if (!device.plugged) return;
				device.unplug();
				return this.#later(ms, () => device.replug());
		}
	}
}
