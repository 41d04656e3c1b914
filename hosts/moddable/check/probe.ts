/*
 * Memory probe for `npm run check:moddable` (hosts/moddable/check/manifest.json, an instrumented build of
 * the unchanged firmware). Several times a second it collects garbage and traces one line the check
 * reads from mcsim's output:
 *
 *   mem <live slot bytes> <chunk bytes> <stack peak bytes>
 *
 * and once, before main runs, the same figures labelled `mem-before-main`.
 *
 * Slot and chunk figures are what is live right after a collection; the stack figure is the deepest the
 * XS stack has been since boot (nothing resets it on lin). Bytes are the simulator's: a slot takes 32
 * bytes on this 64-bit host and 16 on a 32-bit board; the check converts.
 */
import Debug from "debug";
import Instrumentation from "instrumentation";
import Timer from "timer";

const PERIOD_MS = 100;

export default function setup(done: () => void): void {
	const slots = Instrumentation.map("XS Slot Heap Used");
	const chunks = Instrumentation.map("XS Chunk Heap Used");
	const stack = Instrumentation.map("XS Stack Used");
	const report = (label: string) => {
		Debug.gc();
		trace(`${label} ${Instrumentation.get(slots)} ${Instrumentation.get(chunks)} ${Instrumentation.get(stack)}\n`);
	};
	// Once before main: what the SDK and, in the simulator, the simulated board hold without the firmware.
	report("mem-before-main");
	Timer.repeat(() => report("mem"), PERIOD_MS);
	done();
}
