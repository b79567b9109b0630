// Typed SSH addresses: `ssh://[user@]host[:port]` (IPv6 in brackets), and the shorthand ssh
// itself takes, `user@host` or `host`. Parsing only: ssh config is applied by the caller.
import { isIPv4, isIPv6 } from "node:net";
import { TargetError } from "./errors.js";

/** An address as typed; null where the user left a part out. */
export interface SshAddress {
  user: string | null;
  /** A host name, an IPv4 address, or an IPv6 address without brackets. */
  host: string;
  port: number | null;
}

const HOW_TO_TYPE = "type a Host from ~/.ssh/config, user@host, ssh://user@host:port, or codespace:NAME";

export function isSshUrl(text: string): boolean {
  return /^ssh:\/\//i.test(text.trim());
}

/** `ssh://...` or the shorthand, whichever `text` is. */
export function parseSshAddress(text: string): SshAddress {
  return isSshUrl(text) ? parseSshUrl(text) : parseUserAtHost(text);
}

/** `ssh://[user@]host[:port][/]`, as in the IETF draft for ssh URIs, without its ;parameters. */
export function parseSshUrl(text: string): SshAddress {
  const typed = text.trim();
  const rest = typed.replace(/^ssh:\/\//i, "");
  if (rest === typed) throw bad(typed, `it does not start with ssh://`);
  const authority = rest.endsWith("/") ? rest.slice(0, -1) : rest;
  if (/[/?#]/.test(authority)) {
    throw bad(typed, `a target has no path or query: type ssh://${authority.split(/[/?#]/)[0] ?? ""}`);
  }
  const at = authority.lastIndexOf("@");
  const userPart = at >= 0 ? authority.slice(0, at) : null;
  const hostPort = at >= 0 ? authority.slice(at + 1) : authority;
  if (userPart !== null && userPart.includes(";")) {
    throw bad(typed, `parameters after ';' (such as fingerprint=) are not supported: leave them out`);
  }
  const user = userPart === null ? null : checkUser(typed, decode(typed, userPart));
  const { host, port } = splitHostPort(typed, hostPort);
  return { user, host, port };
}

/** `user@host`, `host`, `user@[2001:db8::1]` or a bare IPv6 address, as ssh's command line takes. */
export function parseUserAtHost(text: string): SshAddress {
  const typed = text.trim();
  if (typed === "") throw new TargetError("bad-spec", `No target given: ${HOW_TO_TYPE}`);
  // Like ssh, split at the last '@': a user name may itself contain one.
  const at = typed.lastIndexOf("@");
  const user = at >= 0 ? checkUser(typed, typed.slice(0, at)) : null;
  const hostText = at >= 0 ? typed.slice(at + 1) : typed;
  if (hostText.startsWith("[")) {
    if (!hostText.endsWith("]")) {
      const hint = at >= 0 ? `ssh://${typed.slice(0, at)}@${hostText}` : `ssh://${hostText}`;
      throw bad(typed, `to give a port, type ${hint}`);
    }
    return { user, host: checkIpv6(typed, hostText.slice(1, -1)), port: null };
  }
  const colons = hostText.split(":").length - 1;
  if (colons === 1) {
    const [host = "", port = ""] = hostText.split(":");
    const userAt = user === null ? "" : `${user}@`;
    throw bad(typed, `to give a port, type ssh://${userAt}${host}:${port}`);
  }
  if (colons > 1) return { user, host: checkIpv6(typed, hostText), port: null };
  return { user, host: checkHost(typed, hostText), port: null };
}

function splitHostPort(typed: string, hostPort: string): { host: string; port: number | null } {
  if (hostPort.startsWith("[")) {
    const close = hostPort.indexOf("]");
    if (close < 0) throw bad(typed, `the '[' before the IPv6 address has no ']'`);
    const host = checkIpv6(typed, decode(typed, hostPort.slice(1, close)));
    const after = hostPort.slice(close + 1);
    if (after === "") return { host, port: null };
    if (!after.startsWith(":")) throw bad(typed, `after ']' only :port may follow`);
    return { host, port: checkPort(typed, after.slice(1)) };
  }
  const colons = hostPort.split(":").length - 1;
  if (colons > 1) {
    throw bad(typed, `put an IPv6 address in brackets: ssh://[${hostPort}] or ssh://[address]:port`);
  }
  const [host = "", port] = hostPort.split(":");
  return { host: checkHost(typed, host), port: port === undefined ? null : checkPort(typed, port) };
}

function checkPort(typed: string, text: string): number {
  const port = /^\d{1,5}$/.test(text) ? Number(text) : NaN;
  if (!(port >= 1 && port <= 65535)) {
    throw bad(typed, `the port "${text}" is not a number from 1 to 65535 (leave it out for 22)`);
  }
  return port;
}

// Letters, digits, '-', '_' and '.', not starting with '-' (which a command line would take
// for an option): what ssh's own valid_hostname() lets through, minus the exotic.
const HOST_NAME = /^[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_.])?$/;

function checkHost(typed: string, host: string): string {
  if (host === "") throw bad(typed, `it names no host: ${HOW_TO_TYPE}`);
  if (isIPv4(host) || HOST_NAME.test(host)) return host;
  throw bad(typed, `"${host}" is not a host name or IP address`);
}

function checkIpv6(typed: string, address: string): string {
  if (isIPv6(address)) return address;
  throw bad(typed, `"${address}" is not an IPv6 address`);
}

function checkUser(typed: string, user: string): string {
  if (user === "") throw bad(typed, `nothing before '@': type user@host, or just the host`);
  if (user.startsWith("-") || /[\s\p{Cc}'"`$\\;&<>|(){}]/u.test(user)) {
    throw bad(typed, `"${user}" is not a user name ssh would accept`);
  }
  return user;
}

function decode(typed: string, text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw bad(typed, `it has a '%' that is not followed by two hex digits`);
  }
}

function bad(typed: string, why: string): TargetError {
  return new TargetError("bad-spec", `"${typed}" is not a target: ${why}`);
}
