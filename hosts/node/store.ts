/*
 * A Preference stand-in with the device's limits (src/preference-limits.ts): names over 15 characters,
 * values over 63 bytes and non-integer numbers throw as they do on a board. Kept in memory, and in a JSON
 * file when given a path, so a simulated node can be "rebooted" with its settings intact. `writes` counts
 * calls that reached storage, so tests can see flash wear.
 */
import fs from "node:fs";
import { checkPreference } from "../../src/preference-limits";
import type { Store, StoreValue } from "../../src/io";

type Stored = boolean | number | string | { bytes: string };

export class PreferenceStore implements Store {
	readonly #path: string | undefined;
	#domains: Record<string, Record<string, Stored>>;
	#writes = 0;

	/** `path`: a JSON file to load from and save to; omitted, the store lives in memory only. */
	constructor(path?: string) {
		this.#path = path;
		this.#domains = path && fs.existsSync(path) ? JSON.parse(fs.readFileSync(path, "utf8")) : {};
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
		(this.#domains[domain] ??= {})[key] = value instanceof ArrayBuffer ? { bytes: Buffer.from(value).toString("base64") } : value;
		this.#save();
	}

	delete(domain: string, key: string): void {
		checkPreference(domain, key);
		if (this.#domains[domain]?.[key] === undefined) return;
		delete this.#domains[domain][key];
		this.#save();
	}

	keys(domain: string): string[] {
		return Object.keys(this.#domains[domain] ?? {});
	}

	#save(): void {
		this.#writes++;
		if (this.#path) fs.writeFileSync(this.#path, JSON.stringify(this.#domains));
	}
}
