/*
 * UTF-8 without host help: XS has no TextEncoder unless a manifest adds it, and Node's Buffer is off limits
 * in src/. Decoding is strict in the way MQTT 3.1.1 §1.5.3 requires: overlong forms, surrogate code
 * points, code points above U+10FFFF and truncated sequences are ill-formed.
 *
 * Strings are walked with `charCodeAt.call(text, i)`, their length read once: XS boxes a primitive string
 * in a new String object on every property access (`text.length`, `text.charCodeAt`), two slots each time,
 * and a telemetry payload has ~170 characters. A built-in called with the string as `this` does not box it.
 * Measured in XS 13.3: about 1,100 slots per publish before, none after.
 */

// Module-private on purpose: V8 does not inline a call through an imported binding, which halves the
// codec's speed on Node; modules that walk strings keep their own copy of this line.
const charCodeAt = String.prototype.charCodeAt;

/** Bytes `text` takes in UTF-8, or -1 when it holds a lone surrogate and so has no UTF-8 form. */
export function utf8Length(text: string): number {
	const length = text.length;
	let bytes = 0;
	for (let i = 0; i < length; i++) {
		const c = charCodeAt.call(text, i);
		if (c < 0x80) bytes += 1;
		else if (c < 0x800) bytes += 2;
		else if (c < 0xd800 || c > 0xdfff) bytes += 3;
		else if (c <= 0xdbff && i + 1 < length && (charCodeAt.call(text, i + 1) & 0xfc00) === 0xdc00) {
			bytes += 4;
			i++;
		}
		else return -1;
	}
	return bytes;
}

/** Writes `text` (which must have a UTF-8 form, see `utf8Length`) into `bytes` at `offset`; returns the offset after it. */
export function writeUtf8(text: string, bytes: Uint8Array, offset: number): number {
	const length = text.length;
	for (let i = 0; i < length; i++) {
		let c = charCodeAt.call(text, i);
		if (c < 0x80) bytes[offset++] = c;
		else if (c < 0x800) {
			bytes[offset++] = 0xc0 | (c >> 6);
			bytes[offset++] = 0x80 | (c & 0x3f);
		}
		else if (c < 0xd800 || c > 0xdfff) {
			bytes[offset++] = 0xe0 | (c >> 12);
			bytes[offset++] = 0x80 | ((c >> 6) & 0x3f);
			bytes[offset++] = 0x80 | (c & 0x3f);
		}
		else {
			c = 0x10000 + ((c - 0xd800) << 10) + (charCodeAt.call(text, ++i) - 0xdc00);
			bytes[offset++] = 0xf0 | (c >> 18);
			bytes[offset++] = 0x80 | ((c >> 12) & 0x3f);
			bytes[offset++] = 0x80 | ((c >> 6) & 0x3f);
			bytes[offset++] = 0x80 | (c & 0x3f);
		}
	}
	return offset;
}

/** `text` as a new UTF-8 byte array. Throws a RangeError when it holds a lone surrogate. */
export function encodeUtf8(text: string): Uint8Array {
	const length = utf8Length(text);
	if (length < 0) throw new RangeError("string is not valid UTF-16");
	const bytes = new Uint8Array(length);
	writeUtf8(text, bytes, 0);
	return bytes;
}

/** Decodes `bytes[start, end)`; undefined when the bytes are not well-formed UTF-8. */
export function readUtf8(bytes: Uint8Array, start: number, end: number): string | undefined {
	let text = "";
	let i = start;
	while (i < end) {
		const b = bytes[i++];
		if (b < 0x80) {
			text += String.fromCharCode(b);
			continue;
		}
		let c: number;
		let more: number;
		let min: number;
		if ((b & 0xe0) === 0xc0) { c = b & 0x1f; more = 1; min = 0x80; }
		else if ((b & 0xf0) === 0xe0) { c = b & 0x0f; more = 2; min = 0x800; }
		else if ((b & 0xf8) === 0xf0) { c = b & 0x07; more = 3; min = 0x10000; }
		else return undefined;
		if (i + more > end) return undefined;
		while (more--) {
			const next = bytes[i++];
			if ((next & 0xc0) !== 0x80) return undefined;
			c = (c << 6) | (next & 0x3f);
		}
		if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff)) return undefined;
		if (c < 0x10000) text += String.fromCharCode(c);
		else {
			c -= 0x10000;
			text += String.fromCharCode(0xd800 + (c >> 10), 0xdc00 + (c & 0x3ff));
		}
	}
	return text;
}

/** Decodes a whole byte array; undefined when it is not well-formed UTF-8 (nothing is replaced). */
export function decodeUtf8(bytes: Uint8Array): string | undefined {
	return readUtf8(bytes, 0, bytes.length);
}
