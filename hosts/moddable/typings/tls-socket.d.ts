/*
 * The SDK's ECMA-419 TLS socket (examples/io/tcp/tlssocket/tlssocket.js in Moddable SDK 8.2.3), which has
 * no typing of its own: the TCP socket's options plus `host` (SNI), `TCP: {io}` (the socket under it) and
 * `secure` (spread into ssl/session: `verify`, `certificate` to trust, `clientCertificates`, `clientKey`).
 */
declare module "embedded:io/socket/tcp/tls" {
	export interface TLSSocketOptions {
		address: string;
		host?: string;
		port: number;
		nodelay?: boolean;
		TCP: { io: unknown };
		secure?: {
			verify?: boolean;
			certificate?: ArrayBuffer;
			clientCertificates?: ArrayBuffer[];
			clientKey?: ArrayBuffer;
		};
		onReadable?: (bytes: number) => void;
		onWritable?: (bytes: number) => void;
		onError?: () => void;
		/** Passed on to the TCP socket with the rest (hosts/moddable/tls.ts uses it). */
		onFailure?: (error: Error) => void;
	}

	export default class TLSSocket {
		constructor(options: TLSSocketOptions);
		/** `count` bytes of the record decrypted last (throws past them), or all of them. */
		read(count?: number): ArrayBuffer | undefined;
		/** Sends `data` as one record; returns the space left in the socket under it, less 32. */
		write(data: Uint8Array): number;
		close(): void;
	}
}
