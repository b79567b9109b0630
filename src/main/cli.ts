/**
 * The `backhaul` command line. Commands arrive with their issues: `connect` and `targets` with
 * the sessions issue (#5); today it serves the desktop UI in a browser.
 */
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { VERSION } from "../shared/version.js";
import { startUiServer } from "./ui-server.js";

const USAGE = `backhaul ${VERSION}: let a remote development machine reach the networks this computer reaches

Usage:
  backhaul ui [--port N]     serve the desktop UI on http://127.0.0.1 (browser mode)
  backhaul --version         print the version
  backhaul --help            print this help
`;

class UsageError extends Error {}

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
  if (command === "ui") return ui(rest);
  throw new UsageError(`unknown command "${command}"; run \`backhaul --help\` for the commands`);
}

async function ui(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { port: { type: "string", default: "0" } }, strict: true });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new UsageError(`--port takes a port number from 0 to 65535, not "${values.port}"`);
  }
  const rendererDir = join(dirname(fileURLToPath(import.meta.url)), "renderer");
  if (!existsSync(join(rendererDir, "index.html"))) {
    throw new Error(`the UI is not built (no ${rendererDir}/index.html); run \`npm run build\` first`);
  }
  const server = await startUiServer({ port, rendererDir });
  process.stdout.write(`Backhaul UI: open ${server.url}\n(press Ctrl+C to stop)\n`);
  await new Promise<void>((resolve) => {
    process.once("SIGINT", resolve);
    process.once("SIGTERM", resolve);
  });
  await server.close();
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`backhaul: ${message}\n`);
    process.exit(
      error instanceof UsageError || (error as { code?: string }).code?.startsWith("ERR_PARSE_ARGS") ? 2 : 1,
    );
  },
);
