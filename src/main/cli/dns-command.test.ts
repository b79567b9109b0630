// `backhaul dns MODE` against real control sockets (session-control.ts) in a private runtime
// directory: it picks the session as diagnose does, says what happened, and exits with a code a
// script can act on.
import assert from "node:assert/strict";
import { test } from "node:test";
import { DNS_EXIT, dnsCommand } from "./dns-command.js";
import {
  cliSession as connectSession,
  sessionCommandKit,
  sessionPickAnswers,
  WINDOW_SESSION,
} from "./session-command-testing.js";
import { UsageError } from "./usage-error.js";

const { sessions, run } = sessionCommandKit("dns", dnsCommand);
const modes: string[] = [];

const cliSession = connectSession({
  dnsMode: (mode) => {
    modes.push(mode);
    return Promise.resolve(`DNS mode ${mode}`);
  },
});

test("bad usage throws a UsageError that says what to type", async () => {
  await assert.rejects(
    dnsCommand([]),
    (error: Error) => error instanceof UsageError && /all.*split.*off/.test(error.message),
  );
  await assert.rejects(
    dnsCommand(["on"]),
    (error: Error) => error instanceof UsageError && /"on" is not a DNS mode/.test(error.message),
  );
  await assert.rejects(dnsCommand(["all", "split"]), UsageError);
  await assert.rejects(dnsCommand(["all", "--bogus"]), /bogus/);
});

test("no running session: exit 3 and how to start one", () =>
  sessionPickAnswers.none(run, ["split"], DNS_EXIT.noSession));

test("the only session changes mode; with two, --session picks and its absence is explained", async () => {
  await sessions.start("ssh://me@devbox", cliSession);
  const done = await run(["off"]);
  assert.equal(done.code, DNS_EXIT.done, done.stderr);
  assert.match(done.stdout, /^me_devbox: DNS mode off\n$/);
  assert.deepEqual(modes, ["off"]);

  await sessions.start("ssh://me@window", WINDOW_SESSION);
  await sessionPickAnswers.ambiguous(run, ["all"], DNS_EXIT.noSession);

  const json = await run(["all", "--session", "me_devbox", "--json"]);
  assert.equal(json.code, DNS_EXIT.done, json.stderr);
  assert.deepEqual(JSON.parse(json.stdout), {
    type: "dnsMode",
    session: "me_devbox",
    mode: "all",
    message: "DNS mode all",
  });
  assert.deepEqual(modes, ["off", "all"]);

  const refused = await run(["split", "--session", "me_window"]);
  assert.equal(refused.code, DNS_EXIT.refused);
  assert.match(refused.stderr, /me_window: this session takes its DNS mode from the window's Settings/);

  await sessionPickAnswers.missing(run, ["split"], DNS_EXIT.noSession);
  assert.deepEqual(modes, ["off", "all"], "only the sessions asked changed");
});
