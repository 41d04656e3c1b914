/* The node's topics, all under `<root>/<id>` (written `<n>` in the README). */

export interface Topics {
	telemetry: string;
	telemetryBacklog: string;
	telemetrySummary: string;
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
		telemetryBacklog: `${node}/telemetry/backlog`,
		telemetrySummary: `${node}/telemetry/summary`,
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

/**
 * Why `id` and `root` cannot name a node, or "" when they can. The id is also a level of the Home Assistant
 * discovery topic, where only letters, digits, `_` and `-` are allowed, and "all" is the fleet's level.
 */
export function topicProblem(id: string, root: string): string {
	if (!/^[A-Za-z0-9_-]+$/.test(id)) return `node id "${id}" may hold only letters, digits, _ and - (Home Assistant's rule for discovery topics)`;
	if (id === "all") return `node id "all" is taken: ${root}/all/config is the fleet's config topic`;
	if (!root.split("/").every(isTopicLevel)) return `topic root "${root}" must be one or more non-empty topic levels without + or #`;
	return "";
}
