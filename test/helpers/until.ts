/** Polls a condition of the code under test; only the deadline is time-based, and it only fails the test. */
export function until(condition: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
	return new Promise((resolve, reject) => {
		const started = Date.now();
		const check = () => {
			if (condition()) resolve();
			else if (Date.now() - started > timeoutMs) reject(new Error(`timed out waiting for ${what}`));
			else setTimeout(check, 20);
		};
		check();
	});
}
