/*
 * Every setting a node takes over the air, in one frozen table: type, range, default, and whether it
 * changes the broker connection (those are applied with rollback) or is a secret (never echoed).
 *
 * A config document is a JSON object of these keys (plus an optional integer `rev`). It is validated as a
 * whole: one bad key rejects the whole document, with every problem listed. `null` means "this source does
 * not set it", so a layer below (fleet, then built-in defaults) decides.
 */
import { SENSOR_MODELS } from "../drivers/detect";
import { utf8Length } from "../utf8";

export type SettingValue = number | string | boolean;

interface SettingSpec {
	readonly type: "integer" | "number" | "boolean" | "string" | "choice";
	readonly min?: number;
	readonly max?: number;
	/** Allowed values of a "choice". */
	readonly choices?: readonly string[];
	/** Longest "string", in UTF-8 bytes. */
	readonly maxBytes?: number;
	/** A "string" that must be a host name or an IP address. */
	readonly host?: boolean;
	/** A "string" that must be "" or a SHA-256 in hex, colons allowed (as `openssl x509 -fingerprint -sha256` prints it). */
	readonly sha256?: boolean;
	/** Part of the broker connection: applied with automatic rollback. */
	readonly connection?: boolean;
	/** Never echoed in a topic or a log. */
	readonly secret?: boolean;
	/** Numbers are kept to this many decimals (storage holds integers only). */
	readonly decimals?: number;
}

/** Frozen entries: tables of preloaded modules live in flash on a device, and a mutable one costs RAM. */
function spec(entry: SettingSpec): SettingSpec {
	if (entry.choices) Object.freeze(entry.choices);
	return Object.freeze(entry);
}

export const SETTINGS: Readonly<Record<string, SettingSpec>> = Object.freeze({
	/** Seconds between readings. */
	interval: spec({ type: "integer", min: 1, max: 86400 }),
	/** Publish only when temperature moved this much (in the configured unit; 0 = every reading)... */
	deltaT: spec({ type: "number", min: 0, max: 50, decimals: 2 }),
	/** ...or humidity moved this much (%RH, 0 = every reading)... */
	deltaH: spec({ type: "number", min: 0, max: 100, decimals: 2 }),
	/** ...or this many seconds passed since the last publish. */
	maxSilence: spec({ type: "integer", min: 1, max: 86400 }),
	/** Calibration offsets added to every reading. */
	offsetT: spec({ type: "number", min: -20, max: 20, decimals: 2 }),
	offsetH: spec({ type: "number", min: -50, max: 50, decimals: 2 }),
	unit: spec({ type: "choice", choices: ["C", "F"] }),
	/** "auto" finds the chip on the bus; a model name skips detection (needed for AHT10). */
	sensor: spec({ type: "choice", choices: ["auto", ...SENSOR_MODELS] }),
	/** 7-bit I2C address of the sensor, 0 = the chip's usual addresses. */
	address: spec({ type: "integer", min: 0, max: 0x77 }),
	qos: spec({ type: "integer", min: 0, max: 1 }),
	retain: spec({ type: "boolean" }),
	/** MQTT keepalive, seconds. */
	keepalive: spec({ type: "integer", min: 5, max: 3600 }),
	discovery: spec({ type: "boolean" }),
	host: spec({ type: "string", maxBytes: 253, host: true, connection: true }),
	port: spec({ type: "integer", min: 1, max: 65535, connection: true }),
	user: spec({ type: "string", maxBytes: 128, connection: true }),
	password: spec({ type: "string", maxBytes: 128, connection: true, secret: true }),
	/** MQTT over TLS. The trusted CAs and the client certificate are the build's (too large for storage). */
	tls: spec({ type: "boolean", connection: true }),
	/**
	 * The broker certificate's SHA-256: trusted whatever its issuer, every other certificate refused. Not
	 * called "fingerprint": stored, its 64 digits take two entries, and "d0.fingerprint+1" is over the
	 * 15-character key limit.
	 */
	pin: spec({ type: "string", maxBytes: 95, sha256: true, connection: true }),
	/** TLS without any certificate check: explicit only, and reported in `state` and at every connect. */
	insecure: spec({ type: "boolean", connection: true }),
});

