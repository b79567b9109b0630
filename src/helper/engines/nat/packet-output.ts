import type { PacketPort } from "../port/packet-port.js";

/**
 * Where the engines send packets towards the remote: the send half of a PacketPort (in
 * production the link's, through the capture tap). A sent packet is lent for the call, as
 * PacketPort says. When `writable` is false the link is backed up: flows hold their data and
 * wait for `onDrain`.
 */
export type PacketOutput = Pick<PacketPort, "send" | "sendWith" | "writable" | "onDrain">;
