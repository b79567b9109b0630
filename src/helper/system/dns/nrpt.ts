// Windows --remote-dns-domain: one NRPT rule per domain (platform/windows.ts). Windows names a
// rule (a GUID) only once it exists, so the journal records the rule by a comment of our own,
// unique to it, before it is added; the undo removes the rules that carry that comment.
import { randomBytes } from "node:crypto";
import type { CommandRunner } from "../command.js";
import type { Journal } from "../journal.js";
import { NRPT_COMMENT, nrptAddCommand } from "../platform/windows.js";

export async function addNrptRules(
  journal: Journal,
  domains: readonly string[],
  servers: readonly string[],
  run: CommandRunner,
): Promise<void> {
  for (const domain of domains) {
    const comment = `${NRPT_COMMENT} ${randomBytes(8).toString("hex")}`;
    await journal.recordThenApply({ kind: "nrpt-rule", comment }, async () => {
      const add = nrptAddCommand(domain, servers, comment);
      await run(add.file, add.args);
    });
  }
}
