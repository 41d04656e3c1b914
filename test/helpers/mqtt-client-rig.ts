/*
 * An MqttClient wired to a ScriptedNetwork and a VirtualClock, recording every event and log line, plus
 * the steps most tests start with (connect and accept).
 */
import { VirtualClock } from "../../hosts/node/virtual-clock";
import type { VirtualClockOptions } from "../../hosts/node/virtual-clock";
import { MqttClient } from "../../src/mqtt/client";
import type { MqttClientOptions, MqttDrop, MqttError, MqttMessage, MqttOversize, MqttReason, MqttSubscribeResult } from "../../src/mqtt/client";
import { ScriptedNetwork } from "./scripted-broker";
import type { ScriptedConnection, ScriptedOptions } from "./scripted-broker";
import { connack } from "./mqtt-packets";

export interface Recorded {
	connects: boolean[];
	messages: MqttMessage[];
	oversize: MqttOversize[];
	subscribes: MqttSubscribeResult[];
	disconnects: MqttReason[];
	errors: MqttError[];
	drops: MqttDrop[];
	logs: string[];
}

export interface Rig {
	clock: VirtualClock;
	net: ScriptedNetwork;
	client: MqttClient;
	seen: Recorded;
	/** Runs due callbacks; returns the connection the client opened, with the CONNECT taken off it. */
	open(): ScriptedConnection;
	/** open() then CONNACK(0, sessionPresent); returns the connection. */
	connect(sessionPresent?: boolean): ScriptedConnection;
}

export interface RigOptions {
	client?: Partial<MqttClientOptions>;
	clock?: VirtualClockOptions;
	network?: ScriptedOptions;
}

export function rig(options: RigOptions = {}): Rig {
	const clock = new VirtualClock(options.clock);
	const net = new ScriptedNetwork(clock, options.network);
	const seen: Recorded = { connects: [], messages: [], oversize: [], subscribes: [], disconnects: [], errors: [], drops: [], logs: [] };
	const client = new MqttClient({
		host: "broker.test",
		id: "node-1",
		socket: { io: net.io },
		dns: net.dns,
		clock,
		random: () => 0.5,
		log: (level, message) => seen.logs.push(`${level}: ${message}`),
		onConnect: ({ sessionPresent }) => seen.connects.push(sessionPresent),
		onMessage: (message) => seen.messages.push({ ...message, payload: message.payload.slice() }),
		onOversize: (message) => seen.oversize.push(message),
		onSubscribe: (result) => seen.subscribes.push(result),
		onDisconnect: (reason) => seen.disconnects.push(reason),
		onError: (error) => seen.errors.push(error),
		onDrop: (drop) => seen.drops.push(drop),
		...options.client,
	});
	const open = () => {
		const before = net.connections.length;
		clock.advance(0);
		if (net.connections.length === before) throw new Error("the client opened no connection");
		const connection = net.last;
		if (connection.writes.length !== 1) throw new Error(`expected one CONNECT, got ${connection.writes.length} writes`);
		connection.take();
		return connection;
	};
	return {
		clock, net, client, seen, open,
		connect(sessionPresent = false) {
			const connection = open();
			connection.send(connack(0, sessionPresent));
			clock.advance(0);
			return connection;
		},
	};
}
