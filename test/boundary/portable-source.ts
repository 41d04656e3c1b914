/*
 * Finds what must not appear in code that runs on the XS engine: Node imports and globals, XS-only
 * globals (the host's job to inject), and imports that leave the portable tree. Comments and string
 * literals are blanked first, so prose about `setTimeout` is fine and `import ... from "node:fs"` is not.
 */
import { builtinModules } from "node:module";

export interface Violation {
	line: number;
	text: string;
	why: string;
}

const NODE_GLOBALS: Readonly<Record<string, string>> = Object.freeze({
	process: "a Node global",
	Buffer: "a Node global",
	global: "a Node global",
	require: "a Node global",
	module: "a Node global",
	__dirname: "a Node global",
	__filename: "a Node global",
	setTimeout: "a Node/browser timer: use the injected Clock",
	setInterval: "a Node/browser timer: use the injected Clock",
	setImmediate: "a Node timer: use the injected Clock",
	clearTimeout: "a Node/browser timer: use the injected Clock",
	clearInterval: "a Node/browser timer: use the injected Clock",
	queueMicrotask: "not on every XS host",
	console: "not on XS: use the injected Log",
	TextEncoder: "not on XS without a manifest entry: use src/utf8.ts",
	TextDecoder: "not on XS without a manifest entry: use src/utf8.ts",
	structuredClone: "not in ES2022",
	performance: "a Node/browser global: use the injected Clock",
	fetch: "a Node/browser global",
});

const XS_GLOBALS: Readonly<Record<string, string>> = Object.freeze({
	trace: "XS-only: use the injected Log",
	device: "XS-only: the host injects the I2C bus",
	System: "XS-only",
	Timer: "XS-only: use the injected Clock",
	Time: "XS-only: use the injected Clock",
	Preference: "XS-only: use the injected Store",
});

const XS_ONLY_MEMBERS = /\b(String\.fromArrayBuffer|ArrayBuffer\.fromString|ArrayBuffer\.prototype\.concat)\b/;
const NODE_MODULES = new Set(builtinModules);

/** Blanks comments and the insides of string and template literals, keeping line structure and quotes. */
export function blankCommentsAndStrings(source: string): string {
	let out = "";
	let i = 0;
	while (i < source.length) {
		const c = source[i];
		const next = source[i + 1];
		if (c === "/" && next === "/") {
			while (i < source.length && source[i] !== "\n") { out += " "; i++; }
		}
		else if (c === "/" && next === "*") {
			while (i < source.length && !(source[i] === "*" && source[i + 1] === "/")) { out += source[i] === "\n" ? "\n" : " "; i++; }
			out += "  ";
			i += 2;
		}
		else if (c === "\"" || c === "'" || c === "`") {
			out += c;
			i++;
			while (i < source.length && source[i] !== c) {
				if (source[i] === "\\") { out += "  "; i += 2; continue; }
				out += source[i] === "\n" ? "\n" : " ";
				i++;
			}
			out += c;
			i++;
		}
		else { out += c; i++; }
	}
	return out;
}

export interface Rules {
	/** Whether an import specifier stays inside the tree this code may use. */
	isAllowedImport: (specifier: string) => boolean;
	/**
	 * Code for a Moddable host may use the XS globals and the SDK's modules, some of which share a name with
	 * a Node builtin ("net"): there only "node:" marks a Node import. Firmware may use neither.
	 */
	moddableHost?: boolean;
}

export interface Import {
	line: number;
	text: string;
	specifier: string;
}

/** The imports and re-exports of one file, dynamic ones included; one named in a comment or a string is none. */
export function findImports(source: string): Import[] {
	const rawLines = source.split("\n");
	const imports: Import[] = [];
	blankCommentsAndStrings(source).split("\n").forEach((code, index) => {
		if (!/\b(?:import|export)\b[^;]*?\bfrom\s*(["'])|\bimport\s*\(\s*(["'])|^\s*import\s*(["'])/.test(code)) return;
		const raw = rawLines[index];
		const specifier = /(?:from\s*|import\s*\(\s*|^\s*import\s*)["']([^"']*)["']/.exec(raw)?.[1] ?? "";
		imports.push({ line: index + 1, text: raw.trim(), specifier });
	});
	return imports;
}

/** Violations in one file of code that must run on XS. */
export function findViolations(source: string, rules: Rules): Violation[] {
	const violations: Violation[] = [];
	for (const { line, text, specifier } of findImports(source)) {
		if (specifier.startsWith("node:") || (!rules.moddableHost && NODE_MODULES.has(specifier.split("/")[0])))
			violations.push({ line, text, why: `imports the Node module "${specifier}"` });
		else if (!rules.isAllowedImport(specifier))
			violations.push({ line, text, why: `imports "${specifier}", outside the portable tree: inject it through the Host` });
	}
	const rawLines = source.split("\n");
	const code = blankCommentsAndStrings(source);
	// A name the file declares itself (`const device = ...`) shadows the global of that name.
	const declared = new Set(Array.from(code.matchAll(/\b(?:const|let|var|function|class)\s+([A-Za-z_$][\w$]*)/g), (m) => m[1]));
	code.split("\n").forEach((code, index) => {
		const raw = rawLines[index];
		const line = index + 1;
		for (const match of code.matchAll(/(?<![.\w$#])([A-Za-z_$][\w$]*)\b/g)) {
			const name = match[1];
			if (declared.has(name)) continue;
			const why = Object.hasOwn(NODE_GLOBALS, name) ? NODE_GLOBALS[name]
				: !rules.moddableHost && Object.hasOwn(XS_GLOBALS, name) ? XS_GLOBALS[name] : undefined;
			if (!why) continue;
			// `name:` as an object key or `x.name` are not uses of the global.
			const after = code.slice(match.index! + name.length);
			if (/^\s*:(?!:)/.test(after) && !/\?\s*$/.test(code.slice(0, match.index))) continue;
			violations.push({ line, text: raw.trim(), why: `uses ${name}, ${why}` });
		}
		if (!rules.moddableHost && XS_ONLY_MEMBERS.test(code)) violations.push({ line, text: raw.trim(), why: "uses an XS-only built-in extension" });
	});
	return violations.sort((a, b) => a.line - b.line);
}
