// ProxyJump: `[ssh://][user@]host[:port]`, comma-separated for a chain, as in ssh_config(5).

export interface JumpHop {
  /** Undefined: the local user name, as ssh uses. */
  username: string | undefined;
  host: string;
  port: number;
}

export function parseProxyJump(spec: string): JumpHop[] {
  return spec.split(",").map((text) => parseHop(text.trim()));
}

function parseHop(text: string): JumpHop {
  const invalid = (): Error =>
    new Error(`invalid ProxyJump host "${text}": expected [user@]host[:port] or [user@][ipv6]:port`);
  let rest = text.startsWith("ssh://") ? text.slice("ssh://".length) : text;
  let username: string | undefined;
  const at = rest.lastIndexOf("@");
  if (at >= 0) {
    username = rest.slice(0, at);
    rest = rest.slice(at + 1);
    if (!username) throw invalid();
  }
  let host = rest;
  let portText: string | undefined;
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(rest);
  if (bracketed) {
    host = bracketed[1] ?? "";
    portText = bracketed[2];
  } else if (rest.startsWith("[")) {
    throw invalid();
  } else if (rest.split(":").length === 2) {
    [host = "", portText] = rest.split(":");
  }
  const port = portText === undefined ? 22 : Number(portText);
  if (!host || !Number.isInteger(port) || port < 1 || port > 65535) throw invalid();
  return { username, host, port };
}
