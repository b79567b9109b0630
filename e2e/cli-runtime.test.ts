/**
 * Issue #12, bring the runtime: `backhaul connect` to a remote whose SSH sessions see no `node`
 * (an empty file bind-mounted over it in sshd's mount namespace), then one that sees a Node.js 16
 * stand-in. The first connect uploads Node.js once, into the versioned cache; later connects
 * reuse it. Times to connected are reported as diagnostics (figures, not asserted).
 *
 *   R 198.18.1.1 (sshd, the agent) — L 198.18.1.2 (the CLI) — S 198.19.1.10 (HTTP, DNS)
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test, type TestContext } from "node:test";
import { CLI, connectInHome, LINK_SUBNET_OPTIONS } from "./cli/command.js";
import { ZONE } from "./dns/zone.js";
import { deterministicBytes, downloadSha256, sha256 } from "./nat/content.js";
import type { ManagedProcess } from "./netns/index.js";
import { readJsonLines } from "./netns/json-lines.js";
import { netnsSkipReason } from "./netns/preconditions.js";
import { sshdSkipReason } from "./sshd/preconditions.js";
import { sshdForSuite } from "./sshd/private-lab.js";
import { CORP_NET, SSH_LINK } from "./netns/address-plan.js";

const ROOT = new URL("..", import.meta.url).pathname;
const MANIFEST = join(ROOT, "dist/agent/node-runtimes.json");
const MB = 1_000_000;
const DISCONNECT_MS = 3_000;

const skip =
  netnsSkipReason({ tun: true, tools: ["ip", "curl", "dig", "ping"] }) ??
  sshdSkipReason() ??
  (existsSync(CLI) ? undefined : "dist/ is not built: run `npm run build` first") ??
  (existsSync(MANIFEST) && readFileSync(MANIFEST, "utf8").includes('"x64"')
    ? undefined
    : "dist/agent has no Node.js runtime for x64: the build could not reach the npm registry");

interface Event {
  type: string;
  state?: string;
  message?: string;
  line?: string;
}

describe("backhaul connect to a remote without Node.js 18+", { skip, timeout: 600_000 }, () => {
  const suite = sshdForSuite("backhaul-runtime-home-", async () => {
    pristine = await snapshot();
  });
  const { home } = suite;
  let pristine: string;

  const snapshot = async (): Promise<string> => {
    const ip = async (args: string[]) => (await suite.remote.runChecked("ip", args)).stdout;
    return JSON.stringify({
      links: (await ip(["-o", "link", "show"])).replace(/\s+link\/\S+.*$/gm, ""),
      routes4: await ip(["-4", "route", "show", "table", "all"]),
      resolvConf: readFileSync(join("/etc/netns", suite.remote.name, "resolv.conf"), "utf8"),
    });
  };

  /** Connects as bhdev, waits for connected, checks the path, disconnects; returns the log lines and ms to connected. */
  const connectOnce = async (t: TestContext, label: string): Promise<{ logs: string[]; ms: number }> => {
    const started = Date.now();
    const child: ManagedProcess = suite.local.spawn(
      "env",
      connectInHome(home, `ssh://bhdev@${SSH_LINK.remote.v4}`, suite.sshd.keys.plain, [
        "--accept-new-host-key",
        ...LINK_SUBNET_OPTIONS,
        "--route",
        "198.19.0.0/16",
        "--json",
      ]),
    );
    const events: Event[] = [];
    readJsonLines(
      child.child.stdout,
      (value) => events.push(value as unknown as Event),
      (line) => events.push({ type: "garbage", line }),
    );
    const describe = (): string =>
      events
        .filter((e) => e.type !== "flow" && e.type !== "dns")
        .map((e) => JSON.stringify(e))
        .join("\n");
    try {
      const deadline = Date.now() + 120_000;
      while (!events.some((e) => e.type === "state" && e.state === "connected")) {
        if (Date.now() > deadline || child.hasExited)
          throw new Error(`${label}: not connected:\n${describe()}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      const ms = Date.now() - started;
      t.diagnostic(`${label}: connected ${ms} ms after the CLI started`);
      const downloaded = await downloadSha256(suite.remote, CORP_NET.host.v4, MB, 60);
      assert.equal(downloaded, sha256(deterministicBytes(MB)), `${label}: curl`);
      const dig = await suite.remote.runChecked("dig", ["+short", `host.${ZONE}`, "A"], {
        timeoutMs: 10_000,
      });
      assert.equal(dig.stdout.trim(), CORP_NET.host.v4, `${label}: dig`);
      const ping = await suite.remote.run("ping", ["-c", "2", "-i", "0.2", "-W", "2", CORP_NET.host.v4], {
        timeoutMs: 10_000,
      });
      assert.match(ping.stdout, / 2 received/, `${label}: ping`);
      child.child.kill("SIGINT");
      assert.equal((await child.waitForExit(DISCONNECT_MS)).code, 0, describe());
      assert.equal(await snapshot(), pristine, `${label}: R is exactly as before:\n${describe()}`);
      return { logs: events.filter((e) => e.type === "log").map((e) => e.line ?? ""), ms };
    } finally {
      await child.stop(15_000);
    }
  };

  test("no node on the remote: the first connect uploads Node.js, the second reuses it", async (t) => {
    await suite.sshd.restartWithNode("hidden");
    const seen = await suite.sshd.sshWithOpenSsh(
      suite.sshd.users.dev,
      "sh -c 'command -v node || echo none'",
    );
    assert.equal(seen.stdout.trim(), "none", "the harness hides node from SSH sessions");

    const first = await connectOnce(t, "first contact, Node.js uploaded");
    assert.ok(
      first.logs.some((line) => /^uploading Node\.js 20\.\d+\.\d+ for x64, \d+ MB, to /.test(line)),
      first.logs.join("\n"),
    );
    assert.ok(
      first.logs.some((line) => /: 50 % of \d+ MB$/.test(line)),
      "progress is shown",
    );
    assert.ok(first.logs.some((line) => /is unpacked and checked on /.test(line)));

    const second = await connectOnce(t, "repeat connect, Node.js cached");
    assert.ok(
      !second.logs.some((line) => /^uploading/.test(line)),
      `nothing uploaded:\n${second.logs.join("\n")}`,
    );
    assert.ok(
      second.logs.some((line) => /^Node\.js 20\.\d+\.\d+ for x64 is already on .* \(cached\)$/.test(line)),
    );
  });

  test("a Node.js 16 on the remote's PATH: ours runs instead, from the cache", async (t) => {
    await suite.sshd.restartWithNode("v16");
    const seen = await suite.sshd.sshWithOpenSsh(suite.sshd.users.dev, "node --version");
    assert.equal(seen.stdout.trim(), "v16.0.0");
    const run = await connectOnce(t, "Node.js 16 remote, ours cached");
    assert.ok(
      run.logs.some((line) => /^Node\.js 20\.\d+\.\d+ for x64 is already on .* \(cached\)$/.test(line)),
    );
  });

  test("a remote with its own Node.js 18+ uses it (timing for comparison)", async (t) => {
    await suite.sshd.restartWithNode("own");
    await connectOnce(t, "own Node.js, first");
    const run = await connectOnce(t, "own Node.js, repeat");
    assert.ok(!run.logs.some((line) => /Node\.js 20\.\d+\.\d+ for x64/.test(line)), run.logs.join("\n"));
  });
});
