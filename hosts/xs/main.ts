/*
 * Firmware entry in the XS worker (bundled by hosts/xs/node/bundle.ts, driven by hosts/xs/node/boot.ts).
 * Boots the unchanged SensorNode on the XS host binding, with a simulated sensor board in XS, when the Node
 * side sends `boot`; afterwards it answers every event with the node's status (protocol.ts).
 */
import { Bridge } from "./bridge";
import { XsClock, createXsHost } from "./host";
import { petrify } from "./preload";
import { EVENT, STATUS_FIELDS, type BootOptions, type XsMemory, type XsStatus } from "./protocol";
import { xsnap } from "./xsnap";
import { SensorNode } from "src/app/node";
import type { Host } from "src/io";
import { decodeUtf8, encodeUtf8 } from "src/utf8";
import { Environment, type EnvironmentOptions } from "sim/environment";
import { SIMULATED_CHIPS, simulatedBoard, type SimulatedChip } from "sim/sensors/board";

class XsFirmware {
	readonly #bridge: Bridge;
	/** The answer to every event, reused. */
	readonly #status = new DataView(new ArrayBuffer(STATUS_FIELDS.length * 4));
	#node: SensorNode | undefined;
	#binding: XsMemory["binding"];

	constructor() {
		const bridge = this.#bridge = new Bridge(() => this.#report());
		bridge.on(EVENT.boot, (reader) => {
			this.#boot(JSON.parse(decodeUtf8(reader.rest()) ?? "null") as BootOptions);
			return undefined;
		});
		bridge.on(EVENT.sample, () => {
			const node = this.#running();
			bridge.firmware("sample", node.sampleNow, node);
			return undefined;
		});
		bridge.on(EVENT.stop, () => {
			const node = this.#running();
			bridge.firmware("stop", node.stop, node);
			return undefined;
		});
		bridge.on(EVENT.memory, (reader) => {
			if (reader.u8()) xsnap.gc();
			return json(xsnap.memory ? { ...xsnap.memory(), binding: this.#binding } : null);
		});
		bridge.on(EVENT.settings, () => json(this.#running().settings));
		bridge.on(EVENT.segments, (reader) => {
			if (!reader.u8()) return json(bridge.segments.stop());
			bridge.segments.start();
			return undefined;
		});
	}

	#boot(options: BootOptions): void {
		if (this.#node) throw new Error("already booted");
		const chip = options.chip as SimulatedChip;
		if (!SIMULATED_CHIPS.includes(chip)) throw new RangeError(`no simulated chip "${options.chip}" (${SIMULATED_CHIPS.join(", ")})`);
		// The binding and the simulated board are what a board does not have: made on the host's account,
		// and their heap measured, so that the node's own can be told from it.
		const before = this.#collected();
		const clock = new XsClock(this.#bridge);
		const board = simulatedBoard(chip, new Environment(options.environment as EnvironmentOptions | undefined), clock);
		const host = createXsHost(this.#bridge, clock, board.i2c, options.mac ?? "", options.flash);
		const after = this.#collected();
		if (before && after) this.#binding = { slots: after.slots - before.slots, chunks: after.chunks - before.chunks };
		this.#bridge.firmware("boot", this.#create, this, host, options);
	}

	/** What a board's main does once it has its host. */
	#create(host: Host, options: BootOptions): void {
		this.#node = new SensorNode({ host, id: options.id, root: options.root, settings: options.settings, mqtt: options.mqtt });
	}

	/** The heap after a garbage collection, with the memory-probe worker. */
	#collected(): XsMemory | undefined {
		if (!xsnap.memory) return undefined;
		xsnap.gc();
		return xsnap.memory();
	}

	#running(): SensorNode {
		if (!this.#node) throw new Error("not booted");
		return this.#node;
	}

	#report(): ArrayBuffer {
		const node = this.#node;
		const status = this.#status;
		if (!node) {
			for (let i = 0; i < STATUS_FIELDS.length; i++) status.setUint32(i * 4, 0, true);
			return status.buffer;
		}
		const { counters } = node;
		const mqtt = node.mqtt;
		const values: XsStatus = {
			booted: 1, connected: node.connected ? 1 : 0, readings: counters.readings, published: counters.published,
			crcErrors: counters.crcErrors, sensorErrors: counters.sensorErrors, sent: mqtt.sent, resent: mqtt.resent,
			acked: mqtt.acked, dropped: mqtt.dropped, received: mqtt.received, reconnects: mqtt.reconnects,
			handlerErrors: mqtt.handlerErrors,
		};
		STATUS_FIELDS.forEach((field, i) => status.setUint32(i * 4, values[field], true));
		return status.buffer;
	}
}

function json(value: unknown): ArrayBuffer {
	return encodeUtf8(JSON.stringify(value)).buffer as ArrayBuffer;
}

new XsFirmware();
// Every module has run: this is where a build's preload ends, and the Node side has not booted the node yet.
petrify(PRELOADED_BINDINGS);
