/*
 * The Host inside the XS worker. The I2C bus is the simulated board, running here in XS with the
 * firmware; everything else goes over the bridge to Node, which serves it with the Node host's own
 * stand-ins (so a socket here keeps the device's write budget and error rules, and storage the device's
 * Preference limits).
 *
 * Time: `ticks()` is read from the worker's own clock (milliseconds since boot), not asked of Node, because
 * the simulated chips read the clock on every I2C transaction and a round trip each would distort the compute
 * figures. Timers are kept by Node, which fires them by sending an event; both sides use real time.
 *
 * Accounting (memory-probe worker): every host function brackets itself with bridge.enter/leave, so its
 * work is charged to the host, and firmware callbacks run through bridge.firmware. What a device makes
 * natively (timer records, socket state, the I2C driver's work) is charged to the host; what a device
 * allocates in JavaScript too (the io instances, the ArrayBuffer that TCP read() returns) to the firmware.
 */
import type { Bridge } from "./bridge";
import { EVENT, LOG_LEVELS, REQUEST, checkOutcome, readValue, writeValue } from "./protocol";
import { xsnap } from "./xsnap";
import type { Board, Clock, Flash, Host, I2C, I2CBus, I2COptions, Log, Resolver, Store, StoreValue, Tcp, TcpConstructor, TcpOptions, TimerId } from "src/io";

/**
 * The host boundaries, named once: a string literal is copied each time it is evaluated in code compiled at
 * run time, and the firmware, which evaluates a boundary's name, would be charged for the copy.
 */
const AT = Object.freeze({
	clockClear: "clock.clear",
	clockRepeat: "clock.repeat",
	clockSet: "clock.set",
	clockTicks: "clock.ticks",
	dnsResolve: "dns.resolve",
	flashErase: "flash.erase",
	flashRead: "flash.read",
	flashWrite: "flash.write",
	i2cClose: "i2c.close",
	i2cOpen: "i2c.open",
	i2cRead: "i2c.read",
	i2cWrite: "i2c.write",
	i2cWriteRead: "i2c.writeRead",
	log: "log",
	restart: "restart",
	storeDelete: "store.delete",
	storeGet: "store.get",
	storeKeys: "store.keys",
	storeSet: "store.set",
	tcpClose: "tcp.close",
	tcpOpen: "tcp.open",
	tcpRead: "tcp.read",
	tcpWrite: "tcp.write",
});

class XsTimer {
	readonly id: number;
	readonly callback: () => void;
	readonly repeat: boolean;

	constructor(id: number, callback: () => void, repeat: boolean) {
		this.id = id;
		this.callback = callback;
		this.repeat = repeat;
	}
}

export class XsClock implements Clock {
	readonly #bridge: Bridge;
	readonly #origin = xsnap.performance.now();
	readonly #timers = new Map<number, XsTimer>();
	#next = 1;

	constructor(bridge: Bridge) {
		this.#bridge = bridge;
		bridge.on(EVENT.timer, (reader) => {
			const timer = this.#timers.get(reader.u32());
			if (!timer) return undefined;
			if (!timer.repeat) this.#timers.delete(timer.id);
			bridge.firmware("timer", timer.callback, undefined);
			return undefined;
		});
	}

