/**
 * The ceiling for anything carried over SSH: one ssh2 exec channel, run inside namespace L
 * against TestSshd in R, with the same connectSsh() Backhaul uses (aes128-gcm first), asked over
 * e2e/netns/child-rpc.ts: "measure" {host, user, key, knownHosts, bytes}.
 * push: L -> R, N bytes into `cat > /dev/null`; pull: R -> L, `head -c N /dev/zero`. Each is timed
 * from the exec to the channel's close, so all bytes were consumed.
 */
import type { ClientChannel } from "ssh2";
import { connectSsh, type SshConnection } from "../../../src/main/broker/ssh/index.js";
import { serve } from "../../netns/child-rpc.js";
import type { CeilingResult } from "./ceiling.js";

export interface RawChannelRequest {
  host: string;
  user: string;
  /** The private key's file. */
  key: string;
  knownHosts: string;
  bytes: number;
}

export type RawChannelCommands = {
  measure: { args: RawChannelRequest; result: CeilingResult };
};

function closed(channel: ClientChannel): Promise<void> {
  return new Promise((resolve, reject) => {
    let status: number | undefined;
    channel.on("exit", (code: number | null) => (status = code ?? undefined));
    // Unread, a channel never ends, and never closes.
    if (channel.listenerCount("data") === 0) channel.resume();
    channel.stderr.resume();
    channel.on("close", () => (status === 0 ? resolve() : reject(new Error(`remote exit ${status}`))));
  });
}

async function push(connection: SshConnection, bytes: number): Promise<number> {
  const started = process.hrtime.bigint();
  const channel = await connection.exec("cat > /dev/null");
  const done = closed(channel);
  const chunk = Buffer.alloc(1 << 20);
  for (let sent = 0; sent < bytes; sent += chunk.length) {
    const part = sent + chunk.length <= bytes ? chunk : chunk.subarray(0, bytes - sent);
    if (!channel.write(part)) await new Promise((resolve) => channel.once("drain", resolve));
  }
  channel.end();
  await done;
  return Number(process.hrtime.bigint() - started) / 1e9;
}

async function pull(connection: SshConnection, bytes: number): Promise<number> {
  const started = process.hrtime.bigint();
  const channel = await connection.exec(`head -c ${bytes} /dev/zero`);
  let received = 0;
  channel.on("data", (data: Buffer) => (received += data.length));
  await closed(channel);
  if (received !== bytes) throw new Error(`pulled ${received} of ${bytes} bytes`);
  return Number(process.hrtime.bigint() - started) / 1e9;
}

async function measure({ host, user, key, knownHosts, bytes }: RawChannelRequest): Promise<CeilingResult> {
  const logs: string[] = [];
  const connection = await connectSsh({
    host,
    username: user,
    identityFiles: [key],
    agentSocket: null,
    knownHostsFiles: [knownHosts],
    log: (line) => logs.push(line),
  });
  try {
    const pushSeconds = await push(connection, bytes);
    const pullSeconds = await pull(connection, bytes);
    // connectSsh logs "<host>: <key type> host key, <cipher>, <kex>".
    const cipher = logs.map((line) => /host key, ([^,]+),/.exec(line)?.[1]).find(Boolean) ?? "unknown";
    const mbps = (seconds: number): number => (bytes * 8) / seconds / 1e6;
    return { cipher, pushMbps: mbps(pushSeconds), pullMbps: mbps(pullSeconds), bytes };
  } finally {
    connection.close();
  }
}

serve<RawChannelCommands>({ measure });
