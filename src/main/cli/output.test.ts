import assert from "node:assert/strict";
import { test } from "node:test";
import { describeState, humanReporter, jsonReporter, type Reporter } from "./output.js";

/** The lines a connect and a Ctrl+C produced (recorded from e2e/cli-ssh.test.ts, paths shortened). */
const CONNECT_LINES = [
  "backhaul helper: listening on /tmp/backhaul-Zcy9wf/helper.sock (pid 15275)",
  "198.18.1.1: ssh-ed25519 host key, aes128-gcm@openssh.com, curve25519-sha256@libssh.org",
  "uploading the agent to ssh://bhdev@198.18.1.1:/home/bhdev/.cache/backhaul/agent/0.1.0-e0e0 (backhaul-agent.cjs)",
  "uploaded the agent to /home/bhdev/.cache/backhaul/agent/0.1.0-e0e0",
  "backhaul helper: link 93b398e7 started",
  "backhaul agent: not routing 198.18.1.0/30: 198.18.1.0/30 is not routed: it contains the SSH peer 198.18.1.2, so the link's own traffic would go into the link",
  "backhaul agent: routing 3 prefix(es) into bh0",
  "backhaul agent: dns: rewrites /etc/resolv.conf in place to use the link's DNS stub (/etc/resolv.conf is a plain file: rewritten in place)",
  "backhaul agent: ready: bh0 mtu 65520",
];
const DISCONNECT_LINES = [
  "backhaul helper: link 93b398e7 closed (local): the user disconnected",
  "backhaul agent: link closed (the user disconnected): undoing system changes",
  "backhaul agent: the link ended while already stopping; still undoing changes",
  "backhaul agent: undone: rewritten /etc/resolv.conf",
  "backhaul agent: undone: route 198.19.0.0/16 dev bh0",
  "backhaul agent: undone: TUN interface bh0",
  "backhaul helper: stopping: asked to shut down",
];
const ADVERTISED = ["198.18.1.0/30", "198.18.200.1/32", "198.19.0.0/16", "2001:db8:19::/48"];

function recorder(options: { verbose?: boolean; tty?: boolean } = {}) {
  let out = "";
  let err = "";
  const reporter = humanReporter({
    verbose: options.verbose ?? false,
    tty: options.tty ?? false,
    out: (text) => void (out += text),
    err: (text) => void (err += text),
  });
  return { reporter, output: () => ({ out, err }) };
}

function session(reporter: Reporter, lines: { connect?: string[]; disconnect?: string[] } = {}): void {
  reporter.advertising(ADVERTISED, false);
  reporter.state({ state: "connecting", step: "start", attempt: 1 });
  reporter.state({ state: "connecting", step: "agent", attempt: 1 });
  (lines.connect ?? CONNECT_LINES).forEach((line) => reporter.log(line));
  reporter.state({ state: "connected", since: 0 });
  (lines.disconnect ?? DISCONNECT_LINES).forEach((line) => reporter.log(line));
  reporter.state({ state: "disconnected", reason: "disconnected by the user" });
}

test("by default: the steps, one routed line, the restore; none of the helper's or agent's routine", () => {
  const { reporter, output } = recorder();
  session(reporter);
  const { out, err } = output();
  assert.equal(
    out,
    [
      "connecting: starting",
      "connecting: starting the agent",
      "routing 198.18.200.1/32, 198.19.0.0/16, 2001:db8:19::/48 into the remote; not 198.18.1.0/30 " +
        "(it contains the SSH peer 198.18.1.2, so the link's own traffic would go into the link)",
      "connected: the remote now reaches this computer's networks (Ctrl+C disconnects)",
      "disconnected: the remote is restored (3 change(s) undone)",
      "",
    ].join("\n"),
  );
  assert.equal(err, "");
});

test("--verbose shows every line, indented, beside the same summary", () => {
  const { reporter, output } = recorder({ verbose: true });
  session(reporter);
  const { out, err } = output();
  for (const line of [...CONNECT_LINES, ...DISCONNECT_LINES]) assert.ok(err.includes(`  ${line}\n`), line);
  assert.match(err, /^ {2}advertising 198\.18\.1\.0\/30, /m);
  assert.match(out, /^disconnected: the remote is restored/m);
});

test("warnings and errors print without --verbose", () => {
  const { reporter, output } = recorder();
  const warnings = [
    "backhaul agent: dns: systemd-resolved manages /etc/resolv.conf and may rewrite it while backhaul runs",
    "backhaul agent: route add 198.19.0.0/16 failed: RTNETLINK answers: File exists",
    "the route monitor exited (code 1): reading this computer's routes every 3 s instead",
    "the local helper exited (null); starting it again in 250 ms",
    "backhaul helper: could not start the exit side: Error: boom",
  ];
  const routedAfterFailure = [
    ...CONNECT_LINES.slice(0, 6),
    warnings[1] ?? "",
    "backhaul agent: routing 2 prefix(es) into bh0",
    ...CONNECT_LINES.slice(7),
  ];
  session(reporter, { connect: [...routedAfterFailure, ...warnings] });
  reporter.error("the host key changed");
  const { out, err } = output();
  for (const line of warnings) assert.ok(err.includes(`  ${line}\n`), line);
  assert.match(err, /^backhaul: the host key changed$/m);
  assert.match(
    out,
    /^routing 198\.18\.200\.1\/32, 2001:db8:19::\/48 into the remote; not 198\.18\.1\.0\/30/m,
  );
});

