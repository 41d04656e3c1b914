/*
 * `hosts/moddable/flash` on boards: the flash region readings wait in, the SDK's `flash` module opened on
 * the partition `config.flash_partition` names. manifest.json names, per platform:
 *   esp32/*  "backlog": a 256 KB data partition; hosts/moddable/esp32/partitions.csv adds it on esp32/nodemcu
 *            (other ESP32 targets keep their own table: give one a partition, or name an existing one).
 *   esp      "storage": the SPIFFS region of the ESP8266 linker script (3,044 KB on a 4 MB module), which
 *            nothing else in this firmware uses (the SDK's Preference has sectors of its own).
 * The SDK's class already has exactly the Flash members; only its read, typed for a host buffer too, is
 * narrowed: without `useHostBuffer` it is always an ArrayBuffer (modules/files/flash/esp*\/flash.c).
 */
import Flash from "flash";
import config from "mc/config";
import type { Flash as FlashRegion, Log } from "src/io";

Flash satisfies new (partition: string) => Omit<FlashRegion, "read">;
const Partition = Flash as unknown as new (partition: string) => FlashRegion;

/** The region, or undefined (a log line says why) when this build names none or the board lacks it. */
export function openFlash(log: Log): FlashRegion | undefined {
	const partition = config.flash_partition as string | undefined;
	if (!partition) return undefined;
	try {
		return new Partition(partition);
	}
	catch (error) {
		log("warn", `flash: no partition "${partition}" (${(error as Error).message}); readings wait in RAM only`);
		return undefined;
	}
}
