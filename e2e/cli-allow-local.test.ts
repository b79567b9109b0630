/**
 * `backhaul allow-local on|off` on a running `backhaul connect` (real OpenSSH, the TUN entrance):
 * L's own address on its LAN is inside what L advertises, so R routes it into the tunnel, where
 * L's exit refuses it as "this computer" until access is switched on. Then it connects; a flow
 * held open meanwhile is reset when access is switched off again, the answer counts it, and new
 * connects are refused once more. The session stays connected throughout, and Ctrl+C restores R.
 *
 *   R 198.18.1.1 (sshd, agent) — L 198.18.1.2 / 198.19.0.1 (CLI; HTTP and echo on every address) — S
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { cliInRuntimeDir, connectOverSsh, sshCliSkipReason } from "./cli/command.js";
import { Cli } from "./cli/json-cli.js";
import { heldEchoFlow } from "./nat/held-echo-flow.js";
import { startServers } from "./nat/start-servers.js";
import { LAN } from "./netns/address-plan.js";
import { remoteState, sshdForSuite } from "./sshd/private-lab.js";

const skip = sshCliSkipReason(["ip", "curl"]);
const DISCONNECT_MS = 5_000;
/** L itself, as R reaches it through the tunnel: inside the advertised 198.19.0.0/16. */
const L_ITSELF = LAN.local.v4;
const SWITCHED_OFF = "access to this computer was switched off";

describe(
  "backhaul allow-local on|off: access to this computer on a running session",
  { skip, timeout: 300_000 },
  () => {
    const suite = sshdForSuite("backhaul-allow-local-home-", async () => {
      // HTTP and TCP echo on every address of L: what --allow-local opens to R.
      await startServers(suite.local);
    });

    test("refused, then on: R connects to L itself; off: the flow held open is reset and counted, new ones refused; already off says so", async () => {
      const runtimeDir = mkdtempSync(join(tmpdir(), "backhaul-allow-local-run-"));
      const before = await remoteState(suite.remote);
      const cli = new Cli(
        connectOverSsh(suite, suite.sshd.users.dev.name, ["--entrance", "tun", "--json"], runtimeDir),
      );
      const flow = heldEchoFlow(suite.remote, L_ITSELF);
      /** curl from R to L's HTTP server on its own address: its output, or how it failed. */
      const curlL = async (): Promise<{ code: number | null; out: string }> => {
        const result = await suite.remote.run("curl", ["-sS", "-m", "10", `http://${L_ITSELF}/`], {
          timeoutMs: 20_000,
        });
        return { code: result.code, out: result.stdout + result.stderr };
      };
      const allowLocal = async (word: "on" | "off") => {
        const result = await suite.local.run(
          "env",
          cliInRuntimeDir(runtimeDir, suite.home, ["allow-local", word, "--json"]),
          { timeoutMs: 30_000 },
        );
        assert.equal(result.code, 0, `backhaul allow-local ${word}: ${result.stdout}${result.stderr}`);
        return JSON.parse(result.stdout.trim()) as {
          type: string;
          allow: boolean;
          endedFlows: number;
          message: string;
        };
      };
      try {
        await cli.until("connected", 90_000);

        const refused = await curlL();
        assert.notEqual(refused.code, 0, `without --allow-local, L itself is refused: ${refused.out}`);
        assert.doesNotMatch(refused.out, /hello from S/);

        const on = await allowLocal("on");
        assert.deepEqual(
          [on.type, on.allow, on.endedFlows, on.message],
          ["allowLocal", true, 0, "the remote can now reach this computer itself"],
        );
        const reached = await curlL();
        assert.equal(reached.code, 0, reached.out);
        assert.equal(reached.out, "hello from S\n", "L's own HTTP server answered");
        await flow.echoes("while on");

        const off = await allowLocal("off");
        assert.equal(off.allow, false);
        // The held echo flow at least (curl's flow has ended by itself by now, or is counted too).
        assert.ok(off.endedFlows >= 1, JSON.stringify(off));
        assert.match(
          off.message,
          /^the remote can no longer reach this computer itself; \d+ open flows? to it ended$/,
        );
        const ended = await flow.closed(10_000);
        assert.match(ended, /\[error .*ECONNRESET|\[closed\]/, "R's end of the held flow was reset");
        const row = (): boolean =>
          cli.events.some(
            (e) => e.type === "flow" && (e as { closeReason?: unknown }).closeReason === SWITCHED_OFF,
          );
        for (let waited = 0; !row(); waited += 100) {
          if (waited > 5_000) assert.fail(`no flow row closed "${SWITCHED_OFF}":\n${cli.describe()}`);
          await new Promise((resolve) => setTimeout(resolve, 100));
        }

        const refusedAgain = await curlL();
        assert.notEqual(refusedAgain.code, 0, `off again: refused: ${refusedAgain.out}`);
        const already = await allowLocal("off");
        assert.deepEqual(
          [already.endedFlows, already.message],
          [0, "the remote already cannot reach this computer itself"],
        );
        assert.ok(
          !cli.events.some((e) => e.type === "state" && e.state === "reconnecting"),
          `connected throughout:\n${cli.describe()}`,
        );

        flow.close();
        cli.process.child.kill("SIGINT");
        assert.equal((await cli.process.waitForExit(DISCONNECT_MS)).code, 0, cli.describe());
        assert.equal(await remoteState(suite.remote), before, "R is exactly as before");
      } finally {
        flow.close();
        await cli.process.stop(15_000);
        rmSync(runtimeDir, { recursive: true, force: true });
      }
    });
  },
);
