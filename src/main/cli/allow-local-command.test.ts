// `backhaul allow-local on|off` against real control sockets (session-control.ts) in a private
// runtime directory: it picks the session as `backhaul dns` does, says what happened (the flows a
// switch off ended among it), and exits with a code a script can act on.
import assert from "node:assert/strict";
import { test } from "node:test";
import { ALLOW_LOCAL_EXIT, allowLocalCommand, describeAllowLocalChange } from "./allow-local-command.js";
import {
  cliSession as connectSession,
  sessionCommandKit,
  sessionPickAnswers,
  WINDOW_SESSION,
} from "./session-command-testing.js";
import { UsageError } from "./usage-error.js";

const { sessions, run } = sessionCommandKit("allow-local", allowLocalCommand);
const asked: boolean[] = [];

/** A `backhaul connect` session whose exit had two flows open to this computer. */
const cliSession = connectSession({
  allowLocal: (allow) => {
    asked.push(allow);
    const endedFlows = allow ? 0 : 2;
    return Promise.resolve({
      message: describeAllowLocalChange(allow, { kind: "applied", endedFlows }, undefined),
      endedFlows,
    });
  },
});

test("bad usage throws a UsageError that says what to type", async () => {
  await assert.rejects(
    allowLocalCommand([]),
    (error: Error) => error instanceof UsageError && /needs on or off/.test(error.message),
  );
  await assert.rejects(
    allowLocalCommand(["yes"]),
    (error: Error) => error instanceof UsageError && /takes on or off, not "yes"/.test(error.message),
  );
  await assert.rejects(allowLocalCommand(["on", "off"]), UsageError);
  await assert.rejects(allowLocalCommand(["on", "--remote"]), /remote/);
  assert.deepEqual(asked, []);
});

test("no running session: exit 3 and how to start one", () =>
  sessionPickAnswers.none(run, ["off"], ALLOW_LOCAL_EXIT.noSession));

test("the only session switches; with two, --session picks and its absence is explained; a window's session refuses", async () => {
  await sessions.start("ssh://me@devbox", cliSession);
  const on = await run(["on"]);
  assert.equal(on.code, ALLOW_LOCAL_EXIT.done, on.stderr);
  assert.equal(on.stdout, "me_devbox: the remote can now reach this computer itself\n");
  assert.deepEqual(asked, [true]);

  await sessions.start("ssh://me@window", WINDOW_SESSION);
  await sessionPickAnswers.ambiguous(run, ["off"], ALLOW_LOCAL_EXIT.noSession);

  const json = await run(["off", "--session", "me_devbox", "--json"]);
  assert.equal(json.code, ALLOW_LOCAL_EXIT.done, json.stderr);
  assert.deepEqual(JSON.parse(json.stdout), {
    type: "allowLocal",
    session: "me_devbox",
    allow: false,
    endedFlows: 2,
    message: "the remote can no longer reach this computer itself; 2 open flows to it ended",
  });
  assert.deepEqual(asked, [true, false]);

  const refused = await run(["on", "--session", "me_window"]);
  assert.equal(refused.code, ALLOW_LOCAL_EXIT.refused);
  assert.match(
    refused.stderr,
    /me_window: this session takes access to this computer from the window's Settings/,
  );

  await sessionPickAnswers.missing(run, ["on"], ALLOW_LOCAL_EXIT.noSession);
  assert.deepEqual(asked, [true, false], "only the session asked switched");
});

test("what a session answers: already, at the next connect, the flows ended, the reverse direction named; unconfirmed is an error", () => {
  assert.equal(
    describeAllowLocalChange(true, { kind: "unchanged" }, undefined),
    "the remote can already reach this computer itself",
  );
  assert.equal(
    describeAllowLocalChange(false, { kind: "unchanged" }, undefined),
    "the remote already cannot reach this computer itself",
  );
  assert.equal(
    describeAllowLocalChange(false, { kind: "at-connect" }, undefined),
    "the remote cannot reach this computer itself once the session connects (it is not connected now)",
  );
  assert.equal(
    describeAllowLocalChange(false, { kind: "applied", endedFlows: 0 }, undefined),
    "the remote can no longer reach this computer itself; no flow to it was open",
  );
  assert.equal(
    describeAllowLocalChange(false, { kind: "applied", endedFlows: 1 }, false),
    "the remote can no longer reach this computer itself; 1 open flow to it ended; " +
      "this computer's access to the remote itself (--allow-remote-local) stays off until a reconnect",
  );
  assert.throws(
    () => describeAllowLocalChange(true, { kind: "unconfirmed", why: "no answer" }, undefined),
    /did not confirm the change \(no answer\).*reconnect to be sure/,
  );
});
