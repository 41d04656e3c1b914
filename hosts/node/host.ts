/*
 * The Node host: hands the firmware the same `Host` a board does, built from the stand-ins in this
 * folder. The I2C bus is whatever the caller gives, normally a simulated bus from sim/sensors/.
 */
import { RealClock } from "./clock";
import { resolver } from "./dns";
import { consoleLog } from "./log";
import { PreferenceStore } from "./store";
import { TCP } from "./tcp";
import { makeTlsClass } from "./tls";
import type { Board, Clock, Flash, Host, I2CBus, Log, Resolver, Store, TcpConstructor } from "../../src/io";

export interface NodeHostOptions {
	i2c: I2CBus;
	clock?: Clock;
	tcp?: TcpConstructor;
	/** Default: TLS trusting Node's own CA store, no client certificate (see ./tls makeTlsClass). */
	tls?: TcpConstructor;
	dns?: Resolver;
	store?: Store;
	/** The backlog's flash region (./flash SimulatedFlash); omitted, the firmware keeps its backlog in RAM. */
	flash?: Flash;
	log?: Log;
	/** 12 hex digits; a board reads it from its radio. */
	mac?: string;
	/** What `board.restart()` does: a simulated node stops or reboots; default is to throw. */
	restart?: () => void;
}

export function createNodeHost(options: NodeHostOptions): Host {
	const mac = options.mac ?? "";
	const board: Board = {
		mac: () => mac,
		// A Node heap says nothing about a 32 KB device heap, so the host does not pretend to know.
		freeMemory: () => undefined,
		restart: options.restart ?? (() => {
			throw new Error("restart is not wired on this host");
		}),
	};
	return {
		i2c: options.i2c,
		tcp: options.tcp ?? TCP,
		tls: options.tls ?? makeTlsClass(),
		dns: options.dns ?? resolver,
		clock: options.clock ?? new RealClock(),
		store: options.store ?? new PreferenceStore(),
		flash: options.flash,
		log: options.log ?? consoleLog(),
		board,
	};
}
