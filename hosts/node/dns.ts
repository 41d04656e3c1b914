/* Name resolution for the Node host, in the shape the firmware's Resolver expects (IPv4, like the device). */
import dns from "node:dns";
import net from "node:net";
import type { Resolver } from "../../src/io";

export const resolver: Resolver = {
	resolve({ host, onResolved, onError }) {
		if (net.isIPv4(host)) {
			queueMicrotask(() => onResolved(host, host));
			return;
		}
		dns.lookup(host, { family: 4 }, (error, address) => {
			if (error) onError(host);
			else onResolved(host, address);
		});
	},
};
