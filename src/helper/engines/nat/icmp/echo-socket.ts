// An ICMP echo socket for one address family, over the addon's IcmpSocket (src/icmp_linux.c).
// The forwarder programs against EchoSocket so its tests can use a fake.
import type { NativeIcmpMode } from "../../../native/addon-types.js";
import { loadNativeAddon } from "../../../native/load-addon.js";

export type EchoSocketMode = NativeIcmpMode;

export interface EchoSocket {
  readonly family: 4 | 6;
  readonly mode: EchoSocketMode;
  /** Datagram sockets: the identifier the kernel puts in every request. Raw sockets: null. */
  readonly identifier: number | null;
  /** Sends a whole ICMP message; null when sent, else the errno name of why it was dropped. */
  send(address: Uint8Array, message: Uint8Array): string | null;
  close(): void;
}

/** One echo reply: views into the batch, valid during the call only. */
export type EchoReplyListener = (source: Buffer, message: Buffer) => void;

export type EchoSocketOpener = (
  family: 4 | 6,
  onReply: EchoReplyListener,
  onError: (error: Error) => void,
) => EchoSocket;

/** The native class, or an Error saying how to get a binary that has it. */
function nativeClass() {
  const { IcmpSocket } = loadNativeAddon();
  if (!IcmpSocket) {
    throw new Error(
      "backhaul_native.node has no ICMP socket (built before it existed): rebuild it with `node scripts/build-native.mjs --force`",
    );
  }
  return IcmpSocket;
}

/**
 * Opens a socket without starting it, to learn whether (and how) ICMP works here. Throws the
 * addon's errno-named Error (its message says how to allow ICMP) when it does not.
 */
export function probeEchoSocket(family: 4 | 6 = 4): EchoSocketMode {
  const socket = new (nativeClass())(family);
  socket.close();
  return socket.mode;
}

/** Opens and starts a socket ("auto": datagram if ping_group_range allows, else raw). */
export function openEchoSocket(
  family: 4 | 6,
  onReply: EchoReplyListener,
  onError: (error: Error) => void,
  mode: "auto" | EchoSocketMode = "auto",
): EchoSocket {
  const socket = new (nativeClass())(family, mode);
  const addressLength = socket.addressLength;
  try {
    socket.start((data, lengths, count) => {
      let offset = 0;
      for (let i = 0; i < count; i++) {
        const length = lengths[i] ?? 0;
        const start = offset + addressLength;
        onReply(data.subarray(offset, start), data.subarray(start, start + length));
        offset = start + length;
      }
    }, onError);
  } catch (error) {
    socket.close(); // not left to the garbage collector
    throw error;
  }
  return socket;
}
