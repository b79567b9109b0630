/**
 * Issue 16, item 4 end to end: `backhaul diagnose HOST[:PORT]` against a running `backhaul connect
 * exec:…` from L into R (root in R: the TUN entrance), S behind L. Four cases, each in text and
 * --json: S's web server (reachable, with the remote's latency), an address on a prefix R is on
 * itself (the agent skipped it as an overlap: the verdict names it), a port where nothing listens
 * (refused), a name nobody knows (unresolvable). And with no session running, the command says how
 * to start one.
 *
 * The CLIs share a private XDG_RUNTIME_DIR: the sessions directory is the test's own, never that
 * of another run on this machine.
 */
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { CLI, LINK_SUBNET_OPTIONS, privateRunShell, sshCliSkipReason } from "./cli/command.js";
import { Cli } from "./cli/json-cli.js";
import { ZONE } from "./dns/zone.js";
import { CORP_NET, SERVICE_PORTS } from "./netns/address-plan.js";
import { sshdForSuite } from "./sshd/private-lab.js";

/** A network R is on itself (its interface ovl0), advertised by L as well: the agent skips it. */
const OVERLAP = { network: "198.19.77.0/24", remote: "198.19.77.1/24", host: "198.19.77.10" } as const;
const ARTIFACTS = new URL("artifacts", import.meta.url).pathname;
/** Nothing listens there on S. */
const CLOSED_PORT = 81;

const skip = sshCliSkipReason(["ip", "unshare"]);

interface Diagnosis {
  type: string;
  verdict: string;
  summary: string;
  session: string;
  remote: {
    dns: { viaStub: boolean; addresses: string[] } | null;
    route: { viaTunnel: boolean; skipped: { prefix: string; reason: string } | null } | null;
    connect: { ok: boolean; latencyMs: number; code: string | null } | null;
  } | null;
}

