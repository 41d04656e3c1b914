/*
 * The embedded broker `npm start` runs when no --broker is given: aedes, in-process, on 127.0.0.1.
 * Port 1883 when it is free (so `mosquitto_sub -h 127.0.0.1` just works), any free port otherwise.
 */
import net from "node:net";
import { Aedes } from "aedes";

export interface EmbeddedBroker {
	host: string;
	port: number;
	close(): Promise<void>;
}

function listen(server: net.Server, port: number): Promise<number> {
	return new Promise((resolve, reject) => {
		server.once("error", reject);
		server.listen(port, "127.0.0.1", () => {
			server.off("error", reject);
			resolve((server.address() as net.AddressInfo).port);
		});
	});
}

export async function startEmbeddedBroker(preferredPort = 1883): Promise<EmbeddedBroker> {
	const aedes = await Aedes.createBroker();
	const server = net.createServer(aedes.handle);
	let port: number;
	try {
		port = await listen(server, preferredPort);
	}
	catch {
		port = await listen(server, 0);
	}
	return {
		host: "127.0.0.1",
		port,
		close: () => new Promise<void>((resolve) => {
			server.close();
			aedes.close(() => resolve());
		}),
	};
}
