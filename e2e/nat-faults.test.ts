/**
 * Transfers through a FaultInjector on the link (issue 13, item 4): the link is a reliable
 * stream, so loss and reordering can only come from a device plugged between it and the NAT
 * engine (this kernel has no netem). 100 MB each way at 1 % and 5 % loss with 5 % reordering,
 * both directions of the link mistreated: R's kernel TCP and the exit's userspace TCP must
 * each recover what the other side lost. The seed is printed; BACKHAUL_FUZZ_SEED replays it.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { setTimeout as delay } from "node:timers/promises";
import { fuzzSeed } from "../src/helper/engines/fuzz-runs.js";
import { deterministicBytes, downloadSha256, sha256 } from "./nat/content.js";
import { buildNatTopology, type NatTopology } from "./nat/topology.js";
import { netnsSkipReason } from "./netns/index.js";
import { LAN } from "./netns/address-plan.js";

const skip = netnsSkipReason({ tun: true, tools: ["ip", "curl", "bash"] });
const MB = 1_000_000;
const SIZE = 100 * MB;
/** Generous: a contract that the transfer finishes, not a speed. */
const TRANSFER_S = 240;

const CASES: ReadonlyArray<readonly [mtu: number, loss: number]> = [
  [65520, 0.01],
  [65520, 0.05],
  [1280, 0.01],
  [1280, 0.05],
];

for (const [mtu, loss] of CASES) {
  describe(
    `100 MB through ${loss * 100} % loss and 5 % reordering on the link, MTU ${mtu}`,
    { skip, timeout: 900_000 },
    () => {
      let topo: NatTopology;
      const seed = fuzzSeed();
      before(async () => {
        const spec = `loss=${loss},reorder=0.05`;
        console.log(`faults on the link: ${spec}, seed ${seed} (replay: BACKHAUL_FUZZ_SEED=${seed})`);
        topo = await buildNatTopology({ mtu, faults: { spec, seed } });
      });
      after(() => topo?.cleanup());

      test("a download arrives intact", async () => {
        const downloaded = await downloadSha256(topo.remote, LAN.server.v4, SIZE, TRANSFER_S);
        assert.equal(downloaded, sha256(deterministicBytes(SIZE)));
        await assertFaultsHappened(topo);
      });

      test("an upload arrives intact", async () => {
        const file = `/tmp/backhaul-faults-${process.pid}`;
        const script = [
          `head -c ${SIZE} /dev/urandom > ${file}`,
          `sha256sum ${file} | cut -d' ' -f1`,
          `curl -sS --fail -m ${TRANSFER_S} -X POST -H 'Content-Type: application/octet-stream' --data-binary @${file} 'http://${LAN.server.v4}/upload'`,
          `rm -f ${file}`,
        ].join(" && ");
        const result = await topo.remote.runChecked("bash", ["-c", script], {
          timeoutMs: (TRANSFER_S + 20) * 1000,
        });
        const [sent, reply] = result.stdout.trim().split("\n");
        const answer = JSON.parse(reply ?? "{}") as { sha256?: string; length?: number };
        assert.equal(answer.length, SIZE, "bytes received by S");
        assert.equal(answer.sha256, sent, "sha256 at S matches what R sent");
        await assertFaultsHappened(topo);
      });
    },
  );
}

/**
 * The injector really dropped and reordered packets in both directions. Judged on a report made
 * after the transfer: a fast one can end before the exit's first once-a-second report.
 */
async function assertFaultsHappened(topo: NatTopology): Promise<void> {
  const seen = topo.reports.length;
  const deadline = Date.now() + 5_000;
  while (topo.reports.length <= seen && Date.now() < deadline) await delay(100);
  const counts = topo.latestReport()?.faultCounts;
  assert.ok(counts, "the exit reports its fault counts");
  console.log(`fault counts so far: ${JSON.stringify(counts)}`);
  for (const direction of ["inbound", "outbound"] as const) {
    assert.ok(
      (counts[direction].lost ?? 0) > 0,
      `${direction}: packets were lost (${JSON.stringify(counts)})`,
    );
    assert.ok((counts[direction].reordered ?? 0) > 0, `${direction}: packets were reordered`);
  }
}