describe("backhaul diagnose against a running session", { skip, timeout: 300_000 }, () => {
  const suite = sshdForSuite("backhaul-cli-diagnose-home-");
  let runDir: string;
  let rootHome: string;
  let runtimeDir: string;
  before(async () => {
    runDir = await mkdtemp(join(tmpdir(), "backhaul-diagnose-run-"));
    rootHome = await mkdtemp(join(tmpdir(), "backhaul-diagnose-root-"));
    runtimeDir = await mkdtemp(join(tmpdir(), "backhaul-diagnose-xdg-"));
    // A veth pair inside R (this kernel may lack the dummy driver): R is on OVERLAP itself.
    await suite.remote.addInnerInterface("ovl0", [OVERLAP.remote], { carrier: true });
  });
  after(async () => {
    for (const dir of [runDir, rootHome, runtimeDir]) await rm(dir, { recursive: true, force: true });
  });

  /** `env … node cli.mjs ARGS` with the suite's home and the private runtime directory. */
  const cliArgs = (args: readonly string[]): string[] => [
    "-u",
    "SSH_AUTH_SOCK",
    `HOME=${suite.home}`,
    `XDG_RUNTIME_DIR=${runtimeDir}`,
    process.execPath,
    CLI,
    ...args,
  ];

  const diagnose = async (target: string, json: boolean) => {
    const result = await suite.local.run("env", cliArgs(["diagnose", target, ...(json ? ["--json"] : [])]), {
      timeoutMs: 60_000,
    });
    return { code: result.code, stdout: result.stdout.trim(), stderr: result.stderr };
  };

  /** Both forms of one check: the text's first line is the summary, the JSON has the same one. */
  const both = async (target: string): Promise<{ code: number | null; text: string; json: Diagnosis }> => {
    const text = await diagnose(target, false);
    const json = await diagnose(target, true);
    assert.equal(json.code, text.code, `${text.stdout}\n${json.stdout}\n${json.stderr}`);
    const parsed = JSON.parse(json.stdout) as Diagnosis;
    assert.equal(parsed.type, "diagnosis");
    // Two checks, two measurements: the sentences match but for the milliseconds.
    const timeless = (line: string): string => line.replace(/\d+(\.\d+)? ms/g, "N ms");
    assert.equal(
      timeless(text.stdout.split("\n")[0] ?? ""),
      timeless(parsed.summary),
      "the text leads with the same verdict",
    );
    return { code: text.code, text: text.stdout, json: parsed };
  };

  test("with no session running, it says how to start one (exit 3)", async () => {
    const none = await diagnose(`www.${ZONE}:80`, false);
    assert.equal(none.code, 3, none.stderr);
    assert.match(none.stderr, /no running session: start one with `backhaul connect TARGET`/);
  });

  test("reachable, an overlap, a refused port and an unknown name: each its verdict, in text and JSON", async () => {
    const intoR = privateRunShell(suite.remote.name, runDir, ["env", `HOME=${rootHome}`, "sh"]);
    const cli = new Cli(
      suite.local.spawn(
        "env",
        cliArgs([
          "connect",
          `exec:${intoR}`,
          ...LINK_SUBNET_OPTIONS,
          // Not all of 198.19.0.0/16: a prefix inside an advertised one is not advertised on its own.
          "--route",
          CORP_NET.network.v4,
          "--route",
          OVERLAP.network,
          "--route",
          "2001:db8:19::/48",
          "--remote-node",
          process.execPath,
          "--json",
        ]),
      ),
    );
    try {
      await cli.until("connected", 90_000);
      const routing = cli.events.find((e) => e.type === "log" && /backhaul diagnose/.test(e.line ?? ""));
      assert.ok(routing, `connect names its session for diagnose:\n${cli.describe()}`);

      const reachable = await both(`host.${ZONE}:${SERVICE_PORTS.http}`);
      assert.equal(reachable.code, 0, reachable.text);
      assert.equal(reachable.json.verdict, "reachable", reachable.text);
      assert.match(
        reachable.json.summary,
        new RegExp(`^The remote reaches host\\.${ZONE}:80 through the tunnel`),
      );
      assert.match(reachable.json.summary, / in \d+(\.\d)? ms/, "with the remote's latency");
      assert.equal(reachable.json.remote?.dns?.viaStub, true, reachable.text);
      assert.equal(reachable.json.remote?.route?.viaTunnel, true, reachable.text);
      assert.equal(reachable.json.remote?.connect?.ok, true);
      assert.match(reachable.text, /the remote:\n[\s\S]*route {9}into the tunnel/);

      const overlap = await both(`${OVERLAP.host}:${SERVICE_PORTS.http}`);
      assert.equal(overlap.code, 1, overlap.text);
      assert.equal(overlap.json.verdict, "remote-route", overlap.text);
      assert.equal(
        overlap.json.summary.split(" — ")[0],
        `The remote routes ${OVERLAP.host} via its own ovl0 because it is on ${OVERLAP.network} itself`,
      );
      assert.match(
        overlap.json.summary,
        new RegExp(`the prefix ${OVERLAP.network} was skipped as an overlap`),
      );
      assert.deepEqual(overlap.json.remote?.route?.skipped?.reason, "inside-remote-network");

      const refused = await both(`host.${ZONE}:${CLOSED_PORT}`);
      assert.equal(refused.code, 1, refused.text);
      assert.equal(refused.json.verdict, "refused", refused.text);
      assert.match(
        refused.json.summary,
        new RegExp(
          `refused the connection on port ${CLOSED_PORT}: nothing listens there, or a firewall rejects it`,
        ),
      );
      assert.equal(
        refused.json.remote?.connect?.code,
        "ECONNREFUSED",
        "the remote's own connect was refused",
      );

      const unknown = await both(`nowhere.${ZONE}:80`);
      assert.equal(unknown.code, 1, unknown.text);
      assert.equal(unknown.json.verdict, "unresolvable", unknown.text);
      assert.match(
        unknown.json.summary,
        new RegExp(
          `^Neither the remote's resolver \\(through Backhaul's stub, this computer's\\) nor this computer's knows nowhere\\.${ZONE}`,
        ),
      );

      // What a person reads, kept for whoever looks at the run.
      mkdirSync(ARTIFACTS, { recursive: true });
      writeFileSync(
        join(ARTIFACTS, "cli-diagnose.txt"),
        [reachable, overlap, refused, unknown]
          .map((c) => `$ backhaul diagnose … (exit ${c.code})\n${c.text}\n`)
          .join("\n"),
      );
      // The addresses the S host has are in CORP_NET: the remote checked the one this computer did.
      assert.ok(
        [CORP_NET.host.v4, CORP_NET.host.v6].some((a) => reachable.json.remote?.dns?.addresses.includes(a)),
      );
      cli.process.child.kill("SIGINT");
      assert.equal((await cli.process.waitForExit(15_000)).code, 0, cli.describe());
      const gone = await diagnose(`host.${ZONE}:80`, true);
      assert.equal(gone.code, 3, "the session's socket is gone with it");
    } finally {
      await cli.process.stop(15_000);
    }
  });
});
