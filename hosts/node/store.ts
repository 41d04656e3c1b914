/*
 * A Preference stand-in with the device's limits (src/preference-limits.ts): names over 15 characters,
 * values over 63 bytes and non-integer numbers throw as they do on a board. Kept in memory, and in a JSON
 * file when given a path, so a simulated node can be "rebooted" with its settings intact. `writes` counts
 * calls that reached storage, so tests can see flash wear.
 *
 * Like Preference on a board, each set or delete is atomic: the file is rewritten under a temporary name
 * and renamed over the old one, so a crash leaves the file before or after that write, never a torn one.
 * A file that is nevertheless unreadable (truncated by hand, a full disk) is set aside as `<file>.corrupt`
 * and the store starts empty, with a warning, rather than failing to boot. `cutPowerAfter(n)` simulates a
 * power cut: after n more writes, storage stops changing and every write throws.
 */
import fs from "node:fs";
import { checkPreference } from "../../src/preference-limits";
import type { Store, StoreValue } from "../../src/io";

type Stored = boolean | number | string | { bytes: string };

export class PreferenceStore implements Store {
	readonly #path: string | undefined;
	#domains: Record<string, Record<string, Stored>> = {};
	#writes = 0;
	#powerLeft = Infinity;

	/** `path`: a JSON file to load from and save to; omitted, the store lives in memory only. `warn` hears about an unreadable file. */
	constructor(path?: string, warn: (message: string) => void = console.warn) {
		this.#path = path;
		if (!path || !fs.existsSync(path)) return;
		try {
			const domains: unknown = JSON.parse(fs.readFileSync(path, "utf8"));
			if (typeof domains !== "object" || domains === null || Array.isArray(domains)) throw new Error("not a JSON object");
			this.#domains = domains as Record<string, Record<string, Stored>>;
		}
		catch (error) {
			fs.renameSync(path, `${path}.corrupt`);
			warn(`store: ${path} is unreadable (${(error as Error).message}); starting with empty storage, the file is kept as ${path}.corrupt`);
		}
	}

	/** Simulates a power cut after `writes` more writes: from then on nothing changes and every write throws. */
	cutPowerAfter(writes: number): void {
		this.#powerLeft = writes;
	}

	/** How many set/delete calls changed storage since this store was made. */
	get writes(): number {
		return this.#writes;
	}

	get(domain: string, key: string): StoreValue | undefined {
		checkPreference(domain, key);
		const value = this.#domains[domain]?.[key];
		if (value === undefined || typeof value !== "object") return value;
		return Uint8Array.from(Buffer.from(value.bytes, "base64")).buffer;
	}

	set(domain: string, key: string, value: StoreValue): void {
		checkPreference(domain, key, value);
		this.#power();
		(this.#domains[domain] ??= {})[key] = value instanceof ArrayBuffer ? { bytes: Buffer.from(value).toString("base64") } : value;
		this.#save();
	}

	delete(domain: string, key: string): void {
		checkPreference(domain, key);
		if (this.#domains[domain]?.[key] === undefined) return;
		this.#power();
		delete this.#domains[domain][key];
		this.#save();
	}

	keys(domain: string): string[] {
		return Object.keys(this.#domains[domain] ?? {});
	}

	#power(): void {
		if (this.#powerLeft-- <= 0) throw new Error("power cut");
	}

	#save(): void {
		this.#writes++;
		if (!this.#path) return;
		const temporary = `${this.#path}.tmp`;
		fs.writeFileSync(temporary, JSON.stringify(this.#domains));
		fs.renameSync(temporary, this.#path);
	}
}
