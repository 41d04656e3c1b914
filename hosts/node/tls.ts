/*
 * A Node stand-in for the SDK's ECMA-419 TLS socket (`embedded:io/socket/tcp/tls`), built on node:tls. It is
 * the TCP stand-in (./tcp) with a TLS connection under it, so it keeps every device limit that one keeps
 * (write budget, bounded receive buffer, callbacks never re-entrant, one onError); only the opening differs:
 *
 * - it connects to the IP address, sends `host` for SNI (when it is a name) and checks the certificate
 *   against `host`, as the SDK's socket does with `serverName`;
 * - the connection is reported (first `onWritable`) once the handshake is done and the certificate checked;
 * - trust is the host's: the CAs given (a PEM file on this host, as a resource is on a board; Node's own
 *   store when none), and the client certificate and key for mutual TLS. Per connection, `secure.pin`
 *   trusts exactly the certificate with that SHA-256 and `secure.verify: false` trusts anything;
 * - handshake and certificate failures reach `onError` with Node's error as the cause (its message and
 *   OpenSSL code, e.g. CERT_HAS_EXPIRED), so the node can say why it was refused.
 */
import { createHash } from "node:crypto";
import net from "node:net";
import tls from "node:tls";
import { ESP32_TCP_LIMITS, makeSocketClass, type Opener, type TcpLimits } from "./tcp";
import type { TcpConstructor, TcpOptions } from "../../src/io";

export interface TlsTrust {
	/** Trusted CA certificates (PEM); Node's default store when absent. */
	ca?: string | Buffer;
	/** Client certificate and key (PEM), for brokers that require one. */
	cert?: string | Buffer;
	key?: string | Buffer;
}

/** The SHA-256 of a DER certificate as 64 lower-case hex digits, the form `SecureOptions.pin` takes. */
export function certificatePin(der: Buffer): string {
	return createHash("sha256").update(der).digest("hex");
}

/** Makes a TLS `io` class with the given trust and the TCP stand-in's buffer limits. */
export function makeTlsClass(trust: TlsTrust = {}, limits: TcpLimits = ESP32_TCP_LIMITS): TcpConstructor {
	const opener: Opener = {
		connected: "secureConnect",
		open(options: TcpOptions): net.Socket {
			const name = options.host ?? options.address;
			const verify = options.secure?.verify ?? true;
			// A pin replaces the CA check (checked in `check`, once the certificate is known).
			const pinned = !!options.secure?.pin;
			const socket = tls.connect({
				host: options.address,
				port: options.port,
				// RFC 6066: SNI carries names only, never an address.
				servername: net.isIP(name) ? undefined : name,
				ca: trust.ca,
				cert: trust.cert,
				key: trust.key,
				rejectUnauthorized: verify && !pinned,
				// Node would check the address it connected to; the name configured is what the certificate must carry.
				checkServerIdentity: (_address, certificate) => verify && !pinned ? tls.checkServerIdentity(name, certificate) : undefined,
			});
			return socket.setNoDelay(options.nodelay ?? false);
		},
		check(socket: net.Socket, options: TcpOptions): Error | undefined {
			const pin = options.secure?.pin;
			if (!pin || options.secure?.verify === false) return undefined;
			const actual = certificatePin((socket as tls.TLSSocket).getPeerCertificate().raw);
			if (actual === pin) return undefined;
			return Object.assign(new Error(`certificate SHA-256 ${actual} does not match the pin`), { code: "PIN_MISMATCH" });
		},
	};
	return makeSocketClass(opener, limits);
}
