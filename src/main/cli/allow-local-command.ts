/**
 * `backhaul allow-local on|off`: switches "allow access to this computer" (--allow-local) on a
 * running `backhaul connect` session, as the window's Settings do for its own sessions. It is
 * about the remote reaching this computer itself (its loopback and own addresses) through the
 * session's exit here; switched off, the flows already open to this computer end too, since a
 * user who turns access off expects it to stop. The reverse direction, this computer reaching the
 * remote itself (--allow-remote-local), is the agent's and stays as the connect set it.
 */
import { sessionsDir } from "../broker/session-control.js";
import type { AllowLocalChange } from "../broker/session.js";
import { changeSession, parseSessionCommandArgs, SESSION_CHANGE_EXIT } from "./session-pick.js";
import { UsageError } from "./usage-error.js";

/** The session waits up to 5 s for its local helper to confirm (helper-exit.ts). */
const ANSWER_TIMEOUT_MS = 15_000;

export const ALLOW_LOCAL_EXIT = SESSION_CHANGE_EXIT;

export const ALLOW_LOCAL_USAGE = `backhaul allow-local on|off [options]

  Switches "allow access to this computer" of a running session (\`backhaul connect\`) while it
  stays connected, as --allow-local does at connect: on, the remote may reach this computer
  itself (its loopback, link-local and own addresses); off, it may not, and the flows already
  open to this computer are ended (TCP is reset), counted in the answer. It applies to the
  session's exit on this computer only: whether this computer may reach the remote itself
  (--allow-remote-local, with --socks or --remote-route) is set at connect; reconnect to change
  it. Sessions of the window take this from its Settings.

  --session NAME           which session, when several run (without it, the only one)
  --json                   the outcome as one JSON object

  Sessions are found in ${sessionsDir()}.

  Exit codes: 0 done (or so already, or kept for the next connect while reconnecting); 1 the
  session refused, or its local helper did not confirm (the message says why); 2 bad usage; 3 no
  running session (or not the one named, or several and no --session); 4 the session did not
  answer.
`;

export async function allowLocalCommand(args: string[]): Promise<number> {
  const values = parseSessionCommandArgs(args);
  const positionals = values.words;
  const [word, ...extra] = positionals;
  if (word === undefined) throw new UsageError("allow-local needs on or off: `backhaul allow-local off`");
  if (word !== "on" && word !== "off") throw new UsageError(`allow-local takes on or off, not "${word}"`);
  if (extra.length > 0)
    throw new UsageError(`allow-local takes one word, on or off, not ${positionals.length}`);
  const allow = word === "on";
  return changeSession({
    named: values.session,
    json: values.json,
    request: { type: "allowLocal", allow },
    timeoutMs: ANSWER_TIMEOUT_MS,
    jsonOf: (session, reply) => ({
      type: "allowLocal",
      session,
      allow,
      endedFlows: reply.endedFlows ?? 0,
      message: reply.message,
    }),
  });
}

/**
 * What a session answers `backhaul allow-local`: the change as the remote sees it, and, when
 * the session also runs the reverse direction, that this is not it (`remoteLocal`:
 * --allow-remote-local; undefined without a reverse direction). Throws when the local helper
 * did not confirm: the command then exits 1 with why.
 */
export function describeAllowLocalChange(
  allow: boolean,
  change: AllowLocalChange,
  remoteLocal: boolean | undefined,
): string {
  const reverse =
    remoteLocal === undefined
      ? ""
      : `; this computer's access to the remote itself (--allow-remote-local) stays ${remoteLocal ? "on" : "off"} until a reconnect`;
  switch (change.kind) {
    case "unchanged":
      return `${allow ? "the remote can already reach" : "the remote already cannot reach"} this computer itself${reverse}`;
    case "at-connect":
      return `the remote ${allow ? "can" : "cannot"} reach this computer itself once the session connects (it is not connected now)${reverse}`;
    case "applied": {
      if (allow) return `the remote can now reach this computer itself${reverse}`;
      const n = change.endedFlows;
      const ended = n === 0 ? "no flow to it was open" : `${n} open flow${n === 1 ? "" : "s"} to it ended`;
      return `the remote can no longer reach this computer itself; ${ended}${reverse}`;
    }
    case "unconfirmed":
      throw new Error(
        `the local helper did not confirm the change (${change.why}): new flows follow it if it arrived, ` +
          "but flows already open may stay; reconnect to be sure",
      );
  }
}
