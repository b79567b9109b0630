/** The `backhaul` command line: connect a remote, list targets, or serve the UI in a browser. */
import { VERSION } from "../shared/version.js";
import { connect, CONNECT_USAGE } from "./cli/connect.js";
import { diagnoseCommand, DIAGNOSE_USAGE } from "./cli/diagnose.js";
import { dnsCommand, DNS_USAGE } from "./cli/dns-command.js";
import { allowLocalCommand, ALLOW_LOCAL_USAGE } from "./cli/allow-local-command.js";
import { targets } from "./cli/targets.js";
import { ui, UI_USAGE } from "./cli/ui.js";
import { UsageError } from "./cli/usage-error.js";
import { tuneHeapForStreaming } from "../helper/engines/heap-tuning.js";

const USAGE = `backhaul ${VERSION}: let a remote development machine reach the networks this computer reaches

Usage:
  backhaul connect <target> [options]   connect, and stay connected until Ctrl+C
  backhaul targets [--json]             list Codespaces, SSH hosts and saved commands to connect to
  backhaul diagnose HOST[:PORT]         can the remote of a running session reach HOST? (both ends)
  backhaul dns all|split|off            change a running session's DNS mode, staying connected
  backhaul allow-local on|off           let a running session's remote reach this computer itself, or not
  backhaul ui [options]                 the desktop window in a browser, on http://127.0.0.1
  backhaul --version | --help

${CONNECT_USAGE}
${DIAGNOSE_USAGE}
${DNS_USAGE}
${ALLOW_LOCAL_USAGE}
${UI_USAGE}`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === "--help" || command === "-h" || command === "help") {
    process.stdout.write(USAGE);
    return 0;
  }
  if (command === "--version" || command === "-v") {
    process.stdout.write(`${VERSION}\n`);
    return 0;
  }
  if (rest.includes("--help") || rest.includes("-h")) {
    const usage = {
      connect: CONNECT_USAGE,
      diagnose: DIAGNOSE_USAGE,
      dns: DNS_USAGE,
      "allow-local": ALLOW_LOCAL_USAGE,
      ui: UI_USAGE,
    }[command];
    process.stdout.write(usage ?? USAGE);
    return 0;
  }
  if (command === "connect") return connect(rest);
  if (command === "targets") return targets(rest);
  if (command === "diagnose") return diagnoseCommand(rest);
  if (command === "dns") return dnsCommand(rest);
  if (command === "allow-local") return allowLocalCommand(rest);
  if (command === "ui") return ui(rest);
  throw new UsageError(`unknown command "${command}"; run \`backhaul --help\` for the commands`);
}

tuneHeapForStreaming();
main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    const message = error instanceof Error ? error.message : String(error);
    const usage =
      error instanceof UsageError || (error as { code?: string }).code?.startsWith("ERR_PARSE_ARGS");
    if (process.argv.includes("--json"))
      process.stdout.write(`${JSON.stringify({ type: "error", message })}\n`);
    process.stderr.write(`backhaul: ${message}\n`);
    process.exit(usage ? 2 : 1);
  },
);
