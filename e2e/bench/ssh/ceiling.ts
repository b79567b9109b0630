// Row (d): the raw throughput of one ssh2 exec channel between L and R (raw-channel.ts, in L).
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describeResult } from "../../netns/index.js";
import { runTracked } from "../nat/tracked-run.js";
import type { BenchTopology } from "./topology.js";
import { SSH_LINK } from "../../netns/address-plan.js";

const ROOT = new URL("../../..", import.meta.url).pathname;

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
  const args = [
    ...["--import", "tsx", "e2e/bench/ssh/raw-channel.ts", "--host", SSH_LINK.remote.v4, "--user", "bhdev"],
    ...["--key", t.sshd.keys.plain, "--known-hosts", knownHosts, "--bytes", String(bytes)],
  ];
  const result = await runTracked(t.local, process.execPath, args, { timeoutMs: 120_000, cwd: ROOT });
  if (result.code !== 0) throw new Error(describeResult("raw-channel", args, result));
  return JSON.parse(result.stdout) as CeilingResult;
}
