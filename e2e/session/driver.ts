/**
 * Runs a broker Session inside namespace L, with the agent in namespace R started directly
 * (`ip netns exec R node dist/agent/backhaul-agent.cjs`) instead of over SSH: the transport is a
 * pipe, so the session logic — connect steps, keepalive, reconnect, disconnect — is tested on its
 * own. Commands and events (protocol.ts) go through e2e/netns/child-rpc.ts.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { Duplex, PassThrough } from "node:stream";
import { parseArgs } from "node:util";
import { Session, type AgentTransport } from "../../src/main/broker/session.js";
import { emit, serve } from "../netns/child-rpc.js";
import type { SessionCommands, SessionEvent } from "./protocol.js";
import { LINK_SUBNET } from "../netns/address-plan.js";

const { values } = parseArgs({
  options: {
    remote: { type: "string" },
    agent: { type: "string" },
    journal: { type: "string" },
    /** What runs the agent, in place of this node: e.g. qemu-aarch64 -L SYSROOT NODE (repeatable). */
    runner: { type: "string", multiple: true, default: [] },
    route: { type: "string", multiple: true, default: [] },
  },
});
const print = (event: SessionEvent): void => emit(event);

let down = false;
let current: { child: ChildProcess; cut(): void } | undefined;

function openAgent(): Promise<AgentTransport> {
  if (down) return Promise.reject(new Error("the network is down (simulated)"));
  const child = spawn(
    "ip",
    [
      "netns",
      "exec",
      values.remote ?? "",
      ...(values.runner.length > 0 ? values.runner : [process.execPath]),
      values.agent ?? "",
      "--journal",
      values.journal ?? "",
      "--keepalive",
      "2",
    ],
    {
      stdio: ["pipe", "pipe", "pipe"],
    },
  );
  // Between the agent and the link, a valve: "cut" stops carrying bytes either way.
  let open = true;
  const toAgent = new PassThrough();
  const fromAgent = new PassThrough();
  toAgent.on("data", (chunk: Buffer) => open && child.stdin?.write(chunk));
  child.stdout?.on("data", (chunk: Buffer) => open && fromAgent.write(chunk));
  child.stdout?.on("end", () => open && fromAgent.end());
  child.stdin?.on("error", () => undefined);
  current = { child, cut: () => (open = false) };
  return Promise.resolve({
    stream: Duplex.from({ readable: fromAgent, writable: toAgent }),
    stderr: child.stderr ?? new PassThrough(),
    close: () => child.stdin?.end(),
    exited: new Promise<void>((resolve) => child.once("exit", () => resolve())),
  });
}

const session = new Session({
  openAgent,
  exit: {
    mtu: 65520,
    subnetV4: LINK_SUBNET.network.v4,
    subnetV6: LINK_SUBNET.network.v6,
    routes: values.route,
    allowLocal: false,
    dns: "all",
  },
  keepaliveIntervalMs: 2_000,
  pingTimeoutMs: 4_000,
  backoff: { initialMs: 500, maxMs: 4_000 },
});
session.on("state", (state) => print({ state }));
session.on("log", (line) => print({ log: line }));
void session.run().then(() => print({ done: true }));

serve<SessionCommands>({
  cut: () => current?.cut(),
  down: () => void (down = true),
  up: () => void (down = false),
  disconnect: () => session.disconnect(),
});
