// Row (d): the raw throughput of one ssh2 exec channel between L and R (raw-channel.ts, in L).
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { SSH_LINK } from "../../netns/address-plan.js";
import { oneShot } from "../../netns/child-rpc.js";
import type { RawChannelCommands } from "./raw-channel.js";
import type { BenchTopology } from "./topology.js";

const RAW_CHANNEL = oneShot<RawChannelCommands>("e2e/bench/ssh/raw-channel.ts");

export interface CeilingResult {
  cipher: string;
  /** L -> R, the direction of S -> R traffic ("down"). */
  pushMbps: number;
  /** R -> L, the direction of R -> S traffic ("up"). */
  pullMbps: number;
  bytes: number;
}

export async function measureCeiling(t: BenchTopology, bytes: number): Promise<CeilingResult> {
  const knownHosts = join(t.dir, "raw_known_hosts");
  await writeFile(knownHosts, `${(await t.sshd.knownHostsLines()).ed25519}\n`);
  const request = { host: SSH_LINK.remote.v4, user: "bhdev", key: t.sshd.keys.plain, knownHosts, bytes };
  return RAW_CHANNEL.call(t.local, "measure", request, 120_000);
}
