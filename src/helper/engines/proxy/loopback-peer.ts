/**
 * Who is on the other end of a loopback TCP connection, where the OS says. On Linux the client's
 * socket is the one whose local address is our peer's and whose remote address is ours: asked of
 * the kernel through sock_diag (the addon's tcpSocketOwner: one hash lookup), or, without the
 * addon, found in /proc/net/tcp (tcp6), which lists every TCP socket of the network namespace with
 * its owner's uid (what identd answers from) but costs milliseconds on a busy machine. Elsewhere
 * (macOS, Windows) nothing is known: undefined, and the proxy asks for credentials.
 *
 *   sl  local_address rem_address   st tx_queue:rx_queue tr:tm->when retrnsmt   uid  ...
 *    0: 0100007F:A2C4 0100007F:1F90 01 00000000:00000000 00:00000000 00000000  1000 ...
 *
 * Addresses are the kernel's in-memory words printed in hex: each 32-bit word in host byte order.
 */
import { readFile } from "node:fs/promises";
import type { Socket } from "node:net";
import { endianness } from "node:os";
import { parseAddress } from "../../../shared/ip-prefix.js";
import type { NativeAddon } from "../../native/addon-types.js";
import { loadNativeAddon } from "../../native/load-addon.js";

/** "0100007F:1F90" for 127.0.0.1:8080 on a little-endian host. */
export function procNetAddress(
  address: string,
  port: number,
  littleEndian = endianness() === "LE",
): string | null {
  const parsed = parseAddress(
    address.startsWith("::ffff:") && address.includes(".") ? address.slice(7) : address,
  );
  if (parsed === null) return null;
  let hex = "";
  for (let word = 0; word < parsed.bytes.length; word += 4) {
    const bytes = [...parsed.bytes.subarray(word, word + 4)];
    if (littleEndian) bytes.reverse();
    hex += bytes.map((byte) => byte.toString(16).padStart(2, "0")).join("");
  }
  return `${hex.toUpperCase()}:${port.toString(16).toUpperCase().padStart(4, "0")}`;
}

/** The uid owning the socket from `peer` to `us` in a /proc/net/tcp text, or undefined. */
export function uidInProcNet(text: string, peer: string, us: string): number | undefined {
  for (const line of text.split("\n")) {
    const fields = line.trim().split(/\s+/);
    if (fields[1] === peer && fields[2] === us) {
      const uid = Number(fields[7]);
      return Number.isInteger(uid) ? uid : undefined;
    }
  }
  return undefined;
}

/** The uid of the program on the other end of `socket`, a loopback TCP connection; or undefined. */
export async function loopbackPeerUid(
  socket: Socket,
  platform: NodeJS.Platform = process.platform,
): Promise<number | undefined> {
  const { remoteAddress, remotePort, localAddress, localPort } = socket;
  if (platform !== "linux" || !remoteAddress || !localAddress || !remotePort || !localPort) return undefined;
  const byKernel = sockDiagOwner(remoteAddress, remotePort, localAddress, localPort);
  if (byKernel !== null) return byKernel;
  const peer = procNetAddress(remoteAddress, remotePort);
  const us = procNetAddress(localAddress, localPort);
  if (peer === null || us === null) return undefined;
  const file = peer.length > 13 ? "/proc/net/tcp6" : "/proc/net/tcp";
  const text = await readFile(file, "utf8").catch(() => "");
  return uidInProcNet(text, peer, us);
}

/** Plain IPv4 for a v4-mapped address: the kernel keeps such a connection as AF_INET. */
const unmapped = (address: string): string =>
  address.startsWith("::ffff:") && address.includes(".") ? address.slice(7) : address;

/** The owner by sock_diag: a uid, undefined when the kernel knows no such socket, null without the addon. */
function sockDiagOwner(
  peer: string,
  peerPort: number,
  us: string,
  usPort: number,
): number | undefined | null {
  let addon: NativeAddon;
  try {
    addon = loadNativeAddon();
  } catch {
    return null; // no addon here: /proc/net/tcp answers
  }
  const owner = addon.tcpSocketOwner;
  const src = parseAddress(unmapped(peer));
  const dst = parseAddress(unmapped(us));
  if (!owner || src === null || dst === null || src.family !== dst.family) return null;
  try {
    const uid = owner(src.family, Buffer.from(src.bytes), peerPort, Buffer.from(dst.bytes), usPort);
    return uid < 0 ? undefined : uid;
  } catch {
    return null;
  }
}
