/*
 * The I/O contract between the firmware (src/) and a host (hosts/).
 *
 * Everything src/ does to the outside world goes through these interfaces, in the shape ECMA-419 and the
 * Moddable SDK give them: an I2C `io` class, a TCP socket `io` class, a name resolver, a clock with
 * timers, a Preference-like store, a log and a few board facts. A host hands src/ one `Host` object.
 *
 * The interfaces are deliberately narrow: only what the firmware calls. The Moddable classes satisfy
 * them as they are (checked by hosts/moddable/host.ts against the SDK typings); the Node stand-ins in
 * hosts/node/ implement them with the device's limits.
 */

/** Options for an ECMA-419 I2C `io` constructor (`embedded:io/i2c`). `data`/`clock` come from `device.I2C.default`. */
export interface I2COptions {
	address: number;
	hz: number;
	data: number;
	clock: number;
	port?: number;
}

/**
 * One I2C target, as `embedded:io/i2c` exposes it. Any NACK or bus error throws
 * (`Error("read failed" | "write failed" | "writeRead failed")`), like the device does: a missing
 * chip and a chip that is busy look the same to the caller.
 */
export interface I2C {
	/** Fill `buffer` from the target. */
	read(buffer: Uint8Array): unknown;
	write(buffer: Uint8Array): void;
	/** Write then read with a repeated start (Moddable's `writeRead` extension). */
	writeRead(write: Uint8Array, read: Uint8Array): unknown;
	close(): void;
}

export type I2CConstructor = new (options: I2COptions) => I2C;

/** What `device.I2C.default` holds on a board: the io class and its pins, spread into the constructor's options. */
export interface I2CBus {
	io: I2CConstructor;
	data: number;
	clock: number;
}

/**
 * Options for an ECMA-419 TCP socket `io` constructor (`embedded:io/socket/tcp`), or a TLS one
 * (`embedded:io/socket/tcp/tls`), which takes the same options plus `host` and `secure`. The callbacks are
 * called with `this` set to the socket, as ECMA-419 says and the SDK's tcp.c does: the MQTT client's are
 * shared by all its connections and find it through the socket.
 */
export interface TcpOptions {
	/** An IP address: like the device, sockets do not resolve names (see `Resolver`). */
	address: string;
	/** The broker's name as configured: a TLS socket sends it for SNI and checks the certificate against it. */
	host?: string;
	port: number;
	/** How a TLS socket trusts the server; plain TCP ignores it. */
	secure?: SecureOptions;
	nodelay?: boolean;
	/** Bytes are waiting; read them with `read()`. */
	onReadable?: (bytes: number) => void;
	/** The connection is up (first call) or space was freed: `bytes` may now be written. */
	onWritable?: (bytes: number) => void;
	/**
	 * Connect failure, TLS handshake or certificate failure, reset, or the peer closing (even cleanly). The
	 * socket is dead afterwards: close it. `cause` says why where the host knows (the Node stand-ins);
	 * ECMA-419 passes nothing.
	 */
	onError?: (cause?: Error) => void;
}

export interface Tcp {
	/**
	 * The next `byteLength` bytes received, or without it everything received so far; undefined when nothing is
	 * waiting. `byteLength` must not exceed what onReadable last reported less what was read since (the SDK
	 * throws "invalid").
	 */
	read(byteLength?: number): ArrayBuffer | undefined;
	/**
	 * Takes a copy of `data` (the caller may reuse its buffer at once, as on the device). Throws when `data`
	 * is larger than the space last announced through `onWritable`, less what was written since.
	 */
	write(data: Uint8Array): void;
	close(): void;
}

export type TcpConstructor = new (options: TcpOptions) => Tcp;

/**
 * Per-connection trust for a TLS socket. The trusted CAs and the client certificate and key are the
 * host's (build resources on Moddable, files on the Node host): they do not fit the node's storage.
 */
export interface SecureOptions {
	/** false: no verification at all (the node says so at every connect). Default true. */
	verify?: boolean;
	/**
	 * SHA-256 of the server certificate, 64 lower-case hex digits. When set, a certificate that matches is
	 * trusted whatever its issuer (so a private broker works without a CA), and any other is refused.
	 */
	pin?: string;
}

