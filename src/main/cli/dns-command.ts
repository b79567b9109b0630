/**
 * `backhaul dns all|split|off`: changes a running `backhaul connect` session's DNS mode, as the
 * window's Settings → DNS does for its own sessions. The remote's resolver follows within
 * seconds and its flows stay; a session started in the window answers that its Settings own it.
 */
import { sessionsDir } from "../broker/session-control.js";
import { changeSession, parseSessionCommandArgs, SESSION_CHANGE_EXIT } from "./session-pick.js";
import { UsageError } from "./usage-error.js";

const MODES = ["all", "split", "off"] as const;
type Mode = (typeof MODES)[number];

/** The session waits up to 15 s for the remote's resolver to switch, after reading this computer's domains. */
const ANSWER_TIMEOUT_MS = 30_000;

export const DNS_EXIT = SESSION_CHANGE_EXIT;

export const DNS_USAGE = `backhaul dns all|split|off [options]

  Changes the DNS mode of a running session (\`backhaul connect\`) while it stays connected, as
  --dns does at connect: all (every name the remote looks up goes to this computer), split (only
  names under this computer's domains and --dns-domain's), off (the remote's own resolver for
  every name). It returns once the remote's resolver has switched, within seconds; open flows
  stay, and off leaves the resolver as it was before the connect. Sessions of the window take
  their mode from its Settings.

  --session NAME           which session, when several run (without it, the only one)
  --json                   the outcome as one JSON object

  Sessions are found in ${sessionsDir()}.

  Exit codes: 0 done (or in force already, or kept for the next connect while reconnecting);
  1 the session refused, or the remote's resolver did not switch (the message says why); 2 bad
  usage; 3 no running session (or not the one named, or several and no --session); 4 the session
  did not answer.
`;

const isMode = (text: string): text is Mode => (MODES as readonly string[]).includes(text);

export async function dnsCommand(args: string[]): Promise<number> {
  const values = parseSessionCommandArgs(args);
  const positionals = values.words;
  const [mode, ...extra] = positionals;
  if (mode === undefined) throw new UsageError("dns needs a mode: `backhaul dns all`, `split` or `off`");
  if (!isMode(mode)) throw new UsageError(`"${mode}" is not a DNS mode; use all, split or off`);
  if (extra.length > 0) throw new UsageError(`dns takes one mode, not ${positionals.length} words`);
  return changeSession({
    named: values.session,
    json: values.json,
    request: { type: "dnsMode", mode },
    timeoutMs: ANSWER_TIMEOUT_MS,
    jsonOf: (session, reply) => ({ type: "dnsMode", session, mode, message: reply.message }),
  });
}
