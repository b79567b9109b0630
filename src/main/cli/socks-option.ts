import { isIP } from "node:net";
import { UsageError } from "./usage-error.js";

/** `--socks [ADDR:]PORT`: "1080", "127.0.0.1:1080", "[::1]:1080"; no address means loopback. */
export function parseSocksOption(text: string): { host?: string; port: number } {
  const match = /^(?:(?:\[([0-9A-Fa-f:.]+)\]|([0-9.]+)):)?(\d{1,5})$/.exec(text);
  const host = match?.[1] ?? match?.[2];
  const port = Number(match?.[3]);
  if (
    !match ||
    !Number.isInteger(port) ||
    port < 1 ||
    port > 65535 ||
    (host !== undefined && isIP(host) === 0)
  )
    throw new UsageError(`--socks takes [ADDR:]PORT (1080, 127.0.0.1:1080, [::1]:1080), not "${text}"`);
  return host === undefined ? { port } : { host, port };
}
