/*
 * A real Mosquitto broker for tests: its own generated config, a free port on 127.0.0.1, optional users
 * in a password file, and control over its life (stop, restart on the same port, kill, freeze). A missing
 * `mosquitto` is a failure that says how to install it, never a skip.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";

export interface MosquittoOptions {
	/** user -> password; when given, anonymous clients are refused. */
	users?: Record<string, string>;
	/** Keep sessions and retained messages across restart() (saved on a graceful stop), as deployed brokers do. */
	persistence?: boolean;
	/** Extra mosquitto.conf lines. */
	config?: string[];
}

export interface Mosquitto {
	readonly host: string;
	readonly port: number;
	readonly url: string;
	/** Everything the broker logged so far. */
	log(): string;
	/** Graceful stop (SIGTERM): clients see the connection close. */
	stop(): Promise<void>;
	/** Stops and starts again on the same port, with the same config. */
	restart(): Promise<void>;
	/** Abrupt death (SIGKILL). */
	kill(): Promise<void>;
	/** SIGSTOP: the broker keeps its sockets open but goes silent, like a dead link. */
	freeze(): void;
	/** SIGCONT after freeze. */
	thaw(): void;
}

/** Brokers still running, stopped when the test process exits however it exits (short of SIGKILL). */
const running = new Set<ChildProcess>();
const stopAll = () => {
	for (const child of running) child.kill("SIGKILL");
};
process.once("exit", stopAll);
for (const signal of ["SIGINT", "SIGTERM"] as const) {
	process.once(signal, () => {
		stopAll();
		process.exit(128 + (signal === "SIGINT" ? 2 : 15));
	});
}

const SEARCH_PATH = ["/usr/sbin", "/usr/local/sbin", "/opt/homebrew/sbin", "/usr/bin", "/usr/local/bin"];

function findExecutable(name: string): string {
	const dirs = [...(process.env.PATH ?? "").split(path.delimiter), ...SEARCH_PATH];
	for (const dir of dirs) {
		const candidate = path.join(dir, name);
		if (dir && fs.existsSync(candidate)) return candidate;
	}
	throw new Error(
		`${name} not found. The tests need a real Mosquitto broker: install it with ` +
		"`sudo apt-get install -y mosquitto` (Debian/Ubuntu) or `brew install mosquitto` (macOS), then run `npm test` again.",
	);
}

/** A TCP port that was free a moment ago. */
export function freePort(): Promise<number> {
	return new Promise((resolve, reject) => {
		const server = net.createServer();
		server.on("error", reject);
		server.listen(0, "127.0.0.1", () => {
			const { port } = server.address() as net.AddressInfo;
			server.close(() => resolve(port));
		});
	});
}

export async function startMosquitto(options: MosquittoOptions = {}): Promise<Mosquitto> {
	const binary = findExecutable("mosquitto");
	const port = await freePort();
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mosquitto-"));
	const conf = [
		`listener ${port} 127.0.0.1`,
		options.persistence ? `persistence true\npersistence_location ${dir}/` : "persistence false",
		"log_dest stderr",
		"log_type error",
		"log_type warning",
		"log_type notice",
		"log_type information",
		"connection_messages true",
	];
	// Run as root, Mosquitto switches to the "mosquitto" user, which cannot read our private temp dir.
	if (process.getuid?.() === 0) conf.push("user root");
	if (options.users) {
		const passwords = path.join(dir, "passwords");
		fs.writeFileSync(passwords, "");
		fs.chmodSync(passwords, 0o600);
		const passwd = findExecutable("mosquitto_passwd");
		for (const [user, password] of Object.entries(options.users)) {
			const result = spawnSync(passwd, ["-b", passwords, user, password], { encoding: "utf8" });
			if (result.status !== 0) throw new Error(`mosquitto_passwd failed: ${result.stderr}`);
		}
		conf.push("allow_anonymous false", `password_file ${passwords}`);
	}
	else conf.push("allow_anonymous true");
	conf.push(...(options.config ?? []));
	const confPath = path.join(dir, "mosquitto.conf");
	fs.writeFileSync(confPath, conf.join("\n") + "\n");

	let output = "";
	let child: ChildProcess;
	let exited: Promise<void>;

	// Ready when the broker logs that it is running: it has bound its listener by then.
	const launch = () => new Promise<void>((resolve, reject) => {
		const from = output.length;
		child = spawn(binary, ["-c", confPath], { stdio: ["ignore", "pipe", "pipe"] });
		const launched = child;
		running.add(launched);
		const collect = (chunk: Buffer) => {
			output += chunk;
			if (/mosquitto version \S+ running/.test(output.slice(from))) resolve();
		};
		child.stdout!.on("data", collect);
		child.stderr!.on("data", collect);
		exited = new Promise((done) => child.once("exit", () => {
			running.delete(launched);
			reject(new Error(`mosquitto exited before it was running:\n${output.slice(from)}`));
			done();
		}));
	});

	const end = async (signal: NodeJS.Signals) => {
		if (child.exitCode === null && child.signalCode === null) {
			child.kill("SIGCONT");
			child.kill(signal);
		}
		await exited;
	};

	await launch();
	const broker: Mosquitto = {
		host: "127.0.0.1",
		port,
		url: `mqtt://127.0.0.1:${port}`,
		log: () => output,
		stop: () => end("SIGTERM"),
		kill: () => end("SIGKILL"),
		restart: async () => {
			await end("SIGTERM");
			await launch();
		},
		freeze: () => void child.kill("SIGSTOP"),
		thaw: () => void child.kill("SIGCONT"),
	};
	return broker;
}
