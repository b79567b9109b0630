import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { startUiServer } from "../ui-server.js";
import { UsageError } from "./usage-error.js";

export async function ui(args: string[]): Promise<number> {
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
