/*
 * What the client hands the app: messages, drop and subscription reports, callbacks and counters.
 */
import type { QoS } from "./codec/packets";
import type { MqttError, MqttReason } from "./errors";

export interface MqttMessage {
	topic: string;
	/** The payload bytes; the app may keep them. */
	payload: Uint8Array;
	qos: QoS;
	retain: boolean;
	dup: boolean;
}

/** An incoming PUBLISH larger than maxPacket: skipped unread (and acknowledged at QoS 1). */
export interface MqttOversize {
	topic: string;
	qos: QoS;
	retain: boolean;
	dup: boolean;
	/** Size of the whole packet in bytes. */
	length: number;
}

/**
 * A message that left the outbox undelivered: evicted at the outbox bound ("full"), abandoned by close()
 * ("closed"), or larger than the socket's whole send buffer, so it could never be written ("too-large").
 */
export interface MqttDrop {
	topic: string;
	qos: QoS;
	/** Packet identifier (QoS 1), as publish() returned it; 0 for QoS 0. */
	id: number;
	reason: "full" | "closed" | "too-large";
}

/** The broker's answer for one filter: the granted QoS, or SUBACK_FAILURE (0x80). */
export interface MqttSubscribeResult {
	filter: string;
	qos: number;
}

/** Callbacks, read at the moment they are called, so an app may set or replace them at any time. */
export interface MqttEvents {
	onConnect?(info: { sessionPresent: boolean }): void;
	onMessage?(message: MqttMessage): void;
	onOversize?(message: MqttOversize): void;
	onSubscribe?(result: MqttSubscribeResult): void;
	/** The broker acknowledged unsubscribing from `filter`. */
	onUnsubscribe?(result: { filter: string }): void;
	/** An established connection ended. */
	onDisconnect?(reason: MqttReason): void;
	/** A connection or an attempt at one failed; `error.code` says why. */
	onError?(error: MqttError): void;
	onDrop?(drop: MqttDrop): void;
	/** The broker acknowledged the QoS 1 message publish() returned `id` for. */
	onPublished?(id: number): void;
}

export interface MqttCounters {
	/** PUBLISH packets written for the first time. */
	sent: number;
	/** PUBLISH packets written again, with DUP, after a reconnect. */
	resent: number;
	/** PUBACKs that matched an outgoing QoS 1 message. */
	acked: number;
	/** Outgoing messages dropped (see MqttDrop). */
	dropped: number;
	/** Incoming PUBLISH delivered to onMessage. */
	received: number;
	/** Incoming PUBLISH skipped for exceeding maxPacket. */
	oversize: number;
	/** Connections established after the first. */
	reconnects: number;
	/** onMessage calls that threw (caught, logged; the message was still acknowledged). */
	handlerErrors: number;
	/** PUBACKs for an identifier not in flight (ignored). */
	unknownAcks: number;
}
