/*
 * `npm start` as a newcomer meets it: bad flags get one line and the usage, credentials reach the broker,
 * and the banner and the boot line name the broker and interval actually in force, saying when settings
 * stored in an earlier run override a flag. Each run keeps its storage in its own temporary directory.
 */
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { connectBackend } from "../helpers/backend";
import { startMosquitto, type Mosquitto } from "../helpers/mosquitto";

const ROOT = path.join(import.meta.dirname, "../..");
const START = ["--import", "tsx", "hosts/node/main.ts"];

function run(args: string[]) {
	return spawnSync(process.execPath, [...START, ...args], { cwd: ROOT, encoding: "utf8", timeout: 30_000 });
}

interface Running {
	output(): string;
	/** Resolves once the output holds `pattern`; rejects if the process ends first or after `ms`. */
	waitFor(pattern: RegExp, ms?: number): Promise<RegExpMatchArray>;
	/** Ctrl-C; resolves with the exit code. */
	stop(): Promise<number | null>;
}

function launch(args: string[], tmp: string): Running {
	const child = spawn(process.execPath, [...START, ...args], { cwd: ROOT, env: { ...process.env, TMPDIR: tmp } });
	let output = "";
	const waiters = new Set<() => void>();
	const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => {
		for (const waiter of waiters) waiter();
		resolve(code);
	}));
	const append = (chunk: Buffer) => {
		output += chunk.toString();
		for (const waiter of waiters) waiter();
	};
	child.stdout.on("data", append);
	child.stderr.on("data", append);
	return {
		output: () => output,
		waitFor(pattern, ms = 20_000) {
			return new Promise((resolve, reject) => {
				const check = () => {
					const match = output.match(pattern);
					if (match) done(() => resolve(match));
					else if (child.exitCode !== null) done(() => reject(new Error(`exited before ${pattern}:\n${output}`)));
				};
				const done = (settle: () => void) => {
					waiters.delete(check);
					clearTimeout(timer);
					settle();
				};
				const timer = setTimeout(() => done(() => reject(new Error(`timed out waiting for ${pattern}:\n${output}`))), ms);
				waiters.add(check);
				check();
			});
		},
		stop() {
			child.kill("SIGINT");
			return exited;
		},
	};
}

describe("npm start on bad input", () => {
	const cases: [string[], RegExp][] = [
		[["--foo"], /^npm start: Unknown option '--foo'$/],
		[["--interval"], /^npm start: Option '--interval <value>' argument missing$/],
		[["kitchen"], /^npm start: Unexpected argument 'kitchen'$/],
		[["--id", "a/b"], /^npm start: node id "a\/b" may hold only letters, digits, _ and -/],
		[["--id", "kitchen.1"], /^npm start: node id "kitchen\.1" may hold only letters, digits, _ and -/],
		[["--root", "a/+"], /^npm start: topic root "a\/\+" must be/],
		[["--broker", "mqtt://127.0.0.1:0"], /^npm start: --broker port: must be an integer from 1 to 65535 \(got "0"\)$/],
		[["--broker", "127.0.0.1"], /^npm start: --broker must look like mqtt:\/\/host:port, not "127.0.0.1"$/],
		[["--broker", "ws://127.0.0.1"], /^npm start: --broker must be mqtt:\/\/ or mqtts:\/\/, not ws:\/\/$/],
		[["--broker", "mqtt://127.0.0.1", "--insecure"], /^npm start: --insecure: only with an mqtts:\/\/ --broker$/],
		[["--broker", "mqtts://127.0.0.1", "--cert", "c.pem"], /^npm start: --cert and --key go together$/],
		[["--broker", "mqtts://127.0.0.1", "--ca", "/nonexistent.pem"], /^npm start: --ca: ENOENT/],
		[["--broker", "mqtts://127.0.0.1", "--pin", "12:34"], /^npm start: --pin: must be a SHA-256 of 64 hex digits/],
		[["--broker", "mqtt://127.0.0.1", "--password", "pw"], /^npm start: a password needs a user name/],
		[["--user", "x".repeat(129), "--broker", "mqtt://127.0.0.1"], /^npm start: --user: must be at most 128 bytes/],
		[["--interval", "0"], /^npm start: --interval: must be an integer from 1 to 86400 \(got "0"\)$/],
		[["--sensor", "DHT22"], /^npm start: unknown sensor "DHT22"$/],
	];
	for (const [args, message] of cases) {
		test(`${args.join(" ")}: one line and the usage, no stack trace`, () => {
			const { status, stdout, stderr } = run(args);
			assert.equal(status, 2);
			assert.equal(stdout, "");
			const [first, blank, usage] = stderr.split("\n");
			assert.match(first, message);
			assert.equal(blank, "");
			assert.equal(usage, "Usage: npm start -- [options]");
			assert.doesNotMatch(stderr, /^\s+at /m);
		});
	}

	test("--help and -h print the usage", () => {
		for (const flag of ["--help", "-h"]) {
			const { status, stdout } = run([flag]);
			assert.equal(status, 0);
			assert.match(stdout, /^Usage: npm start -- \[options\]\n/);
			assert.match(stdout, /--user <name>/);
			assert.match(stdout, /--fresh/);
		}
	});
});

