/*
 * The bridge protocol between the firmware in the XS worker and its Node side, shared by both (portable: no
 * Node API, no XS global). Every message is one byte array: an opcode, then fields in order.
 *
 * XS -> Node, through the worker's synchronous `issueCommand`: requests (REQUEST), answered at once.
 * Node -> XS, through the worker's `handleCommand`: events (EVENT), one per crank; the reply is the node's
 * status (STATUS_FIELDS as u32s), or what the event asks for (memory figures as JSON).
 *
 * Numbers are little-endian; strings are a u16 byte count then UTF-8; "bytes" runs to the end of the message.
 */
import { readUtf8, utf8Length, writeUtf8 } from "src/utf8";

export const REQUEST = Object.freeze({
	/** id u32, ms f64, repeat u8 -> nothing */
	timerSet: 1,
	/** id u32 -> nothing */
	timerClear: 2,
	/** id u32, port u16, nodelay u8, address string -> outcome */
	tcpOpen: 3,
	/** id u32 -> the bytes received so far (none: an empty reply) */
	tcpRead: 4,
	/** id u32, bytes -> outcome */
	tcpWrite: 5,
	/** id u32 -> nothing */
	tcpClose: 6,
	/** id u32, host string -> nothing; the answer comes as a `resolved` or `unresolved` event */
	resolve: 7,
	/** domain string, key string -> outcome, then the value */
	storeGet: 8,
	/** domain string, key string, value -> outcome */
	storeSet: 9,
	/** domain string, key string -> outcome */
	storeDelete: 10,
	/** domain string -> outcome, then a u16 count and that many strings */
	storeKeys: 11,
	/** level u8 (LOG_LEVELS index), message string -> nothing */
	log: 12,
	/** -> nothing */
	restart: 13,
	/** offset u32, length u32 -> outcome, then the bytes */
	flashRead: 14,
	/** offset u32, length u32, bytes -> outcome */
	flashWrite: 15,
	/** sector u32 -> outcome */
	flashErase: 16,
});

export const EVENT = Object.freeze({
	/** JSON (BootOptions) -> status */
	boot: 1,
	/** id u32 -> status */
	timer: 2,
	/** id u32, bytes u32 -> status */
	writable: 3,
	/** id u32, bytes u32 -> status */
	readable: 4,
	/** id u32 -> status */
	tcpError: 5,
	/** id u32, address string -> status */
	resolved: 6,
	/** id u32 -> status */
	unresolved: 7,
	/** -> status: one reading cycle now (SensorNode.sampleNow) */
	sample: 8,
	/** -> status: graceful stop (SensorNode.stop) */
	stop: 9,
	/** collect u8 -> JSON (XsMemory): the heap after a garbage collection when `collect` is 1 */
	memory: 10,
	/** -> JSON: the settings in force */
	settings: 11,
	/** start u8 -> status when 1 (start cutting the firmware's work into segments), JSON (Segment[]) when 0 */
	segments: 12,
});

export const LOG_LEVELS = Object.freeze(["debug", "info", "warn", "error"] as const);

/** The node's state returned after every event, so the Node side can wait on it without asking again. */
export const STATUS_FIELDS = Object.freeze([
	"booted", "connected", "readings", "published", "crcErrors", "sensorErrors",
	"sent", "resent", "acked", "dropped", "received", "reconnects", "handlerErrors",
] as const);
export type XsStatus = Record<(typeof STATUS_FIELDS)[number], number>;

/** What the Node side sends with the `boot` event. */
export interface BootOptions {
	chip: string;
	id?: string;
	root?: string;
	/** Build-time settings (host and port of the broker included). */
	settings?: Record<string, number | string | boolean>;
	/** MqttClient tuning (backoff, ...), as SensorNode takes it. */
	mqtt?: Record<string, unknown>;
	/** Environment options for the simulated air (seed, base values, swing, noise). */
	environment?: Record<string, unknown>;
	mac?: string;
	/** The geometry of the flash region the Node side keeps, when the node has one. */
	flash?: { byteLength: number; blockSize: number };
}

/**
 * Outcome of a request that may fail as the device would: OK, or the error the device throws (its class
 * and message), which the XS side throws again.
 */
export const OUTCOME = Object.freeze({ ok: 0, rangeError: 1, typeError: 2, error: 3 });

/** Stored values, tagged by type. */
export const VALUE = Object.freeze({ none: 0, false: 1, true: 2, number: 3, string: 4, bytes: 5 });

/**
 * Memory and compute figures from the memory-probe worker (hosts/xs/node/memory-probe.c). Live figures are
 * what the heap holds now; the tallies count every allocation since the worker started, whether collected
 * since or not, split between the firmware and the host binding (the bridge, which a device does not have).
 */
export interface XsMemory {
	/** sizeof(txSlot) in this worker (32 on 64-bit hosts; 16 on a 32-bit MCU). */
	slotBytes: number;
	/** Live slots and chunk bytes (chunk headers included). */
	slots: number;
	chunks: number;
	peakSlots: number;
	peakChunks: number;
	collections: number;
	firmware: XsTally;
	host: XsTally;
	/** The XS binding and the simulated board, live right after boot made them (in `memory` event answers). */
	binding?: { slots: number; chunks: number };
}

export interface XsTally {
	/** Slots allocated. */
	slots: number;
	/** Chunk bytes allocated, headers and alignment included, string literals excepted. */
	chunks: number;
	/**
	 * Chunk bytes of string literals copied out of the byte code when evaluated: code compiled at run time,
	 * as in the worker, does that; on a board, xsc-compiled code refers to the literal in flash instead.
	 */
	literals: number;
	/** Computrons (XS's unit of metered work). */
	computrons: number;
}

