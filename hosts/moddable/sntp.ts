/*
 * Boards only: the date by SNTP. The SDK's setup/network asks the `sntp` server of mc/config
 * ("pool.ntp.org", from the SDK's manifest_net.json) once at boot and gives up after five tries, which
 * leaves a board that booted while the internet was away without a date until it restarts. setup/wifi
 * calls this a minute after boot and after every rejoin; while the date is unknown it asks, and again every
 * RETRY_MS while the server does not answer. One SNTP socket at most, and none once the date is known.
 */
import SNTP from "sntp";
import Time from "time";
import Timer from "timer";
import { date } from "./date";

const RETRY_MS = 10 * 60_000;

let asking = false;

export function learnDate(host: string | undefined): void {
	if (!host || asking || date() !== undefined) return;
	asking = true;
	const later = () => {
		asking = false;
		Timer.set(() => learnDate(host), RETRY_MS);
	};
	try {
		// SNTP.retry messages need nothing: it asks again by itself.
		new SNTP({ host }, (message, value) => {
			if (message === SNTP.time) {
				asking = false;
				Time.set(value!);
				trace(`sntp: the date from ${host}\n`);
			}
			else if (message === SNTP.error) later();
		});
	}
	catch {
		later(); // no UDP socket free now
	}
}