describe("npm start against a broker", () => {
	let broker: Mosquitto;
	let other: Mosquitto;
	let tmp: string;
	before(async () => {
		broker = await startMosquitto({ users: { alice: "s3cret:/@" } });
		other = await startMosquitto({ users: { alice: "s3cret:/@" } });
		tmp = fs.mkdtempSync(path.join(os.tmpdir(), "npm-start-"));
	});
	after(async () => {
		await broker.stop();
		await other.stop();
		fs.rmSync(tmp, { recursive: true, force: true });
	});

	test("takes credentials from the broker URL, percent-encoded", async () => {
		const node = launch(["--broker", `mqtt://alice:${encodeURIComponent("s3cret:/@")}@127.0.0.1:${broker.port}`, "--id", "creds", "--fresh"], tmp);
		await node.waitFor(/mqtt: connected to 127\.0\.0\.1:\d+ \(session new\)/);
		assert.equal(await node.stop(), 0);
		assert.doesNotMatch(node.output(), /s3cret/, "the password is never printed");
	});

	test("takes credentials from --user and --password", async () => {
		const node = launch(["--broker", `mqtt://127.0.0.1:${broker.port}`, "--user", "alice", "--password", "s3cret:/@", "--id", "flags", "--fresh"], tmp);
		await node.waitFor(/mqtt: connected to/);
		assert.equal(await node.stop(), 0);
	});

	test("says which stored settings override the flags, and names the broker in force in the banner and the boot line", async () => {
		const args = (port: number) => ["--broker", `mqtt://alice:s3cret%3A%2F%40@127.0.0.1:${port}`, "--id", "stored", "--interval", "5"];
		const first = launch([...args(broker.port), "--fresh"], tmp);
		await first.waitFor(/mqtt: connected to/);
		const backend = await connectBackend(broker.url, ["nodes/stored/config/state"], { username: "alice", password: "s3cret:/@" });
		await backend.publish("nodes/stored/config", { interval: 7, port: other.port }, { retain: true });
		await first.waitFor(new RegExp(`config: broker settings confirmed \\(127\\.0\\.0\\.1:${other.port}\\)`));
		await backend.close();
		assert.equal(await first.stop(), 0);

		const second = launch(args(broker.port), tmp);
		await second.waitFor(/stop: Ctrl-C/);
		const output = second.output();
		assert.match(output, new RegExp(`boot [0-9a-f]{8}: node nodes/stored, firmware [0-9.]+, broker 127\\.0\\.0\\.1:${other.port}\\n`));
		assert.match(output, new RegExp(`Node nodes/stored: broker 127\\.0\\.0\\.1:${other.port}, a reading every 7 s;`));
		assert.match(output, new RegExp(`take precedence over the flags: broker 127\\.0\\.0\\.1:${other.port} instead of 127\\.0\\.0\\.1:${broker.port}, a reading every 7 s instead of 5 s \\(--fresh forgets them\\)`));
		assert.match(output, new RegExp(`mosquitto_sub -h 127\\.0\\.0\\.1 -p ${other.port} -v`));
		assert.equal(await second.stop(), 0);

		const fresh = launch([...args(broker.port), "--fresh"], tmp);
		await fresh.waitFor(/stop: Ctrl-C/);
		assert.match(fresh.output(), new RegExp(`Node nodes/stored: broker 127\\.0\\.0\\.1:${broker.port}, a reading every 5 s;`));
		assert.doesNotMatch(fresh.output(), /take precedence/);
		assert.equal(await fresh.stop(), 0);
	});
});
