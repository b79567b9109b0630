// The gateways of this machine's default routes (Linux, `ip -j route show default`): what a
// route into a TUN must never contain (engines/routes/remote-routes.ts says why).
import { execFileRunner, type CommandRunner } from "./command.js";

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Gateways in `ip -j route show default` output, multipath next hops included. */
export function parseDefaultGateways(output: string): string[] {
  if (output.trim() === "") return [];
  const parsed: unknown = JSON.parse(output);
  if (!Array.isArray(parsed)) throw new Error("`ip -j route show default` did not print a list");
  const gateways: string[] = [];
  for (const route of parsed) {
    if (!isRecord(route)) continue;
    const hops = Array.isArray(route.nexthops) ? route.nexthops : [route];
    for (const hop of hops) {
      if (isRecord(hop) && typeof hop.gateway === "string") gateways.push(hop.gateway);
    }
  }
  return gateways;
}

export async function readDefaultGateways(run: CommandRunner = execFileRunner): Promise<string[]> {
  const [v4, v6] = await Promise.all([
    run("ip", ["-j", "-4", "route", "show", "default"]),
    run("ip", ["-j", "-6", "route", "show", "default"]),
  ]);
  return [...parseDefaultGateways(v4), ...parseDefaultGateways(v6)];
}
