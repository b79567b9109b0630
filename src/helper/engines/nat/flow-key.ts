import type { IpView } from "../packet/index.js";

/**
 * A Map key for a flow: protocol, addresses and ports as a short latin1 string, built from the
 * header bytes in place (no per-packet address formatting on the hot path).
 */
export function flowKey(protocol: number, ip: IpView, ports: Buffer): string {
  const addresses = ip.version === 4 ? ip.buf.toString("latin1", 12, 20) : ip.buf.toString("latin1", 8, 40);
  return String.fromCharCode(protocol) + addresses + ports.toString("latin1", 0, 4);
}
