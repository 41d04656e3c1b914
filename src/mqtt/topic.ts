/*
 * Topic names and filters checked at the API, so a bad one fails at the call with a reason instead of
 * reaching the broker, which would drop the connection (§4.7).
 */
import { utf8Length } from "../utf8";

const MAX_TOPIC_BYTES = 0xffff;

/** Checks what names and filters share; returns the UTF-8 length. */
function checkString(kind: string, text: string): number {
	if (typeof text !== "string") throw new TypeError(`${kind} must be a string`);
	if (!text.length) throw new RangeError(`${kind} must not be empty`); // [MQTT-4.7.3-1]
	const length = utf8Length(text);
	if (length < 0) throw new RangeError(`${kind} "${text}" is not valid UTF-16 (lone surrogate)`);
	if (length > MAX_TOPIC_BYTES) throw new RangeError(`${kind} is ${length} bytes, more than ${MAX_TOPIC_BYTES}`); // [MQTT-4.7.3-3]
	if (text.includes("\u0000")) throw new RangeError(`${kind} must not contain U+0000`); // [MQTT-4.7.3-2]
	return length;
}

/** Checks a topic name for PUBLISH (or a will); returns its UTF-8 length or throws a RangeError/TypeError saying why. */
export function checkTopicName(topic: string): number {
	const length = checkString("topic", topic);
	if (topic.includes("+") || topic.includes("#")) throw new RangeError(`topic "${topic}" must not contain the wildcards + or #`); // [MQTT-3.3.2-2]
	return length;
}

/** Checks a subscription filter; returns its UTF-8 length or throws a RangeError/TypeError saying why. */
export function checkTopicFilter(filter: string): number {
	const length = checkString("filter", filter);
	const last = filter.length - 1;
	for (let i = 0; i <= last; i++) {
		const c = filter[i];
		// [MQTT-4.7.1-2] '#' alone or after '/', and last; [MQTT-4.7.1-3] '+' fills a whole level.
		if (c === "#" && (i !== last || (i > 0 && filter[i - 1] !== "/")))
			throw new RangeError(`filter "${filter}": # must be the last level, on its own`);
		if (c === "+" && ((i > 0 && filter[i - 1] !== "/") || (i < last && filter[i + 1] !== "/")))
			throw new RangeError(`filter "${filter}": + must fill a whole level`);
	}
	return length;
}
