/**
 * `tsx e2e/bench/streams.bench.ts`: one link stream's throughput through the real local helper
 * (e2e/streams/lab.ts: a proxy entrance in this process, a memory pipe, main's relay, the helper
 * in namespace L, S's HTTP server), down (GET /bytes/N) and up (POST /upload), in MB/s. Figures
 * only: compare with `npm run bench:nat -- --path backhaul` (the TUN entrance's TCP).
 * Needs root and a built dist/; otherwise says why and exits 0. Flag: --mb N (default 256).
 */
import { parseArgs } from "node:util";
import { performance } from "node:perf_hooks";
import { deterministicBytes, sha256 } from "../nat/content.js";
import { SERVICE_PORTS } from "../netns/address-plan.js";
import { netnsSkipReason } from "../netns/index.js";
import { buildStreamsLab, exchange, httpBody, SERVER } from "../streams/lab.js";
import { runBench } from "./bench-run.js";
import { positiveInteger } from "./flags.js";

const USAGE = "usage: tsx e2e/bench/streams.bench.ts [--mb 256]";
const log = (line: string): void => void process.stderr.write(`bench:streams: ${line}\n`);

async function main(): Promise<number> {
  const skip = netnsSkipReason({ tools: ["ip"] });
  if (skip) {
    log(`skipped: ${skip}`);
    return 0;
  }
  const { values } = parseArgs({ options: { mb: { type: "string", default: "256" } } });
  const size = positiveInteger("mb", values.mb, 4096, USAGE) * 1024 * 1024;
  const lab = await buildStreamsLab();
  try {
    const target = { kind: "address", address: SERVER.v4, port: SERVICE_PORTS.http } as const;
    const get = Buffer.from(`GET /bytes/${size} HTTP/1.1\r\nHost: s\r\nConnection: close\r\n\r\n`);
    // The server builds and caches the body on the first request: not part of the figure.
    await exchange(lab.opener, target, get);
    for (let round = 1; round <= 3; round++) {
      const started = performance.now();
      const body = httpBody(await exchange(lab.opener, target, get));
      const seconds = (performance.now() - started) / 1000;
      if (sha256(body) !== sha256(deterministicBytes(size)))
        throw new Error("the download arrived corrupted");
      log(`down, round ${round}: ${(size / 1e6 / seconds).toFixed(0)} MB/s`);
    }
    const upload = deterministicBytes(size, 5);
    const post = Buffer.concat([
      Buffer.from(`POST /upload HTTP/1.1\r\nHost: s\r\nContent-Length: ${size}\r\nConnection: close\r\n\r\n`),
      upload,
    ]);
    for (let round = 1; round <= 3; round++) {
      const started = performance.now();
      const answer = httpBody(await exchange(lab.opener, target, post)).toString();
      const seconds = (performance.now() - started) / 1000;
      if (!answer.includes(sha256(upload))) throw new Error(`the upload arrived corrupted: ${answer}`);
      log(`up, round ${round}: ${(size / 1e6 / seconds).toFixed(0)} MB/s`);
    }
    return 0;
  } finally {
    await lab.cleanup();
  }
}

runBench(main, log);
