/*
 * Firmware entry on Moddable hosts. Settings given at build time arrive through mc/config as flat strings
 * (`mcconfig ... mqtt_host=10.0.0.5 interval=30 sensor=SHT3x`); they become the node's defaults, under
 * whatever it later receives and stores over the air. Broker settings carry an `mqtt_` prefix, because
 * `ssid` and `password` already belong to the SDK's Wi-Fi setup. The outbox budget is per platform in
 * manifest.json: 2 KB on the ESP8266's 32 KB heap (readings wait in flash, not in it), more where there is room.
 *
 * A function the SDK calls once the module is loaded, rather than the module's body, so that the module can be
 * preloaded where its imports are (boards, with the host binding): then nothing of it is in RAM, and what main
 * makes on its way is garbage once it returns (10 slots and 40 B of chunks fewer for good than a module body).
 */
import config from "mc/config";
import { createModdableHost } from "./host";
import { SensorNode } from "src/app/node";
import { CONNECTION_KEYS, settingsFromStrings } from "src/app/settings";

export default function main(): void {
	const host = createModdableHost();
	const strings: Record<string, string> = {};
	for (const [key, value] of Object.entries(config)) {
		if (typeof value !== "string" || value === "") continue;
		if (key.startsWith("mqtt_")) strings[key.slice(5)] = value;
		else if (!CONNECTION_KEYS.includes(key)) strings[key] = value;
	}
	const errors: string[] = [];
	const settings = settingsFromStrings(strings, errors);
	for (const error of errors) host.log("warn", `mc/config: ${error}`);
	const outbox = { messages: Number(config.outbox_messages) || undefined, bytes: Number(config.outbox_bytes) || undefined };
	// From a timer turn, not from under the SDK's frames that call main: XS allocates its whole stack up front, so
	// the deepest path sizes it, and the node's constructors were it.
	host.clock.set(() => {
		try {
			new SensorNode({ host, id: config.id || undefined, root: config.root || undefined, settings, mqtt: { outbox } });
		}
		catch (error) {
			// XS aborts on an uncaught exception without its message ("unhandled exception"): say why first, e.g.
			// "tls: the ESP8266 has no room for a TLS handshake" for a build that asks for what the board cannot do.
			host.log("error", `boot: ${(error as Error).message}`);
			throw error;
		}
	}, 0);
}
