import assert from "node:assert/strict";
import fs from "node:fs";
import { after, before, describe, test } from "node:test";
import type { TcpLimits } from "../../hosts/node/tcp";
import { makeTlsClass, type TlsTrust } from "../../hosts/node/tls";
import type { SecureOptions, Tcp } from "../../src/io";
import { makeCertificates, tlsListeners, type Certificates } from "../helpers/certificates";
import { startMosquitto, type Mosquitto } from "../helpers/mosquitto";

/** The outcome of one connection attempt: up (first onWritable), or the cause onError gave. */
function attempt(port: number, trust: TlsTrust, options: { host?: string; secure?: SecureOptions } = {}, limits?: TcpLimits) {
	return new Promise<{ up: number; errors: (Error | undefined)[]; socket: Tcp; self: unknown }>((resolve) => {
		const errors: (Error | undefined)[] = [];
		let self: unknown;
		const socket: Tcp = new (makeTlsClass(trust, limits))({
			address: "127.0.0.1",
			port,
			...options,
			onWritable(bytes) {
				self = this;
				resolve({ up: bytes, errors, socket, self });
			},
			onError(cause) {
				errors.push(cause);
				// A second onError would land here after the resolve: the test looks at the array later.
				queueMicrotask(() => resolve({ up: 0, errors, socket, self }));
			},
		});
	});
}

describe("the Node TLS stand-in against Mosquitto's TLS listeners", () => {
	let certificates: Certificates;
	let broker: Mosquitto;
	const ports = { good: 0, wrongName: 0, expired: 0, mutual: 0 };
	before(async () => {
		certificates = makeCertificates();
		const listeners = await tlsListeners(certificates);
		Object.assign(ports, listeners.ports);
		broker = await startMosquitto({ config: listeners.config });
	});
	after(async () => {
		await broker.stop();
		certificates.remove();
	});
	const ca = () => ({ ca: certificates.ca });

	test("a good certificate from the trusted CA: up after the handshake, with the whole write budget and this set to the socket", async () => {
		const result = await attempt(ports.good, ca(), { host: "localhost" });
		assert.equal(result.up, 5744);
		assert.equal(result.self, result.socket);
		result.socket.close();
	});

	test("keeps the TCP stand-in's write budget: a write over the announced space throws, one that fits goes", async () => {
		const result = await attempt(ports.good, ca(), { host: "localhost" }, { sendBuffer: 100 });
		assert.equal(result.up, 100);
		assert.throws(() => result.socket.write(new Uint8Array(101)), /exceeds the 100 writable/);
		// An MQTT PINGREQ: the broker answers it (PINGRESP) only after a CONNECT, so it just has to be taken.
		result.socket.write(Uint8Array.of(0xc0, 0x00));
		assert.throws(() => result.socket.write(new Uint8Array(99)), /exceeds the 98 writable/);
		result.socket.close();
	});

	test("a CA that did not sign the certificate: refused, the cause saying so", async () => {
		const result = await attempt(ports.good, { ca: certificates.otherCa }, { host: "localhost" });
		assert.equal(result.up, 0);
		assert.equal(result.errors.length, 1);
		assert.match(String((result.errors[0] as { code?: string }).code), /SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT/);
		result.socket.close();
	});

	test("a certificate for another name: refused on the configured host name", async () => {
		const result = await attempt(ports.wrongName, ca(), { host: "localhost" });
		assert.equal(result.up, 0);
		assert.equal((result.errors[0] as { code?: string }).code, "ERR_TLS_CERT_ALTNAME_INVALID");
		assert.match(result.errors[0]!.message, /localhost/);
		result.socket.close();
	});

	test("an IP address as host is checked against the certificate's IP names", async () => {
		const result = await attempt(ports.good, ca(), { host: "127.0.0.1" });
		assert.equal(result.up, 5744);
		result.socket.close();
	});

	test("an expired certificate: refused", async () => {
		const result = await attempt(ports.expired, ca(), { host: "localhost" });
		assert.equal((result.errors[0] as { code?: string }).code, "CERT_HAS_EXPIRED");
		result.socket.close();
	});

	test("a pin that matches trusts the certificate without its CA; one that does not is refused", async () => {
		const pin = certificates.pinOf(certificates.server.cert);
		const good = await attempt(ports.good, {}, { host: "localhost", secure: { pin } });
		assert.equal(good.up, 5744);
		good.socket.close();
		const bad = await attempt(ports.good, ca(), { host: "localhost", secure: { pin: "0".repeat(64) } });
		assert.equal(bad.up, 0);
		assert.equal((bad.errors[0] as { code?: string }).code, "PIN_MISMATCH");
		assert.match(bad.errors[0]!.message, new RegExp(pin));
		bad.socket.close();
	});

	test("verify: false takes any certificate (expired, unknown CA, other name)", async () => {
		for (const port of [ports.expired, ports.wrongName]) {
			const result = await attempt(port, {}, { host: "localhost", secure: { verify: false } });
			assert.equal(result.up, 5744);
			result.socket.close();
		}
	});

	test("mutual TLS: a client certificate is accepted where the broker requires one; without one the broker refuses", async () => {
		const given = await attempt(ports.mutual, { ...ca(), cert: fs.readFileSync(certificates.client.cert), key: fs.readFileSync(certificates.client.key) }, { host: "localhost" });
		assert.equal(given.up, 5744);
		given.socket.close();
		// In TLS 1.3 the client finishes its handshake before the server checks its (missing) certificate:
		// the refusal arrives as an alert after "up", still one onError with the cause.
		const missing = await new Promise<Error | undefined>((resolve) => {
			new (makeTlsClass(ca()))({ address: "127.0.0.1", host: "localhost", port: ports.mutual, onError: resolve });
		});
		assert.match(`${missing?.message} ${(missing as { code?: string }).code}`, /certificate required|CERTIFICATE_REQUIRED|handshake failure/i);
	});
});
