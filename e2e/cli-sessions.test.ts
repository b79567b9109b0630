/**
 * Issue 15, item 4 end to end: two `backhaul connect` runs at once in L, to two remotes R1 and R2
 * (two namespaces, each entered by an `exec:` command saved in the window's settings as "r1" and
 * "r2"), S the private network behind L. Each remote reaches S by name, each CLI's JSON rows
 * carry its own `session`, and Ctrl+C on one CLI (SIGINT to its PID) restores its remote while
 * the other's transfer runs on, intact, without a reconnect.
 *
 * Each remote's shell gets a private /run of its own (as in cli-exec.test.ts): the agent's journal
 * and lock live there, and two agents on one machine must not share them.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { LINK_SUBNET_OPTIONS, distSkipReason } from "./cli/command.js";
import { execRemotesForSuite, type ExecRemote } from "./cli/exec-remotes.js";
import { Cli } from "./cli/json-cli.js";
import { ZONE } from "./dns/zone.js";
import { deterministicBytes, downloadSha256, sha256 } from "./nat/content.js";
import { netnsSkipReason } from "./netns/preconditions.js";
import { remoteState } from "./sshd/private-lab.js";

const MB = 1_000_000;
/** The contract: a disconnect, signal to exit, restores the remote within this. */
const DISCONNECT_MS = 3_000;

const skip =
  netnsSkipReason({ tun: true, tools: ["ip", "curl", "unshare", "dnsmasq", "iperf3"] }) ?? distSkipReason();

describe("two backhaul connect runs at once, to two remotes", { skip, timeout: 600_000 }, () => {
  const suite = execRemotesForSuite("backhaul-sessions");
  const connect = (remote: ExecRemote): Cli => suite.connect(remote, LINK_SUBNET_OPTIONS);

  /** The `session` of every flow and DNS row the CLI printed, once it has printed some (rows are batched). */
  const rowSessions = async (cli: Cli): Promise<Set<unknown>> => {
    const rows = () => cli.events.filter((e) => e.type === "flow" || e.type === "dns");
    const deadline = Date.now() + 15_000;
    while (rows().length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    return new Set(rows().map((e) => (e as unknown as { session?: unknown }).session));
  };

  test("each remote reaches S by name; Ctrl+C on one leaves the other's transfer intact", async () => {
    const [r1, r2] = suite.remotes as [ExecRemote, ExecRemote];
    const cli1 = connect(r1);
    const cli2 = connect(r2);
    try {
      await Promise.all([cli1.until("connected", 90_000), cli2.until("connected", 90_000)]);
      for (const remote of suite.remotes)
        assert.equal(
          await downloadSha256(remote.ns, `www.${ZONE}`, 2 * MB),
          sha256(deterministicBytes(2 * MB)),
          `${remote.name} reaches S by name`,
        );
      assert.deepEqual(await rowSessions(cli1), new Set(["r1"]), "CLI 1's rows are all r1's");
      assert.deepEqual(await rowSessions(cli2), new Set(["r2"]), "CLI 2's rows are all r2's");

      // A transfer through R2's session that outlasts R1's disconnect: 40 MB at 8 MB/s.
      const size = 40 * MB;
      const mark = cli2.events.length;
      const transfer = r2.ns.runChecked(
        "bash",
        [
          "-o",
          "pipefail",
          "-c",
          `curl -sS --fail -m 60 --limit-rate 8M 'http://www.${ZONE}/bytes/${size}' | sha256sum`,
        ],
        { timeoutMs: 70_000 },
      );
      // Under way: R2's session has a flow that has moved bytes down.
      const deadline = Date.now() + 15_000;
      while (
        !cli2.events
          .slice(mark)
          .some((e) => e.type === "flow" && ((e as unknown as { downBytes: number }).downBytes ?? 0) > MB)
      ) {
        assert.ok(Date.now() < deadline, `R2's transfer did not start:\n${cli2.describe()}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }

      cli1.process.child.kill("SIGINT");
      assert.equal((await cli1.process.waitForExit(DISCONNECT_MS)).code, 0, cli1.describe());
      assert.equal(cli1.events.at(-1)?.state, "disconnected", cli1.describe());
      assert.equal(await remoteState(r1.ns), r1.before, `R1 is exactly as before:\n${cli1.describe()}`);

      const fetched = await transfer;
      assert.equal(fetched.stdout.split(" ")[0], sha256(deterministicBytes(size)), "R2's transfer is intact");
      assert.equal(cli2.process.hasExited, false, "CLI 2 runs on");
      assert.ok(
        !cli2.events.slice(mark).some((e) => e.type === "state" && e.state !== "connected"),
        `R2's session never left "connected":\n${cli2.describe()}`,
      );
      assert.equal(
        await downloadSha256(r2.ns, `www.${ZONE}`, MB),
        sha256(deterministicBytes(MB)),
        "R2 still reaches S after R1's disconnect",
      );

      cli2.process.child.kill("SIGINT");
      assert.equal((await cli2.process.waitForExit(DISCONNECT_MS)).code, 0, cli2.describe());
      assert.equal(await remoteState(r2.ns), r2.before, `R2 is exactly as before:\n${cli2.describe()}`);
    } finally {
      await cli1.process.stop(15_000);
      await cli2.process.stop(15_000);
    }
  });
});
