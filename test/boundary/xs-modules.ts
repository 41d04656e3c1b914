/*
 * How the XS engine on Moddable targets finds an imported module (xs/platforms/mc/xsHosts.c, fxFindModule):
 * a bare specifier is a module name as the manifest registers it; "./x" replaces the importer's last path
 * segment; "../x" replaces its last two. Nothing else is normalised, so "../../x" yields a name with ".." in it,
 * which no module has: on a board that import fails at run time.
 */

/** The module name XS looks up when module `from` imports `specifier`; undefined when XS gives up. */
export function resolveLikeXs(from: string, specifier: string): string | undefined {
	let name = specifier.replace(/\.m?js$/, "");
	const dot = name.startsWith("./") ? 1 : name.startsWith("../") ? 2 : 0;
	if (!dot) return name;
	let buffer = `/${from}`;
	let slash = buffer.lastIndexOf("/");
	if (dot === 2) {
		buffer = buffer.slice(0, slash);
		slash = buffer.lastIndexOf("/");
		if (slash < 0) return undefined;
	}
	buffer = buffer.slice(0, slash) + name.slice(dot);
	name = buffer.slice(1);
	return name;
}
