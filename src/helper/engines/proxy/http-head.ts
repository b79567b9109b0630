/**
 * An HTTP/1.x proxy request head (RFC 9112): the request line and header fields up to the empty
 * line, at most MAX_HEAD_BYTES. Pure: the session feeds the bytes received so far.
 */
import { isIP } from "node:net";
import type { StreamTarget } from "../../../shared/link-streams.js";
import { INCOMPLETE, invalid, type ParseResult } from "./parse-result.js";

export const MAX_HEAD_BYTES = 16 * 1024;

export interface HttpHead {
  method: string;
  /** The request target as sent: authority-form for CONNECT, absolute-form otherwise. */
  target: string;
  version: string;
  /** In order, names as sent. */
  headers: Array<[name: string, value: string]>;
}

export type HeadResult = ParseResult<HttpHead> | { status: "too-large" };

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

export function parseHead(bytes: Buffer): HeadResult {
  const end = bytes.indexOf("\r\n\r\n");
  if (end < 0) return bytes.length >= MAX_HEAD_BYTES ? { status: "too-large" } : INCOMPLETE;
  if (end + 4 > MAX_HEAD_BYTES) return { status: "too-large" };
  const lines = bytes.subarray(0, end).toString("latin1").split("\r\n");
  const parts = lines[0]!.split(" ");
  if (parts.length !== 3) return invalid("the request line is not METHOD TARGET VERSION");
  const [method, target, version] = parts as [string, string, string];
  if (!TOKEN.test(method)) return invalid("the method is not a token");
  if (!/^HTTP\/1\.[01]$/.test(version)) return invalid(`version ${JSON.stringify(version)}`);
  if (target.length === 0) return invalid("an empty request target");
  const headers: Array<[string, string]> = [];
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(":");
    const name = colon > 0 ? line.slice(0, colon) : "";
    if (!TOKEN.test(name)) return invalid("a header line without a valid field name");
    headers.push([name, line.slice(colon + 1).trim()]);
  }
  return { status: "ok", value: { method, target, version, headers }, length: end + 4 };
}

export function header(head: HttpHead, name: string): string | undefined {
  const lower = name.toLowerCase();
  return head.headers.find(([key]) => key.toLowerCase() === lower)?.[1];
}

/**
 * How many body bytes follow a request head (RFC 9112 section 6.3): Content-Length, 0 without
 * one, undefined for a chunked body (it runs to its own end, which only a parser would find),
 * null for a Content-Length that is malformed or contradicts itself (answered 400).
 */
export function bodyLength(head: HttpHead): number | undefined | null {
  const lower = (name: string): string[] =>
    head.headers.filter(([key]) => key.toLowerCase() === name).map(([, value]) => value);
  if (lower("transfer-encoding").length > 0) return undefined;
  const lengths = new Set(
    lower("content-length").flatMap((value) => value.split(",").map((part) => part.trim())),
  );
  if (lengths.size === 0) return 0;
  const [only] = lengths;
  if (lengths.size > 1 || only === undefined || !/^\d{1,15}$/.test(only)) return null;
  return Number(only);
}

/** host:port with IPv6 in brackets, as CONNECT and Host carry it. */
export function parseAuthority(authority: string, defaultPort: number | null): StreamTarget | null {
  const match = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]/@\s]+))(?::(\d{1,5}))?$/.exec(authority);
  if (match === null) return null;
  const host = match[1] ?? match[2]!;
  const port = match[3] === undefined ? defaultPort : Number(match[3]);
  if (port === null || port < 1 || port > 65535) return null;
  if (match[1] !== undefined && isIP(host) !== 6) return null;
  return isIP(host) !== 0 ? { kind: "address", address: host, port } : { kind: "name", name: host, port };
}

export interface AbsoluteTarget {
  target: StreamTarget;
  /** The origin-form path and query the origin server is sent. */
  path: string;
  authority: string;
}

/** `http://authority/path?query`; other schemes are not proxied as plain requests. */
export function parseAbsoluteTarget(target: string): AbsoluteTarget | null {
  const match = /^http:\/\/([^/?#]+)([^#]*)/i.exec(target);
  if (match === null) return null;
  const authority = match[1]!;
  if (authority.includes("@")) return null;
  const parsed = parseAuthority(authority, 80);
  if (parsed === null) return null;
  const rest = match[2]!;
  return { target: parsed, authority, path: rest.startsWith("/") ? rest : `/${rest}` };
}

/** Hop-by-hop and proxy-only fields that never reach the origin server (RFC 9110 section 7.6.1). */
const NOT_FORWARDED = new Set([
  "proxy-authorization",
  "proxy-connection",
  "connection",
  "keep-alive",
  "te",
  "upgrade",
]);

/**
 * The head the origin server sees: origin-form target, no proxy credentials, and
 * `Connection: close`, since the connection is spliced to this one origin after the head.
 */
export function originHead(head: HttpHead, absolute: AbsoluteTarget): Buffer {
  const lines = [`${head.method} ${absolute.path} ${head.version}`];
  let hasHost = false;
  for (const [name, value] of head.headers) {
    const lower = name.toLowerCase();
    if (NOT_FORWARDED.has(lower)) continue;
    if (lower === "host") hasHost = true;
    lines.push(`${name}: ${value}`);
  }
  if (!hasHost) lines.push(`Host: ${absolute.authority}`);
  lines.push("Connection: close", "", "");
  return Buffer.from(lines.join("\r\n"), "latin1");
}

export function statusResponse(code: number, reason: string, extra: readonly string[] = []): Buffer {
  const body = `${code} ${reason}\n`;
  const lines = [
    `HTTP/1.1 ${code} ${reason}`,
    ...extra,
    "Content-Type: text/plain",
    `Content-Length: ${body.length}`,
    "Connection: close",
    "",
    body,
  ];
  return Buffer.from(lines.join("\r\n"), "latin1");
}
