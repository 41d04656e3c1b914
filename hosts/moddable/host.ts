/*
 * The Host on real Moddable targets (ESP32, ESP8266) and the desktop simulator: the SDK's own classes,
 * with two additions. Preference writes are checked against the strictest device limits first, because
 * the simulator enforces none and each board enforces different ones. And the I2C bus comes from
 * `device.I2C.default`, which board targets have and the simulator gets from setup-simulator.ts. TLS comes
 * from ./tls, which the manifest maps per platform (./no-tls on the ESP8266), and the flash region readings
 * wait in from ./flash (a partition on boards, a file in the simulators: ./file-flash).
 */
import type I2C from "embedded:io/i2c";
import TCP from "embedded:io/socket/tcp";
import Instrumentation from "instrumentation";
import Net from "net";
import Preference from "preference";
import Time from "time";
import Timer from "timer";
import { checkPreference } from "src/preference-limits";
import { date } from "./date";
import { openFlash } from "./flash";
import { noTls, tls } from "./tls";
import type { Board, Clock, Host, I2C as I2CIo, I2CBus, I2CConstructor, I2COptions, Log, Resolver, Store, Tcp, TcpConstructor, TcpOptions } from "src/io";

/*
 * The SDK's typings (npm 5.6 and the SDK's own 8.2 alike) leave out I2C `close()` and the `writeRead()`
 * extension, and type TCP `read()` for the "number" and "buffer" formats at once; the classes do have
 * exactly what src/io.ts asks for (modules/io/i2c/_i2c.js, modules/io/socket/*\/tcp.c). Everything else is
 * checked against the typings here; only those gaps are overruled, once.
 */
TCP satisfies new (options: TcpOptions) => Omit<Tcp, "read">;
const tcp = TCP as unknown as TcpConstructor;

/** `device.I2C.default` on board targets (esp32/nodemcu: data 21, clock 22; esp/nodemcu: data 5, clock 4). */
interface DefaultI2C {
	io: typeof I2C;
	data: number;
	clock: number;
}

function defaultI2C(): I2CBus {
	const bus = device.I2C.default as unknown as Partial<DefaultI2C>;
	if (!bus?.io || bus.data === undefined || bus.clock === undefined)
		throw new Error("this target has no device.I2C.default: build for a board such as esp32/nodemcu or esp/nodemcu");
	bus.io satisfies new (options: I2COptions) => Omit<I2CIo, "writeRead" | "close">;
	return { io: bus.io as unknown as I2CConstructor, data: bus.data, clock: bus.clock };
}

// Frozen, so that xsl puts them in flash without a RAM alias each.
const clock: Clock = Object.freeze({
	ticks: () => Time.ticks,
	set: (callback, ms) => Timer.set(callback, ms),
	repeat: (callback, ms) => Timer.repeat(callback, ms),
	clear: (id) => Timer.clear(id as Timer | undefined),
	date,
} satisfies Clock);

const store: Store = Object.freeze({
	get: (domain, key) => Preference.get(domain, key),
	set(domain, key, value) {
		checkPreference(domain, key, value);
		Preference.set(domain, key, value);
	},
	delete: (domain, key) => Preference.delete(domain, key),
	keys: (domain) => Preference.keys(domain),
} satisfies Store);

const dns: Resolver = Object.freeze({
	resolve({ host, onResolved, onError }) {
		Net.resolve(host, (name, address) => (address ? onResolved(name, address) : onError(name)));
	},
} satisfies Resolver);

// trace writes its arguments one after the other, so nothing is concatenated on the heap.
const log: Log = (level, message, detail = "") => {
	if (level === "info") trace(message, detail, "\n");
	else trace(level, ": ", message, detail, "\n");
};

const board: Board = Object.freeze({
	mac: () => (Net.get("MAC") ?? "").replace(/:/g, "").toLowerCase(),
	// The native heap, as ESPHome and Tasmota report it; undefined in builds without instrumentation.
	freeMemory: () => Instrumentation.get(Instrumentation.map("System Free Memory")),
	restart: () => System.restart(),
} satisfies Board);

export function createModdableHost(): Host {
	return { i2c: defaultI2C(), tcp, tls, noTls, dns, clock, store, flash: openFlash(log), log, board };
}
