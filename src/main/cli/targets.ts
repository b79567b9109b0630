import { parseArgs } from "node:util";
import { listTargets } from "../broker/targets/index.js";
import { savedExecTargets } from "./data-dir.js";

export async function targets(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    strict: true,
    options: { json: { type: "boolean", default: false }, "data-dir": { type: "string" } },
  });
  const warnings: string[] = [];
  const savedExec = await savedExecTargets(values["data-dir"], (line) => warnings.push(line));
  const listing = await listTargets({ savedExec });
  listing.warnings.push(...warnings);
  if (values.json) {
    process.stdout.write(`${JSON.stringify(listing)}\n`);
    return 0;
  }
  if (listing.codespaces.length > 0) {
    process.stdout.write("Codespaces:\n");
    for (const cs of listing.codespaces) {
      process.stdout.write(
        `  codespace:${cs.name}  ${cs.repository}${cs.branch ? ` (${cs.branch})` : ""}  ${cs.state}\n`,
      );
    }
  }
  if (listing.ssh.length > 0) {
    process.stdout.write("SSH hosts (~/.ssh/config):\n");
    for (const host of listing.ssh) {
      process.stdout.write(`  ${host.label}  ${host.user ? `${host.user}@` : ""}${host.host}:${host.port}\n`);
    }
  }
  if (listing.exec.length > 0) {
    process.stdout.write("Commands (saved in the window's settings):\n");
    for (const target of listing.exec) process.stdout.write(`  ${target.label}  ${target.spec}\n`);
  }
  if (listing.codespaces.length === 0 && listing.ssh.length === 0 && listing.exec.length === 0) {
    process.stdout.write(
      "No targets found: add a Host to ~/.ssh/config, sign in with `gh auth login` for Codespaces, " +
        "or connect to exec:COMMAND (a command that gives a shell on the remote).\n",
    );
  }
  for (const warning of listing.warnings) process.stderr.write(`note: ${warning}\n`);
  return 0;
}
