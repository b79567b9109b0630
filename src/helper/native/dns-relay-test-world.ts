// What the native DNS relay's tests share: the relay class (or why it is not here), UDP sockets
// on loopback that record what they receive, and waiting for a condition.
import { createSocket, type RemoteInfo, type Socket } from "node:dgram";
import { readdirSync, readlinkSync } from "node:fs";
import { after } from "node:test";
import type { NativeDnsRelay, NativeDnsRelayClass, NativeDnsRelayOptions } from "./addon-types.js";
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

/** What this process's descriptors point at (socket:[inode], anon_inode:[eventpoll]...), counted. */
export function openDescriptors(): Map<string, number> {
  const open = new Map<string, number>();
  for (const fd of readdirSync("/proc/self/fd")) {
    let target: string;
    try {
      target = readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      continue; // the directory's own descriptor, closed once read
    }
    open.set(target, (open.get(target) ?? 0) + 1);
  }
  return open;
}

/** Descriptors open in `now` beyond those in `before`: what was opened since and not closed. */
export function openedSince(before: Map<string, number>, now = openDescriptors()): string[] {
  return [...now].filter(([target, count]) => count > (before.get(target) ?? 0)).map(([target]) => target);
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

/** Options for a relay on 127.0.0.1 whose servers are stand-ins on loopback `servers` ports. */
export function loopbackRelayOptions(
  servers: readonly number[],
  domains: readonly string[],
  options: Partial<NativeDnsRelayOptions> = {},
): NativeDnsRelayOptions {
  return {
    listen: "127.0.0.1",
    port: 0,
    servers: servers.map((port) => ({ address: "127.0.0.1", port })),
    nextServerMs: 2_000,
    lastServerMs: 5_000,
    maxPending: 4_096,
    domains: [...domains],
    ...options,
  };
}

/** The sockets and relays a describe() block opens, all closed after it. */
export function relayWorld(): {
  sockets: Socket[];
  relays: NativeDnsRelay[];
  socket: (onMessage?: Parameters<typeof udpSocket>[0]) => ReturnType<typeof udpSocket>;
} {
  const sockets: Socket[] = [];
  const relays: NativeDnsRelay[] = [];
  after(() => {
    for (const relay of relays) relay.close();
    for (const socket of sockets) socket.close();
  });
  const socket = async (onMessage?: Parameters<typeof udpSocket>[0]) => {
    const made = await udpSocket(onMessage);
    sockets.push(made.socket);
    return made;
  };
  return { sockets, relays, socket };
}

/** Why ::1 cannot be used here (IPv6 disabled on loopback), or undefined when it can. */
async function loopbackV6Missing(): Promise<string | undefined> {
  const socket = createSocket("udp6");
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once("error", reject);
      socket.bind(0, "::1", resolve);
    });
    return undefined;
  } catch (error) {
    return `no ::1 on this machine's loopback (${(error as Error).message}): IPv6 is disabled here`;
  } finally {
    socket.close();
  }
}

export const noLoopbackV6 = await loopbackV6Missing();
