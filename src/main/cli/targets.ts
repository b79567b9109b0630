import { parseArgs } from "node:util";
import { listTargets } from "../broker/targets/index.js";

export async function targets(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    strict: true,
    options: { json: { type: "boolean", default: false } },
  });
  const listing = await listTargets();
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
  if (listing.codespaces.length === 0 && listing.ssh.length === 0) {
    process.stdout.write(
      "No targets found: add a Host to ~/.ssh/config, or sign in with `gh auth login` for Codespaces.\n",
    );
  }
  for (const warning of listing.warnings) process.stderr.write(`note: ${warning}\n`);
  return 0;
}