/** Host name resolution, outside the socket as on the device (Moddable's `Net.resolve`, ECMA-419 DNS resolver). */
export interface Resolver {
	resolve(options: {
		host: string;
		onResolved: (host: string, address: string) => void;
		onError: (host: string) => void;
	}): void;
}

/** A timer handle; only ever passed back to `Clock.clear`. */
export type TimerId = object;

/**
 * Monotonic time and timers (Moddable's `Time.ticks` and `Timer`).
 *
 * `ticks()` is in milliseconds and may wrap at 32 bits (it does on most MCUs), so two tick values are
 * only ever compared through `elapsed()`. Callbacks never run re-entrantly from inside `set`/`repeat`.
 */
export interface Clock {
	ticks(): number;
	set(callback: () => void, ms: number): TimerId;
	repeat(callback: () => void, ms: number): TimerId;
	clear(id: TimerId | undefined): void;
	/**
	 * Wall-clock milliseconds since 1970 once the host knows the date (SNTP on boards, the computer's clock
	 * in the simulators), undefined before. Optional: a host without it gives readings uptime only.
	 */
	date?(): number | undefined;
}

/**
 * Milliseconds from tick `from` to tick `to`, correct across a 32-bit wrap of the tick counter and on
 * hosts whose ticks are a large float (the Moddable simulator). Valid for spans under 2^31 ms (24.8 days).
 */
export function elapsed(from: number, to: number): number {
	return (to - from) | 0;
}

export type StoreValue = boolean | number | string | ArrayBuffer;

/**
 * Persistent key/value storage with Moddable `Preference` semantics: `set` replaces, `get` of a missing
 * key gives undefined. Hosts enforce the device's limits (see src/preference-limits.ts):
 * a value the device would refuse throws here too.
 */
export interface Store {
	get(domain: string, key: string): StoreValue | undefined;
	set(domain: string, key: string, value: StoreValue): void;
	delete(domain: string, key: string): void;
	keys(domain: string): string[];
}

/**
 * A raw flash region, as Moddable's `flash` module gives one (`new Flash("storage")` on ESP8266, a data
 * partition on ESP32). NOR flash rules hold: `erase` sets a whole sector to 0xFF, and `write` can only
 * turn bits from 1 to 0 (writing a 1 over a 0 leaves the 0). A power cut during `write` or `erase` leaves
 * that operation's bytes undefined. Offsets and lengths passed by the firmware are multiples of 4.
 */
export interface Flash {
	readonly byteLength: number;
	/** The erase unit (the sector size, 4096 on ESP32 and ESP8266). */
	readonly blockSize: number;
	erase(sector: number): void;
	read(offset: number, byteLength: number): ArrayBuffer;
	write(offset: number, byteLength: number, buffer: ArrayBuffer | Uint8Array): void;
}

export type LogLevel = "debug" | "info" | "warn" | "error";

/**
 * One line to the console (`trace` on Moddable). `detail`, when given, follows `message` on the same line:
 * passing a string that already exists (a payload) apart lets the host write both without the firmware
 * building a new string, which on a 32 KB heap matters for a line logged every reading.
 */
export type Log = (level: LogLevel, message: string, detail?: string) => void;

/** Facts about the board the firmware runs on. */
export interface Board {
	/** The station MAC as 12 lower-case hex digits, or "" where the host has none. */
	mac(): string;
	/** Free JavaScript heap in bytes, or undefined where the host cannot tell. */
	freeMemory(): number | undefined;
	/** Reboot (devices) or stop this node (simulators). */
	restart(): void;
}

/** Everything a host gives the firmware. */
export interface Host {
	i2c: I2CBus;
	tcp: TcpConstructor;
	/** The TLS socket class, with the host's trusted CAs and client certificate; absent where the board cannot carry TLS (ESP8266). */
	tls?: TcpConstructor;
	/** Why `tls` is absent, for the error a TLS setting gets. */
	noTls?: string;
	dns: Resolver;
	clock: Clock;
	store: Store;
	/** The region readings wait in while the broker cannot be reached; absent: they wait in RAM only. */
	flash?: Flash;
	log: Log;
	board: Board;
}
