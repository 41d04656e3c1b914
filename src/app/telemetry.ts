/*
 * From a driver's sample to what is published: calibration offsets, the configured unit, rounding, and
 * the publish-on-change rule (publish when temperature or humidity moved by their threshold, or when the
 * node has been silent for `maxSilence`; with both thresholds at 0, every reading is published).
 */
import type { Sample } from "../drivers/sensor";
import type { Settings } from "./settings";

export interface Reading {
	/** In the configured unit. */
	temperature: number;
	/** %RH, 0-100. */
	humidity: number;
	/** Pa, when the chip measures it. */
	pressure?: number;
}

const round2 = (value: number) => Math.round(value * 100) / 100;

/** Applies the calibration offsets and the unit. Humidity stays within 0-100 %RH after its offset. */
export function toReading(sample: Sample, settings: Readonly<Settings>): Reading {
	const celsius = sample.thermometer.temperature + (settings.offsetT as number);
	const humidity = Math.min(100, Math.max(0, sample.hygrometer.humidity + (settings.offsetH as number)));
	const reading: Reading = {
		temperature: round2(settings.unit === "F" ? celsius * 1.8 + 32 : celsius),
		humidity: round2(humidity),
	};
	if (sample.barometer) reading.pressure = Math.round(sample.barometer.pressure);
	return reading;
}

export interface TelemetryContext {
	seq: number;
	boot: string;
	/** Seconds since boot. */
	uptime: number;
	unit: string;
}

/** The `<n>/telemetry` payload. `seq` and `boot` let a consumer see lost and repeated readings. */
export function telemetryJson(reading: Reading, context: TelemetryContext): string {
	const units: Record<string, string> = { temperature: context.unit === "F" ? "°F" : "°C", humidity: "%" };
	if (reading.pressure !== undefined) units.pressure = "Pa";
	return JSON.stringify({ seq: context.seq, boot: context.boot, uptime: context.uptime, ...reading, units });
}

/** Decides whether a reading is worth publishing under the publish-on-change settings. */
export class ChangeFilter {
	#last: Reading | undefined;
	#lastAt = 0;

	/** `now` and `lastAt` are seconds of uptime. */
	wants(reading: Reading, now: number, settings: Readonly<Settings>): boolean {
		const deltaT = settings.deltaT as number;
		const deltaH = settings.deltaH as number;
		const last = this.#last;
		if (!last || (!deltaT && !deltaH)) return true;
		if (now - this.#lastAt >= (settings.maxSilence as number)) return true;
		if (deltaT && Math.abs(reading.temperature - last.temperature) >= deltaT) return true;
		return !!deltaH && Math.abs(reading.humidity - last.humidity) >= deltaH;
	}

	published(reading: Reading, now: number): void {
		this.#last = reading;
		this.#lastAt = now;
	}

	/** The unit changed: the next reading is not comparable, so it is published. */
	reset(): void {
		this.#last = undefined;
	}
}
