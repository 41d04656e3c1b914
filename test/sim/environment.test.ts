import assert from "node:assert/strict";
import { test } from "node:test";
import { Environment } from "../../sim/environment";

test("the environment is a function of time and seed, whatever order it is read in", () => {
	const a = new Environment({ seed: 5 });
	const b = new Environment({ seed: 5 });
	const times = [0, 1234.5, 60_000, 3_600_000, 999];
	const forward = times.map((t) => [a.temperatureAt(t), a.humidityAt(t), a.pressureAt(t)]);
	const backward = times.slice().reverse().map((t) => [b.temperatureAt(t), b.humidityAt(t), b.pressureAt(t)]).reverse();
	assert.deepEqual(forward, backward);
	assert.notEqual(new Environment({ seed: 6 }).temperatureAt(1234.5), forward[1][0]);
});

test("set moves the base values; swing and noise stay within their amplitudes", () => {
	const env = new Environment({ seed: 1, temperature: 10, humidity: 50, pressure: 100_000, swing: { temperature: 1, humidity: 2, pressure: 30 }, noise: { temperature: 0.1, humidity: 0.5, pressure: 3 } });
	for (let t = 0; t < 86_400_000; t += 997_331) {
		assert.ok(Math.abs(env.temperatureAt(t) - 10) <= 1.1);
		assert.ok(Math.abs(env.humidityAt(t) - 50) <= 2.5);
		assert.ok(Math.abs(env.pressureAt(t) - 100_000) <= 33);
	}
	env.set({ temperature: -20 });
	assert.ok(Math.abs(env.temperatureAt(5000) + 20) <= 1.1);
	env.setSwing({ temperature: 0 });
	env.setNoise({ temperature: 0 });
	assert.equal(env.temperatureAt(5000), -20);
});

test("values change smoothly: a few ms apart they differ by little", () => {
	const env = new Environment({ seed: 2 });
	for (let t = 0; t < 100_000; t += 777) {
		assert.ok(Math.abs(env.temperatureAt(t + 10) - env.temperatureAt(t)) < 0.002);
		assert.ok(Math.abs(env.humidityAt(t + 10) - env.humidityAt(t)) < 0.01);
	}
});

test("humidity stays within 0..100 whatever the base value", () => {
	const env = new Environment({ humidity: 99.9, noise: { humidity: 1 } });
	const dry = new Environment({ humidity: 0.1, noise: { humidity: 1 } });
	for (let t = 0; t < 60_000; t += 500) {
		assert.ok(env.humidityAt(t) <= 100 && env.humidityAt(t) >= 0);
		assert.ok(dry.humidityAt(t) >= 0);
	}
});
