/*
 * Keeps an ESP32 or ESP8266 on Wi-Fi. The SDK's own setup/network joins once before main runs and then
 * closes its interface object; this setup module watches with a second one (the ECMA-419 Wi-Fi interface
 * allows several) and rejoins after every loss, with a capped, jittered backoff so that a fleet does not
 * storm the access point when it comes back. It uses the SDK's ECMA-419 driver rather than the legacy
 * `wifi` module, which would start a second driver on the same radio. MQTT rides through: its own
 * reconnect takes over once the link is back. A board still without a date asks for it (./sntp) after
 * every rejoin, and once a minute after boot: setup/network's own attempt at boot takes up to 25 s.
 * Not in simulator builds, whose network and clock are the desktop's.
 */
import config from "mc/config";
import WiFi from "embedded:network/interface/wifi";
import Timer from "timer";
import { learnDate } from "hosts/moddable/sntp";

const RETRY_MIN_MS = 1000;
const RETRY_MAX_MS = 60_000;
/** `connection` at or below this is "disconnected" (the interface's own scale: 200 off, 300 joining, 400 joined, 500 has an address). */
const DISCONNECTED = 200;
const ONLINE = 500;
/** After setup/network's SNTP at boot: five tries five seconds apart (modules/network/sntp/sntp.js). */
const DATE_AFTER_BOOT_MS = 60_000;

export default function setup(done: () => void): void {
	const ssid = config.ssid;
	if (ssid) keepWiFi(ssid, config.password);
	done();
}

function keepWiFi(SSID: string, password: string | undefined): void {
	let retryMs = RETRY_MIN_MS;
	let timer: Timer | undefined;
	/** Once on, every loss is ours to repair; the first join is setup/network's. */
	let joined = false;
	let online = false;
	const options = password ? { SSID, password } : { SSID };
	const wifi = new WiFi({
		onChanged() {
			const connection = wifi.connection;
			if (connection >= ONLINE) {
				if (!online) {
					trace(`wifi: on ${SSID} as ${wifi.address}\n`);
					if (joined) learnDate(config.sntp);
				}
				joined = online = true;
				retryMs = RETRY_MIN_MS;
			}
			else if (connection <= DISCONNECTED && joined && !timer) {
				// A failed attempt reports "disconnected" again, which schedules the next one.
				online = false;
				const delay = Math.floor(Math.random() * retryMs);
				trace(`wifi: lost ${SSID}; rejoining in ${delay} ms\n`);
				timer = Timer.set(() => {
					timer = undefined;
					try {
						wifi.connect(options);
					}
					catch (error) {
						trace(`wifi: cannot rejoin ${SSID}: ${(error as Error).message}\n`);
					}
				}, delay);
				retryMs = Math.min(RETRY_MAX_MS, retryMs * 2);
			}
		},
	});
	// setup/network may already have joined: no event says so to an interface object made afterwards.
	joined = online = wifi.connection >= ONLINE;
	Timer.set(() => learnDate(config.sntp), DATE_AFTER_BOOT_MS);
}
