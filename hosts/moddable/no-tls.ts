/*
 * `hosts/moddable/tls` on the ESP8266: no TLS socket. A handshake needs about 10 KB of chunk heap, 6 KB of
 * slot heap and 4 KB of stack free (the SDK's documentation/network/securesocket.md); the whole JavaScript
 * heap is 32 KB, which the node alone already overruns today (docs/moddable-sdk.md). A build or a document
 * asking for TLS is refused with this reason rather than connecting in the clear.
 */
import type { TcpConstructor } from "src/io";

export const tls: TcpConstructor | undefined = undefined;
export const noTls: string | undefined =
	"the ESP8266 has no room for a TLS handshake (about 20 KB free needed of the 32 KB XS has there): use an ESP32";
