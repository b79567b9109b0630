// For tests only (no shipped module imports it): the exit options, the helper server in a private
// temp directory and the agent's entrance Link that the helper's and main's tests all start the
// same way.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Duplex } from "node:stream";
import type { HelperExitOptions } from "../../../shared/helper-protocol.js";
import { Capability } from "../../../shared/link-protocol.js";
import { VERSION } from "../../../shared/version.js";
import { startHelperServer } from "../../../helper/local/local-server.js";
import { Link } from "../../../helper/engines/link/link.js";
import type { HelperEndpoint } from "./helper-client.js";

/** Only unadvertised 198.18/15 addresses, no DNS, no keepalive: nothing leaves this machine. */
export const TEST_EXIT_OPTIONS: HelperExitOptions = {
  mtu: 1500,
  subnetV4: "198.18.0.0/30",
  subnetV6: null,
  routes: ["198.19.0.0/16"],
  allowLocal: false,
  dns: "off",
  keepaliveIntervalMs: 0,
  pingTimeoutMs: 5_000,
};

export const TEST_TOKEN = "a".repeat(64);

export interface TestHelperServer {
  readonly dir: string;
  readonly socketPath: string;
  readonly endpoint: HelperEndpoint;
  /** Closes the server and removes its directory. */
  close(): Promise<void>;
}

/** The real helper server on a Unix socket in a fresh temp directory, with TEST_TOKEN. */
export async function startTestHelperServer(
  options: { log?: (line: string) => void; onShutdown?: () => void } = {},
): Promise<TestHelperServer> {
  const dir = mkdtempSync(join(tmpdir(), "bh-helper-test-"));
  const socketPath = join(dir, "helper.sock");
  const server = await startHelperServer({
    socketPath,
    token: TEST_TOKEN,
    log: options.log ?? (() => undefined),
    onShutdown: options.onShutdown ?? (() => undefined),
  });
  return {
    dir,
    socketPath,
    endpoint: { socketPath, token: TEST_TOKEN },
    close: async () => {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The agent's side of a link: an entrance Link on `stream`, offering STATS unless told. */
export function testAgentLink(stream: Duplex, capabilities: number = Capability.Stats): Link {
  return new Link(stream, { role: "entrance", softwareVersion: VERSION, capabilities });
}
