/**
 * Encoding and strict decoding of the STREAM_* frames (the grammar is in link-streams.ts).
 *
 * Decoding checks every length and value: a payload that breaks the grammar throws LinkError
 * MALFORMED_PAYLOAD (the Link counts and drops it; `streamIdOf` still tells which stream it was
 * about, so the receiver can reset that stream). A status this version does not know is read as
 * GeneralFailure: a RESET or a refusal of a later version must still end the stream, not be dropped.
 *
 * This module runs in any process: it uses Buffer and TextDecoder, no other Node API.
 */
import { formatAddress, parseAddress } from "./ip-prefix.js";
import { LinkError } from "./link-protocol.js";
import { sanitiseRemoteText } from "./remote-text.js";
import { STREAM_MAX_DATA, StreamFrameType, StreamStatus, type StreamTarget } from "./link-streams.js";

export type StreamFrame =
  | { type: "open"; id: number; target: StreamTarget }
  /** `address` is the address the exit connected to when status is Ok, else null. */
  | { type: "opened"; id: number; status: StreamStatus; address: string | null }
  /** `bytes` is a view into the received frame: copy what is kept past the handler's call. */
  | { type: "data"; id: number; bytes: Buffer }
  | { type: "credit"; id: number; bytes: number }
  | { type: "end"; id: number }
  | { type: "reset"; id: number; status: StreamStatus };

export const HostType = { Ipv4: 1, Name: 3, Ipv6: 4 } as const;

/** Longest name a STREAM_OPEN carries, in UTF-8 bytes (SOCKS5's limit). */
export const MAX_STREAM_NAME_BYTES = 255;

const ID_BYTES = 4;
const KNOWN_STATUSES = new Set<number>(Object.values(StreamStatus));
const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

export function isStreamFrameType(type: number): type is StreamFrameType {
  return type >= StreamFrameType.Open && type <= StreamFrameType.Reset;
}

/** The stream id a stream frame's payload starts with, or null when it is too short to have one. */
export function streamIdOf(payload: Buffer): number | null {
  return payload.length >= ID_BYTES ? payload.readUInt32BE(0) : null;
}

function malformed(what: string, problem: string): LinkError {
  return new LinkError(
    "MALFORMED_PAYLOAD",
    `malformed ${what} from the peer: ${sanitiseRemoteText(problem)}`,
  );
}

function statusFrom(code: number): StreamStatus {
  return KNOWN_STATUSES.has(code) ? (code as StreamStatus) : StreamStatus.GeneralFailure;
}

function checkU32(value: number, what: string): void {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff)
    throw new RangeError(`${what} ${value} is not a u32`);
}

// ---------------------------------------------------------------------------------------------
// Encoding: the frame's type and payload; the caller frames it. Throws RangeError on values that
// cannot be encoded (a bug in the caller, never the peer's doing).

export function encodeStreamFrame(frame: StreamFrame): { type: StreamFrameType; payload: Buffer } {
  checkU32(frame.id, "stream id");
  switch (frame.type) {
    case "open":
      return { type: StreamFrameType.Open, payload: encodeOpen(frame.id, frame.target) };
    case "opened": {
      if (frame.status === StreamStatus.Ok) {
        const parsed = frame.address === null ? null : parseAddress(frame.address);
        if (parsed === null) throw new RangeError(`STREAM_OPENED Ok needs an address, got ${frame.address}`);
        const payload = Buffer.alloc(ID_BYTES + 2 + parsed.bytes.length);
        payload.writeUInt32BE(frame.id, 0);
        payload[4] = frame.status;
        payload[5] = parsed.family;
        payload.set(parsed.bytes, 6);
        return { type: StreamFrameType.Opened, payload };
      }
      return { type: StreamFrameType.Opened, payload: idAndByte(frame.id, frame.status) };
    }
    case "data": {
      if (frame.bytes.length === 0 || frame.bytes.length > STREAM_MAX_DATA) {
        throw new RangeError(`STREAM_DATA carries 1..${STREAM_MAX_DATA} bytes, got ${frame.bytes.length}`);
      }
      const payload = Buffer.allocUnsafe(ID_BYTES + frame.bytes.length);
      payload.writeUInt32BE(frame.id, 0);
      payload.set(frame.bytes, ID_BYTES);
      return { type: StreamFrameType.Data, payload };
    }
    case "credit": {
      checkU32(frame.bytes, "credit");
      const payload = Buffer.allocUnsafe(ID_BYTES + 4);
      payload.writeUInt32BE(frame.id, 0);
      payload.writeUInt32BE(frame.bytes, 4);
      return { type: StreamFrameType.Credit, payload };
    }
    case "end": {
      const payload = Buffer.allocUnsafe(ID_BYTES);
      payload.writeUInt32BE(frame.id, 0);
      return { type: StreamFrameType.End, payload };
    }
    case "reset":
      return { type: StreamFrameType.Reset, payload: idAndByte(frame.id, frame.status) };
  }
}

function idAndByte(id: number, byte: number): Buffer {
  const payload = Buffer.allocUnsafe(ID_BYTES + 1);
  payload.writeUInt32BE(id, 0);
  payload[4] = byte;
  return payload;
}

