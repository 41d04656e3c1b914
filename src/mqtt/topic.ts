/*
 * Topic names and filters checked at the API, so a bad one fails at the call with a reason instead of
 * reaching the broker, which would drop the connection (§4.7).
 */
import { utf8Length } from "../utf8";

/** Called as `charCodeAt.call(text, i)`, which does not box the string in XS (see src/utf8.ts). */
const charCodeAt = String.prototype.charCodeAt;

const MAX_TOPIC_BYTES = 0xffff;
const NUL = 0x00;
const HASH = 0x23;
const PLUS = 0x2b;
const SLASH = 0x2f;

/**
 * Checks what names and filters share and returns the UTF-8 length. With `wildcards` false (a topic name),
 * + and # are refused too. One pass with `charCodeAt.call`: see src/utf8.ts for why not `text.includes`.
 */
function checkString(kind: string, text: string, wildcards: boolean): number {
	if (typeof text !== "string") throw new TypeError(`${kind} must be a string`);
	const count = text.length;
	if (!count) throw new RangeError(`${kind} must not be empty`); // [MQTT-4.7.3-1]
	const length = utf8Length(text);
	if (length < 0) throw new RangeError(`${kind} "${text}" is not valid UTF-16 (lone surrogate)`);
	if (length > MAX_TOPIC_BYTES) throw new RangeError(`${kind} is ${length} bytes, more than ${MAX_TOPIC_BYTES}`); // [MQTT-4.7.3-3]
	for (let i = 0; i < count; i++) {
		const c = charCodeAt.call(text, i);
		if (c === NUL) throw new RangeError(`${kind} must not contain U+0000`); // [MQTT-4.7.3-2]
		if (!wildcards && (c === PLUS || c === HASH)) throw new RangeError(`topic "${text}" must not contain the wildcards + or #`); // [MQTT-3.3.2-2]
	}
	return length;
}

/** Checks a topic name for PUBLISH (or a will); returns its UTF-8 length or throws a RangeError/TypeError saying why. */
export function checkTopicName(topic: string): number {
	return checkString("topic", topic, false);
}

/** Checks a subscription filter; returns its UTF-8 length or throws a RangeError/TypeError saying why. */
export function checkTopicFilter(filter: string): number {
	const length = checkString("filter", filter, true);
	const last = filter.length - 1;
	for (let i = 0; i <= last; i++) {
		const c = charCodeAt.call(filter, i);
		const before = i > 0 ? charCodeAt.call(filter, i - 1) : SLASH;
		const after = i < last ? charCodeAt.call(filter, i + 1) : SLASH;
		// [MQTT-4.7.1-2] '#' alone or after '/', and last; [MQTT-4.7.1-3] '+' fills a whole level.
		if (c === HASH && (i !== last || before !== SLASH))
			throw new RangeError(`filter "${filter}": # must be the last level, on its own`);
		if (c === PLUS && (before !== SLASH || after !== SLASH))
			throw new RangeError(`filter "${filter}": + must fill a whole level`);
	}
	return length;
}
