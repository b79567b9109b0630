/**
 * Issue #5 end to end: `backhaul connect` in L over a real OpenSSH server in R (a normal user
 * with passwordless sudo), the private network S behind L. Full path, faults, and cleanup.
 *
 *   R 198.18.1.1 (sshd, the agent) — L 198.18.1.2 (the CLI) — S 198.19.0.53 dnsmasq,
 *   198.19.1.10 / 2001:db8:19:1::10 host.corp.test (HTTP, echo, iperf3)
 */
import assert from "node:assert/strict";
import type { SpawnOptions } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { CLI, connectInHome, LINK_SUBNET_OPTIONS, S_ROUTE_OPTIONS } from "./cli/command.js";
import { Cli, descendants, stillRunning } from "./cli/json-cli.js";
import { assertHttpExchangeCaptured } from "./capture/tcp-exchange.js";
import { ZONE } from "./dns/zone.js";
import { deterministicBytes, downloadSha256, sha256 } from "./nat/content.js";
import type { ManagedProcess } from "./netns/index.js";
import { findOnPath, netnsSkipReason, skipSaying } from "./netns/preconditions.js";
import { sshdSkipReason } from "./sshd/preconditions.js";
import { remoteState, sshdForSuite } from "./sshd/private-lab.js";
import { CORP_NET, SSH_LINK } from "./netns/address-plan.js";

const MB = 1_000_000;
/** The contract: a disconnect, signal to exit, restores the remote within this. */
const DISCONNECT_MS = 3_000;

const skip =
  netnsSkipReason({ tun: true, tools: ["ip", "curl", "dig", "dnsmasq", "iperf3", "ping"] }) ??
  sshdSkipReason() ??
  (existsSync(CLI) ? undefined : "dist/ is not built: run `npm run build` first");

/** A running `backhaul connect` with its human output: stdout and stderr, in arrival order. */
class HumanCli {
  output = "";
  constructor(readonly process: ManagedProcess) {
    for (const stream of [process.child.stdout, process.child.stderr])
      stream?.on("data", (chunk: Buffer) => (this.output += chunk.toString("utf8")));
  }

