/*
 * What a Moddable build's preload does to the firmware, imitated in the xsnap worker so that tests fail
 * where a device would. xsl runs every preloaded module at build time, and whatever exists then lives in
 * flash; then it freezes every function and the built-in prototypes. On a device that means:
 *  - JSON.stringify throws "read only value" on any object in flash that it walks, because it marks the
 *    objects it is inside (to see cycles), and flash cannot be marked;
 *  - a function or class of a preloaded module takes no new property and no write to its statics, and
 *    assigning an inherited built-in property (an Error subclass's `this.name = ...`) throws.
 * Plain objects and arrays of preloaded modules stay writable on a device (through RAM aliases), so they are
 * left writable here. Closures made at preload time keep variables this cannot reach; see docs/xs-engine.md.
 *
 * hosts/xs/node/bundle.ts replaces PRELOADED_BINDINGS in the entry's call to `petrify` with the top-level
 * bindings of the preloaded modules, and the entry makes that call once every module has run, which is
 * where xsl stops.
 */

declare global {
	/** Filled in by hosts/xs/node/bundle.ts. */
	const PRELOADED_BINDINGS: readonly unknown[];
}

type Replacer = (this: unknown, key: string, value: unknown) => unknown;

/** The objects JSON.stringify would meet in flash on a device: all but functions, which it never marks. */
const flash = new WeakSet<object>();
const stringify = JSON.stringify;
/** The caller's replacer, for the stringify under way (a variable, not a closure per call: nothing allocated). */
let replacing: Replacer | undefined;

/**
 * Called by XS's own stringify on every value it is about to write, after toJSON and the caller's replacer.
 * No typeof test: it would copy a string literal into the heap at every value; WeakSet.has takes anything.
 */
function check(this: unknown, key: string, value: unknown): unknown {
	const replaced = replacing ? replacing.call(this, key, value) : value;
	if (flash.has(replaced as object)) throw new TypeError("read only value (in stringify)");
	return replaced;
}

function stringifyChecked(value: unknown, replacer?: unknown, space?: string | number): string {
	// A property list changes which keys XS walks and in what order, which `check` cannot reproduce.
	// (instanceof, not typeof, for the same reason as in `check`.)
	if (replacer != null && !(replacer instanceof Function)) throw new TypeError("the preload imitation (hosts/xs/preload.ts) takes no property-list replacer");
	const outer = replacing;
	replacing = (replacer ?? undefined) as Replacer | undefined;
	try {
		return stringify(value, check, space);
	}
	finally {
		replacing = outer;
	}
}

const isObject = (value: unknown): value is object => (typeof value === "object" && value !== null) || typeof value === "function";

/**
 * Puts in flash every object reachable from `bindings` (own properties, accessors, prototypes, Map and Set
 * contents) and freezes its functions, then freezes the built-ins as xsl does. Runs once per realm.
 */
export function petrify(bindings: readonly unknown[]): void {
	if (JSON.stringify === stringifyChecked) throw new Error("already petrified");
	const seen = new WeakSet<object>();
	const pending: object[] = [];
	const reach = (value: unknown) => {
		if (isObject(value) && !seen.has(value)) {
			seen.add(value);
			pending.push(value);
		}
	};
	bindings.forEach(reach);
	for (let object = pending.pop(); object; object = pending.pop()) {
		reach(Object.getPrototypeOf(object));
		for (const key of Reflect.ownKeys(object)) {
			const property = Reflect.getOwnPropertyDescriptor(object, key)!;
			reach(property.value);
			reach(property.get);
			reach(property.set);
		}
		if (object instanceof Map) object.forEach((value, key) => (reach(key), reach(value)));
		else if (object instanceof Set) object.forEach(reach);
		if (typeof object === "function") Object.freeze(object);
		else flash.add(object);
	}
	JSON.stringify = stringifyChecked as typeof JSON.stringify;
	freezeBuiltIns();
}

/** xsl's fxFreezeBuiltIns: the namespaces, and every built-in prototype, the unnamed ones included. */
function freezeBuiltIns(): void {
	const global = globalThis as Record<string, unknown>;
	for (const name of Object.getOwnPropertyNames(global)) {
		const value = global[name];
		if (typeof value !== "function") continue;
		Object.freeze(value);
		if (isObject(value.prototype)) Object.freeze(value.prototype);
	}
	const proto = Object.getPrototypeOf;
	const iterator = proto(proto([][Symbol.iterator]()));
	const generator = proto(function* () {});
	const asyncGenerator = proto(async function* () {});
	for (const object of [
		JSON, Math, Reflect, Atomics, iterator,
		proto([][Symbol.iterator]()), proto(new Map()[Symbol.iterator]()), proto(new Set()[Symbol.iterator]()),
		proto(""[Symbol.iterator]()), proto(/x/[Symbol.matchAll]("")), proto(Uint8Array), proto(Uint8Array.prototype),
		generator, generator.prototype, asyncGenerator, asyncGenerator.prototype, proto(asyncGenerator.prototype),
		proto(async function () {}),
	]) Object.freeze(object);
}
