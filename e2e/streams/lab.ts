/**
 * The world of e2e/streams.test.ts: namespace L runs the real local helper (dist/helper-local.mjs)
 * and the test plays main (its relay, helper-exit.ts) and a proxy entrance on the remote (a Link
 * in the entrance role announcing Streams, with a LinkStreamOpener).
 *
 *   L: veth at LAN.local to S; /etc/hosts names S (its resolv.conf points at nothing, so the DNS
 *      engine's getaddrinfo fallback answers, and the lookup is a row of the DNS table).
 *   S: veth at LAN.server: HTTP, TCP echo (e2e/nat/servers.ts).
 * (addresses: e2e/netns/address-plan.ts)
 */
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Link } from "../../src/helper/engines/link/link.js";
import { createMemoryPipe } from "../../src/helper/engines/link/memory-pipe.js";
import { LinkStreamOpener } from "../../src/helper/engines/streams/stream-opener.js";
import type { ExitHandle } from "../../src/main/broker/exit-handle.js";
import { helperExit } from "../../src/main/broker/helper/helper-exit.js";
import type { HelperExitOptions } from "../../src/shared/helper-protocol.js";
import { Capability } from "../../src/shared/link-protocol.js";
import type { LinkStream, StreamOpener, StreamTarget } from "../../src/shared/link-streams.js";
import { VERSION } from "../../src/shared/version.js";
import { startHelperIn } from "../local-helper/built.js";
import { startServers } from "../nat/start-servers.js";
import { LAN, LINK_SUBNET, onNetwork, prefixes } from "../netns/address-plan.js";
import { NetnsLab, type NetworkNamespace } from "../netns/index.js";

/** S's name, known only to L's /etc/hosts. */
export const SERVER_NAME = "s.streams.test";
export const SERVER = LAN.server;

const LINK_OPTIONS: HelperExitOptions = {
  mtu: 65520,
  subnetV4: LINK_SUBNET.network.v4,
  subnetV6: LINK_SUBNET.network.v6,
  routes: prefixes(LAN.network),
  allowLocal: false,
  dns: "all",
  keepaliveIntervalMs: 0,
  pingTimeoutMs: 10_000,
};

export interface StreamsLab {
  local: NetworkNamespace;
  opener: LinkStreamOpener;
  /** The entrance's end of the link. */
  link: Link;
  exit: ExitHandle;
  helperLog(): string;
  cleanup(): Promise<void>;
}

export function buildStreamsLab(): Promise<StreamsLab> {
  return NetnsLab.build(async (lab) => {
    const local = await lab.createNamespace("l");
    const server = await lab.createNamespace("s");
    await writeFile(
      join("/etc/netns", local.name, "hosts"),
      `127.0.0.1 localhost\n::1 localhost\n${SERVER.v4} ${SERVER_NAME}\n`,
    );
    await lab.addVethPair(local, server, {
      addressesA: onNetwork(LAN.network, LAN.local),
      addressesB: onNetwork(LAN.network, LAN.server),
    });
    await startServers(server);
    const { endpoint, log } = await startHelperIn(lab, local);
    const [agentSide, mainSide] = createMemoryPipe({ highWaterMark: 1024 * 1024 });
    const link = new Link(agentSide, {
      role: "entrance",
      softwareVersion: VERSION,
      capabilities: Capability.Ipv6 | Capability.Streams,
    });
    lab.onCleanup("first", () => link.close("test over"));
    const opener = new LinkStreamOpener(link);
    const exit = await helperExit(() => Promise.resolve(endpoint)).open(mainSide, LINK_OPTIONS);
    await Promise.all([exit.ready, link.ready]);
    return { local, opener, link, exit, helperLog: log, cleanup: () => lab.cleanup() };
  });
}

/** Sends `request` on a new stream to `target` and returns everything the server sends until its end. */
export async function exchange(opener: StreamOpener, target: StreamTarget, request: Buffer): Promise<Buffer> {
  const stream: LinkStream = await opener.open(target);
  const chunks: Buffer[] = [];
  stream.onData((bytes) => {
    chunks.push(Buffer.from(bytes));
    stream.consumed(bytes.length);
  });
  const ended = new Promise<void>((resolve) => stream.onEnd(resolve));
  let drained: (() => void) | undefined;
  stream.onDrain(() => drained?.());
  for (let offset = 0; offset < request.length; offset += 64 * 1024) {
    if (!stream.write(request.subarray(offset, offset + 64 * 1024))) {
      await new Promise<void>((resolve) => (drained = resolve));
    }
  }
  stream.end();
  await ended;
  return Buffer.concat(chunks);
}

/** The body of a 200 response; fails on anything else. */
export function httpBody(response: Buffer): Buffer {
  const split = response.indexOf("\r\n\r\n");
  assert.ok(split > 0, `an HTTP response: ${response.subarray(0, 80).toString()}`);
  assert.match(response.subarray(0, split).toString(), /^HTTP\/1\.1 200/);
  return response.subarray(split + 4);
}
