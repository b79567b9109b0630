// What the native DNS relay's tests share: the relay class (or why it is not here), UDP sockets
// on loopback that record what they receive, and waiting for a condition.
import { createSocket, type RemoteInfo, type Socket } from "node:dgram";
import type { NativeDnsRelayClass } from "./addon-types.js";
import { loadNativeAddon } from "./load-addon.js";

function relayClass(): NativeDnsRelayClass | undefined {
  try {
    return loadNativeAddon().DnsRelay;
  } catch {
    return undefined;
  }
}

export const DnsRelay = relayClass();
export const skip =
  DnsRelay === undefined
    ? "the native addon with DnsRelay is not built here (Linux: node scripts/build-native.mjs)"
    : undefined;

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export async function until(condition: () => boolean, what: string, withinMs = 5_000): Promise<void> {
  for (const started = Date.now(); !condition();) {
    if (Date.now() - started > withinMs) throw new Error(`not within ${withinMs} ms: ${what}`);
    await sleep(10);
  }
}

/** A UDP socket on loopback; `received` keeps what came in, with its sender. */
export async function udpSocket(
  onMessage: (message: Buffer, from: RemoteInfo, socket: Socket) => void = () => undefined,
  host = "127.0.0.1",
): Promise<{ socket: Socket; port: number; received: { message: Buffer; from: RemoteInfo }[] }> {
  const socket = createSocket(host.includes(":") ? "udp6" : "udp4");
  const received: { message: Buffer; from: RemoteInfo }[] = [];
  socket.on("message", (message, from) => {
    received.push({ message, from });
    onMessage(message, from, socket);
  });
  await new Promise<void>((resolve) => socket.bind(0, host, resolve));
  return { socket, port: socket.address().port, received };
}
