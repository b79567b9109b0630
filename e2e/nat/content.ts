import { createHash } from "node:crypto";
import type { NetworkNamespace } from "../netns/index.js";

/** Deterministic bytes (xorshift32), so the server and the test agree on a file's hash. */
export function deterministicBytes(size: number, seed = 0x9e3779b9): Buffer {
  const out = Buffer.allocUnsafe(size);
  let x = seed >>> 0 || 1;
  let i = 0;
  for (; i + 4 <= size; i += 4) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out.writeUInt32LE(x, i);
  }
  for (; i < size; i++) out[i] = i & 0xff;
  return out;
}

export function sha256(data: Buffer): string {
  return createHash("sha256").update(data).digest("hex");
}

/**
 * The SHA-256 (hex) of /bytes/`bytes` from the test HTTP server at `host` (an address or a name),
 * as curl in `ns` downloads it within `timeoutS`; a curl or HTTP error fails the call.
 */
export async function downloadSha256(
  ns: NetworkNamespace,
  host: string,
  bytes: number,
  timeoutS = 120,
): Promise<string> {
  const url = host.includes(":") ? `http://[${host}]/bytes/${bytes}` : `http://${host}/bytes/${bytes}`;
  const result = await ns.runChecked(
    "bash",
    ["-o", "pipefail", "-c", `curl -sS --fail -m ${timeoutS} '${url}' | sha256sum`],
    { timeoutMs: (timeoutS + 10) * 1000 },
  );
  return result.stdout.split(" ")[0] ?? "";
}
