/*
 * The XS end of the bridge to Node: requests go out through the worker's synchronous `issueCommand`,
 * events come in through `handleCommand`, one per crank, and are routed to whoever registered for them.
 *
 * Everything the bridge does is charged to the HOST account of the memory-probe worker, and only the
 * firmware's own work to FIRMWARE, so that the figures show what the firmware would allocate on a device,
 * where none of this bridge exists. Host code brackets itself with `enter` and `leave`, and runs firmware
 * callbacks through `firmware`; those are also the boundaries that `segments` cuts the firmware's work at.
 */
import { Reader, Writer, checkOutcome } from "./protocol";
import { Segments } from "./segments";
import { FIRMWARE, HOST, charge, xsnap } from "./xsnap";

/** Handles one event; returns the answer, or undefined for the node's status. */
export type EventHandler = (reader: Reader) => ArrayBuffer | undefined;

export class Bridge {
	readonly segments = new Segments();
	readonly #writer = new Writer();
	readonly #handlers = new Map<number, EventHandler>();
	readonly #status: () => ArrayBuffer;

	/** `status`: the answer to events whose handler gives none. */
	constructor(status: () => ArrayBuffer) {
		this.#status = status;
		xsnap.handleCommand = (message) => this.#handle(message);
	}

	/** Starts a request (or any message) in the bridge's reusable buffer. */
	message(op: number): Writer {
		return this.#writer.begin(op);
	}

	/** Sends a request and returns a reader on the answer. */
	request(writer: Writer): Reader {
		return new Reader(xsnap.issueCommand(writer.finish()));
	}

	/** Sends a request whose answer is an outcome, and throws the error it carries, if any. */
	check(writer: Writer): void {
		checkOutcome(this.request(writer));
	}

	on(op: number, handler: EventHandler): void {
		if (this.#handlers.has(op)) throw new Error(`event ${op} already handled`);
		this.#handlers.set(op, handler);
	}

	/** Host code named `label` starts: charged to the host until `leave(returned value)`. */
	enter(label: string): number {
		const was = charge(HOST);
		if (was === FIRMWARE) this.segments.reach(label);
		return was;
	}

	leave(was: number): void {
		charge(was);
	}

	/** Runs a firmware callback for the event `label`, charged to the firmware; callers are host code. */
	firmware<A extends unknown[]>(label: string, callback: ((...args: A) => void) | undefined, self: unknown, ...args: A): void {
		if (!callback) return;
		this.segments.resume(label);
		charge(FIRMWARE);
		try {
			callback.apply(self, args);
		}
		finally {
			charge(HOST);
			this.segments.reach("return");
		}
	}

	#handle(message: ArrayBuffer): ArrayBuffer {
		charge(HOST, true);
		const reader = new Reader(message);
		const op = reader.u8();
		const handler = this.#handlers.get(op);
		if (!handler) throw new Error(`unknown event ${op}`);
		return handler(reader) ?? this.#status();
	}
}
