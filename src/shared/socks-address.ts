/**
 * Where `--socks [ADDR:]PORT` (and the window's SOCKS setting) listens: "1080", "127.0.0.1:1080",
 * "[::1]:1080". No address means loopback. The CLI and the settings check it with this one parser.
 */
import ipaddr from "ipaddr.js";

export interface SocksAddress {
  /** An IPv4 or IPv6 address; absent: loopback. */
  host?: string;
  port: number;
}

/** The address, or null when `text` is not [ADDR:]PORT with an IP address and a port 1-65535. */
export function parseSocksAddress(text: string): SocksAddress | null {
  const match = /^(?:(?:\[([0-9A-Fa-f:.]+)\]|([0-9.]+)):)?(\d{1,5})$/.exec(text);
  if (!match) return null;
  const port = Number(match[3]);
  if (!Number.isInteger(port) || port < 1 || port > 65535) return null;
  const v6 = match[1];
  const v4 = match[2];
  if (v6 !== undefined) return ipaddr.IPv6.isValid(v6) ? { host: v6, port } : null;
  if (v4 !== undefined) return ipaddr.IPv4.isValidFourPartDecimal(v4) ? { host: v4, port } : null;
  return { port };
}

/** The [ADDR:]PORT text of `address`, IPv6 in brackets. */
export function formatSocksAddress(address: SocksAddress): string {
  if (address.host === undefined) return String(address.port);
  return address.host.includes(":") ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`;
}
