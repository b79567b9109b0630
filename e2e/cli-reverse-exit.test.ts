/**
 * Issue #15, the reverse direction on one link: `backhaul connect --socks PORT` in L to bhdev on R
 * (real OpenSSH, the TUN entrance). From L, curl through the proxy (socks5h and HTTP) reaches P, a
 * network only R reaches, by a name only R's hosts file knows; R itself is refused without
 * --allow-remote-local; another user of L needs the printed credentials; and both directions run
 * at once, a transfer each way on each (R from S as before, L to and from P), all intact.
 *
 *   P 198.18.90.10 web.remote.test — R 198.18.1.1 (sshd, agent) — L 198.18.1.2 (CLI) — S host.corp.test
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { connectOverSsh, sshCliSkipReason } from "./cli/command.js";
import { watchEvents } from "./cli/json-cli.js";
import { deterministicBytes, sha256 } from "./nat/content.js";
import { ZONE } from "./dns/zone.js";
import { REMOTE_PRIVATE, SSH_LINK } from "./netns/address-plan.js";
import { startServers } from "./nat/start-servers.js";
import { sshdWithRemotePrivateForSuite, REMOTE_PRIVATE_NAME } from "./reverse/remote-private.js";

const MB = 1_000_000;
const SOCKS_PORT = 1080;
const PROXY = `127.0.0.1:${SOCKS_PORT}`;

const skip = sshCliSkipReason(["ip", "curl", "runuser"]);

interface Event {
  type: string;
  state?: string;
  line?: string;
  name?: string;
  direction?: string;
  destination?: string;
}

const text = (value: unknown): string | undefined => (typeof value === "string" ? value : undefined);

describe(
  "backhaul connect --socks: this computer reaches the remote's networks on the same link",
  { skip, timeout: 300_000 },
  () => {
    const suite = sshdWithRemotePrivateForSuite("backhaul-reverse-home-", undefined, async (suite) => {
      // An HTTP server on R itself (every address of R, its loopback too): what --allow-remote-local opens.
      await startServers(suite.remote);
      await suite.sshd.restartOffering(); // so that the agent's mount namespace has R's hosts file
    });

    /** `backhaul connect --socks` in L with `extra` flags; its JSON events and a waiter on them. */
    const connectWithSocks = (extra: readonly string[]) => {
      const user = suite.sshd.users.dev;
      const cli = connectOverSsh(suite, user.name, [
        "--entrance",
        "tun",
        "--socks",
        String(SOCKS_PORT),
        "--json",
        ...extra,
      ]);
      const { events, describeEvents, until } = watchEvents(cli, (value): Event => ({
        type: text(value.type) ?? "",
        ...(text(value.state) ? { state: text(value.state) } : {}),
        ...(text(value.line) ? { line: text(value.line) } : {}),
        ...(text(value.name) ? { name: text(value.name) } : {}),
        ...(text(value.direction) ? { direction: text(value.direction) } : {}),
        ...(text(value.destination) ? { destination: text(value.destination) } : {}),
      }));
      return { cli, events, describeEvents, until };
    };
    const inL = (command: string) => suite.local.run("sh", ["-c", command]);
    const inR = (command: string) => suite.remote.run("sh", ["-c", command]);

    test("socks5h and HTTP reach P by R's name; R itself refused; others need credentials; both directions at once", async () => {
      const { cli, events, describeEvents, until } = connectWithSocks([]);
      try {
        // The CLI says where the proxy is right after "connected": wait for that line, not only the state.
        const socksLine = (): string | undefined =>
          events.find((e) => e.type === "log" && e.line?.startsWith("socks: "))?.line;
        await until(
          () =>
            events.some((e) => e.type === "state" && e.state === "connected") && socksLine() !== undefined,
          "connected, and the proxy's line",
          90_000,
        );
        const said = socksLine() ?? "";
        assert.match(
          said,
          new RegExp(`SOCKS5 and HTTP proxy on ${PROXY.replaceAll(".", "\\.")}`),
          describeEvents(),
        );
        const credentialed = /socks5h:\/\/(bh-[\w-]+:[\w-]+)@/.exec(said)?.[1];
        assert.ok(credentialed, `the credentials are shown to the user: ${said}`);

        // L cannot reach P itself: only through the remote.
        const direct = await inL(`curl -sS -m 5 http://${REMOTE_PRIVATE.server.v4}/`);
        assert.notEqual(direct.code, 0, "P is not reachable from L directly");

        const url = `http://${REMOTE_PRIVATE_NAME}/bytes/${MB}`;
        const expected = sha256(deterministicBytes(MB));
        for (const proxy of [`socks5h://${PROXY}`, `http://${PROXY}`]) {
          const result = await inL(`curl -sS --fail -m 30 -x ${proxy} '${url}' | sha256sum`);
          assert.equal(result.stdout.split(" ")[0], expected, `${proxy}: ${result.stderr}`);
        }

        // The remote itself: its loopback and its own address are refused without --allow-remote-local.
        for (const host of ["127.0.0.1", SSH_LINK.remote.v4]) {
          const refused = await inL(`curl -sS -m 10 -x socks5h://${PROXY} http://${host}/`);
          assert.notEqual(refused.code, 0, `${host} on R is refused`);
          // SOCKS5 reply 2: "connection not allowed by ruleset" (RFC 1928); curl prints the code.
          assert.match(refused.stderr, /SOCKS5 connection to [\d.]+\. \(2\)|not allowed/i, refused.stderr);
        }

        // Another user of L: refused without the credentials, served with them.
        const asNobody = (proxy: string) =>
          inL(`runuser -u nobody -- curl -sS --fail -m 20 -x ${proxy} 'http://${REMOTE_PRIVATE_NAME}/' `);
        assert.notEqual((await asNobody(`socks5h://${PROXY}`)).code, 0, "another user without credentials");
        const withCredentials = await asNobody(`socks5h://${credentialed}@${PROXY}`);
        assert.equal(withCredentials.code, 0, withCredentials.stderr);

        // Both directions at once, a transfer each way: R downloads from S (the forward path) while
        // L downloads from P and uploads to P through --socks.
        const size = 20 * MB;
        const [forward, down, up] = await Promise.all([
          inR(`curl -sS --fail -m 120 http://host.${ZONE}/bytes/${size} | sha256sum`),
          inL(
            `curl -sS --fail -m 120 -x socks5h://${PROXY} http://${REMOTE_PRIVATE_NAME}/bytes/${size} | sha256sum`,
          ),
          inL(
            `f=$(mktemp) && head -c ${size} /dev/urandom > "$f" && sha256sum < "$f" && ` +
              `curl -sS --fail -m 120 -x socks5h://${PROXY} --data-binary @"$f" http://${REMOTE_PRIVATE_NAME}/upload; rm -f "$f"`,
          ),
        ]);
        const sizedExpected = sha256(deterministicBytes(size));
        assert.equal(forward.stdout.split(" ")[0], sizedExpected, `R from S: ${forward.stderr}`);
        assert.equal(down.stdout.split(" ")[0], sizedExpected, `L from P: ${down.stderr}`);
        const [localSum, answer] = up.stdout.split("\n");
        assert.ok(
          answer?.includes(localSum!.split(" ")[0]!),
          `L to P: P got what L sent: ${up.stdout} ${up.stderr}`,
        );

        // Both directions in one NAT table; P's name was never asked of this computer's resolver.
        await until(
          () =>
            events.some(
              (e) =>
                e.type === "flow" &&
                e.direction === "local-to-remote" &&
                e.destination === `${REMOTE_PRIVATE.server.v4}:80`,
            ),
          "a local-to-remote row for P",
          10_000,
        );
        assert.ok(
          events.some((e) => e.type === "flow" && e.direction === "remote-to-local"),
          "a remote-to-local row",
        );
        assert.ok(
          !events.some((e) => e.type === "dns" && e.name === REMOTE_PRIVATE_NAME),
          "no lookup of P's name here",
        );

        cli.child.kill("SIGINT");
        assert.equal((await cli.waitForExit(20_000)).code, 0, describeEvents());
      } finally {
        await cli.stop(15_000);
      }
    });

    test("with --allow-remote-local, R itself (its loopback and its address) is reachable too", async () => {
      const { cli, describeEvents, until, events } = connectWithSocks(["--allow-remote-local"]);
      try {
        await until(
          () => events.some((e) => e.type === "state" && e.state === "connected"),
          "connected",
          90_000,
        );
        for (const host of ["127.0.0.1", SSH_LINK.remote.v4]) {
          const reached = await inL(`curl -sS --fail -m 10 -x socks5h://${PROXY} http://${host}/`);
          assert.equal(reached.stdout, "hello from S\n", `${host} on R: ${reached.stderr}`);
        }
        cli.child.kill("SIGINT");
        assert.equal((await cli.waitForExit(20_000)).code, 0, describeEvents());
      } finally {
        await cli.stop(15_000);
      }
    });
  },
);
