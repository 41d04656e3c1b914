/*
 * The datasheet test vectors, computed from the datasheet formulas and cross-checked independently
 * (copied unchanged from the team's sensor reference, so the tests need nothing outside the repository).
 */
import { readFileSync } from "node:fs";

function load(name: string): any {
	return JSON.parse(readFileSync(new URL(`./vectors/${name}`, import.meta.url), "utf8"));
}

export const vectors = load("vectors.json");
export const bme280Vectors = load("bme280_vectors.json");
