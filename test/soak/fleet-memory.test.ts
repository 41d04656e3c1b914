/*
 * A simulated node (hosts/node/fleet.ts) that reconnects for hours must not keep the sockets it closed: a soak or
 * `npm start` fleet on a flaky network would grow without bound. The sockets here fail at once, so every
 * attempt makes a new one; weak references tell which of them are still held after a full collection.
 */
import assert from "node:assert/strict";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { describe, test } from "node:test";
import { VirtualClock } from "../../hosts/node/virtual-clock";
import { startSimulatedNode } from "../../hosts/node/fleet";
import type { Tcp, TcpOptions } from "../../src/io";

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;
const turn = () => new Promise((resolve) => setImmediate(resolve));

describe("a simulated node on a failing network", () => {
	test("lets go of every socket it has closed", async () => {
		const clock = new VirtualClock();
		const sockets: WeakRef<Tcp>[] = [];
		class RefusedTcp implements Tcp {
			constructor(options: TcpOptions) {
				sockets.push(new WeakRef(this));
				const onError = options.onError;
				clock.set(() => onError?.call(this), 0);
			}
			read(): undefined {
				return undefined;
			}
			write(): void {
				throw new Error("not connected");
			}
			close(): void {}
		}
		const simulated = startSimulatedNode({
			broker: { host: "127.0.0.1", port: 1883 }, chip: "SHT3x", name: "refused", id: "refused", clock, tcp: RefusedTcp,
			log: () => {}, mqtt: { backoff: { min: 100, max: 200 } },
		});
		for (let i = 0; i < 30; i++) {
			// Name resolution on the Node host answers in a microtask; the attempt's timers run on the clock.
			await turn();
			clock.advance(250);
		}
		assert.ok(sockets.length >= 20, `${sockets.length} connection attempts`);
		await turn();
		gc();
		const held = sockets.filter((socket) => socket.deref() !== undefined).length;
		assert.ok(held <= 1, `${held} of ${sockets.length} closed sockets are still held`);
		simulated.crash();
	});
});