  async until(pattern: RegExp, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!pattern.test(this.output)) {
      if (Date.now() > deadline || this.process.hasExited)
        throw new Error(`no ${pattern} within ${timeoutMs} ms; output:\n${this.output}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

describe("backhaul connect over OpenSSH", { skip, timeout: 600_000 }, () => {
  const suite = sshdForSuite("backhaul-cli-home-", async () => {
    before_ = await snapshot();
  });
  const { home } = suite;
  const knownHosts = join(home, "known_hosts");
  let before_: string;

  const snapshot = (): Promise<string> => remoteState(suite.remote);

  /** `backhaul connect` in L against R, with the suite's link subnets and routes. */
  const spawnConnect = (
    extra: string[],
    target = `ssh://bhdev@${SSH_LINK.remote.v4}`,
    identity = suite.sshd.keys.plain,
    options: SpawnOptions = {},
  ): ManagedProcess =>
    suite.local.spawn(
      "env",
      connectInHome(home, target, identity, [...LINK_SUBNET_OPTIONS, ...S_ROUTE_OPTIONS, ...extra]),
      options,
    );

  const connect = (
    extra: string[] = [],
    target = `ssh://bhdev@${SSH_LINK.remote.v4}`,
    identity = suite.sshd.keys.plain,
  ): Cli => new Cli(spawnConnect(["--json", ...extra], target, identity));

  /** `backhaul connect --json` with `extra`, `body` once it is connected; stopped after, whatever happens. */
  const whileConnected = async (
    extra: string[],
    connectedWithinMs: number,
    body: (cli: Cli) => Promise<void>,
  ): Promise<Cli> => {
    const cli = connect(extra);
    try {
      await cli.until("connected", connectedWithinMs);
      await body(cli);
    } finally {
      await cli.process.stop(15_000);
    }
    return cli;
  };

  /** SIGINT, as Ctrl+C: the CLI exits with 0 within the contract, disconnected last, R exactly as before. */
  const disconnectsCleanly = async (cli: Cli): Promise<void> => {
    cli.process.child.kill("SIGINT");
    assert.equal((await cli.process.waitForExit(DISCONNECT_MS)).code, 0, cli.describe());
    assert.equal(cli.events.at(-1)?.state, "disconnected", cli.describe());
    assert.equal(await snapshot(), before_, `R is exactly as before; events:\n${cli.describe()}`);
  };

  /** Waits for a flow to `destination` in a state past our FIN (flow rows come every 250 ms). */
  const finSentBy = async (cli: Cli, destination: string, timeoutMs: number): Promise<void> => {
    const past = new Set(["FIN-WAIT-1", "FIN-WAIT-2", "CLOSING", "LAST-ACK", "TIME-WAIT", "CLOSED"]);
    const done = (): boolean =>
      cli.events.some((e) => {
        const row = e as { type: string; destination?: string; state?: string };
        return row.type === "flow" && row.destination === destination && past.has(row.state ?? "");
      });
    const deadline = Date.now() + timeoutMs;
    while (!done() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    assert.ok(done(), `the flow to ${destination} sent its FIN within ${timeoutMs} ms`);
  };

  const download = (host: string, bytes: number): Promise<string> =>
    downloadSha256(suite.remote, host, bytes);

  test("connects, and the remote reaches S by name: HTTP, DNS, ping, iperf3, IPv4 and IPv6", async () => {
    await whileConnected(["--accept-new-host-key"], 90_000, async (cli) => {
      const steps = cli.events
        .filter((e) => e.type === "state" && e.state === "connecting")
        .map((e) => e.step);
      for (const step of ["ssh", "upload", "agent", "routes", "dns"])
        assert.ok(steps.includes(step), `step ${step} in ${steps.join(",")}`);
      assert.match(
        readFileSync(knownHosts, "utf8"),
        new RegExp(SSH_LINK.remote.v4.replace(/\./g, "\\.")),
        "new host key recorded",
      );

      assert.equal(await download(`www.${ZONE}`, 100 * MB), sha256(deterministicBytes(100 * MB)));
      const dig = await suite.remote.runChecked("dig", ["+short", `host.${ZONE}`, "A"], {
        timeoutMs: 10_000,
      });
      assert.equal(dig.stdout.trim(), CORP_NET.host.v4);
      for (const host of [CORP_NET.host.v4, CORP_NET.host.v6]) {
        const ping = await suite.remote.run("ping", ["-c", "2", "-i", "0.2", "-W", "2", host], {
          timeoutMs: 10_000,
        });
        assert.match(ping.stdout, / 2 received/, host);
        for (const direction of [[], ["-R"]]) {
          const iperf = await suite.remote.runChecked("iperf3", ["-c", host, "-t", "2", "-J", ...direction], {
            timeoutMs: 30_000,
          });
          const bps = (JSON.parse(iperf.stdout) as { end: { sum_received: { bits_per_second: number } } }).end
            .sum_received.bits_per_second;
          assert.ok(bps > 0, `iperf3 ${host} ${direction.join("")}`);
        }
      }
      assert.equal(await download(CORP_NET.host.v6, 10 * MB), sha256(deterministicBytes(10 * MB)));
      assert.ok(
        cli.events.some((e) => e.type === "flow"),
        "flow rows are reported",
      );
      assert.ok(
        cli.events.some((e) => e.type === "dns"),
        "dns rows are reported",
      );

      // The link goes down for 20 seconds in the middle of a transfer.
      const slow = suite.remote.run(
        "curl",
        [
          "-sS",
          "-m",
          "60",
          "--limit-rate",
          "2M",
          "-o",
          "/dev/null",
          `http://${CORP_NET.host.v4}/bytes/${100 * MB}`,
        ],
        { timeoutMs: 70_000 },
      );
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      const mark = cli.events.length;
      await suite.local.ip(["link", "set", "veth-sshr", "down"]);
      const downAt = Date.now();
      await cli.until("reconnecting", 30_000, mark);
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, 20_000 - (Date.now() - downAt))));
      await suite.local.ip(["link", "set", "veth-sshr", "up"]);
      await cli.until("connected", 90_000, mark);
      await slow; // ended one way or the other: flows that die with the link are reset
      assert.equal(
        await download(CORP_NET.host.v4, 10 * MB),
        sha256(deterministicBytes(10 * MB)),
        "a new transfer works",
      );
      await disconnectsCleanly(cli);
    });
  });

  test("an agent killed with SIGKILL is cleaned up by the next connect", async () => {
    await whileConnected([], 60_000, async (cli) => {
      const pids = (await suite.remote.runChecked("ip", ["netns", "pids", suite.remote.name])).stdout
        .split(/\s+/)
        .filter(Boolean);
      const agent = pids.find((pid) => {
        try {
          // The agent itself, not the sudo that started it.
          const argv = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
          return /node$/.test(argv[0] ?? "") && argv.some((arg) => arg.endsWith("backhaul-agent.cjs"));
        } catch {
          return false;
        }
      });
      assert.ok(agent, "the agent runs in R");
      process.kill(Number(agent), "SIGKILL");
      const mark = cli.events.length;
      await cli.until("connected", 90_000, mark);
      assert.ok(
        cli.events.slice(mark).some((e) => e.type === "log" && /previous run/.test(e.line ?? "")),
        cli.describe(),
      );
      await disconnectsCleanly(cli);
    });
  });

  test("the local helper runs apart behind a token, and is started again when it dies", async () => {
    await whileConnected(["--accept-new-host-key"], 60_000, async (cli) => {
      const helperPid = (): { pid: number; argv: string[] } | undefined => {
        for (const pid of readdirSync("/proc").filter((name) => /^\d+$/.test(name))) {
          try {
            const argv = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
            if (argv.some((arg) => arg.endsWith("helper-local.mjs")) && Number(pid) !== process.pid) {
              const parent = /^PPid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
              if (Number(parent) === cli.process.child.pid) return { pid: Number(pid), argv };
            }
          } catch {
            // gone meanwhile
          }
        }
        return undefined;
      };
      const first = helperPid();
      assert.ok(first, "the CLI runs the exit side in a helper process");
      const dir = first.argv[first.argv.indexOf("--control-dir") + 1] ?? "";
      assert.equal(statSync(dir).mode & 0o777, 0o700, "control directory is owner-only");
      assert.equal(statSync(join(dir, "token")).mode & 0o777, 0o600, "token file is owner-only");
      assert.equal(statSync(join(dir, "helper.sock")).mode & 0o777, 0o600, "socket is owner-only");
      const token = readFileSync(join(dir, "token"), "utf8").trim();
      assert.ok(!first.argv.some((arg) => arg.includes(token)), "the token is not on the command line");

      const mark = cli.events.length;
      process.kill(first.pid, "SIGKILL");
      await cli.until("reconnecting", 30_000, mark);
      await cli.until("connected", 60_000, mark);
      const second = helperPid();
      assert.ok(second && second.pid !== first.pid, "a new helper runs");
      assert.ok(
        cli.events.slice(mark).some((e) => e.type === "log" && /local helper exited/.test(e.line ?? "")),
        cli.describe(),
      );
      assert.equal(
        await download(CORP_NET.host.v4, MB),
        sha256(deterministicBytes(MB)),
        "traffic flows again",
      );
      await disconnectsCleanly(cli);
      assert.equal(helperPid(), undefined, "the helper stops with the CLI");
      assert.ok(!existsSync(dir), "its control directory is removed");
    });
  });

  test("SIGTERM to the CLI's process alone: it exits within 3 s, R restored, nothing of it left running", async () => {
    await whileConnected(["--accept-new-host-key"], 60_000, async (cli) => {
      const pid = cli.process.pid ?? 0;
      const children = descendants(pid);
      assert.ok(
        children.some((child) => child.argv.some((arg) => arg.endsWith("helper-local.mjs"))),
        `the helper is the CLI's child: ${JSON.stringify(children)}`,
      );
      assert.ok(
        children.some((child) => child.argv.join(" ") === "ip monitor route address"),
        `the route monitor is the CLI's child: ${JSON.stringify(children)}`,
      );
      const sent = Date.now();
      process.kill(pid, "SIGTERM"); // its PID only, as kill, timeout and systemd do
      const exit = await cli.process.waitForExit(DISCONNECT_MS);
      const elapsed = Date.now() - sent;
      assert.equal(exit.code, 0, cli.describe());
      assert.equal(cli.events.at(-1)?.state, "disconnected");
      assert.ok(
        !cli.events.some((e) => e.type === "state" && e.state === "reconnecting"),
        `no reconnecting; events:\n${cli.describe()}`,
      );
      assert.equal(await snapshot(), before_, `R is exactly as before; events:\n${cli.describe()}`);
      assert.deepEqual(await stillRunning(children), [], `left running ${elapsed} ms after SIGTERM`);
    });
  });

  test("Ctrl+C (SIGINT to the whole process group): the steps, what is routed, one restored line, nothing else", async () => {
    // Detached: the CLI leads its own process group, as a shell's foreground job does.
    const cli = new HumanCli(
      spawnConnect(["--accept-new-host-key"], undefined, undefined, { detached: true }),
    );
    try {
      await cli.until(/^connected\b.*$/m, 60_000);
      const groupId = cli.process.pid ?? 0;
      const children = descendants(groupId);
      process.kill(-groupId, "SIGINT"); // what the terminal does on Ctrl+C
      const exit = await cli.process.waitForExit(DISCONNECT_MS);
      assert.deepEqual(await stillRunning(children), [], "nothing of the CLI is left running");
      const output = cli.output;
      assert.equal(exit.code, 0, output);
      for (const step of ["opening SSH", "uploading the agent", "starting the agent", "routes", "DNS"])
        assert.ok(output.includes(step), `step "${step}" in:\n${output}`);
      assert.match(
        output,
        /^routing .*198\.19\.0\.0\/16, 2001:db8:19::\/48 into the remote; not 198\.18\.1\.0\/30 \(it contains the SSH peer .*$/m,
        output,
      );
      assert.match(output, /^disconnected: the remote is restored\b.*$/m, output);
      for (const noise of [
        /reconnecting/,
        /starting it again/,
        /link \w+ started/,
        /helper\.sock/,
        /undone:/,
        /already stopping/,
      ])
        assert.doesNotMatch(output, noise, output);
      assert.equal(await snapshot(), before_, `R is exactly as before; output:\n${output}`);
    } finally {
      await cli.process.stop(15_000);
    }
  });

  test("--capture FILE: a curl's SYN, data and FIN in both directions, in order, as tshark reads them", async (t) => {
    if (!findOnPath("tshark")) return skipSaying(t, "`tshark` is not installed (Debian package tshark)");
    const file = join(home, "session.pcapng");
    const options = ["--accept-new-host-key", "--capture", file, "--capture-limit", "50"];
    const cli = await whileConnected(options, 60_000, async (connected) => {
      assert.equal(await download(CORP_NET.host.v4, 100_000), sha256(deterministicBytes(100_000)));
      // curl is gone once it sent its FIN; ours follows once S has closed its side. Disconnect
      // after the flow table says so, or the capture may end between the two.
      await finSentBy(connected, `${CORP_NET.host.v4}:80`, 10_000);
      connected.process.child.kill("SIGINT");
      assert.equal((await connected.process.waitForExit(DISCONNECT_MS)).code, 0, connected.describe());
    });
    const lines = cli.events.filter((e) => e.type === "log").map((e) => e.line ?? "");
    assert.ok(lines.includes(`recording packets to ${file} (up to 50 MB)`), lines.join("\n"));
    assert.ok(
      lines.some(
        (line) => /^capture stopped at [\d.]+ MB/.test(line) && line.endsWith(`the packets are in ${file}`),
      ),
      lines.join("\n"),
    );
    assert.equal(statSync(file).mode & 0o777, 0o600, "the capture is only the user's");

    await assertHttpExchangeCaptured(file, CORP_NET.host.v4, 100_000);
  });

  test("--verbose: the helper's and the agent's own lines too", async () => {
    const cli = new HumanCli(spawnConnect(["--accept-new-host-key", "--verbose"]));
    try {
      await cli.until(/^connected\b.*$/m, 60_000);
      process.kill(cli.process.pid ?? 0, "SIGTERM");
      assert.equal((await cli.process.waitForExit(DISCONNECT_MS)).code, 0, cli.output);
      for (const detail of [/link \w+ started/, /helper\.sock/, /undone: /, /^\s*advertising /m])
        assert.match(cli.output, detail, cli.output);
      assert.match(cli.output, /^disconnected: the remote is restored\b.*$/m, cli.output);
    } finally {
      await cli.process.stop(15_000);
    }
  });

  test("an unreachable host and a wrong key each fail within 15 seconds, saying what to do", async () => {
    for (const [target, identity, pattern] of [
      [`ssh://bhdev@${SSH_LINK.blackhole}`, suite.sshd.keys.plain, /cannot reach .* port 22/],
      [`ssh://bhdev@${SSH_LINK.remote.v4}`, suite.sshd.keys.stranger, /ssh-add|-i /],
    ] as const) {
      const started = Date.now();
      const cli = connect([], target, identity);
      const exit = await cli.process.waitForExit(20_000);
      const elapsed = Date.now() - started;
      assert.equal(exit.code, 1, cli.describe());
      const error = cli.events.find((e) => e.type === "error");
      assert.match(error?.message ?? "", pattern);
      assert.ok(elapsed < 15_000, `${target} took ${elapsed} ms`);
    }
  });

  test("a changed host key is refused, loudly", async () => {
    await suite.sshd.restartWithNewHostKeys();
    const cli = connect(["--accept-new-host-key"]);
    const exit = await cli.process.waitForExit(20_000);
    assert.equal(exit.code, 1);
    const error = cli.events.find((e) => e.type === "error");
    assert.match(error?.message ?? "", /ssh-keygen -R/);
    assert.equal(await snapshot(), before_, "nothing was set up");
  });
});
