/**
 * One TCP connection from a namespace (R) to an echo service (port 7), held open across a test:
 * `echoes(word)` sends a line and waits (10 s at most) for it to come back on the same connection;
 * `closed()` waits for the connection to end (a reset from the tunnel) and says how it ended.
 */
import assert from "node:assert/strict";
import { SERVICE_PORTS } from "../netns/address-plan.js";
import type { NetworkNamespace } from "../netns/index.js";

export interface HeldEchoFlow {
  echoes(word: string): Promise<void>;
  /** Resolves with what the client said as it ended ("[error …]" then "[closed]"); fails after `timeoutMs`. */
  closed(timeoutMs: number): Promise<string>;
  close(): void;
}

export function heldEchoFlow(remote: NetworkNamespace, address: string): HeldEchoFlow {
  let child: ReturnType<NetworkNamespace["spawn"]> | undefined;
  let out = "";
  const script = `
    const socket = require("node:net").connect(${SERVICE_PORTS.echo}, process.argv[1]);
    socket.setEncoding("utf8");
    socket.on("data", (data) => process.stdout.write(data));
    socket.on("close", () => { console.log("[closed]"); process.exit(0); });
    socket.on("error", (error) => console.log("[error " + error.message + "]"));
    require("node:readline").createInterface({ input: process.stdin }).on("line", (line) => socket.write(line + "\\n"));`;
  return {
    async echoes(word) {
      if (child === undefined) {
        child = remote.spawn(process.execPath, ["-e", script, address]);
        child.child.stdout?.on("data", (chunk: Buffer) => (out += chunk.toString()));
      }
      child.child.stdin?.write(`${word}\n`);
      for (let waited = 0; !out.includes(`${word}\n`); waited += 50) {
        if (waited > 10_000 || out.includes("[closed]"))
          assert.fail(`the held flow did not echo "${word}": ${JSON.stringify(out)}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    async closed(timeoutMs) {
      for (let waited = 0; !out.includes("[closed]"); waited += 50) {
        if (waited > timeoutMs) assert.fail(`the held flow is still open: ${JSON.stringify(out)}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      return out.slice(out.search(/\[(error|closed)/));
    },
    close() {
      void child?.stop(2_000);
      child = undefined;
    },
  };
}
