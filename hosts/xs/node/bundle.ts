/*
 * Bundles the firmware with its XS host binding (entry hosts/xs/main.ts) into one ES2022 script for the
 * XS worker, from the same sources and module names as the manifest (esbuild follows tsconfig.json's
 * paths). Also sizes what a board runs (entry hosts/moddable/main.ts, the SDK's modules left out), for
 * the figures. Built once per process.
 *
 * The script imitates preload (hosts/xs/preload.ts): its entry calls petrify(PRELOADED_BINDINGS), and the
 * name is replaced here with the top-level bindings of the modules a simulator build preloads, read off
 * the bundle: esbuild (not minified, iife) starts each module with a `// path` comment and prints its
 * top-level declarations two spaces in, as `var x = ...` (classes, const and let included) or
 * `function x(`, under the names it gave them in the bundle's one scope.
 */
import fs from "node:fs";
import path from "node:path";
import { build, type Plugin } from "esbuild";

const ROOT = path.resolve(import.meta.dirname, "../../..");

export interface XsScript {
	/** The script the worker evaluates (not minified, so XS errors point at readable code). */
	code: string;
	/** The preloaded modules' top-level bindings handed to petrify, by module path ("src/app/telemetry.ts"). */
	preloaded: Record<string, string[]>;
}

export interface FirmwareBundle extends XsScript {
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

const XS_ENTRY = path.join(ROOT, "hosts/xs/main.ts");

let bundling: Promise<FirmwareBundle> | undefined;

export function bundleFirmware(): Promise<FirmwareBundle> {
	bundling ??= (async () => {
		const board = path.join(ROOT, "hosts/moddable/main.ts");
		const [{ code, preloaded }, minified, boardCode, boardMinified] = await Promise.all([
			bundleForXs(XS_ENTRY, manifestPreloads()), script(XS_ENTRY, "iife", true), script(board, "esm", false), script(board, "esm", true),
		]);
		return {
			code,
			preloaded,
			bytes: Buffer.byteLength(code),
			minifiedBytes: Buffer.byteLength(minified),
			board: { bytes: Buffer.byteLength(boardCode), minifiedBytes: Buffer.byteLength(boardMinified) },
		};
	})();
	return bundling;
}

/**
 * The firmware with some of its modules replaced by other files (module path → file path, both from the
 * repository root), to run an older or broken version of a module in XS; the sizes are the real firmware's.
 */
export async function bundleFirmwareWith(substitutes: Readonly<Record<string, string>>): Promise<FirmwareBundle> {
	return { ...await bundleFirmware(), ...await bundleForXs(XS_ENTRY, manifestPreloads(), substitutes) };
}

/** The modules a simulator build (platform lin, which the xsnap host stands for) preloads, as file paths. */
function manifestPreloads(): Set<string> {
	const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, "manifest.json"), "utf8")) as { preload: string[]; platforms: { lin: { preload: string[] } } };
	return new Set([...manifest.preload, ...manifest.platforms.lin.preload].map((name) => `${name}.ts`));
}

/**
 * Bundles `entry` (which must call petrify(PRELOADED_BINDINGS)) for the XS worker, handing petrify the
 * top-level bindings of the modules in `preloads` (paths from the repository root, e.g. "src/io.ts").
 */
export async function bundleForXs(entry: string, preloads: ReadonlySet<string>, substitutes: Readonly<Record<string, string>> = {}): Promise<XsScript> {
	const code = await script(entry, "iife", false, substitutes);
	const preloaded = topLevelBindings(code, preloads);
	const call = /\bPRELOADED_BINDINGS\b/g;
	if (code.match(call)?.length !== 1) throw new Error(`${path.relative(ROOT, entry)} must name PRELOADED_BINDINGS once, in its call to petrify`);
	const bindings = Object.entries(preloaded).map(([module, names]) => `\n  // ${module}\n  ${names.join(", ")},`).join("");
	return { code: code.replace(call, `[${bindings}\n]`), preloaded };
}

function topLevelBindings(code: string, preloads: ReadonlySet<string>): Record<string, string[]> {
	const found: Record<string, string[]> = {};
	let names: string[] | undefined;
	for (const line of code.split("\n")) {
		const start = /^  \/\/ (\S+\.ts)$/.exec(line);
		if (start) {
			names = preloads.has(start[1]) ? (found[start[1]] = []) : undefined;
			continue;
		}
		if (!names) continue;
		const declared = /^  (?:var ([\w$]+)(?: =|;)|(?:async )?function\*? ?([\w$]+)\()/.exec(line);
		if (declared) names.push(declared[1] ?? declared[2]);
		// A form this does not read would leave bindings out of flash without a word: stop instead.
		else if (/^  (?:var|let|const|class)\b/.test(line)) throw new Error(`cannot tell the bindings declared by this top-level line of a preloaded module:\n${line}`);
	}
	if (preloads.size && !Object.keys(found).length) throw new Error("no preloaded module found in the bundle: did esbuild change how it marks modules?");
	return found;
}

/** Loads another file in place of a module; the bundle still names the module, so it stays preloaded. */
function substituting(substitutes: Readonly<Record<string, string>>): Plugin {
	return {
		name: "substitutes",
		setup(esbuild) {
			esbuild.onLoad({ filter: /\.ts$/ }, async ({ path: file }) => {
				const by = substitutes[path.relative(ROOT, file)];
				return by === undefined ? undefined : { contents: await fs.promises.readFile(path.join(ROOT, by), "utf8"), loader: "ts" };
			});
		},
	};
}

async function script(entry: string, format: "iife" | "esm", minify: boolean, substitutes: Readonly<Record<string, string>> = {}): Promise<string> {
	const result = await build({
		entryPoints: [entry],
		bundle: true,
		write: false,
		// The module comments, which name the preloaded modules, are relative to this.
		absWorkingDir: ROOT,
		format,
		platform: "neutral",
		// The XS in the worker (13.3) is older than the SDK's; ES2022 runs on both.
		target: "es2022",
		tsconfig: path.join(ROOT, "tsconfig.json"),
		plugins: [SDK_MODULES, substituting(substitutes)],
		minify,
		legalComments: "none",
		charset: "utf8",
		logLevel: "silent",
	});
	return result.outputFiles[0].text;
}
