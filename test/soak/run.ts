/*
 * `npm run soak`: the long soak (./soak.ts), by default 100 nodes for 10 simulated minutes at 4x real time
 * (about 2.5 minutes), every fault kind. Prints progress and a report; exits 1 when something was lost,
 * dropped, duplicated without a re-send, leaked or thrown.
 *
 *   npm run soak -- --nodes 200 --minutes 30 --speed 2 --seed 7 --kinds blackhole,restart,unplug
 */
import { parseArgs } from "node:util";
import { FAULT_KINDS, type FaultKind } from "./faults";
import { OUTBOX, problems, runSoak } from "./soak";
import { OUTBOX_DEFAULTS } from "../../src/mqtt/outbox";

const HELP = `Usage: npm run soak -- [options]

  --nodes <n>          simulated nodes, one reading per second each (default 100)
  --minutes <m>        simulated minutes of faults (default 10)
  --speed <x>          simulated time runs x times faster than real time (default 4)
  --seed <n>           fault schedule seed (default: random; printed, to replay a run)
  --kinds <a,b,...>    fault kinds (default all: ${FAULT_KINDS.join(", ")})
  --gap <min-max>      simulated seconds between faults (default 5-20)
  --max-outage <s>     longest blackhole or PUBACK loss, simulated seconds (default 30)
  --wrap               start the tick counter 2 simulated minutes before its 32-bit wrap
  --outbox <n>         outbox messages per node (default ${OUTBOX.messages}; bytes scale with it, at least 4 KB);
                       one smaller than the longest outage shows drops at the bound, counted, not lost
`;

const { values: args } = parseArgs({
	options: {
		nodes: { type: "string", default: "100" },
		minutes: { type: "string", default: "10" },
		speed: { type: "string", default: "4" },
		seed: { type: "string" },
		kinds: { type: "string" },
		gap: { type: "string", default: "5-20" },
		"max-outage": { type: "string", default: "30" },
		wrap: { type: "boolean", default: false },
		outbox: { type: "string" },
		help: { type: "boolean", default: false },
	},
});
if (args.help) {
	process.stdout.write(HELP);
	process.exit(0);
}
const number = (name: string, text: string) => {
	const value = Number(text);
	if (!(value > 0)) throw new Error(`--${name} must be a positive number\n${HELP}`);
	return value;
};
const kinds = args.kinds?.split(",") as FaultKind[] | undefined;
for (const kind of kinds ?? []) if (!FAULT_KINDS.includes(kind)) throw new Error(`unknown fault kind "${kind}"\n${HELP}`);
const [gapMin, gapMax] = args.gap.split("-").map((part) => number("gap", part) * 1000);
const seed = args.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : number("seed", args.seed);
const options = {
	nodes: number("nodes", args.nodes),
	durationMs: number("minutes", args.minutes) * 60_000,
	speed: number("speed", args.speed),
	seed,
	gap: { min: gapMin, max: gapMax ?? gapMin },
	maxOutageMs: number("max-outage", args["max-outage"]) * 1000,
	kinds,
	wrapAfterMs: args.wrap ? 120_000 : undefined,
	outbox: args.outbox === undefined ? undefined : {
		messages: number("outbox", args.outbox),
		// Never below the client's default 4 KB, so `--outbox 16` is exactly the default outbox.
		bytes: Math.max(OUTBOX_DEFAULTS.bytes, Math.round(number("outbox", args.outbox) * OUTBOX.bytes / OUTBOX.messages)),
	},
	progress: (line: string) => process.stdout.write(`${line}\n`),
};
process.stdout.write(`soak: ${options.nodes} nodes, ${args.minutes} simulated minutes at ${options.speed}x, seed ${seed}\n`);
const report = await runSoak(options);
const { heap, ...rest } = report;
process.stdout.write(`\n${JSON.stringify(rest, null, 2)}\nheap after collections (MB): ${heap.map((s) => `${s.at} s: ${(s.bytes / 2 ** 20).toFixed(1)}`).join(", ")}\n`);
const found = problems(report, { minReadings: 10_000, maxHeapGrowth: 16 * 2 ** 20, allowDrops: args.outbox !== undefined });
if (found.length) {
	process.stdout.write(`\nSOAK FAILED (seed ${seed}):\n- ${found.join("\n- ")}\n`);
	process.exit(1);
}
const losses = report.lost ? `${report.lost} missing, all within the ${report.dropped} drops counted at the outbox bound` : "none lost";
process.stdout.write(`\nsoak passed: ${report.readings} readings, ${losses}; ${report.duplicates} duplicates from ${report.resent} re-sends; ${report.redelivered} broker re-deliveries to the observer\n`);
process.exit(0);