export type Settings = Record<string, SettingValue>;

/** The built-in defaults, before any build-time or over-the-air configuration. */
export const DEFAULTS: Readonly<Settings> = Object.freeze({
	interval: 60,
	deltaT: 0,
	deltaH: 0,
	maxSilence: 900,
	offsetT: 0,
	offsetH: 0,
	unit: "C",
	sensor: "auto",
	address: 0,
	qos: 1,
	retain: false,
	keepalive: 60,
	discovery: true,
	host: "127.0.0.1",
	port: 1883,
	user: "",
	password: "",
	tls: false,
	pin: "",
	insecure: false,
});

export const CONNECTION_KEYS = Object.freeze(Object.keys(SETTINGS).filter((key) => SETTINGS[key].connection));

export interface Validated {
	/** The settings this document sets (nulls dropped), or undefined when the document is rejected. */
	settings?: Settings;
	rev?: number;
	errors: string[];
}

/**
 * Deepest array/object nesting JSON.parse may see. A document is a flat object, so this is generous; the
 * bound exists because JSON.parse recurses on the XS stack, and a retained `[[[[...` of 1 KB overflows it:
 * an abort the firmware cannot catch, on every boot, for as long as the document stays retained.
 */
export const MAX_DOCUMENT_DEPTH = 8;

const charCodeAt = String.prototype.charCodeAt;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** Whether `text` nests arrays and objects at most `max` deep, strings skipped (the text need not be JSON). */
export function nestsAtMost(text: string, max: number): boolean {
	let depth = 0;
	let inString = false;
	for (let i = 0, length = text.length; i < length; i++) {
		const c = charCodeAt.call(text, i);
		if (inString) {
			if (c === BACKSLASH) i++;
			else if (c === QUOTE) inString = false;
		}
		else if (c === QUOTE) inString = true;
		// [ and { are 0x5b and 0x7b; ] and } are 0x5d and 0x7d.
		else if ((c | 0x20) === 0x7b && ++depth > max) return false;
		else if ((c | 0x20) === 0x7d) depth--;
	}
	return true;
}

/** Validates one config document as a whole. `text` is the raw payload, already known to be UTF-8. */
export function validateDocument(text: string): Validated {
	if (!nestsAtMost(text, MAX_DOCUMENT_DEPTH)) return { errors: [`nested deeper than ${MAX_DOCUMENT_DEPTH} levels`] };
	let document: unknown;
	try {
		document = JSON.parse(text);
	}
	catch (error) {
		return { errors: [`not JSON: ${(error as Error).message}`] };
	}
	if (typeof document !== "object" || document === null || Array.isArray(document))
		return { errors: ["must be a JSON object of settings"] };
	const errors: string[] = [];
	const settings: Settings = {};
	let rev: number | undefined;
	for (const [key, value] of Object.entries(document)) {
		if (key === "rev") {
			if (Number.isInteger(value) && value >= 0) rev = value;
			else errors.push(`rev: must be a non-negative integer (got ${describe(key, value)})`);
			continue;
		}
		const spec = Object.hasOwn(SETTINGS, key) ? SETTINGS[key] : undefined;
		if (!spec) {
			errors.push(`${key}: unknown setting`);
			continue;
		}
		if (value === null) continue;
		const problem = checkValue(spec, value);
		if (problem) errors.push(`${key}: ${problem} (got ${describe(key, value)})`);
		else settings[key] = normalise(spec, value as SettingValue);
	}
	return errors.length ? { rev, errors } : { settings, rev, errors };
}