function encodeOpen(id: number, target: StreamTarget): Buffer {
  if (!Number.isInteger(target.port) || target.port < 0 || target.port > 0xffff) {
    throw new RangeError(`port ${target.port} is not a u16`);
  }
  let hostType: number;
  let host: Uint8Array;
  if (target.kind === "address") {
    const parsed = parseAddress(target.address);
    if (parsed === null) throw new RangeError(`${JSON.stringify(target.address)} is not an IP address`);
    hostType = parsed.family === 4 ? HostType.Ipv4 : HostType.Ipv6;
    host = parsed.bytes;
  } else {
    host = Buffer.from(target.name, "utf8");
    if (host.length === 0 || host.length > MAX_STREAM_NAME_BYTES) {
      throw new RangeError(`a stream's name is 1..${MAX_STREAM_NAME_BYTES} bytes, got ${host.length}`);
    }
    hostType = HostType.Name;
  }
  const payload = Buffer.allocUnsafe(ID_BYTES + 3 + host.length);
  payload.writeUInt32BE(id, 0);
  payload.writeUInt16BE(target.port, 4);
  payload[6] = hostType;
  payload.set(host, 7);
  return payload;
}

// ---------------------------------------------------------------------------------------------
// Decoding

export function decodeStreamFrame(type: number, payload: Buffer): StreamFrame {
  switch (type) {
    case StreamFrameType.Open:
      return decodeOpen(payload);
    case StreamFrameType.Opened:
      return decodeOpened(payload);
    case StreamFrameType.Data:
      if (payload.length < ID_BYTES + 1 || payload.length > ID_BYTES + STREAM_MAX_DATA) {
        throw malformed(
          "STREAM_DATA",
          `${payload.length} bytes, expected ${ID_BYTES + 1}..${ID_BYTES + STREAM_MAX_DATA}`,
        );
      }
      return { type: "data", id: payload.readUInt32BE(0), bytes: payload.subarray(ID_BYTES) };
    case StreamFrameType.Credit:
      exactLength(payload, ID_BYTES + 4, "STREAM_CREDIT");
      return { type: "credit", id: payload.readUInt32BE(0), bytes: payload.readUInt32BE(4) };
    case StreamFrameType.End:
      exactLength(payload, ID_BYTES, "STREAM_END");
      return { type: "end", id: payload.readUInt32BE(0) };
    case StreamFrameType.Reset:
      exactLength(payload, ID_BYTES + 1, "STREAM_RESET");
      return { type: "reset", id: payload.readUInt32BE(0), status: statusFrom(payload[4]!) };
    default:
      throw malformed(`frame type ${type}`, "not a stream frame");
  }
}

function exactLength(payload: Buffer, expected: number, what: string): void {
  if (payload.length !== expected) throw malformed(what, `${payload.length} bytes, expected ${expected}`);
}

function decodeOpen(payload: Buffer): StreamFrame {
  if (payload.length < ID_BYTES + 4) throw malformed("STREAM_OPEN", `${payload.length} bytes, too short`);
  const id = payload.readUInt32BE(0);
  const port = payload.readUInt16BE(4);
  const hostType = payload[6];
  const host = payload.subarray(7);
  switch (hostType) {
    case HostType.Ipv4:
    case HostType.Ipv6: {
      const expected = hostType === HostType.Ipv4 ? 4 : 16;
      if (host.length !== expected) {
        throw malformed(
          "STREAM_OPEN",
          `an IPv${hostType === HostType.Ipv4 ? 4 : 6} address of ${host.length} bytes`,
        );
      }
      return { type: "open", id, target: { kind: "address", address: formatAddress(host), port } };
    }
    case HostType.Name: {
      if (host.length > MAX_STREAM_NAME_BYTES) {
        throw malformed("STREAM_OPEN", `a name of ${host.length} bytes, over ${MAX_STREAM_NAME_BYTES}`);
      }
      let name: string;
      try {
        name = strictUtf8.decode(host);
      } catch {
        throw malformed("STREAM_OPEN", "a name that is not UTF-8");
      }
      // Controls and separators have no place in a host name; they would reach logs and the table.
      if (/[\p{Cc}\p{Cf}\p{Z}]/u.test(name))
        throw malformed("STREAM_OPEN", "a name with control characters or spaces");
      return { type: "open", id, target: { kind: "name", name, port } };
    }
    default:
      throw malformed("STREAM_OPEN", `unknown host type ${hostType}`);
  }
}

function decodeOpened(payload: Buffer): StreamFrame {
  if (payload.length < ID_BYTES + 1) throw malformed("STREAM_OPENED", `${payload.length} bytes, too short`);
  const id = payload.readUInt32BE(0);
  const code = payload[4]!;
  if (code !== StreamStatus.Ok) {
    exactLength(payload, ID_BYTES + 1, "STREAM_OPENED (refused)");
    return { type: "opened", id, status: statusFrom(code), address: null };
  }
  const family = payload[5];
  const expected = family === 4 ? 4 : family === 6 ? 16 : -1;
  if (expected < 0) throw malformed("STREAM_OPENED", `unknown address family ${String(family)}`);
  exactLength(payload, ID_BYTES + 2 + expected, "STREAM_OPENED");
  return { type: "opened", id, status: StreamStatus.Ok, address: formatAddress(payload.subarray(6)) };
}
