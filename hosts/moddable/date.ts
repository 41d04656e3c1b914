/*
 * The wall clock on Moddable targets. A board's clock starts at 1970 on every boot and is set by SNTP once
 * Wi-Fi is up (the SDK's setup/network asks `config.sntp` before main; ./sntp asks again after a failure);
 * the simulators run on the computer's clock. A time before 2024 is a board that has not been told yet.
 */
const KNOWN_FROM = 1_704_067_200_000; // 2024-01-01T00:00:00Z

export function date(): number | undefined {
	const now = Date.now();
	return now >= KNOWN_FROM ? now : undefined;
}
