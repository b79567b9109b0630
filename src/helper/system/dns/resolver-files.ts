// macOS --remote-dns-domain: one /etc/resolver/DOMAIN file per domain (platform/darwin.ts),
// journaled before it is written and created with O_EXCL | O_NOFOLLOW: a file already there (a
// VPN's own rule for that domain) is never replaced, and the user is told.
import { constants } from "node:fs";
import { mkdir, open } from "node:fs/promises";
import { NothingChangedError } from "../errors.js";
import type { Journal } from "../journal.js";
import { sha256Hex } from "../owned-file.js";
import { RESOLVER_DIR, resolverFile } from "../platform/darwin.js";

export async function writeResolverFiles(
  journal: Journal,
  domains: readonly string[],
  servers: readonly string[],
  dir = RESOLVER_DIR,
): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o755 });
  for (const domain of domains) {
    const { path, text } = resolverFile(domain, servers, dir);
    const bytes = Buffer.from(text);
    await journal.recordThenApply(
      { kind: "resolver-file", path, writtenBytesSha256: sha256Hex(bytes) },
      async () => {
        const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
        let handle;
        try {
          handle = await open(path, flags, 0o644);
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code === "EEXIST")
            throw new NothingChangedError(
              `${path} exists already (another program's rule for ${domain}): backhaul leaves it alone`,
              { cause: error },
            );
          throw error;
        }
        try {
          await handle.writeFile(bytes);
          await handle.sync();
        } finally {
          await handle.close();
        }
      },
    );
  }
}
