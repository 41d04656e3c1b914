/*
 * Certificates for the TLS tests, made with `openssl` at test time in a private temp dir, so nothing private
 * is ever committed: a CA, a server certificate for 127.0.0.1 and "localhost", one for another name, an
 * expired one, a client certificate (mutual TLS), and a second CA that signed none of them.
 */
import { execFileSync } from "node:child_process";
import { X509Certificate } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { freePort } from "./mosquitto";

export interface Pair {
	cert: string;
	key: string;
}

export interface Certificates {
	dir: string;
	/** The CA that signed every certificate below: its PEM file and text. */
	caFile: string;
	ca: string;
	/** A CA that signed nothing here. */
	otherCa: string;
	otherCaFile: string;
	/** Valid now, for 127.0.0.1 and localhost. */
	server: Pair;
	/** Valid now, for broker.example only. */
	wrongName: Pair;
	/** For 127.0.0.1 and localhost, expired in 2020. */
	expired: Pair;
	/** A client certificate for mutual TLS. */
	client: Pair;
	/** SHA-256 of a certificate as the node's `pin` takes it. */
	pinOf(certFile: string): string;
	remove(): void;
}

function openssl(dir: string, args: string[]): void {
	execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
}

export function makeCertificates(): Certificates {
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tls-"));
	const file = (name: string) => path.join(dir, name);
	const makeCa = (name: string) => openssl(dir, ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", `${name}.key`,
		"-out", `${name}.pem`, "-days", "2", "-subj", `/CN=${name}`, "-addext", "basicConstraints=critical,CA:TRUE"]);
	makeCa("ca");
	makeCa("other-ca");
	// `openssl ca` rather than `x509 -req`: only it takes explicit validity dates, which an expired certificate needs.
	fs.writeFileSync(file("index.txt"), "");
	fs.writeFileSync(file("serial"), "1000\n");
	fs.writeFileSync(file("ca.cnf"), [
		"[ca]", "default_ca = own",
		"[own]", "database = index.txt", "new_certs_dir = .", "serial = serial", "default_md = sha256",
		"policy = any", "unique_subject = no", "copy_extensions = none",
		"[any]", "commonName = supplied",
	].join("\n") + "\n");
	const issue = (name: string, extensions: string, dates: string[]) => {
		openssl(dir, ["req", "-newkey", "rsa:2048", "-nodes", "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", `/CN=${name}`]);
		fs.writeFileSync(file(`${name}.ext`), extensions + "\n");
		openssl(dir, ["ca", "-batch", "-config", "ca.cnf", "-cert", "ca.pem", "-keyfile", "ca.key", "-in", `${name}.csr`,
			"-out", `${name}.pem`, "-extfile", `${name}.ext`, "-notext", ...dates]);
		return { cert: file(`${name}.pem`), key: file(`${name}.key`) };
	};
	const now = ["-days", "2"];
	const serverNames = "subjectAltName=IP:127.0.0.1,DNS:localhost";
	const certificates: Certificates = {
		dir,
		caFile: file("ca.pem"),
		ca: fs.readFileSync(file("ca.pem"), "utf8"),
		otherCaFile: file("other-ca.pem"),
		otherCa: fs.readFileSync(file("other-ca.pem"), "utf8"),
		server: issue("server", serverNames, now),
		wrongName: issue("wrong-name", "subjectAltName=DNS:broker.example", now),
		expired: issue("expired", serverNames, ["-startdate", "20200101000000Z", "-enddate", "20200102000000Z"]),
		client: issue("client", "extendedKeyUsage=clientAuth", now),
		pinOf: (certFile) => new X509Certificate(fs.readFileSync(certFile)).fingerprint256.replaceAll(":", "").toLowerCase(),
		remove: () => fs.rmSync(dir, { recursive: true, force: true }),
	};
	return certificates;
}

/** mosquitto.conf lines for a TLS listener on `port` with `pair`; `requireClient` asks for a client certificate. */
export function tlsListener(port: number, certificates: Certificates, pair: Pair, requireClient = false): string[] {
	return [
		`listener ${port} 127.0.0.1`,
		`cafile ${certificates.caFile}`,
		`certfile ${pair.cert}`,
		`keyfile ${pair.key}`,
		...(requireClient ? ["require_certificate true"] : []),
	];
}

/** Ports of the four listeners the TLS tests use: a good certificate, another name, expired, client certificate required. */
export interface TlsPorts {
	good: number;
	wrongName: number;
	expired: number;
	mutual: number;
}

/** Those four listeners on free ports: their ports, and the mosquitto.conf lines that open them. */
export async function tlsListeners(certificates: Certificates): Promise<{ ports: TlsPorts; config: string[] }> {
	const ports = { good: await freePort(), wrongName: await freePort(), expired: await freePort(), mutual: await freePort() };
	return {
		ports,
		config: [
			...tlsListener(ports.good, certificates, certificates.server),
			...tlsListener(ports.wrongName, certificates, certificates.wrongName),
			...tlsListener(ports.expired, certificates, certificates.expired),
			...tlsListener(ports.mutual, certificates, certificates.server, true),
		],
	};
}
