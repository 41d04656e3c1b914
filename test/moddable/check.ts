/*
 * `npm run check:moddable`: the firmware built and run with the real Moddable SDK the user has ($MODDABLE,
 * its tools on the PATH), which the xsnap tests in `npm test` cannot replace: a real build links and
 * preloads every module, runs on the SDK's own module set, and has fixed stack and heap sizes.
 *
 * 1. Simulator build (`mcconfig -m -p lin`, or mac), run in mcsim against a loopback Mosquitto: boot,
 *    detection of the simulated SHT3x, online, telemetry, a retained config document applied and reported,
 *    settings kept across an mcsim restart, "offline" as the will when mcsim is killed. Then a probe build in
 *    place of main (hosts/moddable/check/flash/): host.flash erases, writes and reads back with NOR rules,
 *    keeps what it holds across an mcsim restart, and clock.date() is the computer's date.
 * 2. Memory on the real engine: an instrumented build with the ESP8266's outbox (hosts/moddable/check/),
 *    peaks of live slots, chunks and stack over boot and connect, after the first reading, over 100
 *    readings, while a 1 KB document is applied, and across a reconnect with a full outbox, converted to a
 *    32-bit board; then the ESP32's, and the ESP32's over TLS (its CA a DER resource of the build, as
 *    docs/tls.md says, against a Mosquitto TLS listener whose certificates `openssl` makes for the run), where
 *    the connect and the reconnect each carry a TLS handshake. The ESP8266's phases run a second time in XS heaps
 *    that cannot grow, sized from its 32 KB block, so that a burst inside one turn, which no sample sees, fails.
 * 3. esp/nodemcu and esp32/nodemcu: the JavaScript half of the board build (the generated makefile's mc.xs.c
 *    target: tsc, xsc, xsl link and preload), with compiled size per module. The C half needs Espressif's
 *    toolchains, which this check does not ask for: placeholders stand in for their folders.
 *
 * `npm run check:moddable -- memory` runs only part 2 (also `sim`, `boards`, and `esp8266` for part 2's first
 * board alone); with CHECK_FIXED_HEAPS=<slots>,<bytes>
 * the ESP8266's fixed heaps get those sizes (beyond the simulator's baseline) instead.
 * Needs a display for mcsim: DISPLAY, or Xvfb on the PATH (started here). Writes only to a temp folder, and
 * restores the simulator's shared files when done: its Preference (/tmp/modpreferences.json) and the flash
 * file host.flash keeps in the simulators (/tmp/modflash-backlog.bin).
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { X509Certificate } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { connectBackend, type Received } from "../helpers/backend";
import { makeCertificates, tlsListener } from "../helpers/certificates";
import { freePort, startMosquitto, type Mosquitto } from "../helpers/mosquitto";

const ROOT = path.resolve(import.meta.dirname, "../..");
const HOST = os.platform() === "darwin" ? "mac" : "lin";
const PREFERENCES = "/tmp/modpreferences.json";
/** hosts/moddable/file-flash.ts: `config.file.root` (the SDK's file manifest: /tmp/ on lin, /Users/Shared/ on mac) and flash_partition. */
const FLASH_FILE = `${HOST === "mac" ? "/Users/Shared/" : "/tmp/"}modflash-backlog.bin`;
/** Files the simulators share with every other mcsim app: kept aside during the check, restored after. */
const SHARED_FILES = [PREFERENCES, FLASH_FILE];
/** Bytes per XS slot in the simulator (64-bit) and on an ESP8266 or ESP32 (32-bit). */
const SIM_SLOT = 32;
const BOARD_SLOT = 16;
const ESP8266_XS_BYTES = 32_768;
const ESP8266_GOAL_BYTES = 24_576;

const failures: string[] = [];
const out = fs.mkdtempSync(path.join(os.tmpdir(), "check-moddable-"));

function fail(what: string): void {
	failures.push(what);
	console.log(`  FAIL ${what}`);
}

function ok(what: string): void {
	console.log(`  ok   ${what}`);
}

function run(command: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): string {
	const result = spawnSync(command, args, { cwd: options.cwd ?? ROOT, env: { ...process.env, ...options.env }, encoding: "utf8", maxBuffer: 64 << 20 });
	const output = `${result.stdout}${result.stderr}`;
	if (result.status !== 0) throw new Error(`${command} ${args.join(" ")} failed (${result.status ?? result.error}):\n${output.split("\n").slice(-25).join("\n")}`);
	return output;
}

