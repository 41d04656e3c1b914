/*
 * Store and forward, the whole firmware on the Node host: a day-long outage on the virtual clock (no
 * broker can be reached), with a reboot and a power cut in the middle, then the drain against a real
 * Mosquitto on a clock running 50 times faster than real time, watched by a backend. Every reading of both
 * boots must arrive, as a reading or inside a summary, while live readings and a config document flow.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { SimulatedFlash } from "../../hosts/node/flash";
import { startSimulatedNode, type SimulatedNode } from "../../hosts/node/fleet";
import { memoryLog } from "../../hosts/node/log";
import { PreferenceStore } from "../../hosts/node/store";
import { VirtualClock } from "../../hosts/node/virtual-clock";
import type { Clock, TcpConstructor, TcpOptions } from "../../src/io";
import { connectBackend, type Backend, type Received } from "../helpers/backend";
import { startMosquitto, type Mosquitto } from "../helpers/mosquitto";
import { until } from "../helpers/until";
import { ScaledClock } from "../soak/scaled-clock";

const DAY_S = 24 * 3600;
const INTERVAL_S = 60;
const QUICK_MQTT = { backoff: { min: 100, max: 1000 }, stableAfter: 1000 };
/** The drain's production pace; the test clock runs SPEED times faster than real time. */
const SPEED = 50;
const JANUARY_2027 = Date.UTC(2027, 0, 1);

/** A broker nobody can reach: every connection attempt fails at once, on the node's own clock. */
function unreachable(clock: Clock): TcpConstructor {
	return class {
		constructor(options: TcpOptions) {
			clock.set(() => options.onError?.call(this, new Error("connect ECONNREFUSED")), 0);
		}
		read(): undefined {
			return undefined;
		}
		write(): void {
			throw new Error("not connected");
		}
		close(): void {}
	};
}

interface Profile {
	name: string;
	flashBytes: number;
	outbox: { messages: number; bytes: number };
}

/** What each board's build gives the node (flash region, RAM outbox; docs/boards.md). */
const ESP32: Profile = { name: "esp32", flashBytes: 256 * 1024, outbox: { messages: 64, bytes: 16 * 1024 } };
const ESP8266: Profile = { name: "esp8266", flashBytes: 761 * 4096, outbox: { messages: 16, bytes: 2048 } };
/** A region too small for the day (a board whose partition you chose smaller): the oldest readings become summaries. */
const SMALL: Profile = { name: "small-region", flashBytes: 16 * 1024, outbox: { messages: 16, bytes: 4096 } };

/**
 * Runs `seconds` of outage on a virtual clock: one boot of the node. It ends in a reset (a watchdog, a
 * reboot command), or with `powerCut` in a power cut that tears the flash write of the next reading.
 */
function outage(profile: Profile, flash: SimulatedFlash, store: PreferenceStore, seconds: number, options: { date?: number; powerCut?: boolean } = {}): SimulatedNode {
	const clock = new VirtualClock({ date: options.date });
	const node = startSimulatedNode({
		broker: { host: "127.0.0.1", port: 1 }, chip: "SHT3x", name: profile.name, id: profile.name, settings: { interval: INTERVAL_S },
		clock, tcp: unreachable(clock), store, flash, log: memoryLog(), mqtt: { ...QUICK_MQTT, outbox: profile.outbox },
	});
	clock.advance(seconds * 1000);
	if (options.powerCut) {
		flash.cutPowerAfter(0);
		clock.advance(INTERVAL_S * 1000);
		flash.powerOn();
	}
	node.crash();
	return node;
}

interface Delivered {
	/** seq -> times received, per boot, readings and summaries' spans together. */
	readings: Map<string, Map<number, number>>;
	summaries: Received[];
}

function delivered(messages: Received[], id: string): Delivered {
	const readings = new Map<string, Map<number, number>>();
	const add = (boot: string, seq: number) => {
		const seqs = readings.get(boot) ?? new Map<number, number>();
		readings.set(boot, seqs);
		seqs.set(seq, (seqs.get(seq) ?? 0) + 1);
	};
	const summaries: Received[] = [];
	for (const m of messages) {
		if (m.topic === `nodes/${id}/telemetry` || m.topic === `nodes/${id}/telemetry/backlog`) add(m.json().boot, m.json().seq);
		else if (m.topic === `nodes/${id}/telemetry/summary`) {
			summaries.push(m);
			const s = m.json();
			for (let seq = s.first.seq; seq <= s.last.seq; seq++) add(s.boot, seq);
		}
	}
	return { readings, summaries };
}

