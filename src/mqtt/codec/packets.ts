/*
 * MQTT 3.1.1 packets as values: the numeric packet types, the decoded-packet union, the closed set of
 * codec errors and the fixed-header flag table. Section and statement numbers refer to the OASIS
 * standard (protocol level 4).
 */

// Packet types, §2.2.1. Plain numeric constants so that `type` narrows the union without a lookup.
export const CONNECT = 1;
export const CONNACK = 2;
export const PUBLISH = 3;
export const PUBACK = 4;
export const PUBREC = 5;
export const PUBREL = 6;
export const PUBCOMP = 7;
export const SUBSCRIBE = 8;
export const SUBACK = 9;
export const UNSUBSCRIBE = 10;
export const UNSUBACK = 11;
export const PINGREQ = 12;
export const PINGRESP = 13;
export const DISCONNECT = 14;

/** Largest value the remaining-length varint can carry (§2.2.3). */
export const MAX_REMAINING_LENGTH = 268_435_455;

/** SUBACK return code for a refused filter (§3.9.3). */
export const SUBACK_FAILURE = 0x80;

export type QoS = 0 | 1 | 2;

export interface Will {
	topic: string;
	/** A string is sent as its UTF-8 bytes; kept as given, it costs no byte copy for as long as the client lives. */
	payload: Uint8Array | string;
	qos: QoS;
	retain: boolean;
}

export interface ConnectPacket {
	type: typeof CONNECT;
	clientId: string;
	clean: boolean;
	/** Seconds; 0 turns keepalive off. */
	keepalive: number;
	will?: Will;
	username?: string;
	password?: Uint8Array;
}

export interface ConnackPacket {
	type: typeof CONNACK;
	sessionPresent: boolean;
	/** 0 accepted, 1-5 refused (§3.2.2.3). */
	returnCode: number;
}

/**
 * A PUBLISH. A decoded `payload` is a view of the frame it came from, not a copy: it stays valid as long
 * as the caller keeps that frame's bytes unchanged.
 */
export interface PublishPacket {
	type: typeof PUBLISH;
	topic: string;
	payload: Uint8Array;
	qos: QoS;
	retain: boolean;
	dup: boolean;
	/** Packet identifier; 0 for QoS 0, which has none. */
	id: number;
}

export interface AckPacket<T extends number> {
	type: T;
	id: number;
}

export interface SubscribePacket {
	type: typeof SUBSCRIBE;
	id: number;
	filters: string[];
	/** Requested QoS, one per filter. */
	qos: QoS[];
}

export interface SubackPacket {
	type: typeof SUBACK;
	id: number;
	/** Granted QoS (0-2) or SUBACK_FAILURE, one per requested filter, in order. */
	codes: number[];
}

export interface UnsubscribePacket {
	type: typeof UNSUBSCRIBE;
	id: number;
	filters: string[];
}

export interface EmptyPacket<T extends number> {
	type: T;
}

export type PubackPacket = AckPacket<typeof PUBACK>;
export type PubrecPacket = AckPacket<typeof PUBREC>;
export type PubrelPacket = AckPacket<typeof PUBREL>;
export type PubcompPacket = AckPacket<typeof PUBCOMP>;
export type UnsubackPacket = AckPacket<typeof UNSUBACK>;
export type PingreqPacket = EmptyPacket<typeof PINGREQ>;
export type PingrespPacket = EmptyPacket<typeof PINGRESP>;
export type DisconnectPacket = EmptyPacket<typeof DISCONNECT>;

/** What a broker may send a client. */
export type BrokerPacket = ConnackPacket | PublishPacket | PubackPacket | PubrecPacket | PubrelPacket | PubcompPacket
	| SubackPacket | UnsubackPacket | PingrespPacket;

/** What a client may send a broker. */
export type ClientPacket = ConnectPacket | PublishPacket | PubackPacket | PubrecPacket | PubrelPacket | PubcompPacket
	| SubscribePacket | UnsubscribePacket | PingreqPacket | DisconnectPacket;

export type Packet = BrokerPacket | ClientPacket;

/*
 * Codec errors: a closed set of negative numbers, so that a result is a packet (an object), a length or
 * offset (>= 0), or one of these. Hostile bytes end in one of them, never in an exception.
 */
/** The caller's buffer cannot hold the encoded packet. */
export const BUFFER_TOO_SHORT = -1;
/** A remaining length encoded in more than 4 bytes (§2.2.3). */
export const VARINT_OVERFLOW = -2;
/** A packet larger than the configured maximum (or than MAX_REMAINING_LENGTH when encoding). */
export const PACKET_TOO_LARGE = -3;
/** Truncated or overlong fields, wrong fixed lengths, values the standard does not define. */
export const MALFORMED = -4;
/** Reserved fixed-header flags not as §2.2.2 requires. */
export const BAD_FLAGS = -5;
/** A string that is not well-formed UTF-8, holds U+0000 (§1.5.3), or a topic name with a wildcard. */
export const BAD_STRING = -6;
/** Type 0 or 15, or a packet this side of the connection must never receive. */
export const UNEXPECTED_TYPE = -7;

export type CodecError = -1 | -2 | -3 | -4 | -5 | -6 | -7;

const ERROR_TEXT: readonly string[] = Object.freeze([
	"",
	"buffer too short",
	"remaining length longer than 4 bytes",
	"packet too large",
	"malformed packet",
	"reserved header flags not as required",
	"invalid UTF-8 string",
	"unexpected packet type",
]);

/** A readable reason for a codec error, for logs. */
export function codecErrorText(error: number): string {
	return ERROR_TEXT[-error] ?? "unknown codec error";
}

/**
 * Required low nibble of the first byte, by packet type; -1 where the flags carry data (PUBLISH) or the
 * type is reserved. [MQTT-2.2.2-1] reserved flags must be as listed; [MQTT-2.2.2-2] otherwise the
 * receiver closes the connection.
 */
export const REQUIRED_FLAGS: readonly number[] = Object.freeze([
	-1, // 0 reserved
	0, // CONNECT
	0, // CONNACK
	-1, // PUBLISH: DUP, QoS, RETAIN (§3.3.1)
	0, // PUBACK
	0, // PUBREC
	2, // PUBREL [MQTT-3.6.1-1]
	0, // PUBCOMP
	2, // SUBSCRIBE [MQTT-3.8.1-1]
	0, // SUBACK
	2, // UNSUBSCRIBE [MQTT-3.10.1-1]
	0, // UNSUBACK
	0, // PINGREQ
	0, // PINGRESP
	0, // DISCONNECT
	-1, // 15 reserved
]);
