// Per-session proxy credentials: the remote is shared, and only its user may read them (from
// proxy.env). Compared in constant time, over hashes so that a length difference leaks nothing.
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";

export interface ProxyCredentials {
  readonly username: string;
  readonly password: string;
}

/** base64url: safe in a URL's userinfo without escaping. */
export function newCredentials(): ProxyCredentials {
  return {
    username: `bh-${randomBytes(9).toString("base64url")}`,
    password: randomBytes(24).toString("base64url"),
  };
}

const digest = (bytes: Buffer): Buffer => createHash("sha256").update(bytes).digest();

export function credentialsMatch(expected: ProxyCredentials, username: Buffer, password: Buffer): boolean {
  const userOk = timingSafeEqual(digest(Buffer.from(expected.username)), digest(username));
  const passwordOk = timingSafeEqual(digest(Buffer.from(expected.password)), digest(password));
  return userOk && passwordOk;
}

/** `Proxy-Authorization: Basic base64(user:pass)` (RFC 7617); false when absent or malformed. */
export function basicMatches(expected: ProxyCredentials, headerValue: string | undefined): boolean {
  const match = headerValue === undefined ? null : /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(headerValue);
  if (match === null) return false;
  const decoded = Buffer.from(match[1]!, "base64");
  const colon = decoded.indexOf(0x3a);
  if (colon < 0) return false;
  return credentialsMatch(expected, decoded.subarray(0, colon), decoded.subarray(colon + 1));
}
