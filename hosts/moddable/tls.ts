/// <reference path="./typings/tls-socket.d.ts" />
/*
 * TLS on Moddable targets that can carry it (ESP32, the desktop simulators): the SDK's ECMA-419 TLS socket
 * (`embedded:io/socket/tcp/tls`, over ssl/session, TLS 1.2) over the ECMA-419 TCP socket. manifest.json maps
 * `hosts/moddable/tls` here for esp32/*, lin, mac and win, and to ./no-tls for the ESP8266.
 *
 * Trust: the SDK's CA store, which the manifest builds in as data (`$(MODULES)/crypt/data/ca222`), plus a CA
 * certificate of your own and a client certificate and key, each a DER resource of the build named by
 * mc/config (`tls_ca=broker-ca.der tls_cert=node.der tls_key=node.key.der`): certificates do not fit in
 * Preference values. ssl/session has no certificate pinning, so a `pin` is refused here, with a reason.
 */
import TCP from "embedded:io/socket/tcp";
import TLSSocket from "embedded:io/socket/tcp/tls";
import config from "mc/config";
import Resource from "Resource";
import Timer from "timer";
import type { Tcp, TcpConstructor, TcpOptions } from "src/io";

/** A DER resource of the build named by `key` in mc/config, or undefined when none is named. */
function resource(key: string): ArrayBuffer | undefined {
	const name = (config as Record<string, unknown>)[key];
	// A copy in RAM: ssl/session keeps and parses it as an ArrayBuffer, not as mapped flash.
	return typeof name === "string" && name ? new Resource(name).slice(0) : undefined;
}

/** The TCP socket's options as the TLS socket passes them on (it spreads its own), with our `onFailure`. */
interface GuardedOptions extends TcpOptions {
	onFailure(error: Error): void;
}

/**
 * The TCP socket under the TLS socket, with its callbacks guarded. The TLS socket runs the handshake and
 * decrypts inside them, and ssl/session throws there when it refuses a certificate ("date validation
 * failed", an unknown CA) or the broker sends an alert: thrown from a native callback, that is
 * "XS abort: unhandled exception", a crash on every connect (seen in mcsim with an expired certificate).
 */
class GuardedTcp {
	constructor(options: GuardedOptions) {
		const guard = (callback: ((bytes: number) => void) | undefined) => (bytes: number) => {
			try {
				callback?.(bytes);
			}
			catch (error) {
				options.onFailure(error as Error);
			}
		};
		return new TCP({ ...options, onReadable: guard(options.onReadable), onWritable: guard(options.onWritable) }) as unknown as GuardedTcp;
	}
}

/**
 * Room kept for one TLS record's header, MAC and padding: the SDK socket announces its TCP space less 96
 * (tlssocket.js), and each write it is given becomes one record, so it fits only if one record is sent
 * per announcement.
 */
const RECORD_OVERHEAD = 96;

/**
 * The SDK's TLS socket, in the shape src/io.ts asks for. The client counts only its own bytes against the
 * space announced, and may write several packets in one turn (a PUBLISH, then PUBACKs); each would be a
 * record with its own overhead, and the TCP socket under it throws "would block" once their sum exceeds
 * its space (seen in mcsim). So the writes of one turn are gathered and sent as one record, and after it
 * the client is told the space really left, overhead counted.
 */
class ModdableTls implements Tcp {
	readonly #socket: TLSSocket;
	readonly #onWritable: ((bytes: number) => void) | undefined;
	/** Bytes written this turn, sent as one record by #send; grown when a turn writes more. */
	#pending = new Uint8Array(0);
	#length = 0;
	#timer: Timer | undefined;
	#failed = false;
	readonly #onError: ((cause?: Error) => void) | undefined;

	constructor(options: TcpOptions) {
		if (options.secure?.pin) throw new RangeError("pin: the SDK's TLS socket cannot pin a certificate; give its CA as tls_ca");
		const certificate = resource("tls_ca");
		const cert = resource("tls_cert");
		this.#onWritable = options.onWritable;
		this.#onError = options.onError;
		const fail = (cause?: Error) => this.#fail(cause);
		this.#socket = new TLSSocket({
			...options,
			onFailure: fail,
			TCP: { io: GuardedTcp },
			secure: {
				verify: options.secure?.verify ?? true,
				...(certificate ? { certificate } : {}),
				...(cert ? { clientCertificates: [cert], clientKey: resource("tls_key") } : {}),
			},
			onWritable: (bytes) => {
				if (!this.#length) this.#onWritable?.call(this, bytes);
			},
			onReadable: options.onReadable && ((bytes) => options.onReadable!.call(this, bytes)),
			onError: () => fail(),
		});
	}

	read(byteLength?: number): ArrayBuffer | undefined {
		return this.#socket.read(byteLength);
	}

	write(data: Uint8Array): void {
		const length = this.#length + data.byteLength;
		if (length > this.#pending.byteLength) {
			const grown = new Uint8Array(length);
			grown.set(this.#pending.subarray(0, this.#length));
			this.#pending = grown;
		}
		this.#pending.set(data, this.#length);
		this.#length = length;
		this.#timer ??= Timer.set(this.#flush, 0);
	}

	close(): void {
		// What the client wrote last (a DISCONNECT) still goes out, as TCP's close would send it.
		if (this.#length) this.#send();
		Timer.clear(this.#timer);
		this.#timer = undefined;
		this.#socket.close();
	}

	readonly #flush = (): void => {
		this.#timer = undefined;
		try {
			const left = this.#send();
			this.#onWritable?.call(this, Math.max(0, left - RECORD_OVERHEAD));
		}
		catch (error) {
			// A timer callback that throws aborts XS, as the TCP callbacks would (see GuardedTcp).
			this.#fail(error as Error);
		}
	};

	/** One onError, with the cause when ssl/session threw one. */
	#fail(cause?: Error): void {
		if (this.#failed) return;
		this.#failed = true;
		this.#onError?.call(this, cause);
	}

	/** Sends what this turn wrote as one record; returns the socket's space left after it. */
	#send(): number {
		const length = this.#length;
		this.#length = 0;
		return this.#socket.write(this.#pending.subarray(0, length));
	}
}

export const tls: TcpConstructor | undefined = ModdableTls as unknown as TcpConstructor;
export const noTls: string | undefined = undefined;