/** xsl warnings that point at our modules (the SDK's own simulator Wi-Fi has some of its own). */
function ourWarnings(log: string): string[] {
	return log.split("\n").filter((line) => line.startsWith("### warning:") && /: (src|sim|hosts)\//.test(line));
}

function ensureDisplay(): ChildProcess | undefined {
	if (process.env.DISPLAY || HOST === "mac") return undefined;
	const display = `:${90 + (process.pid % 9)}`;
	const xvfb = spawn("Xvfb", [display, "-screen", "0", "800x600x24"], { stdio: "ignore" });
	xvfb.on("error", () => fail("mcsim needs a display: set DISPLAY or install Xvfb (Debian: apt-get install xvfb)"));
	process.env.DISPLAY = display;
	return xvfb;
}

interface Sim {
	readonly lines: string[];
	/** Resolves with the first line from line `from` on (default: the start) that matches. */
	line(pattern: RegExp, from?: number, timeoutMs?: number): Promise<string>;
	kill(): Promise<void>;
}

function startMcsim(library: string): Sim {
	// mcsim's trace goes through stdio, which is block-buffered into a pipe: line-buffer it where stdbuf exists.
	const [command, args] = spawnSync("which", ["stdbuf"]).status === 0 ? ["stdbuf", ["-oL", "-eL", "mcsim", library]] : ["mcsim", [library]];
	const child = spawn(command, args, { cwd: out, stdio: ["ignore", "pipe", "pipe"] });
	const lines: string[] = [];
	const waiters = new Set<() => void>();
	let rest = "";
	const take = (chunk: Buffer) => {
		const text = rest + chunk.toString("utf8");
		const parts = text.split("\n");
		rest = parts.pop()!;
		lines.push(...parts);
		for (const waiter of waiters) waiter();
	};
	child.stdout.on("data", take);
	child.stderr.on("data", take);
	const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
	return {
		lines,
		line(pattern, from = 0, timeoutMs = 20_000) {
			return new Promise((resolve, reject) => {
				const check = () => {
					const found = lines.slice(from).find((line) => pattern.test(line));
					if (found === undefined) return;
					clearTimeout(timer);
					waiters.delete(check);
					resolve(found);
				};
				const timer = setTimeout(() => {
					waiters.delete(check);
					reject(new Error(`mcsim printed no line matching ${pattern} within ${timeoutMs} ms; last lines:\n${lines.slice(-10).join("\n")}`));
				}, timeoutMs);
				waiters.add(check);
				check();
			});
		},
		async kill() {
			child.kill("SIGKILL");
			await exited;
		},
	};
}

function build(manifest: string, platform: string, settings: string[], instrument = false): { library: string; log: string } {
	const args = ["-m", ...(instrument ? ["-i"] : []), "-p", platform, "-o", out, manifest, ...settings];
	const log = run("mcconfig", args);
	// mcconfig names the build after the manifest's folder.
	return { library: path.join(out, "bin", platform, "mc", instrument ? "instrument" : "release", path.basename(path.dirname(manifest)), "mc.so"), log };
}

async function simulator(broker: Mosquitto): Promise<void> {
	console.log(`\n1. ${HOST} simulator build in mcsim, against Mosquitto on ${broker.url}`);
	const id = "check-sim";
	const settings = [`mqtt_host=127.0.0.1`, `mqtt_port=${broker.port}`, `id=${id}`, "interval=1"];
	fs.rmSync(FLASH_FILE, { force: true });
	const { library, log } = build(path.join(ROOT, "manifest.json"), HOST, settings);
	const warnings = ourWarnings(log);
	(warnings.every((line) => /prototype: not frozen/.test(line)) ? ok : fail)(`built with mcconfig -m -p ${HOST}; xsl warnings on our modules: ${warnings.length} (generator prototypes only)`);
	const watch = await connectBackend(broker.url, [`nodes/${id}/#`]);
	let sim = startMcsim(library);
	try {
		await sim.line(/^setup: simulated SHT3x/);
		ok((await sim.line(/^sensor: using SHT3x at 0x44/)).trim());
		await watch.waitFor((m) => m.topic.endsWith("/status") && m.text === "online", "online");
		ok("status online");
		const first = await watch.waitFor((m) => m.topic.endsWith("/telemetry") && /"seq":2/.test(m.text), "telemetry");
		ok(`telemetry ${first.text}`);
		await watch.publish(`nodes/${id}/config`, JSON.stringify({ rev: 3, unit: "F" }), { retain: true });
		const report = await watch.waitFor((m) => m.topic.endsWith("/config/state") && /"rev":3/.test(m.text), "config/state");
		(/"status":"applied"/.test(report.text) ? ok : fail)(`config/state reports rev 3 applied`);
		await watch.waitFor((m) => m.topic.endsWith("/telemetry") && m.text.includes("°F"), "telemetry in °F");
		ok("telemetry follows the document (°F)");
		// Rev 3 was the first document in a quiet minute, so it was stored at once (later ones wait for the minute).
		// JSON.parse recurses on the XS stack: this document used to abort the engine on every boot.
		await watch.publish(`nodes/${id}/config`, "[".repeat(512) + "]".repeat(512), { retain: true });
		await watch.waitFor((m) => m.topic.endsWith("/config/state") && m.text.includes("nested deeper than"), "the deep document refused");
		const after = watch.messages.length;
		await watch.waitFor((m) => m.topic.endsWith("/telemetry") && watch.messages.indexOf(m) >= after, "telemetry after it");
		ok("a retained document nested 512 deep is refused, and the node reads on");
		watch.messages.length = 0;
		await sim.kill();
		await watch.waitFor((m) => m.topic.endsWith("/status") && m.text === "offline", "offline will");
		ok("killed: the broker published the will, offline");
		await broker.stop();
		sim = startMcsim(library);
		// With the broker down, nothing but the node's own storage can say °F.
		const stored = await sim.line(/^telemetry /);
		(stored.includes("°F") ? ok : fail)(`restarted with the broker down: first reading in °F from stored settings (${stored.trim()})`);
		// Store and forward: what is read with the broker down waits in host.flash (FLASH_FILE), through a kill.
		await sim.line(/^telemetry .*"seq":3,/);
		const down = sim;
		await sim.kill();
		sim = startMcsim(library);
		ok((await sim.line(/^backlog: \d+ readings/)).trim());
		await sim.line(/^telemetry .*"seq":3,/);
		const taken = [...down.lines, ...sim.lines].flatMap((line) => /^telemetry (\{.*\})/.exec(line)?.[1] ?? []).map((text) => JSON.parse(text) as { boot: string; seq: number });
		await broker.restart();
		await watch.waitFor((m) => m.topic.endsWith("/status") && m.text === "online", "online again", 30_000);
		ok("online again after the broker came back");
		const arrived = (m: Received, reading: { boot: string; seq: number }) => m.topic.includes("/telemetry") && m.text.includes(`"seq":${reading.seq},"boot":"${reading.boot}"`);
		for (const reading of taken) await watch.waitFor((m) => arrived(m, reading), `reading ${reading.seq} of boot ${reading.boot}`, 30_000);
		ok(`all ${taken.length} readings taken with the broker down, across a kill, arrived (on telemetry/backlog)`);
	}
	finally {
		await sim.kill();
		await watch.close();
	}
	await flashAndDate();
}

/** The probe build (hosts/moddable/check/flash/) in mcsim twice: host.flash and clock.date() as the firmware gets them. */
async function flashAndDate(): Promise<void> {
	fs.rmSync(FLASH_FILE, { force: true });
	const { library, log } = build(path.join(ROOT, "hosts/moddable/check/flash/manifest.json"), HOST, []);
	const warnings = ourWarnings(log);
	(warnings.every((line) => /prototype: not frozen/.test(line)) ? ok : fail)(`flash probe built in place of main; xsl warnings on our modules: ${warnings.length} (generator prototypes only)`);
	const field = async (sim: Sim, name: string) => (await sim.line(new RegExp(`^${name} `))).trim().split(" ").slice(1);
	let stamp = "";
	for (const run of ["first run", "after an mcsim restart"]) {
		const sim = startMcsim(library);
		try {
			const region = (await field(sim, "flash-region")).join(" ");
			(region === `${256 * 1024} 4096` ? ok : fail)(`${run}: host.flash is ${region} (byteLength, blockSize): 256 KB of 4 KB sectors`);
			const kept = (await field(sim, "flash-kept"))[0];
			if (stamp) (kept === stamp ? ok : fail)(`${run}: sector 1 still holds the first run's ${stamp} (${kept})`);
			const nor = (await field(sim, "flash-nor")).join(" ");
			(nor === "ffffffffffffffff f0f0f0f0f0f0f0f0 3030303030303030" ? ok : fail)(`${run}: erase gives 0xff, writes only clear bits (f0 then 3c reads 30): ${nor}`);
			stamp = (await field(sim, "flash-stamp"))[0];
			const date = Number((await field(sim, "date"))[0]);
			(Math.abs(date - Date.now()) < 60_000 ? ok : fail)(`${run}: clock.date() ${new Date(date).toISOString()}, the computer's clock`);
		}
		finally {
			await sim.kill();
		}
	}
	(fs.statSync(FLASH_FILE).size === 256 * 1024 ? ok : fail)(`the region lives in ${FLASH_FILE} (${fs.statSync(FLASH_FILE).size} bytes)`);
}

interface Peak { slots: number; chunks: number; stack: number }

/** A board's memory as the manifest configures it: its outbox, and what XS gets. */
interface Board {
	name: string;
	outbox: { messages: number; bytes: number };
	/** creation.stack in slots: allocated whole, whatever the peak. */
	stackSlots: number;
	/** Bytes XS has for slots, chunks and stack together, and the goal for the firmware within them. */
	budget: number;
	goal: number;
	/** What the budget is. */
	about: string;
	/** Connects over TLS. */
	tls?: boolean;
	/** Built with `flash_partition=` (no store and forward): the difference is what the backlog costs in RAM. */
	noFlash?: boolean;
}

const MANIFEST = JSON.parse(fs.readFileSync(path.join(ROOT, "manifest.json"), "utf8"));

function board(name: string, platform: string, budget: number, goal: number, about: string): Board {
	const config = MANIFEST.platforms[platform].config;
	const stack = MANIFEST.platforms[platform].creation?.stack ?? MANIFEST.creation.stack;
	return { name, outbox: { messages: Number(config.outbox_messages), bytes: Number(config.outbox_bytes) }, stackSlots: stack, budget, goal, about };
}

const BOARDS: Board[] = [
	board("ESP8266 (esp/nodemcu)", "esp", ESP8266_XS_BYTES, ESP8266_GOAL_BYTES, "creation.static: one 32 KB block for slots, chunks and stack"),
	// build/devices/esp32/targets/nodemcu/manifest.json: 78,848 B of chunks and 4,928 slots to start with (it can grow).
	board("ESP32 (esp32/nodemcu)", "esp32/*", 78_848 + 4928 * BOARD_SLOT, 78_848 + 4928 * BOARD_SLOT, "the initial chunk and slot heaps, which can grow"),
];
BOARDS.push({ ...BOARDS[1], name: "ESP32 (esp32/nodemcu) over TLS", tls: true });
BOARDS.push({ ...BOARDS[0], name: "ESP8266 (esp/nodemcu) without store and forward", noFlash: true });

/** Where the node connects: the broker's plain listener, or its TLS listener and the CA (DER) the build is given. */
interface Listener {
	port: number;
	caDer?: Buffer;
}

/** Runs `use` with a Mosquitto that also has a TLS listener, its CA and server certificate made by openssl for the run. */
async function withTlsBroker<T>(use: (broker: Mosquitto, listener: Listener) => Promise<T>): Promise<T> {
	const certificates = makeCertificates();
	try {
		const port = await freePort();
		const broker = await startMosquitto({ config: tlsListener(port, certificates, certificates.server) });
		try {
			return await use(broker, { port, caDer: new X509Certificate(certificates.ca).raw });
		}
		finally {
			await broker.stop();
		}
	}
	finally {
		certificates.remove();
	}
}

/** The check's manifest, or over TLS one that includes it and adds the CA as the resource `tls_ca` names. */
function memoryManifest(listener: Listener): { manifest: string; settings: string[] } {
	const manifest = path.join(ROOT, "hosts/moddable/check/manifest.json");
	if (!listener.caDer) return { manifest, settings: [] };
	const dir = path.join(out, "tls");
	fs.mkdirSync(dir, { recursive: true });
	fs.writeFileSync(path.join(dir, "broker-ca.der"), listener.caDer);
	fs.writeFileSync(path.join(dir, "manifest.json"), JSON.stringify({ include: [manifest], data: { "*": ["./broker-ca"] } }));
	return { manifest: path.join(dir, "manifest.json"), settings: ["mqtt_tls=true", "tls_ca=broker-ca.der"] };
}

/** Heaps of a fixed size, in the simulator's units: XS aborts ("memory full") rather than grow them. */
interface FixedHeaps { slots: number; chunks: number; stack: number }

/**
 * A manifest over the instrumented build whose XS heaps cannot grow: the simulator ignores `creation.static`,
 * but with `incremental` 0 it aborts as a board would when the firmware needs more at any moment, garbage a
 * collection can free aside. That catches what a sample every 100 ms misses: a burst inside one turn.
 */
function fixedManifest(manifest: string, heaps: FixedHeaps): string {
	const dir = path.join(out, "fixed");
	fs.mkdirSync(dir, { recursive: true });
	const creation = { stack: heaps.stack, chunk: { initial: heaps.chunks, incremental: 0 }, heap: { initial: heaps.slots, incremental: 0 } };
	fs.writeFileSync(path.join(dir, "manifest.json"), JSON.stringify({ include: [manifest], creation }));
	return path.join(dir, "manifest.json");
}

class OutOfMemory extends Error {}

/**
 * Runs the memory phases in the instrumented build: the peaks per phase, and, in `fixed` heaps, the phase in
 * which XS ran out, if it did.
 */
async function memory(broker: Mosquitto, target: Board, listener: Listener = { port: broker.port }, fixed?: FixedHeaps): Promise<{ phases: [string, Peak][]; ranOut?: string }> {
	const id = `check-mem-${target.outbox.messages}${target.tls ? "-tls" : ""}${target.noFlash ? "-ram" : ""}`;
	for (const file of SHARED_FILES) fs.rmSync(file, { force: true });
	const { manifest, settings: tls } = memoryManifest(listener);
	const settings = [`mqtt_host=127.0.0.1`, `mqtt_port=${listener.port}`, `id=${id}`, "interval=1", `outbox_messages=${target.outbox.messages}`, `outbox_bytes=${target.outbox.bytes}`, ...tls, ...(target.noFlash ? ["flash_partition="] : [])];
	const { library } = build(fixed ? fixedManifest(manifest, fixed) : manifest, HOST, settings, true);
	const watch = await connectBackend(broker.url, [`nodes/${id}/#`]);
	const sim = startMcsim(library);
	const phases: [string, Peak][] = [];
	let phase = "boot and connect";
	// Once XS has aborted, every wait below fails at once, naming the phase.
	const abort = sim.line(/^XS abort|^# (Chunk|Slot) allocation: .*failed/, 0, 1e9);
	abort.catch(() => undefined);
	const guard = <T>(wait: Promise<T>): Promise<T> => Promise.race([wait, abort.then((line) => { throw new OutOfMemory(`${phase} (${line})`); })]);
	let from = 0;
	const peak = (): Peak => {
		const result = { slots: 0, chunks: 0, stack: 0 };
		for (const line of sim.lines.slice(from)) {
			const mem = /^mem (\d+) (\d+)/.exec(line);
			if (mem) {
				result.slots = Math.max(result.slots, Number(mem[1]) / SIM_SLOT);
				result.chunks = Math.max(result.chunks, Number(mem[2]));
			}
			// The SDK's own once-a-second line: "Stack used" is the deepest since the previous line.
			const instruments = /^instruments: (.*)/.exec(line);
			if (instruments) result.stack = Math.max(result.stack, Number(instruments[1].split(",")[13]) / SIM_SLOT);
		}
		from = sim.lines.length;
		return result;
	};
	try {
		const baseline = /^mem-before-main (\d+) (\d+)/.exec(await guard(sim.line(/^mem-before-main /)))!;
		phases.push(["before main: the SDK's and the simulated board's own", { slots: Number(baseline[1]) / SIM_SLOT, chunks: Number(baseline[2]), stack: 0 }]);
		await guard(watch.waitFor((m) => m.topic.endsWith("/status") && m.text === "online", "online"));
		await guard(sim.line(/^instruments: /, sim.lines.length));
		phases.push([`boot and connect${target.tls ? " (the TLS handshake)" : ""}: online`, peak()]);
		phase = "the first reading";
		await guard(watch.waitFor((m) => m.topic.endsWith("/telemetry"), "first reading"));
		await guard(sim.line(/^instruments: /, sim.lines.length));
		phases.push(["first reading sent", peak()]);
		phase = "100 readings";
		// One reading a second from the interval, and one more from a `sample` command (the node takes at most one a second).
		const hundred = (m: { topic: string; text: string }) => m.topic.endsWith("/telemetry") && JSON.parse(m.text).seq >= 100;
		const deadline = Date.now() + 120_000;
		while (!watch.messages.some(hundred)) {
			if (Date.now() > deadline) throw new Error("no 100 readings within 120 s");
			await watch.publish(`nodes/${id}/command`, "sample", { retain: false });
			await guard(new Promise((resolve) => setTimeout(resolve, 1000)));
		}
		phases.push(["100 readings", peak()]);
		phase = "a 1 KB config document";
		const document = JSON.stringify({ rev: 9, interval: 1, unit: "C", deltaT: 0, deltaH: 0, maxSilence: 300, offsetT: 0, offsetH: 0, qos: 1, retain: false, keepalive: 60, discovery: true });
		await watch.publish(`nodes/${id}/config`, document.replace("{", `{${" ".repeat(1024 - document.length)}`), { retain: true });
		await guard(watch.waitFor((m) => m.topic.endsWith("/config/state") && /"rev":9/.test(m.text), "1 KB document applied"));
		await guard(sim.line(/^instruments: /, sim.lines.length));
		phases.push(["a 1 KB config document applied", peak()]);
		phase = "the outage, reconnect and drain";
		await broker.stop();
		await guard(new Promise((resolve) => setTimeout(resolve, 20_000)));
		const readings = () => watch.messages.filter((m) => /\/telemetry(\/backlog)?$/.test(m.topic)).length;
		const before = readings();
		await broker.restart();
		// The node's backoff can reach its 60 s bound within a 20 s outage of refused connects (seen over TLS).
		await guard(watch.waitFor(() => readings() >= before + 16, "the queued readings", 75_000));
		await guard(sim.line(/^instruments: /, sim.lines.length));
		phases.push([`20 s outage (readings wait in ${target.noFlash ? "the RAM outbox, which fills" : "flash"}), reconnect${target.tls ? " (a TLS handshake)" : ""}, drain`, peak()]);
	}
	catch (error) {
		if (fixed && error instanceof OutOfMemory) return { phases, ranOut: error.message };
		throw error;
	}
	finally {
		await sim.kill();
		await watch.close();
	}
	return { phases };
}

/** Prints the sampled peaks of `target`'s phases, checks them against its goal, and returns the highest. */
function reportMemory(target: Board, phases: [string, Peak][]): { slots: number; chunks: number } {
	// The simulator's baseline holds the simulated board, which a board does not have; a board's own SDK objects
	// (Wi-Fi, sockets) are not measured here. "Firmware" is what main and after added.
	const [, baseline] = phases[0];
	console.log("\n  | moment | live slots | chunks (sim, B) | stack peak (slots) | firmware on a 32-bit board: (slots - baseline) x 16 + chunks - baseline |");
	console.log("  | --- | ---: | ---: | ---: | ---: |");
	let worst = 0;
	let deepest = 0;
	const most = { slots: 0, chunks: 0 };
	for (const [what, p] of phases) {
		const firmware = (p.slots - baseline.slots) * BOARD_SLOT + p.chunks - baseline.chunks;
		if (p !== baseline) {
			worst = Math.max(worst, firmware);
			most.slots = Math.max(most.slots, p.slots);
			most.chunks = Math.max(most.chunks, p.chunks);
		}
		deepest = Math.max(deepest, p.stack);
		console.log(`  | ${what} | ${p.slots} | ${p.chunks} | ${p.stack} | ${p === baseline ? "" : `${(firmware / 1024).toFixed(1)} KB`} |`);
	}
	const stack = target.stackSlots * BOARD_SLOT;
	const total = worst + stack;
	(deepest < target.stackSlots ? ok : fail)(`stack: peak ${deepest} slots of the ${target.stackSlots} allocated (creation.stack)`);
	(total <= target.goal ? ok : fail)(`${target.name}: firmware peak ${(worst / 1024).toFixed(1)} KB + stack ${(stack / 1024).toFixed(1)} KB = ${(total / 1024).toFixed(1)} KB of ${(target.budget / 1024).toFixed(1)} KB (${target.about}); goal ${(target.goal / 1024).toFixed(1)} KB; chunks at their 64-bit size, an upper bound`);
	return most;
}

/**
 * The 32 KB block held at every moment, not only at the samples: the same phases with XS's slot and chunk heaps
 * fixed at the simulator's baseline plus what the block leaves after the stack, the spare over the sampled peaks
 * split evenly. Stricter than a board, whose one block lets slots and chunks trade, whose chunks are smaller
 * (a header and an array of slots are half the size), and where a growing array that cannot get room to spare
 * takes what it needs: running here is running there.
 */
async function fixedHeaps(broker: Mosquitto, target: Board, baseline: Peak, most: { slots: number; chunks: number }): Promise<void> {
	const sampledSlots = most.slots - baseline.slots;
	const sampledChunks = most.chunks - baseline.chunks;
	const spare = target.budget - target.stackSlots * BOARD_SLOT - sampledSlots * BOARD_SLOT - sampledChunks;
	// CHECK_FIXED_HEAPS=<slots>,<chunk bytes> (the firmware's, beyond the baseline) tries other sizes: how small they can be.
	const [asked, askedChunks] = (process.env.CHECK_FIXED_HEAPS ?? "").split(",").map(Number);
	const slots = asked || sampledSlots + Math.floor(spare / 2 / BOARD_SLOT);
	const chunks = askedChunks || sampledChunks + Math.floor(spare / 2);
	const heaps = { slots: baseline.slots + slots, chunks: baseline.chunks + chunks, stack: target.stackSlots };
	const what = `${target.name} in fixed heaps, ${asked ? "as CHECK_FIXED_HEAPS asks" : `the ${(target.budget / 1024).toFixed(0)} KB block less the stack`}: baseline + ${slots} slots (${(slots * BOARD_SLOT / 1024).toFixed(1)} KB on a board) + ${(chunks / 1024).toFixed(1)} KB of chunks at their 64-bit size + a ${target.stackSlots}-slot stack`;
	console.log(`\n  The same phases again, ${what}`);
	if (!asked && spare < 0) return fail(`${what}: the sampled peaks alone are over the block, not run`);
	const { ranOut } = await memory(broker, target, { port: broker.port }, heaps);
	(ranOut ? fail : ok)(ranOut ? `${what}: ran out in ${ranOut}` : `${what}: ran every phase`);
}

function boards(): void {
	console.log("\n3. Board builds: tsc, xsc, xsl link and preload (the makefile's mc.xs.c target)");
	// Empty stand-ins for the toolchain folders the makefiles look for before any rule runs.
	const stand = path.join(out, "toolchains");
	for (const dir of ["esp/esp8266-2.3.0", "esp/ESP8266_RTOS_SDK", "esp/toolchain/Linux", "esp/toolchain/Darwin", "idf", "bin"]) fs.mkdirSync(path.join(stand, dir), { recursive: true });
	fs.writeFileSync(path.join(stand, "idf/sdkconfig.h"), "");
	if (!spawnSync("which", ["python"]).stdout?.length) fs.symlinkSync(spawnSync("which", ["python3"], { encoding: "utf8" }).stdout.trim(), path.join(stand, "bin/python"));
	const env = { ESP_BASE: path.join(stand, "esp"), IDF_PATH: path.join(stand, "idf"), PATH: `${process.env.PATH}:${path.join(stand, "bin")}` };
	const sizes = new Map<string, Record<string, number>>();
	for (const target of ["esp/nodemcu", "esp32/nodemcu"]) {
		try {
			run("mcconfig", ["-p", target, "-o", out, path.join(ROOT, "manifest.json"), "ssid=check", "mqtt_host=192.0.2.1"], { env });
			const tmp = path.join(out, "tmp", target, "release", path.basename(ROOT));
			if (target === "esp32/nodemcu") {
				// The table mcconfig hands to ESP-IDF: ours (hosts/moddable/esp32/), with the region host.flash opens.
				const backlog = /^backlog,.*/m.exec(fs.readFileSync(path.join(tmp, "xsProj-esp32/partitions.csv"), "utf8"))?.[0];
				(backlog ? ok : fail)(`${target}: partition table with ${backlog ?? "no backlog partition"}`);
			}
			const log = run("make", ["-f", "makefile", "IDF_VERSION=v5", `SDKCONFIG_H=${path.join(stand, "idf/sdkconfig.h")}`, path.join(tmp, "mc.xs.c")], { cwd: tmp, env });
			const warnings = ourWarnings(log);
			(warnings.every((line) => /prototype: not frozen/.test(line)) ? ok : fail)(`${target}: linked and preloaded; xsl warnings on our modules: ${warnings.length} (generator prototypes only)`);
			for (const line of warnings.filter((w) => !/prototype: not frozen/.test(w))) console.log(`       ${line}`);
			const modules = path.join(tmp, "modules");
			for (const file of fs.readdirSync(modules, { recursive: true, encoding: "utf8" })) {
				if (!file.endsWith(".xsb") || !/^(src|hosts|setup\/wifi)/.test(file)) continue;
				const name = file.slice(0, -4);
				const row = sizes.get(name) ?? {};
				row[target] = fs.statSync(path.join(modules, file)).size;
				sizes.set(name, row);
			}
		}
		catch (error) {
			fail(`${target}: ${(error as Error).message}`);
		}
	}
	const rows = [...sizes].sort((a, b) => (b[1]["esp/nodemcu"] ?? 0) - (a[1]["esp/nodemcu"] ?? 0));
	const total = (target: string) => rows.reduce((sum, [, row]) => sum + (row[target] ?? 0), 0);
	console.log("\n  | module | esp/nodemcu bytes | esp32/nodemcu bytes |");
	console.log("  | --- | ---: | ---: |");
	for (const [name, row] of rows) console.log(`  | ${name} | ${row["esp/nodemcu"] ?? "-"} | ${row["esp32/nodemcu"] ?? "-"} |`);
	console.log(`  | total | ${total("esp/nodemcu")} | ${total("esp32/nodemcu")} |`);
}

async function main(): Promise<void> {
	if (!process.env.MODDABLE) throw new Error("MODDABLE is not set: this check uses your Moddable SDK (docs/boards.md says how to install it)");
	for (const tool of ["mcconfig", "mcsim", "tsc"]) {
		if (spawnSync("which", [tool]).status !== 0) throw new Error(`${tool} is not on the PATH (the SDK's build/bin/${HOST}/release, and npm's node_modules/.bin for tsc)`);
	}
	const xvfb = ensureDisplay();
	const saved = new Map(SHARED_FILES.filter((file) => fs.existsSync(file)).map((file) => [file, fs.readFileSync(file)]));
	for (const file of SHARED_FILES) fs.rmSync(file, { force: true });
	// `npm run check:moddable -- memory` (or sim, boards) runs only those parts.
	const parts = process.argv.slice(2);
	const wanted = (part: string) => parts.length === 0 || parts.includes(part);
	const broker = await startMosquitto();
	try {
		if (wanted("sim")) await simulator(broker);
		// `-- esp8266`: part 2 for the ESP8266 alone.
		if (wanted("memory") || parts.includes("esp8266")) {
			for (const target of wanted("memory") ? BOARDS : BOARDS.slice(0, 1)) {
				console.log(`\n2. Memory for the ${target.name} in an instrumented mcsim build with its outbox (${target.outbox.messages} messages, ${target.outbox.bytes} B)`);
				const { phases } = target.tls
					? await withTlsBroker((tlsBroker, listener) => memory(tlsBroker, target, listener))
					: await memory(broker, target);
				const most = reportMemory(target, phases);
				// The ESP8266's one static block is the hard limit.
				if (target.budget === ESP8266_XS_BYTES && !target.noFlash) await fixedHeaps(broker, target, phases[0][1], most);
			}
		}
		if (wanted("boards")) boards();
	}
	catch (error) {
		fail((error as Error).message);
	}
	finally {
		await broker.stop();
		xvfb?.kill();
		for (const file of SHARED_FILES) {
			const content = saved.get(file);
			if (content) fs.writeFileSync(file, content);
			else fs.rmSync(file, { force: true });
		}
		fs.rmSync(out, { recursive: true, force: true });
	}
	console.log(failures.length ? `\ncheck:moddable: ${failures.length} failed` : "\ncheck:moddable: all passed");
	process.exit(failures.length ? 1 : 0);
}

await main();
