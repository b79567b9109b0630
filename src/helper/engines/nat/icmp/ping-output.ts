// Reads the output of one `ping` run (Linux iputils, macOS ping/ping6, Windows ping.exe) and says
// whether the destination itself answered.
//
// The exit code is not enough: Windows' ping exits 0 when a router answers "Destination host
// unreachable". Its output is also translated ("Antwort von", "Réponse de ... :"), in the console
// code page, and Node cannot ask for English there. So the rule is language-free: a reply is a
// line naming the destination address followed by ":" or "," (the reply's source) that carries
// a round-trip time, "=1ms", "<1ms", "=0.045 ms". Error replies ("Destination host unreachable",
// "TTL expired in transit") carry no time, and statistics lines no address with a colon.
import ipaddr from "ipaddr.js";

export interface PingReply {
  /** Round-trip time as printed ("<1ms" gives 1). */
  rttMs: number;
  /** TTL / hop limit of the reply, when printed (Windows prints none for IPv6). */
  ttl?: number;
}

const RTT = /[=<]\s*(\d+(?:\.\d+)?)\s*ms\b/i;
const TTL = /\b(?:ttl|hlim)=(\d+)/i;

function normalize(text: string): string | undefined {
  const bare = text.replace(/%[\w.-]+$/, ""); // zone index: fe80::1%eth0
  return ipaddr.isValid(bare) ? ipaddr.process(bare).toNormalizedString() : undefined;
}

/** True when the line names `target` as an address followed by ":" or "," (maybe after a space). */
function namesSource(line: string, target: string): boolean {
  // Non-ASCII counts as a separator: French puts a no-break space before ":", which arrives as
  // one stray byte (the console code page read as latin1).
  const tokens = line.split(/[\s\u0080-\uffff]+/);
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!;
    const attached = /^(.+?)[:,]$/.exec(token);
    const detached = tokens[i + 1] === ":" ? token : undefined;
    for (const candidate of [attached?.[1], detached]) {
      if (candidate !== undefined && normalize(candidate) === target) return true;
    }
  }
  return false;
}

/** The reply from `destination` in the output of `ping` sending one request, or undefined. */
export function parsePingReply(output: string, destination: string): PingReply | undefined {
  const target = normalize(destination);
  if (target === undefined) return undefined;
  for (const line of output.split(/\r?\n/)) {
    const rtt = RTT.exec(line);
    if (!rtt || !namesSource(line, target)) continue;
    const ttl = TTL.exec(line);
    const reply: PingReply = { rttMs: Number(rtt[1]) };
    const hops = ttl ? Number(ttl[1]) : 0;
    if (hops >= 1 && hops <= 255) reply.ttl = hops;
    return reply;
  }
  return undefined;
}
