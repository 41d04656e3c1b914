/*
 * Config layers in device storage, within what every board accepts (src/preference-limits.ts): keys of at
 * most 15 characters, values of at most 63 bytes, integers but no floats.
 *
 * Each layer's settings live in the "config" domain under a one-letter prefix ("f.interval" for the fleet
 * document, "d.interval" for the device's own, "w.host" for the last connection settings that worked).
 * Numbers with decimals are stored as scaled integers; strings longer than 63 bytes are split at character
 * boundaries into "d.password", "d.password+1", ... Only entries whose value changed are written, because
 * flash wears and a retained document comes back on every reconnect.
 */
import { checkValue, SETTINGS, type Settings, type SettingValue } from "./settings";
import { MAX_PREFERENCE_VALUE_BYTES } from "../preference-limits";
import { utf8Length } from "../utf8";
import type { Store, StoreValue } from "../io";

const DOMAIN = "config";

export type Layer = "fleet" | "device" | "working";

const PREFIX: Readonly<Record<Layer, string>> = Object.freeze({ fleet: "f.", device: "d.", working: "w." });

/** A stored layer: its settings and the identity of the document they came from. */
export interface StoredLayer {
	settings: Settings;
	/** Content hash of the document (see `documentHash`), "" when none was ever applied. */
	hash: string;
	/** The document's own `rev`, when it had one. */
	rev?: number;
}

export class ConfigStore {
	readonly #store: Store;

	constructor(store: Store) {
		this.#store = store;
	}

	/** Reads a layer back. Entries that no longer pass validation are skipped and named in `problems`. */
	load(layer: Layer, problems: string[] = []): StoredLayer {
		const prefix = PREFIX[layer];
		const settings: Settings = {};
		for (const key of this.#store.keys(DOMAIN)) {
			if (!key.startsWith(prefix) || key.includes("+")) continue;
			const name = key.slice(prefix.length);
			const spec = Object.hasOwn(SETTINGS, name) ? SETTINGS[name] : undefined;
			if (!spec) continue;
			const value = this.#read(key, spec.type === "string", spec.decimals);
			if (value === undefined || checkValue(spec, value)) problems.push(`stored ${layer} setting ${name} is invalid and was ignored`);
			else settings[name] = value;
		}
		const hash = this.#store.get(DOMAIN, `${prefix}#`);
		const rev = this.#store.get(DOMAIN, `${prefix}@`);
		return { settings, hash: typeof hash === "string" ? hash : "", rev: typeof rev === "number" ? rev : undefined };
	}

	/** Makes the stored layer equal to `layer`, writing only what differs. Returns how many entries were written. */
	save(name: Layer, layer: StoredLayer): number {
		const prefix = PREFIX[name];
		let writes = 0;
		for (const key of this.#store.keys(DOMAIN)) {
			if (!key.startsWith(prefix) || key.includes("+")) continue;
			const setting = key.slice(prefix.length);
			if (Object.hasOwn(SETTINGS, setting) && !Object.hasOwn(layer.settings, setting)) writes += this.#write(key, undefined);
		}
		for (const [setting, value] of Object.entries(layer.settings))
			writes += this.#write(prefix + setting, value, SETTINGS[setting].decimals);
		writes += this.#put(`${prefix}#`, layer.hash || undefined);
		writes += this.#put(`${prefix}@`, layer.rev);
		return writes;
	}

	/** Identity of broker settings that were tried and rolled back ("" for none); see Config. */
	refused(): string {
		const key = this.#store.get(DOMAIN, "x#");
		return typeof key === "string" ? key : "";
	}

	refuse(key: string): void {
		this.#put("x#", key);
	}

	/** Factory reset: forgets every stored layer. */
	clear(): void {
		for (const key of this.#store.keys(DOMAIN)) this.#store.delete(DOMAIN, key);
	}

	#read(key: string, isString: boolean, decimals?: number): SettingValue | undefined {
		const first = this.#store.get(DOMAIN, key);
		if (first instanceof ArrayBuffer || first === undefined) return undefined;
		if (!isString) return typeof first === "number" && decimals !== undefined ? first / 10 ** decimals : first;
		if (typeof first !== "string") return undefined;
		let text = first;
		for (let part = 1; ; part++) {
			const next = this.#store.get(DOMAIN, `${key}+${part}`);
			if (typeof next !== "string") return text;
			text += next;
		}
	}

	#write(key: string, value: SettingValue | undefined, decimals?: number): number {
		if (typeof value === "number" && decimals !== undefined) value = Math.round(value * 10 ** decimals);
		const parts = typeof value === "string" ? splitUtf8(value, MAX_PREFERENCE_VALUE_BYTES) : [value];
		let writes = 0;
		parts.forEach((part, index) => (writes += this.#put(index ? `${key}+${index}` : key, part)));
		for (let index = parts.length; this.#store.get(DOMAIN, `${key}+${index}`) !== undefined; index++)
			writes += this.#put(`${key}+${index}`, undefined);
		return writes;
	}

	/** Sets or deletes one entry unless it already holds that value; 1 when storage was written. */
	#put(key: string, value: StoreValue | undefined): number {
		const current = this.#store.get(DOMAIN, key);
		if (current === value) return 0;
		if (value === undefined) this.#store.delete(DOMAIN, key);
		else this.#store.set(DOMAIN, key, value);
		return 1;
	}
}

/** Splits `text` into pieces of at most `maxBytes` UTF-8 bytes, never inside a character. */
export function splitUtf8(text: string, maxBytes: number): string[] {
	const parts: string[] = [];
	let start = 0;
	let bytes = 0;
	for (let i = 0; i < text.length; i++) {
		const pair = (text.charCodeAt(i) & 0xfc00) === 0xd800;
		const size = utf8Length(text.slice(i, pair ? i + 2 : i + 1));
		if (bytes + size > maxBytes) {
			parts.push(text.slice(start, i));
			start = i;
			bytes = 0;
		}
		bytes += size;
		if (pair) i++;
	}
	parts.push(text.slice(start));
	return parts;
}

/** FNV-1a over the document's bytes, as 8 hex digits: how a replayed retained document is recognised. */
export function documentHash(bytes: Uint8Array): string {
	let hash = 0x811c9dc5;
	for (let i = 0; i < bytes.length; i++) hash = Math.imul(hash ^ bytes[i], 0x01000193);
	return (hash >>> 0).toString(16).padStart(8, "0");
}
