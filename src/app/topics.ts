/* The node's topics, all under `<root>/<id>` (written `<n>` in the README). */

export interface Topics {
	telemetry: string;
	status: string;
	state: string;
	config: string;
	configState: string;
	fleetConfig: string;
	command: string;
}

export function topicsFor(root: string, id: string): Topics {
	const node = `${root}/${id}`;
	return Object.freeze({
		telemetry: `${node}/telemetry`,
		status: `${node}/status`,
		state: `${node}/state`,
		config: `${node}/config`,
		configState: `${node}/config/state`,
		fleetConfig: `${root}/all/config`,
		command: `${node}/command`,
	});
}

/** A topic level must not hold wildcards or separators. */
export function isTopicLevel(text: string): boolean {
	return text.length > 0 && !/[+#/\u0000]/.test(text);
}
