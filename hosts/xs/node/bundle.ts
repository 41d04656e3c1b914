/*
 * Bundles the firmware with its XS host binding (entry hosts/xs/main.ts) into one ES2022 script for the
 * XS worker, from the same sources and module names as the manifest (esbuild follows tsconfig.json's
 * paths). Also sizes what a board runs (entry hosts/moddable/main.ts, the SDK's modules left out), for
 * the figures. Built once per process.
 */
import path from "node:path";
import { build, type Plugin } from "esbuild";

const ROOT = path.resolve(import.meta.dirname, "../../..");

export interface FirmwareBundle {
	/** The script the worker evaluates (not minified, so XS errors point at readable code). */
	code: string;
	/** Its size in bytes, as evaluated and minified: firmware, simulated sensors and XS binding. */
	bytes: number;
	minifiedBytes: number;
	/** What a board runs (src/ and hosts/moddable/, without the Moddable SDK's own modules), in bytes. */
	board: { bytes: number; minifiedBytes: number };
}

/** Anything that is neither relative nor one of the project's rooted names (src/..., sim/...) is the SDK's. */
const SDK_MODULES: Plugin = {
	name: "moddable-sdk-modules",
	setup(esbuild) {
		esbuild.onResolve({ filter: /^[^./]/ }, ({ path }) => (/^(src|sim)\//.test(path) ? undefined : { path, external: true }));
	},
};

let bundling: Promise<FirmwareBundle> | undefined;

export function bundleFirmware(): Promise<FirmwareBundle> {
	bundling ??= (async () => {
		const xs = path.join(ROOT, "hosts/xs/main.ts");
		const board = path.join(ROOT, "hosts/moddable/main.ts");
		const [code, minified, boardCode, boardMinified] = await Promise.all([
			script(xs, "iife", false), script(xs, "iife", true), script(board, "esm", false), script(board, "esm", true),
		]);
		return {
			code,
			bytes: Buffer.byteLength(code),
			minifiedBytes: Buffer.byteLength(minified),
			board: { bytes: Buffer.byteLength(boardCode), minifiedBytes: Buffer.byteLength(boardMinified) },
		};
	})();
	return bundling;
}

async function script(entry: string, format: "iife" | "esm", minify: boolean): Promise<string> {
	const result = await build({
		entryPoints: [entry],
		bundle: true,
		write: false,
		format,
		platform: "neutral",
		// The XS in the worker (13.3) is older than the SDK's; ES2022 runs on both.
		target: "es2022",
		tsconfig: path.join(ROOT, "tsconfig.json"),
		plugins: [SDK_MODULES],
		minify,
		legalComments: "none",
		charset: "utf8",
		logLevel: "silent",
	});
	return result.outputFiles[0].text;
}
