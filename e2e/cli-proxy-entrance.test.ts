/**
 * Issue #14, the proxy entrance: `backhaul connect` in L as bhnosudo, a user of R with no sudo at
 * all (real OpenSSH, e2e/sshd/server.ts). In auto, the agent runs as that user with SOCKS5 and
 * HTTP on R's loopback, and says so; after `. ~/.config/backhaul/proxy.env`, curl by a private name
 * (socks5h and the HTTP proxy), an HTTPS-style CONNECT and a UDP exchange through UDP ASSOCIATE
 * reach S; another user of R is refused and cannot read the file; Ctrl+C removes it.
 *
 *   R 198.18.1.1 (sshd, the agent) — L 198.18.1.2 (the CLI) — S host.corp.test (HTTP, echo)
 */
import assert from "node:assert/strict";
import { chmodSync, copyFileSync, existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { CLI, connectOverSsh, sshCliSkipReason } from "./cli/command.js";
import { watchEvents } from "./cli/json-cli.js";
import { deterministicBytes, sha256 } from "./nat/content.js";
import { ZONE } from "./dns/zone.js";
import { remoteState, sshdForSuite } from "./sshd/private-lab.js";

const KB = 1_000;
const DISCONNECT_MS = 5_000;
const UDP_CLIENT = new URL("./proxy/socks-udp-client.mjs", import.meta.url).pathname;
/** The name S's dnsmasq answers for S's services; only L's resolver knows it. */
const PRIVATE_NAME = `host.${ZONE}`;

const skip = sshCliSkipReason(["ip", "curl"]);

interface Event {
  type: string;
  state?: string | undefined;
  line?: string | undefined;
  /** DNS rows. */
  name?: string | undefined;
  /** Flow rows. */
  protocol?: string | undefined;
  destination?: string | undefined;
}

const text = (value: unknown): string | undefined => (typeof value === "string" ? value : undefined);

describe(
  "backhaul connect to a remote user without sudo: the proxy entrance",
  { skip, timeout: 300_000 },
  () => {
    const suite = sshdForSuite("backhaul-proxy-home-");

    test("connected with the proxy entrance; curl, CONNECT and UDP reach S; others refused; the file goes with Ctrl+C", async () => {
      const user = suite.sshd.users.noSudo;
      const other = suite.sshd.users.dev;
      const envFile = join(user.home, ".config", "backhaul", "proxy.env");
      const before = await remoteState(suite.remote);
      const cli = connectOverSsh(suite, user.name, ["--json"]);
      const { events, describeEvents, until } = watchEvents(cli, (value): Event => ({
        type: text(value.type) ?? "",
        state: text(value.state),
        line: text(value.line),
        name: text(value.name),
        protocol: text(value.protocol),
        destination: text(value.destination),
      }));
      const asUser = (command: string) =>
        suite.sshd.sshWithOpenSsh(user, `. ~/.config/backhaul/proxy.env && ${command}`);
      try {
        await until(
          () => events.some((e) => e.type === "state" && e.state === "connected"),
          "connected",
          90_000,
        );
        const lines = events.flatMap((e) => (e.type === "log" && e.line ? [e.line] : []));
        assert.ok(
          lines.some((line) => /^proxy entrance: /.test(line)),
          `says which entrance:\n${describeEvents()}`,
        );
        assert.ok(
          lines.some((line) => line.includes("source ~/.config/backhaul/proxy.env")),
          "tells the user to source the file",
        );

        // Only the user can read it; nothing on R's network configuration changed.
        const info = statSync(envFile);
        assert.equal(info.uid, user.uid);
        assert.equal(info.mode & 0o777, 0o600);
        assert.equal(statSync(join(user.home, ".config", "backhaul")).mode & 0o777, 0o700);
        assert.equal(await remoteState(suite.remote), before, "no TUN, route or resolver change");

        const expected = sha256(deterministicBytes(100 * KB));
        const url = `http://${PRIVATE_NAME}/bytes/${100 * KB}`;
        for (const [how, flags] of [
          ["socks5h", `--proxy "$ALL_PROXY"`],
          ["the HTTP proxy", `--proxy "$HTTP_PROXY"`],
          ["an HTTPS-style CONNECT", `--proxytunnel --proxy "$HTTP_PROXY"`],
        ] as const) {
          const result = await asUser(`curl -sS --fail -m 30 ${flags} '${url}' | sha256sum`);
          assert.equal(result.code, 0, `${how}: ${result.stderr}`);
          assert.equal(result.stdout.split(" ")[0], expected, how);
        }

        // The user runs its own copy: the checkout may be private (0700) to the one who cloned it.
        const udpClient = join(user.home, "socks-udp-client.mjs");
        copyFileSync(UDP_CLIENT, udpClient);
        chmodSync(udpClient, 0o644);
        const udp = await asUser(`node '${udpClient}' ${PRIVATE_NAME} 7 hello-udp`);
        assert.equal(udp.code, 0, udp.stderr);
        assert.deepEqual(JSON.parse(udp.stdout), { reply: "hello-udp" });

        // `backhaul diagnose` checks through the proxy entrance: the agent's connect goes the proxy's way.
        const session = /checks from both ends \(session (\S+)\)/.exec(lines.join("\n"))?.[1];
        assert.ok(session, `connect names its session for diagnose:\n${describeEvents()}`);
        const diagnosed = await suite.local.run(
          "env",
          [
            `HOME=${suite.home}`,
            process.execPath,
            CLI,
            "diagnose",
            `${PRIVATE_NAME}:80`,
            "--session",
            session,
            "--json",
          ],
          { timeoutMs: 60_000 },
        );
        assert.equal(diagnosed.code, 0, `${diagnosed.stdout}${diagnosed.stderr}`);
        const diagnosis = JSON.parse(diagnosed.stdout) as {
          verdict: string;
          summary: string;
          remote: { entrance: string; connect: { ok: boolean } | null } | null;
        };
        assert.equal(diagnosis.verdict, "reachable", diagnosis.summary);
        assert.equal(diagnosis.remote?.entrance, "proxy");
        assert.equal(diagnosis.remote?.connect?.ok, true, "a link stream reached S");
        assert.match(diagnosis.summary, /source ~\/\.config\/backhaul\/proxy\.env/);

        // The exit's tables show the proxy's work as they show the TUN entrance's.
        await until(
          () => events.some((e) => e.type === "dns" && e.name === PRIVATE_NAME),
          "the name in the DNS table",
          10_000,
        );
        const flowTo = (protocol: string, port: number) => () =>
          events.some(
            (e) => e.type === "flow" && e.protocol === protocol && e.destination?.endsWith(`:${port}`),
          );
        await until(flowTo("tcp", 80), "a TCP row for the curls", 10_000);
        await until(flowTo("udp", 7), "a UDP row for the exchange", 10_000);

        // Another user of R: cannot read the credentials, and is refused without them.
        const port = /127\.0\.0\.1:(\d+)/.exec(readFileSync(envFile, "utf8"))?.[1];
        assert.ok(port);
        const read = await suite.sshd.sshWithOpenSsh(other, `cat '${envFile}'`);
        assert.notEqual(read.code, 0);
        assert.match(read.stderr, /Permission denied/);
        const http = await suite.sshd.sshWithOpenSsh(
          other,
          `curl -sS -o /dev/null -w '%{http_code}' -m 10 --proxy http://127.0.0.1:${port} '${url}'`,
        );
        assert.equal(http.stdout, "407");
        const socks = await suite.sshd.sshWithOpenSsh(
          other,
          `curl -sS -m 10 --proxy socks5h://127.0.0.1:${port} '${url}'`,
        );
        assert.notEqual(socks.code, 0, "SOCKS5 without credentials is refused");
        const guessed = await suite.sshd.sshWithOpenSsh(
          other,
          `curl -sS -m 10 --proxy socks5h://bh-x:guess@127.0.0.1:${port} '${url}'`,
        );
        assert.notEqual(guessed.code, 0, "SOCKS5 with wrong credentials is refused");

        // Garbage from another user (random bytes, an oversized head) never stops the agent's proxy.
        const hostile = await suite.sshd.sshWithOpenSsh(
          other,
          `for i in $(seq 1 40); do (head -c $((i * 300)) /dev/urandom > /dev/tcp/127.0.0.1/${port}) 2>/dev/null; done; ` +
            `(printf 'GET http://x/ HTTP/1.1\\r\\nX: %s\\r\\n\\r\\n' "$(head -c 20000 /dev/zero | tr '\\0' a)" > /dev/tcp/127.0.0.1/${port}) 2>/dev/null; echo sent`,
        );
        assert.equal(hostile.stdout.trim(), "sent", hostile.stderr);
        const after = await asUser(`curl -sS --fail -m 30 --proxy "$ALL_PROXY" '${url}' | sha256sum`);
        assert.equal(after.stdout.split(" ")[0], expected, `still serving: ${after.stderr}`);

        cli.child.kill("SIGINT");
        assert.equal((await cli.waitForExit(DISCONNECT_MS + 10_000)).code, 0, describeEvents());
        // The agent removes it as it undoes its changes, which the CLI's exit may not wait for.
        await until(() => !existsSync(envFile), "proxy.env removed at disconnect", 10_000);
      } finally {
        await cli.stop(15_000);
      }
    });
  },
);
