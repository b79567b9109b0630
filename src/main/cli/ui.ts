import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import type { SessionView } from "../../shared/api.js";
import { canonicalPrefix } from "../../shared/api-validate.js";
import { DEFAULT_SUBNET_V4, DEFAULT_SUBNET_V6 } from "../broker/link-subnets.js";
import { AppController } from "../app/controller.js";
import { startUiServer, type UiServer } from "../ui-server.js";
import { dataDir as dataDirOf } from "./data-dir.js";
import { UsageError } from "./usage-error.js";

export const UI_USAGE = `backhaul ui [options]

  The desktop window in a browser, served on http://127.0.0.1 behind a random token: open the
  printed URL (http://127.0.0.1:PORT/#token=...; the token stays in that browser tab).
  --port N                 port to listen on (default: a free one)
  --data-dir DIR           where settings and recents are kept
                           (default $XDG_CONFIG_HOME/backhaul, or ~/.config/backhaul)
  --link-subnet CIDR       IPv4 subnet of the link (default ${DEFAULT_SUBNET_V4})
  --link-subnet6 CIDR|none IPv6 subnet of the link (default ${DEFAULT_SUBNET_V6})
`;

export async function ui(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    strict: true,
    options: {
      port: { type: "string", default: "0" },
      "data-dir": { type: "string" },
      "link-subnet": { type: "string", default: DEFAULT_SUBNET_V4 },
      "link-subnet6": { type: "string", default: DEFAULT_SUBNET_V6 },
    },
  });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new UsageError(`--port takes a port number from 0 to 65535, not "${values.port}"`);
  }
  const subnetV4 = subnet(values["link-subnet"], "--link-subnet", "ipv4");
  const subnetV6 =
    values["link-subnet6"] === "none" ? null : subnet(values["link-subnet6"], "--link-subnet6", "ipv6");
  const distDir = dirname(fileURLToPath(import.meta.url));
  const rendererDir = join(distDir, "renderer");
  if (!existsSync(join(rendererDir, "index.html"))) {
    throw new Error(`the UI is not built (no ${rendererDir}/index.html); run \`npm run build\` first`);
  }
  const dataDir = dataDirOf(values["data-dir"]);

  const controller = await AppController.create({
    dataDir,
    shell: "browser",
    distDir,
    linkSubnetV4: subnetV4,
    linkSubnetV6: subnetV6,
  });
  // The terminal keeps the log the window shows: each session's changes, by name, and its own lines.
  const lastStates = new Map<string, string>();
  const tell = (view: SessionView): void => {
    const { phase, step, message } = view;
    const name = view.target?.label ?? "";
    const state = `session ${name}: ${phase}${phase === "connecting" && step ? ` (${step})` : ""}${message ? `: ${message}` : ""}`;
    if (state !== lastStates.get(name)) process.stderr.write(`${state}\n`);
    lastStates.set(name, state);
  };
  controller.subscribe((event) => {
    if (event.type === "log") process.stderr.write(`${event.line}\n`);
    // Every session's change comes in the list; the latest's own event repeats it (said once).
    if (event.type === "sessions") event.sessions.forEach(tell);
    if (event.type === "session") tell(event.session);
  });
  let server: UiServer;
  try {
    server = await startUiServer({ port, rendererDir, backend: controller });
  } catch (error) {
    await controller.close();
    throw error;
  }
  // The token is in the URL's fragment: the browser keeps it and never sends it in a request.
  process.stdout.write(`Backhaul UI: open ${server.url}\n(press Ctrl+C to stop)\n`);
  await new Promise<void>((resolve) => {
    process.once("SIGINT", resolve);
    process.once("SIGTERM", resolve);
  });
  process.stderr.write("stopping: restoring the remote\n");
  await server.close();
  await controller.close();
  return 0;
}

function subnet(value: string, flag: string, kind: "ipv4" | "ipv6"): string {
  const canonical = canonicalPrefix(value);
  if (canonical === null || canonical.includes(":") !== (kind === "ipv6")) {
    throw new UsageError(`${flag} takes an ${kind === "ipv4" ? "IPv4" : "IPv6"} CIDR prefix, not "${value}"`);
  }
  return canonical;
}
