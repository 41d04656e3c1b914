/*
 * Config layers in device storage, within what every board accepts (src/preference-limits.ts): keys of at
 * most 15 characters, values of at most 63 bytes, integers but no floats.
 *
 * Crash consistency rests on the one thing Preference guarantees: each key is written whole or not at
 * all. Every layer has two slots and a commit key naming the live one ("d" -> 0 or 1 for the device
 * document, "f" the fleet's, "w" the broker settings that worked). A save fills the other slot and flips
 * the commit key last, so a power cut at any write leaves the commit key on the old, untouched slot, or on
 * the new, complete one. Each slot ends with a checksum ("d1.$") written after its entries and removed
 * before they change: a boot that finds the live slot damaged falls back to the other if it is whole,
 * and to nothing (the build's defaults) otherwise, with a warning. A factory reset spans every layer, so
 * it writes a journal key ("r!") first and removes it last: a boot that finds it finishes the reset.
 *
 * Slot entries: "d0.interval", decimals as scaled integers, strings longer than 63 bytes split at
 * character boundaries into "d0.password", "d0.password+1", ...; "d0.#" the document hash, "d0.@" its rev.
 * Only entries that differ are written, because flash wears: documents alternating between two versions
 * find the other slot already holding the one they need and cost a single write, the commit key.
 */
import { checkValue, SETTINGS, type Settings, type SettingValue } from "./settings";
import { MAX_PREFERENCE_VALUE_BYTES } from "../preference-limits";
import { encodeUtf8, utf8Length } from "../utf8";
import type { Store, StoreValue } from "../io";

const DOMAIN = "config";

export type Layer = "fleet" | "device" | "working";

const COMMIT: Readonly<Record<Layer, string>> = Object.freeze({ fleet: "f", device: "d", working: "w" });

/** A stored layer: its settings and the identity of the document they came from. */
export interface StoredLayer {
	settings: Settings;
	/** Content hash of the document (see `documentHash`), "" when none was ever applied. */
	hash: string;
	/** The document's own `rev`, when it had one. */
	rev?: number;
}

const RESETTING = "r!";

const EMPTY: StoredLayer = Object.freeze({ settings: Object.freeze({}), hash: "" });

export class ConfigStore {
	readonly #store: Store;
	/** Entries written (set or deleted) since boot: the flash-wear figure reported in `<n>/state`. */
	writes = 0;

	constructor(store: Store) {
		this.#store = store;
		if (store.get(DOMAIN, RESETTING) !== undefined) this.clear();
		const keys = store.keys(DOMAIN);
		for (const layer of ["fleet", "device", "working"] as const) this.migrate(layer, keys);
	}

	/**
	 * Firmware before the two slots kept each layer under one prefix ("d.interval", same encoding). A layer
	 * stored only that way is saved into a slot (its commit is the atomic step), and then the old entries go;
	 * a power cut before the commit migrates again at the next boot, one after it finishes the clean-up.
	 * Without this an update would boot on the build's broker, which may not be the one the node was moved to.
	 */
	private migrate(layer: Layer, keys: readonly string[]): void {
		const prefix = `${COMMIT[layer]}.`;
		const old = keys.filter((key) => key.startsWith(prefix));
		if (!old.length) return;
		if (this.live(layer) < 0) this.save(layer, this.read(layer, prefix, []));
		for (const key of old) this.put(key, undefined);
	}

