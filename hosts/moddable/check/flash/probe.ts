/*
 * Flash and date probe for `npm run check:moddable` (hosts/moddable/check/flash/manifest.json): it runs in place of
 * the firmware's main, takes the host binding as the firmware does and traces what the check reads:
 *
 *   flash-region <byteLength> <blockSize>
 *   flash-kept <hex>        sector 1's first 8 bytes as this boot found them (the last run's stamp)
 *   flash-nor <hex> <hex> <hex>  sector 0 after erase, after writing f0f0..., after writing 3c3c... over it
 *   flash-stamp <hex>       the 8 bytes this run left in sector 1 for the next
 *   date <ms since 1970 or undefined>
 *
 * The firmware never starts here, so nothing else writes the region between the two runs.
 */
import { createModdableHost } from "hosts/moddable/host";

const BYTES = 8;

function hex(buffer: ArrayBuffer): string {
	return Array.from(new Uint8Array(buffer), (byte) => byte.toString(16).padStart(2, "0")).join("");
}

function filled(byte: number): ArrayBuffer {
	return new Uint8Array(BYTES).fill(byte).buffer;
}

const host = createModdableHost();
const flash = host.flash;
if (!flash) trace("flash-region none\n");
else {
	trace(`flash-region ${flash.byteLength} ${flash.blockSize}\n`);
	const stamp = flash.blockSize;
	trace(`flash-kept ${hex(flash.read(stamp, BYTES))}\n`);
	flash.erase(0);
	const erased = hex(flash.read(0, BYTES));
	flash.write(0, BYTES, filled(0xf0));
	const first = hex(flash.read(0, BYTES));
	flash.write(0, BYTES, new Uint8Array(filled(0x3c)));
	trace(`flash-nor ${erased} ${first} ${hex(flash.read(0, BYTES))}\n`);
	flash.erase(1);
	const now = new Uint8Array(BYTES);
	new DataView(now.buffer).setFloat64(0, Date.now());
	flash.write(stamp, BYTES, now);
	trace(`flash-stamp ${hex(flash.read(stamp, BYTES))}\n`);
}
trace(`date ${host.clock.date?.()}\n`);