/** Builds messages in a scratch buffer that grows as needed and is reused, so building allocates little. */
export class Writer {
	#bytes = new Uint8Array(64);
	#view = new DataView(this.#bytes.buffer);
	#length = 0;

	/** Starts a new message with its opcode. */
	begin(op: number): this {
		return this.clear().u8(op);
	}

	/** Starts a new message without an opcode (an answer). */
	clear(): this {
		this.#length = 0;
		return this;
	}

	u8(value: number): this {
		this.#room(1);
		this.#bytes[this.#length++] = value;
		return this;
	}

	u16(value: number): this {
		this.#room(2);
		this.#view.setUint16(this.#length, value, true);
		this.#length += 2;
		return this;
	}

	u32(value: number): this {
		this.#room(4);
		this.#view.setUint32(this.#length, value, true);
		this.#length += 4;
		return this;
	}

	f64(value: number): this {
		this.#room(8);
		this.#view.setFloat64(this.#length, value, true);
		this.#length += 8;
		return this;
	}

	/** A string with a UTF-8 form (lone surrogates are the caller's to reject). */
	string(text: string): this {
		const length = utf8Length(text);
		if (length < 0 || length > 0xffff) throw new RangeError("string too long or not valid UTF-16");
		this.u16(length);
		this.#room(length);
		this.#length = writeUtf8(text, this.#bytes, this.#length);
		return this;
	}

	bytes(data: Uint8Array): this {
		this.#room(data.byteLength);
		this.#bytes.set(data, this.#length);
		this.#length += data.byteLength;
		return this;
	}

	/** The message so far, copied into an ArrayBuffer of its exact length. */
	finish(): ArrayBuffer {
		return this.#bytes.buffer.slice(0, this.#length);
	}

	#room(count: number): void {
		if (this.#length + count <= this.#bytes.length) return;
		let size = this.#bytes.length * 2;
		while (size < this.#length + count) size *= 2;
		const bytes = new Uint8Array(size);
		bytes.set(this.#bytes.subarray(0, this.#length));
		this.#bytes = bytes;
		this.#view = new DataView(bytes.buffer);
	}
}

/** Reads a message field by field; a message shorter than its fields throws a RangeError. */
export class Reader {
	readonly #bytes: Uint8Array;
	readonly #view: DataView;
	#offset = 0;

	constructor(message: ArrayBuffer | Uint8Array) {
		this.#bytes = message instanceof Uint8Array ? message : new Uint8Array(message);
		this.#view = new DataView(this.#bytes.buffer, this.#bytes.byteOffset, this.#bytes.byteLength);
	}

	u8(): number {
		return this.#view.getUint8(this.#offset++);
	}

	u16(): number {
		const value = this.#view.getUint16(this.#offset, true);
		this.#offset += 2;
		return value;
	}

	u32(): number {
		const value = this.#view.getUint32(this.#offset, true);
		this.#offset += 4;
		return value;
	}

	f64(): number {
		const value = this.#view.getFloat64(this.#offset, true);
		this.#offset += 8;
		return value;
	}

	string(): string {
		const length = this.u16();
		const end = this.#offset + length;
		if (end > this.#bytes.length) throw new RangeError("truncated message");
		const text = readUtf8(this.#bytes, this.#offset, end);
		if (text === undefined) throw new RangeError("malformed UTF-8 in message");
		this.#offset = end;
		return text;
	}

	/** The rest of the message (a view, not a copy). */
	rest(): Uint8Array {
		const rest = this.#bytes.subarray(this.#offset);
		this.#offset = this.#bytes.length;
		return rest;
	}
}

export function writeValue(writer: Writer, value: boolean | number | string | ArrayBuffer | undefined): Writer {
	if (value === undefined) return writer.u8(VALUE.none);
	if (typeof value === "boolean") return writer.u8(value ? VALUE.true : VALUE.false);
	if (typeof value === "number") return writer.u8(VALUE.number).f64(value);
	if (typeof value === "string") return writer.u8(VALUE.string).string(value);
	return writer.u8(VALUE.bytes).bytes(new Uint8Array(value));
}

/** A stored value; bytes come back as a new ArrayBuffer the caller owns. */
export function readValue(reader: Reader): boolean | number | string | ArrayBuffer | undefined {
	switch (reader.u8()) {
		case VALUE.none: return undefined;
		case VALUE.false: return false;
		case VALUE.true: return true;
		case VALUE.number: return reader.f64();
		case VALUE.string: return reader.string();
		case VALUE.bytes: return reader.rest().slice().buffer;
		default: throw new RangeError("unknown value tag");
	}
}

/** Writes the outcome of an operation that threw `error` (or OK when it is undefined). */
export function writeOutcome(writer: Writer, error?: unknown): Writer {
	if (error === undefined) return writer.u8(OUTCOME.ok);
	const kind = error instanceof RangeError ? OUTCOME.rangeError : error instanceof TypeError ? OUTCOME.typeError : OUTCOME.error;
	return writer.u8(kind).string(error instanceof Error ? error.message : String(error));
}

/** Throws the error an outcome carries, as the class the device throws. */
export function checkOutcome(reader: Reader): void {
	const kind = reader.u8();
	if (kind === OUTCOME.ok) return;
	const message = reader.string();
	if (kind === OUTCOME.rangeError) throw new RangeError(message);
	if (kind === OUTCOME.typeError) throw new TypeError(message);
	throw new Error(message);
}