describe("store and forward across a day-long outage", () => {
	let broker: Mosquitto;
	let backend: Backend;
	before(async () => {
		broker = await startMosquitto();
		backend = await connectBackend(broker.url, ["nodes/+/telemetry/#", "nodes/+/config/state"], { clientId: "backend-saf" });
	});
	after(async () => {
		await backend.close();
		await broker.stop();
	});

	for (const profile of [ESP32, ESP8266, SMALL]) {
		test(`${profile.name}: 1,440 readings over 24 h with a reboot and a power cut, none lost, drained while live readings and config flow`, async (t) => {
			const flash = new SimulatedFlash({ byteLength: profile.flashBytes });
			const store = new PreferenceStore();
			// Half a day without a date (no SNTP) ending in a power cut that tears a reading's write, then half a
			// day with the date ending in a reset. The torn reading is the one that may be lost.
			const first = outage(profile, flash, store, DAY_S / 2, { powerCut: true });
			const second = outage(profile, flash, store, DAY_S / 2, { date: JANUARY_2027 });
			const firstBoot = first.node.boot;
			const secondBoot = second.node.boot;
			const taken = first.node.counters.published + second.node.counters.published;
			assert.ok(taken >= 1_440, `${taken} readings taken during the outage`);
			const erases = flash.erases.reduce((a, b) => a + b, 0);

			const clock = new ScaledClock({ speed: SPEED });
			const live = startSimulatedNode({
				broker, chip: "SHT3x", name: profile.name, id: profile.name, settings: { interval: INTERVAL_S },
				clock, store, flash, log: memoryLog(), mqtt: { ...QUICK_MQTT, outbox: profile.outbox },
			});
			const { node } = live;
			const arrivals = new Map<Received, number>();
			const stamp = () => {
				for (const m of backend.messages) if (!arrivals.has(m)) arrivals.set(m, clock.date());
			};
			backend.client.on("message", () => setImmediate(stamp));
			try {
				const id = profile.name;
				// A config document in the middle of the drain is answered within seconds of the node's time.
				await backend.waitFor((m) => m.topic === `nodes/${id}/telemetry/backlog`, "the drain starting", 30_000);
				const sentAt = clock.now;
				await backend.publish(`nodes/${id}/config`, { rev: 7, deltaT: 0 }, { retain: true });
				await backend.waitFor((m) => m.topic === `nodes/${id}/config/state` && /"rev":7/.test(m.text), "the document's report", 30_000);
				const answeredS = (clock.now - sentAt) / 1000;
				// Node time runs 50 times faster than real time: 15 s of it is 0.3 s of a loaded CI machine.
				assert.ok(answeredS < 15, `config answered in ${answeredS} s of node time during the drain`);
				await until(() => live.node.connected && node.counters.published >= 2 && node.backlog === 0, "the drain to finish", 120_000);
				const drainedS = clock.now / 1000;
				const liveReadings = backend.messages.filter((m) => m.topic === `nodes/${id}/telemetry` && m.json().boot === node.boot);
				// How late each live reading arrived, in node time: `time` is when it was taken (whole seconds).
				const lateS = Math.max(...liveReadings.map((m) => (arrivals.get(m) ?? 0) / 1000 - m.json().time));

				const { readings, summaries } = delivered(backend.messages, id);
				let lost = 0;
				for (const [boot, count] of [[firstBoot, first.node.counters.published], [secondBoot, second.node.counters.published]] as const) {
					const seqs = readings.get(boot);
					assert.ok(seqs, `boot ${boot} delivered`);
					// The reading whose write the power cut tore is the one that may be missing.
					const missing = Array.from({ length: count }, (_, i) => i + 1).filter((seq) => !seqs.has(seq));
					assert.ok(missing.length <= (boot === firstBoot ? 1 : 0), `boot ${boot} (first ${firstBoot}): missing ${missing.join(", ")} ${summaries.map((m) => m.text).join("\n")}`);
					if (missing.length) assert.equal(missing[0], count, "only the reading the power cut tore");
					lost += missing.length;
				}
				assert.ok(readings.get(node.boot)?.size, "live readings flowed during the drain");
				assert.ok(lateS < 15, `live readings arrived within ${lateS} s of node time of being taken`);
				t.diagnostic(`${profile.name}: ${taken} readings in 24 h, ${lost} lost, ${erases} sector erases (${flash.erases.length} sectors of 4 KB); `
					+ `drained in ${Math.round(drainedS)} s of node time (${summaries.length} summaries), ${liveReadings.length} live readings meanwhile, each within ${lateS.toFixed(1)} s of being taken; `
					+ `config document answered in ${answeredS.toFixed(1)} s`);
				if (profile !== SMALL) assert.equal(summaries.length, 0, "the board's region holds a day without summaries");
				else {
					assert.ok(summaries.length > 0, "the small region summarised the oldest readings");
					const s = summaries[0].json();
					assert.equal(s.summary, true);
					assert.ok(s.count >= 1 && s.temperature.min <= s.temperature.mean && s.temperature.mean <= s.temperature.max);
				}
				// Readings of the second boot carry the date; those of the first had none and get none.
				const backlog = backend.messages.filter((m) => m.topic === `nodes/${id}/telemetry/backlog`).map((m) => m.json());
				assert.ok(backlog.filter((r) => r.boot === secondBoot).every((r) => r.time >= JANUARY_2027 / 1000));
				assert.ok(backlog.filter((r) => r.boot === firstBoot).every((r) => r.time === undefined));
			}
			finally {
				await new Promise<void>((resolve) => node.stop(resolve));
			}
		});
	}
});

