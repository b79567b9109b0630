/**
 * `backhaul diagnose HOST[:PORT]`: "Can the remote reach …?" asked of a running session (its
 * control socket, broker/session-control.ts), which checks from both ends and says what to do.
 */
import ipaddr from "ipaddr.js";
import type { DiagnoseResult } from "../../shared/api.js";
import { isHostName } from "../../shared/diagnose-frames.js";
import { describeRemoteDns } from "../../shared/remote-dns-status.js";
import { sessionsDir } from "../broker/session-control.js";
import { askPickedSession, commandOutput, parseSessionCommandArgs } from "./session-pick.js";
import { UsageError } from "./usage-error.js";

const DEFAULT_PORT = 443;
/** Both ends' checks take up to 5 s each step; the agent's answer may take 20 s. */
const ANSWER_TIMEOUT_MS = 40_000;

export const EXIT = { reachable: 0, notReachable: 1, usage: 2, noSession: 3, noAnswer: 4 } as const;

export const DIAGNOSE_USAGE = `backhaul diagnose HOST[:PORT] [options]

  Asks a running session (\`backhaul connect\`, or the window's) whether the remote can reach
  HOST:PORT, and checks from both ends: this computer's DNS answer, the advertised prefix, the
  access policy and a connect from here; the remote's resolver (through Backhaul's stub or its
  own), its route to the address (into the tunnel, or why not: a prefix skipped as an overlap, a
  route of its own) and a real TCP connect from the remote, with its latency; and the remote's DNS
  mode, with split DNS's counts (names through this computer, through the remote's own resolver,
  unanswered, refused). Then one sentence says what to do.

  HOST                     a name or an address; [2001:db8::1]:443 for IPv6 with a port
  PORT                     TCP port (default ${DEFAULT_PORT})
  --session NAME           which session to ask, when several run (without it, the only one)
  --json                   the whole result as one JSON object

  Sessions are found in ${sessionsDir()}
  (a 0700 directory of the user's: each session's 0600 socket and a 0600 file with its token,
  which every request must carry — other users can neither reach the socket nor read the token).

  Exit codes: 0 reachable; 1 checked, and not reachable (the sentence says why); 2 bad usage;
  3 no running session (or not the one named, or several and no --session); 4 the session did not
  answer.
`;

export function parseHostPort(text: string): { host: string; port: number } {
  let host = text;
  let port = DEFAULT_PORT;
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
  if (bracketed) {
    host = bracketed[1]!;
    if (bracketed[2] !== undefined) port = Number(bracketed[2]);
  } else if (text.split(":").length === 2) {
    const [name, portText] = text.split(":") as [string, string];
    host = name;
    if (!/^\d{1,5}$/.test(portText)) throw new UsageError(`"${portText}" is not a port`);
    port = Number(portText);
  }
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw new UsageError(`the port must be from 1 to 65535, not ${port}`);
  if (!ipaddr.isValid(host) && !isHostName(host))
    throw new UsageError(`"${host}" is neither a host name nor an IP address`);
  return { host, port };
}

export async function diagnoseCommand(args: string[]): Promise<number> {
  const values = parseSessionCommandArgs(args);
  const positionals = values.words;
  const [target, ...extra] = positionals;
  if (!target) throw new UsageError("diagnose needs a host, e.g. `backhaul diagnose db.corp.example:5432`");
  if (extra.length > 0) throw new UsageError(`diagnose takes one host, not ${positionals.length}`);
  const { host, port } = parseHostPort(target);
  const output = commandOutput(values.json);
  const asked = await askPickedSession(
    values.session,
    { type: "diagnose", host, port },
    ANSWER_TIMEOUT_MS,
    output,
    EXIT,
  );
  if ("code" in asked) return asked.code;
  const { session, reply } = asked;
  const { out, fail } = output;
  if (reply.type !== "result")
    return fail(EXIT.noAnswer, reply.type === "error" ? reply.message : "the session gave no result");
  const result = reply.result;
  if (values.json) out(JSON.stringify({ type: "diagnosis", session: session.name, port, ...result }));
  else out(describeResult(result, port, session.name));
  return result.verdict === "reachable" ? EXIT.reachable : EXIT.notReachable;
}

/** The verdict, then each end's findings, for a terminal. */
export function describeResult(result: DiagnoseResult, port: number, session: string): string {
  const lines = [result.summary, "", `this computer (session ${session}):`];
  const field = (label: string, value: string): void => void lines.push(`  ${label.padEnd(14)}${value}`);
  if (result.dns !== null)
    field(
      "DNS",
      result.dns.error ?? `${result.dns.addresses.join(", ") || "no addresses"} (${result.dns.latencyMs} ms)`,
    );
  field("address", result.address ?? "none");
  field("prefix", result.prefix ?? "not advertised");
  field("policy", result.policy.allowed ? "allowed" : `refused: ${result.policy.reason ?? ""}`);
  if (result.connect !== null)
    field(
      `connect :${port}`,
      result.connect.ok ? `ok in ${result.connect.latencyMs} ms` : `failed: ${result.connect.error ?? ""}`,
    );
  lines.push("the remote:");
  describeRemote(result, port, field);
  // Split DNS's counts, or the mode: whether the remote's other lookups work at all. (A session
  // started by an older backhaul answers without the field.)
  if (result.remoteDns) lines.push("", describeRemoteDns(result.remoteDns));
  return lines.join("\n");
}

function describeRemote(
  result: DiagnoseResult,
  port: number,
  field: (label: string, value: string) => void,
): void {
  const remote = result.remote;
  if (remote === null) return field("", `not checked: ${result.remoteError ?? "no session"}`);
  field("entrance", remote.entrance);
  if (remote.dns !== null) {
    const resolver = remote.dns.viaStub
      ? "through Backhaul's stub"
      : `its own (${remote.dns.servers.join(", ") || "none listed"})`;
    const answer = remote.dns.error ?? remote.dns.addresses.join(", ");
    field("DNS", `${answer || "no addresses"} — ${resolver}, ${remote.dns.latencyMs} ms`);
  }
  if (remote.route !== null) {
    const r = remote.route;
    const where = r.viaTunnel
      ? `into the tunnel (${r.dev ?? "?"}${r.tunnelPrefix ? `, ${r.tunnelPrefix}` : ""})`
      : `${r.dev ?? "no device"}${r.gateway ? ` via ${r.gateway}` : ""}, not the tunnel`;
    field("route", r.error ?? where);
    if (r.skipped !== null) field("skipped", r.skipped.message);
    if (!r.viaTunnel && r.ownRoute !== null)
      field("own route", `${r.ownRoute.description} (${r.ownRoute.kind})`);
  }
  if (remote.connect !== null)
    field(
      `connect :${port}`,
      remote.connect.ok ? `ok in ${remote.connect.latencyMs} ms` : `failed: ${remote.connect.error ?? ""}`,
    );
  if (remote.error !== null) field("error", remote.error);
}
