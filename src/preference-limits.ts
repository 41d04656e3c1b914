/*
 * The strictest Preference limits across the boards we ship to, so that what the simulator stores, a
 * device stores too. ESP32 NVS caps domain (namespace) and key at 15 characters; ESP8266 caps a value at
 * 63 bytes; neither stores floats. The desktop simulator enforces none of this, so every host checks here.
 */
import type { StoreValue } from "./io";
import { utf8Length } from "./utf8";

export const MAX_PREFERENCE_NAME = 15;
export const MAX_PREFERENCE_VALUE_BYTES = 63;

/** Throws the device's error for a Preference entry a board would refuse. */
export function checkPreference(domain: string, key: string, value?: StoreValue): void {
	if (!domain.length || !key.length || domain.length > MAX_PREFERENCE_NAME || key.length > MAX_PREFERENCE_NAME)
		throw new RangeError("too long");
	if (value === undefined) return;
	switch (typeof value) {
		case "boolean":
			return;
		case "number":
			if (!Number.isInteger(value) || value < -2147483648 || value > 2147483647) throw new TypeError("float unsupported");
			return;
		case "string": {
			const bytes = utf8Length(value);
			if (bytes < 0 || bytes > MAX_PREFERENCE_VALUE_BYTES) throw new RangeError("can't save prefs");
			return;
		}
		default:
			if (!(value instanceof ArrayBuffer)) throw new TypeError("unsupported type");
			if (value.byteLength > MAX_PREFERENCE_VALUE_BYTES) throw new RangeError("can't save prefs");
	}
}

