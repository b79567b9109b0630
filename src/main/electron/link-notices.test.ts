import assert from "node:assert/strict";
import { test } from "node:test";
import type { SessionPhase, SessionView } from "../../shared/api.js";
import { testSessionView } from "../../shared/test-session-view.js";
import { INITIAL_NOTICE_STATE, linkNotice, type LinkNoticeState } from "./link-notices.js";

function view(phase: SessionPhase, message: string | null = null): SessionView {
  return testSessionView(phase, { message });
}

/** The titles of the notices a run of session views raises, in order. */
function titles(phases: SessionView[], start: LinkNoticeState = INITIAL_NOTICE_STATE): string[] {
  let state = start;
  const out: string[] = [];
  for (const next of phases) {
    const result = linkNotice(state, next);
    state = result.state;
    if (result.notice) out.push(result.notice.title);
  }
  return out;
}

test("a connect the user started, and a disconnect they asked for, raise nothing", () => {
  assert.deepEqual(
    titles([
      view("connecting"),
      view("connecting"),
      view("connected"),
      view("connected"),
      view("disconnected"),
    ]),
    [],
  );
  assert.deepEqual(titles([view("connecting"), view("error", "Permission denied.")]), []);
});

test("the link dropping and coming back are announced once each", () => {
  assert.deepEqual(
    titles([
      view("connecting"),
      view("connected"),
      view("reconnecting", "The link to devbox dropped."),
      view("reconnecting"),
      view("connecting"),
      view("reconnecting"),
      view("connecting"),
      view("connected"),
      view("connected"),
    ]),
    ["Connection to devbox lost", "Reconnected to devbox"],
  );
});

test("the notice carries the session's reason, or says what happens next", () => {
  const connected: LinkNoticeState = { phase: "connected", dropped: false };
  assert.deepEqual(linkNotice(connected, view("reconnecting", "The link to devbox dropped.")).notice, {
    title: "Connection to devbox lost",
    body: "The link to devbox dropped.",
  });
  assert.match(linkNotice(connected, view("reconnecting")).notice?.body ?? "", /reconnecting/);
  const unnamed = { ...view("reconnecting"), target: null };
  assert.equal(linkNotice(connected, unnamed).notice?.title, "Connection to the remote lost");
});

test("giving up, or failing while connected, is announced; a disconnect while reconnecting is not", () => {
  assert.deepEqual(titles([view("connected"), view("reconnecting"), view("error", "Host unreachable.")]), [
    "Connection to devbox lost",
    "Disconnected from devbox",
  ]);
  assert.deepEqual(titles([view("connected"), view("error", "The agent exited.")]), [
    "Disconnected from devbox",
  ]);
  assert.deepEqual(
    titles([
      view("connected"),
      view("reconnecting"),
      view("disconnected"),
      view("connecting"),
      view("connected"),
    ]),
    ["Connection to devbox lost"],
  );
});