/** Checks one value against its spec; returns what is wrong, or undefined. */
export function checkValue(spec: SettingSpec, value: unknown): string | undefined {
	switch (spec.type) {
		case "integer":
			if (!Number.isInteger(value) || (value as number) < spec.min! || (value as number) > spec.max!)
				return `must be an integer from ${spec.min} to ${spec.max}`;
			return undefined;
		case "number":
			if (typeof value !== "number" || !Number.isFinite(value) || value < spec.min! || value > spec.max!)
				return `must be a number from ${spec.min} to ${spec.max}`;
			return undefined;
		case "boolean":
			return typeof value === "boolean" ? undefined : "must be true or false";
		case "choice":
			return spec.choices!.includes(value as string) ? undefined : `must be one of ${spec.choices!.join(", ")}`;
		case "string": {
			if (typeof value !== "string") return "must be a string";
			const bytes = utf8Length(value);
			if (bytes < 0) return "must be valid Unicode";
			if (bytes > spec.maxBytes!) return `must be at most ${spec.maxBytes} bytes`;
			if (spec.host && !isHost(value)) return "must be a host name or an IP address";
			if (spec.sha256 && value !== "" && !/^[0-9A-Fa-f]{64}$/.test(value.replaceAll(":", "")))
				return "must be a SHA-256 of 64 hex digits (colons allowed), or empty for none";
			return undefined;
		}
	}
}

/** A DNS name (RFC 1123 labels), a dotted IPv4 address or an IPv6 literal. */
function isHost(text: string): boolean {
	if (text.includes(":")) return /^[0-9A-Fa-f:.]+$/.test(text) && text.split(":").length >= 3;
	const labels = text.split(".");
	if (labels.every((label) => /^[0-9]+$/.test(label))) return labels.length === 4 && labels.every((label) => Number(label) <= 255);
	return labels.every((label) => /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/.test(label));
}

function normalise(spec: SettingSpec, value: SettingValue): SettingValue {
	// One spelling, so that the same pin written two ways is the same setting (and the same stored bytes).
	if (spec.sha256) return (value as string).replaceAll(":", "").toLowerCase();
	if (spec.decimals === undefined) return value;
	const scale = 10 ** spec.decimals;
	return Math.round((value as number) * scale) / scale;
}

/** A value as it may appear in an error message: secrets are never echoed. */
function describe(key: string, value: unknown): string {
	if (Object.hasOwn(SETTINGS, key) && SETTINGS[key].secret) return "a value";
	// JSON.parse turns 1e400 into Infinity, which JSON.stringify would show as null.
	const text = typeof value === "number" ? String(value) : JSON.stringify(value) ?? String(value);
	return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}

/** `settings` with every secret replaced, for topics and logs. */
export function redact(settings: Readonly<Settings>): Settings {
	const out: Settings = {};
	for (const key of Object.keys(settings)) {
		const secret = SETTINGS[key]?.secret;
		out[key] = secret ? (settings[key] === "" ? "" : "***") : settings[key];
	}
	return out;
}

/**
 * Build-time settings from flat strings (Moddable's mc/config, command-line flags): converted per the
 * table and checked like any document. Unknown keys are left to the caller; bad values are reported.
 */
export function settingsFromStrings(strings: Readonly<Record<string, string | undefined>>, errors: string[]): Settings {
	const settings: Settings = {};
	for (const [key, text] of Object.entries(strings)) {
		const spec = Object.hasOwn(SETTINGS, key) ? SETTINGS[key] : undefined;
		if (!spec || text === undefined) continue;
		const value = spec.type === "integer" || spec.type === "number" ? (text.trim() === "" ? NaN : Number(text))
			: spec.type === "boolean" ? (text === "true" || text === "1" ? true : text === "false" || text === "0" ? false : text)
			: text;
		const problem = checkValue(spec, value);
		if (problem) errors.push(`${key}: ${problem} (got ${describe(key, text)})`);
		else settings[key] = normalise(spec, value);
	}
	return settings;
}