	ticks(): number {
		// A boundary too, so that segments cut the firmware's work finer.
		this.#bridge.leave(this.#bridge.enter(AT.clockTicks));
		return Math.floor(xsnap.performance.now() - this.#origin);
	}

	set(callback: () => void, ms: number): TimerId {
		return this.#start(callback, ms, false);
	}

	repeat(callback: () => void, ms: number): TimerId {
		return this.#start(callback, ms, true);
	}

	clear(id: TimerId | undefined): void {
		if (!(id instanceof XsTimer) || !this.#timers.has(id.id)) return;
		const bridge = this.#bridge;
		const was = bridge.enter(AT.clockClear);
		try {
			this.#timers.delete(id.id);
			bridge.request(bridge.message(REQUEST.timerClear).u32(id.id));
		}
		finally {
			bridge.leave(was);
		}
	}

	#start(callback: () => void, ms: number, repeat: boolean): TimerId {
		const bridge = this.#bridge;
		const was = bridge.enter(repeat ? AT.clockRepeat : AT.clockSet);
		try {
			const timer = new XsTimer(this.#next++, callback, repeat);
			this.#timers.set(timer.id, timer);
			bridge.request(bridge.message(REQUEST.timerSet).u32(timer.id).f64(ms).u8(repeat ? 1 : 0));
			return timer;
		}
		finally {
			bridge.leave(was);
		}
	}
}

/**
 * The simulated bus runs in XS but stands for the board's native I2C driver, which allocates nothing in
 * the JavaScript heap: its work is charged to the host.
 */
function hostedI2C(bridge: Bridge, bus: I2CBus): I2CBus {
	const Simulated = bus.io;
	class HostedI2C implements I2C {
		readonly #io: I2C;

		constructor(options: I2COptions) {
			const was = bridge.enter(AT.i2cOpen);
			try {
				this.#io = new Simulated(options);
			}
			finally {
				bridge.leave(was);
			}
		}

		read(buffer: Uint8Array): unknown {
			const was = bridge.enter(AT.i2cRead);
			try {
				return this.#io.read(buffer);
			}
			finally {
				bridge.leave(was);
			}
		}

		write(buffer: Uint8Array): void {
			const was = bridge.enter(AT.i2cWrite);
			try {
				this.#io.write(buffer);
			}
			finally {
				bridge.leave(was);
			}
		}

		writeRead(write: Uint8Array, read: Uint8Array): unknown {
			const was = bridge.enter(AT.i2cWriteRead);
			try {
				return this.#io.writeRead(write, read);
			}
			finally {
				bridge.leave(was);
			}
		}

		close(): void {
			const was = bridge.enter(AT.i2cClose);
			try {
				this.#io.close();
			}
			finally {
				bridge.leave(was);
			}
		}
	}
	return { io: HostedI2C, data: bus.data, clock: bus.clock };
}

/** The TCP `io` class: each socket's state is here, the connection on the Node side. */
function xsTcpClass(bridge: Bridge): TcpConstructor {
	const sockets = new Map<number, XsTcp>();
	let next = 1;

	class XsTcp implements Tcp {
		readonly #id: number;
		readonly #options: TcpOptions;
		#closed = false;

		constructor(options: TcpOptions) {
			const was = bridge.enter(AT.tcpOpen);
			try {
				this.#id = next++;
				this.#options = options;
				bridge.check(bridge.message(REQUEST.tcpOpen).u32(this.#id).u16(options.port & 0xffff).u8(options.nodelay ? 1 : 0).string(options.address));
				sockets.set(this.#id, this);
			}
			finally {
				bridge.leave(was);
			}
		}

		read(byteLength?: number): ArrayBuffer | undefined {
			if (this.#closed) throw new Error("closed");
			const was = bridge.enter(AT.tcpRead);
			let request: ArrayBuffer;
			try {
				// 0: everything waiting.
				request = bridge.message(REQUEST.tcpRead).u32(this.#id).u32(byteLength ?? 0).finish();
			}
			finally {
				bridge.leave(was);
			}
			// Charged to the reader, as on a device, where read() returns a new ArrayBuffer too.
			const data = xsnap.issueCommand(request);
			return data.byteLength ? data : undefined;
		}

		write(data: Uint8Array): void {
			if (this.#closed) throw new Error("closed");
			const was = bridge.enter(AT.tcpWrite);
			try {
				bridge.check(bridge.message(REQUEST.tcpWrite).u32(this.#id).bytes(data));
			}
			finally {
				bridge.leave(was);
			}
		}

		close(): void {
			if (this.#closed) return;
			const was = bridge.enter(AT.tcpClose);
			try {
				this.#closed = true;
				sockets.delete(this.#id);
				bridge.request(bridge.message(REQUEST.tcpClose).u32(this.#id));
			}
			finally {
				bridge.leave(was);
			}
		}

		/** Called by the bridge for this socket's events. */
		static event(id: number, op: number, bytes: number): undefined {
			const socket = sockets.get(id);
			if (!socket || socket.#closed) return undefined;
			const options = socket.#options;
			if (op === EVENT.writable) bridge.firmware("tcp.writable", options.onWritable, socket, bytes);
			else if (op === EVENT.readable) bridge.firmware("tcp.readable", options.onReadable, socket, bytes);
			else bridge.firmware("tcp.error", options.onError, socket);
			return undefined;
		}
	}

	bridge.on(EVENT.writable, (reader) => XsTcp.event(reader.u32(), EVENT.writable, reader.u32()));
	bridge.on(EVENT.readable, (reader) => XsTcp.event(reader.u32(), EVENT.readable, reader.u32()));
	bridge.on(EVENT.tcpError, (reader) => XsTcp.event(reader.u32(), EVENT.tcpError, 0));
	return XsTcp;
}

interface Resolving {
	host: string;
	onResolved: (host: string, address: string) => void;
	onError: (host: string) => void;
}

function xsResolver(bridge: Bridge): Resolver {
	const pending = new Map<number, Resolving>();
	let next = 1;
	const settle = (id: number, address: string | undefined) => {
		const request = pending.get(id);
		if (!request) return undefined;
		pending.delete(id);
		if (address === undefined) bridge.firmware("dns", request.onError, undefined, request.host);
		else bridge.firmware("dns", request.onResolved, undefined, request.host, address);
		return undefined;
	};
	bridge.on(EVENT.resolved, (reader) => settle(reader.u32(), reader.string()));
	bridge.on(EVENT.unresolved, (reader) => settle(reader.u32(), undefined));
	return {
		resolve({ host, onResolved, onError }) {
			const was = bridge.enter(AT.dnsResolve);
			try {
				const id = next++;
				pending.set(id, { host, onResolved, onError });
				bridge.request(bridge.message(REQUEST.resolve).u32(id).string(host));
			}
			finally {
				bridge.leave(was);
			}
		},
	};
}

/** Preference storage, kept by the Node side's PreferenceStore (which enforces the device's limits). */
function xsStore(bridge: Bridge): Store {
	return {
		get(domain, key) {
			const was = bridge.enter(AT.storeGet);
			try {
				const reader = bridge.request(bridge.message(REQUEST.storeGet).string(domain).string(key));
				checkOutcome(reader);
				return readValue(reader);
			}
			finally {
				bridge.leave(was);
			}
		},
		set(domain, key, value: StoreValue) {
			const was = bridge.enter(AT.storeSet);
			try {
				bridge.check(writeValue(bridge.message(REQUEST.storeSet).string(domain).string(key), value));
			}
			finally {
				bridge.leave(was);
			}
		},
		delete(domain, key) {
			const was = bridge.enter(AT.storeDelete);
			try {
				bridge.check(bridge.message(REQUEST.storeDelete).string(domain).string(key));
			}
			finally {
				bridge.leave(was);
			}
		},
		keys(domain) {
			const was = bridge.enter(AT.storeKeys);
			try {
				const reader = bridge.request(bridge.message(REQUEST.storeKeys).string(domain));
				checkOutcome(reader);
				const keys: string[] = [];
				for (let count = reader.u16(); count > 0; count--) keys.push(reader.string());
				return keys;
			}
			finally {
				bridge.leave(was);
			}
		},
	};
}

/** The flash region, kept by the Node side's SimulatedFlash (which enforces the device's rules). */
function xsFlash(bridge: Bridge, geometry: { byteLength: number; blockSize: number }): Flash {
	return {
		byteLength: geometry.byteLength,
		blockSize: geometry.blockSize,
		read(offset, byteLength) {
			const was = bridge.enter(AT.flashRead);
			try {
				const reader = bridge.request(bridge.message(REQUEST.flashRead).u32(offset).u32(byteLength));
				checkOutcome(reader);
				return reader.rest().slice().buffer;
			}
			finally {
				bridge.leave(was);
			}
		},
		write(offset, byteLength, buffer) {
			const was = bridge.enter(AT.flashWrite);
			try {
				const bytes = ArrayBuffer.isView(buffer) ? new Uint8Array(buffer.buffer, buffer.byteOffset, byteLength) : new Uint8Array(buffer, 0, byteLength);
				bridge.check(bridge.message(REQUEST.flashWrite).u32(offset).u32(byteLength).bytes(bytes));
			}
			finally {
				bridge.leave(was);
			}
		},
		erase(sector) {
			const was = bridge.enter(AT.flashErase);
			try {
				bridge.check(bridge.message(REQUEST.flashErase).u32(sector));
			}
			finally {
				bridge.leave(was);
			}
		},
	};
}

function xsLog(bridge: Bridge): Log {
	return (level, message, detail = "") => {
		const was = bridge.enter(AT.log);
		try {
			bridge.request(bridge.message(REQUEST.log).u8(LOG_LEVELS.indexOf(level)).string(message).string(detail));
		}
		finally {
			bridge.leave(was);
		}
	};
}

function xsBoard(bridge: Bridge, mac: string): Board {
	return {
		mac: () => mac,
		// The worker's arena is sized for a desktop, so its free space says nothing about a device's.
		freeMemory: () => undefined,
		restart() {
			const was = bridge.enter(AT.restart);
			try {
				bridge.request(bridge.message(REQUEST.restart));
			}
			finally {
				bridge.leave(was);
			}
		},
	};
}

/** The Host for firmware running in the XS worker; `i2c` is a simulated bus running in XS too, on `clock`. */
export function createXsHost(bridge: Bridge, clock: XsClock, i2c: I2CBus, mac: string, flash?: { byteLength: number; blockSize: number }): Host {
	return {
		i2c: hostedI2C(bridge, i2c),
		tcp: xsTcpClass(bridge),
		dns: xsResolver(bridge),
		clock,
		store: xsStore(bridge),
		flash: flash && xsFlash(bridge, flash),
		log: xsLog(bridge),
		board: xsBoard(bridge, mac),
	};
}
