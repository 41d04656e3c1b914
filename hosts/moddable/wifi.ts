/*
 * Keeps the board on Wi-Fi. The SDK's setup/network joins once before main runs and then stops watching;
 * this reconnects after every loss, with a capped, jittered backoff so a fleet does not storm the access
 * point when it comes back. MQTT rides through: its own reconnect takes over once the link is back.
 */
import WiFi from "wifi";
import type { Clock, Log, TimerId } from "src/io";

const RETRY_MIN_MS = 1000;
const RETRY_MAX_MS = 60_000;

export function keepWiFi(ssid: string, password: string | undefined, clock: Clock, log: Log): void {
	let retryMs = RETRY_MIN_MS;
	let timer: TimerId | undefined;
	const options = password ? { ssid, password } : { ssid };
	// eslint-disable-next-line no-new -- the monitor lives as long as the firmware
	new WiFi(options, (message) => {
		if (message === WiFi.gotIP) {
			log("info", `wifi: connected to ${ssid}`);
			retryMs = RETRY_MIN_MS;
		}
		else if (message === WiFi.disconnected && !timer) {
			const delay = Math.floor(Math.random() * retryMs);
			log("warn", `wifi: lost ${ssid}; rejoining in ${delay} ms`);
			timer = clock.set(() => {
				timer = undefined;
				WiFi.connect(options);
			}, delay);
			retryMs = Math.min(RETRY_MAX_MS, retryMs * 2);
		}
	});
}
