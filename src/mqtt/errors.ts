/*
 * Why a connection, or an attempt at one, ended: one closed set of codes shared by `MqttError.code` and
 * the client's onDisconnect reason, so an app can react to each (e.g. roll back broker settings on
 * "bad-username-or-password").
 */

export type MqttReason =
	/** The app called close(). */
	| "closed"
	/** The app called reconfigure(). */
	| "reconfigure"
	/** The broker's host name did not resolve. */
	| "dns"
	/** The socket failed: refused, reset, or closed by the broker. */
	| "transport"
	/** No TCP connection within connectTimeout (name resolution included). */
	| "connect-timeout"
	/** No CONNACK within connackTimeout. */
	| "connack-timeout"
	/** CONNACK return codes 1-5 (§3.2.2.3). */
	| "unacceptable-protocol-version"
	| "identifier-rejected"
	| "server-unavailable"
	| "bad-username-or-password"
	| "not-authorized"
	/** Nothing received for a whole keepalive period. */
	| "keepalive"
	/** A PUBACK was overdue and the PINGREQ probing the link went unanswered. */
	| "ack-timeout"
	/** The broker broke the protocol: malformed or unexpected packet, QoS 2, oversize non-PUBLISH. */
	| "protocol";

/** CONNACK return code -> reason, index = code. */
export const REFUSALS: readonly MqttReason[] = Object.freeze([
	"closed", // 0 is acceptance; never used
	"unacceptable-protocol-version",
	"identifier-rejected",
	"server-unavailable",
	"bad-username-or-password",
	"not-authorized",
]);

export class MqttError extends Error {
	override name = "MqttError";
	readonly code: MqttReason;
	/** The CONNACK return code (1-5) for a refusal, else 0. */
	readonly returnCode: number;

	constructor(code: MqttReason, message: string, returnCode = 0) {
		super(message);
		this.code = code;
		this.returnCode = returnCode;
	}
}