	/** Reads a layer back. Damage and entries that no longer pass validation are named in `problems`. */
	load(layer: Layer, problems: string[] = []): StoredLayer {
		const live = this.live(layer);
		if (live < 0) return EMPTY;
		for (const slot of [live, 1 - live]) {
			const prefix = COMMIT[layer] + slot + ".";
			if (this.#store.get(DOMAIN, `${prefix}$`) !== this.checksum(prefix)) continue;
			if (slot !== live) problems.push(`stored ${layer} settings were damaged; using the copy before them`);
			return this.read(layer, prefix, problems);
		}
		problems.push(`stored ${layer} settings were damaged and were ignored`);
		return EMPTY;
	}

	/** Makes the stored layer equal to `layer`, atomically; `writes` counts what it cost. */
	save(name: Layer, layer: StoredLayer): void {
		const entries = this.entries(layer);
		const sum = checksumOf(entries);
		const live = this.live(name);
		if (live >= 0 && this.#store.get(DOMAIN, `${COMMIT[name]}${live}.$`) === sum) return;
		const slot = live === 0 ? 1 : 0;
		const prefix = COMMIT[name] + slot + ".";
		if (this.#store.get(DOMAIN, `${prefix}$`) !== sum) {
			this.put(`${prefix}$`, undefined);
			for (const key of this.#store.keys(DOMAIN))
				if (key.startsWith(prefix) && !Object.hasOwn(entries, key.slice(prefix.length))) this.put(key, undefined);
			for (const suffix of Object.keys(entries)) this.put(prefix + suffix, entries[suffix]);
			this.put(`${prefix}$`, sum);
		}
		this.put(COMMIT[name], slot);
	}

	/** Identity of broker settings that were tried and rolled back ("" for none); see Config. */
	refused(): string {
		const key = this.#store.get(DOMAIN, "x#");
		return typeof key === "string" ? key : "";
	}

	refuse(key: string): void {
		this.put("x#", key);
	}

	/** Factory reset: forgets every stored layer; a power cut part-way is finished at the next boot. */
	clear(): void {
		this.put(RESETTING, 1);
		for (const key of this.#store.keys(DOMAIN)) if (key !== RESETTING) this.put(key, undefined);
		this.put(RESETTING, undefined);
	}

	/** The live slot, or -1 when the layer was never stored. */
	private live(layer: Layer): number {
		const slot = this.#store.get(DOMAIN, COMMIT[layer]);
		return slot === 0 || slot === 1 ? slot : -1;
	}

	private read(layer: Layer, prefix: string, problems: string[]): StoredLayer {
		const settings: Settings = {};
		for (const key of this.#store.keys(DOMAIN)) {
			if (!key.startsWith(prefix) || key.includes("+")) continue;
			const name = key.slice(prefix.length);
			const spec = Object.hasOwn(SETTINGS, name) ? SETTINGS[name] : undefined;
			if (!spec) continue;
			const value = this.value(key, spec.type === "string", spec.decimals);
			if (value === undefined || checkValue(spec, value)) problems.push(`stored ${layer} setting ${name} is invalid and was ignored`);
			else settings[name] = value;
		}
		const hash = this.#store.get(DOMAIN, `${prefix}#`);
		const rev = this.#store.get(DOMAIN, `${prefix}@`);
		return { settings, hash: typeof hash === "string" ? hash : "", rev: typeof rev === "number" ? rev : undefined };
	}

	private value(key: string, isString: boolean, decimals?: number): SettingValue | undefined {
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

	/** What a slot holds for `layer`, by key suffix, exactly as stored. */
	private entries(layer: StoredLayer): Record<string, StoreValue> {
		const entries: Record<string, StoreValue> = {};
		for (const [setting, value] of Object.entries(layer.settings)) {
			const decimals = SETTINGS[setting].decimals;
			if (typeof value === "string") splitUtf8(value, MAX_PREFERENCE_VALUE_BYTES).forEach((part, index) => (entries[index ? `${setting}+${index}` : setting] = part));
			else entries[setting] = typeof value === "number" && decimals !== undefined ? Math.round(value * 10 ** decimals) : value;
		}
		if (layer.hash) entries["#"] = layer.hash;
		if (layer.rev !== undefined) entries["@"] = layer.rev;
		return entries;
	}

	/** The checksum of what the slot at `prefix` holds now. */
	private checksum(prefix: string): string {
		const entries: Record<string, StoreValue> = {};
		for (const key of this.#store.keys(DOMAIN)) {
			const value = key.startsWith(prefix) && key !== `${prefix}$` ? this.#store.get(DOMAIN, key) : undefined;
			if (value !== undefined) entries[key.slice(prefix.length)] = value;
		}
		return checksumOf(entries);
	}

	/** Sets or deletes one entry unless it already holds that value. */
	private put(key: string, value: StoreValue | undefined): void {
		const current = this.#store.get(DOMAIN, key);
		if (current === value) return;
		if (value === undefined) this.#store.delete(DOMAIN, key);
		else this.#store.set(DOMAIN, key, value);
		this.writes++;
	}
}

/** FNV-1a over the entries in key order, so it does not depend on the order storage lists them in. */
function checksumOf(entries: Record<string, StoreValue>): string {
	const keys = Object.keys(entries).sort();
	return documentHash(encodeUtf8(keys.map((key) => `${key}=${String(entries[key])}`).join("\n")));
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