test("a session that fails says so once, on stderr", () => {
  const { reporter, output } = recorder();
  reporter.state({ state: "error", message: "the host key changed" });
  reporter.error("the host key changed");
  assert.deepEqual(output(), { out: "", err: "backhaul: the host key changed\n" });
});

test("nothing advertised is said at once", () => {
  const { reporter, output } = recorder();
  reporter.advertising([], false);
  assert.equal(output().err, "  advertising no prefixes (add some with --route)\n");
});

test("a remote not fully restored is said so, and each failure stays visible", () => {
  const { reporter, output } = recorder();
  const failed = "backhaul agent: FAILED to undo route 198.19.0.0/16 dev bh0: Operation not permitted";
  session(reporter, { disconnect: [DISCONNECT_LINES[1] ?? "", DISCONNECT_LINES[3] ?? "", failed] });
  const { out, err } = output();
  assert.match(out, /^disconnected: the remote is NOT fully restored: 1 change\(s\) could not be undone/m);
  assert.ok(err.includes(failed));
});

test("an agent that began undoing but never reported is not said to have restored the remote", () => {
  const { reporter, output } = recorder();
  session(reporter, { disconnect: [DISCONNECT_LINES[1] ?? ""] });
  assert.match(output().out, /^disconnected: disconnected by the user$/m);
});

test("a session that ends before any agent undid anything says only why it ended", () => {
  const { reporter, output } = recorder();
  reporter.state({ state: "connecting", step: "ssh", attempt: 1 });
  reporter.state({ state: "disconnected", reason: "disconnected by the user" });
  assert.match(output().out, /^disconnected: disconnected by the user$/m);
});

test("the routed line is said again only when it changes", () => {
  const { reporter, output } = recorder();
  reporter.advertising(ADVERTISED, false);
  for (let round = 0; round < 2; round++) CONNECT_LINES.forEach((line) => reporter.log(line));
  reporter.advertising([...ADVERTISED, "10.9.0.0/16"], true);
  reporter.log(
    "backhaul agent: not routing 198.18.1.0/30: 198.18.1.0/30 is not routed: it contains the SSH peer",
  );
  reporter.log("backhaul agent: routing 4 prefix(es) into bh0");
  const routed = output()
    .out.split("\n")
    .filter((line) => line.startsWith("routing "));
  assert.equal(routed.length, 2, routed.join("\n"));
  assert.match(routed[1] ?? "", /, 10\.9\.0\.0\/16 into the remote/);
});

test("on a terminal the status line is rewritten in place and cleared before any other line", () => {
  const { reporter, output } = recorder({ tty: true });
  reporter.status("  1 open flows");
  reporter.status("  2 open flows");
  reporter.state({ state: "disconnected", reason: "disconnected by the user" });
  reporter.status("  3 open flows");
  reporter.close();
  assert.equal(
    output().out,
    "\r\x1b[2K  1 open flows\r\x1b[2K  2 open flows\r\x1b[2Kdisconnected: disconnected by the user\n" +
      "\r\x1b[2K  3 open flows\r\x1b[2K",
  );
});

test("elsewhere the status is a plain line", () => {
  const { reporter, output } = recorder();
  reporter.status("  1 open flows");
  reporter.close();
  assert.equal(output().out, "  1 open flows\n");
});

test("--json keeps every line as a log event, advertising included, and no status", () => {
  const lines: string[] = [];
  const reporter = jsonReporter((line) => void lines.push(line));
  reporter.advertising(["198.19.0.0/16"], false);
  reporter.advertising(["198.19.0.0/16", "10.9.0.0/16"], true);
  CONNECT_LINES.forEach((line) => reporter.log(line));
  reporter.status("  1 open flows");
  reporter.close();
  assert.deepEqual(
    lines.map((line) => JSON.parse(line) as unknown),
    [
      { type: "log", line: "advertising 198.19.0.0/16" },
      { type: "log", line: "this computer's routes changed: advertising 198.19.0.0/16, 10.9.0.0/16" },
      ...CONNECT_LINES.map((line) => ({ type: "log", line })),
    ],
  );
});

test("an exec: target's first step runs its command; other targets open SSH", () => {
  const connecting = { state: "connecting", step: "ssh", attempt: 1 } as const;
  assert.equal(describeState(connecting), "connecting: opening SSH");
  assert.equal(describeState(connecting, true), "connecting: running the command");
  assert.equal(
    describeState({ ...connecting, step: "upload" }, true),
    "connecting: checking and uploading the agent",
  );
});
