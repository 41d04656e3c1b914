/*
 * From a driver's sample to what is published: calibration offsets, the configured unit, rounding, the
 * `<n>/telemetry` payload, and the publish-on-change rule (publish when temperature or humidity moved by
 * their threshold, or when the node has been silent for `maxSilence`; with both thresholds at 0, every
 * reading is published).
 *
 * This runs every reading, so it allocates nothing but the payload string: the reading, the document and
 * its units object are made once per node, and the change filter keeps numbers, not the reading. The units
 * object is one, filled in for each payload, rather than a table of the four kinds (19 slots for good), and
 * not a module-level constant on purpose: a preloaded module's objects live in flash, and XS's
 * JSON.stringify cannot walk them ("read only value (in stringify)").
 */
import type { Sample } from "../drivers/sensor";
import type { Settings } from "./settings";

export interface Reading {
	/** In the configured unit. */
	temperature: number;
	/** %RH, 0-100. */
	humidity: number;
	/** Pa, when the chip measures it. */
	pressure: number | undefined;
}

const round2 = (value: number) => Math.round(value * 100) / 100;

export class Telemetry {
	/** The latest reading; overwritten by the next `read`, so copy what must outlive it. */
	readonly reading: Reading = { temperature: 0, humidity: 0, pressure: undefined };
	// Key order is the payload's field order; an undefined pressure is left out by JSON.stringify.
	readonly #units = { temperature: "°C", humidity: "%", pressure: undefined as string | undefined };
	readonly #document = {
		seq: 0, boot: "", uptime: 0, time: undefined as number | undefined, temperature: 0, humidity: 0,
		pressure: undefined as number | undefined, units: this.#units as object,
	};

	/** `boot`: the random per-boot id that, with `seq`, lets a consumer see lost and repeated readings. */
	constructor(boot: string) {
		this.#document.boot = boot;
	}

	/** Applies the calibration offsets and the unit. Humidity stays within 0-100 %RH after its offset. */
	read(sample: Sample, settings: Readonly<Settings>): Reading {
		const reading = this.reading;
		const celsius = sample.thermometer.temperature + (settings.offsetT as number);
		reading.temperature = round2(settings.unit === "F" ? celsius * 1.8 + 32 : celsius);
		reading.humidity = round2(Math.min(100, Math.max(0, sample.hygrometer.humidity + (settings.offsetH as number))));
		reading.pressure = sample.barometer ? Math.round(sample.barometer.pressure) : undefined;
		return reading;
	}

	/** The payload for the latest reading; `time` in seconds since 1970, 0 when the node does not know the date. */
	payload(seq: number, uptime: number, unit: string, time: number): string {
		const { reading } = this;
		return this.format(seq, this.#document.boot, uptime, time, reading.temperature, reading.humidity, reading.pressure, unit === "F");
	}

	/** The payload of any reading, this boot's or one that waited in flash. */
	format(seq: number, boot: string, uptime: number, time: number, temperature: number, humidity: number, pressure: number | undefined, fahrenheit: boolean): string {
		const document = this.#document;
		const ownBoot = document.boot;
		document.seq = seq;
		document.boot = boot;
		document.uptime = uptime;
		document.time = time || undefined;
		document.temperature = temperature;
		document.humidity = humidity;
		document.pressure = pressure;
		document.units = this.units(fahrenheit, pressure !== undefined);
		const payload = JSON.stringify(document);
		document.boot = ownBoot;
		return payload;
	}

	/** The `units` object for a payload, until the next call: one object, filled in for each. */
	units(fahrenheit: boolean, withPressure: boolean): object {
		const units = this.#units;
		units.temperature = fahrenheit ? "°F" : "°C";
		units.pressure = withPressure ? "Pa" : undefined;
		return units;
	}
}

/** Decides whether a reading is worth publishing under the publish-on-change settings. */
export class ChangeFilter {
	#temperature = NaN;
	#humidity = NaN;
	#at = 0;

	/** `now` is in seconds of uptime. */
	wants(reading: Reading, now: number, settings: Readonly<Settings>): boolean {
		const deltaT = settings.deltaT as number;
		const deltaH = settings.deltaH as number;
		if (Number.isNaN(this.#temperature) || (!deltaT && !deltaH)) return true;
		if (now - this.#at >= (settings.maxSilence as number)) return true;
		if (deltaT && Math.abs(reading.temperature - this.#temperature) >= deltaT) return true;
		return !!deltaH && Math.abs(reading.humidity - this.#humidity) >= deltaH;
	}

	published(reading: Reading, now: number): void {
		this.#temperature = reading.temperature;
		this.#humidity = reading.humidity;
		this.#at = now;
	}

	/** The unit changed: the next reading is not comparable, so it is published. */
	reset(): void {
		this.#temperature = NaN;
	}
}
