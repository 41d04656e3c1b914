/*
 * The part of the SDK's ECMA-419 Wi-Fi interface typing (typings/embedded_network/interface/wifi.d.ts in
 * Moddable SDK 8.2) that setup-wifi.ts uses. The npm @moddable/typings 5.6 this repository type-checks
 * against predates it; mcconfig compiles against the SDK's own typings and never reads this file.
 */
declare module "embedded:network/interface/wifi" {
	export interface WiFiConnectOptions {
		SSID: string;
		password?: string;
	}

	export default class WiFi {
		constructor(options: { onChanged?: (this: WiFi, property: "connection" | "address") => void });
		close(): void;
		connect(options: WiFiConnectOptions): void;
		readonly connection: number;
		readonly address: string | undefined;
	}
}
