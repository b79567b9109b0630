// Valid frames with hostile values, each way: a raw entrance Link against the exit's stream
// forwarder, and a raw exit Link against the LinkStreamOpener. Every one is answered per the
// contract (link-streams.ts) and nothing stops either side.
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { Capability } from "../../../shared/link-protocol.js";
import { STREAM_INITIAL_CREDIT, StreamOpenError, StreamStatus } from "../../../shared/link-streams.js";
import type { StreamFrame } from "../../../shared/stream-frames.js";
import { Link } from "../link/link.js";
import { createMemoryPipe } from "../link/memory-pipe.js";
import { CapturingOutput } from "../nat/capturing-output.js";
import { EgressPolicy } from "../nat/egress-policy.js";
import { DEFAULT_NAT_LIMITS, NatEngine } from "../nat/engine.js";
import { DEFAULT_TCP_LIMITS } from "../nat/tcp/limits.js";
import { until } from "../test-until.js";
import { LinkStreamOpener } from "./stream-opener.js";
import { tcpServer } from "./test-world.js";

const server = await tcpServer();
after(() => server.close());

/** A Link of `role` whose stream frames are only recorded: the test speaks for it. */
async function rawPeer(role: "entrance" | "exit", other: (link: Link) => void) {
  const [a, b] = createMemoryPipe();
  const raw = new Link(a, { role, softwareVersion: "raw", capabilities: Capability.Streams });
  const frames: StreamFrame[] = [];
  raw.setStreamHandler({ frame: (frame) => frames.push(frame), malformed: () => undefined });
  const subject = new Link(b, {
    role: role === "entrance" ? "exit" : "entrance",
    softwareVersion: "test",
    capabilities: Capability.Streams,
  });
  other(subject);
  await Promise.all([raw.ready, subject.ready]);
  /** The next frame about `id` of `type`, waiting for it. */
  const next = async <T extends StreamFrame["type"]>(id: number, type: T) => {
    await until(() => frames.some((f) => f.id === id && f.type === type), 5_000, `${type} for ${id}`);
    const index = frames.findIndex((f) => f.id === id && f.type === type);
    return frames.splice(index, 1)[0] as Extract<StreamFrame, { type: T }>;
  };
  return { raw, subject, frames, next };
}

describe("hostile stream frames at the exit", () => {
  it("ids 0 and 2^32-1, port 0, credit 0 and 2^32-1, data past credit, a second OPEN, unknown ids", async () => {
    let nat: NatEngine | undefined;
    const { raw, subject, frames, next } = await rawPeer("entrance", (link) => {
      nat = new NatEngine({
        output: new CapturingOutput(),
        policy: new EgressPolicy({ prefixes: [], allowLocal: true, localAddresses: () => [] }),
        linkMtu: 1500,
        // A window of the initial credit only, so that "past the credit" is easy to reach.
        limits: {
          ...DEFAULT_NAT_LIMITS,
          tcp: { ...DEFAULT_TCP_LIMITS, perFlowBufferBytes: STREAM_INITIAL_CREDIT },
        },
      });
      nat.attachStreams(link, { resolve: undefined, entranceAddress: "198.18.0.1" });
    });
    const open = (id: number, port = server.port) =>
      raw.sendStreamFrame({ type: "open", id, target: { kind: "address", address: "127.0.0.1", port } });

    open(0);
    open(0xffffffff);
    assert.equal((await next(0, "opened")).status, StreamStatus.Ok);
    assert.equal((await next(0xffffffff, "opened")).status, StreamStatus.Ok);

    open(5, 0);
    assert.equal((await next(5, "opened")).status, StreamStatus.Refused);
    raw.sendStreamFrame({ type: "open", id: 6, target: { kind: "name", name: "s.test", port: 80 } });
    assert.equal((await next(6, "opened")).status, StreamStatus.NameNotFound);

    // Credit of 0 and of 2^32-1 are both valid: the stream goes on.
    raw.sendStreamFrame({ type: "credit", id: 0, bytes: 0 });
    raw.sendStreamFrame({ type: "credit", id: 0, bytes: 0xffffffff });
    raw.sendStreamFrame({ type: "data", id: 0, bytes: Buffer.from("still open") });

    // Past the initial credit without a grant: reset.
    const chunk = Buffer.alloc(64 * 1024, 1);
    for (let sent = 0; sent <= STREAM_INITIAL_CREDIT; sent += chunk.length) {
      raw.sendStreamFrame({ type: "data", id: 0xffffffff, bytes: chunk });
    }
    assert.equal((await next(0xffffffff, "reset")).status, StreamStatus.ProtocolError);

    // A second OPEN for an open id resets it.
    open(0);
    assert.equal((await next(0, "reset")).status, StreamStatus.ProtocolError);

    // Frames for ids that are not open: RESET, except a RESET and a CREDIT (which may cross a
    // stream's end in flight), which are never answered.
    raw.sendStreamFrame({ type: "data", id: 77, bytes: Buffer.from("x") });
    raw.sendStreamFrame({ type: "credit", id: 78, bytes: 10 });
    raw.sendStreamFrame({ type: "data", id: 78, bytes: Buffer.from("x") });
    raw.sendStreamFrame({ type: "end", id: 79 });
    raw.sendStreamFrame({ type: "opened", id: 80, status: StreamStatus.Ok, address: "127.0.0.1" });
    raw.sendStreamFrame({ type: "reset", id: 81, status: StreamStatus.Refused });
    for (const id of [77, 78, 79, 80])
      assert.equal((await next(id, "reset")).status, StreamStatus.ProtocolError);

    // The exit goes on: a new stream opens and carries data.
    open(9);
    assert.equal((await next(9, "opened")).status, StreamStatus.Ok);
    raw.sendStreamFrame({ type: "end", id: 9 });
    assert.ok(nat);
    await until(() =>
      nat!.table.snapshot().some((row) => row.remote.endsWith("stream 9") && row.state === "CLOSE-WAIT"),
    );
    assert.equal(frames.filter((f) => f.id === 81).length, 0, "a RESET is never answered");
    assert.equal(
      frames.filter((f) => f.id === 78).length,
      0,
      "one RESET for 78: the DATA's, not the CREDIT's",
    );
    assert.equal(subject.isOpen, true);
    assert.equal(nat.counters.internalErrors, 0);
    raw.close();
  });
});

describe("hostile stream frames at the entrance", () => {
  it("answers frames for unknown ids with RESET, refuses an OPEN, and times out a silent exit", async () => {
    let opener: LinkStreamOpener | undefined;
    const { raw, subject, next } = await rawPeer("exit", (link) => {
      opener = new LinkStreamOpener(link, { openTimeoutMs: 300, windowBytes: STREAM_INITIAL_CREDIT });
    });
    assert.ok(opener);
    raw.sendStreamFrame({ type: "data", id: 3, bytes: Buffer.from("x") });
    raw.sendStreamFrame({ type: "opened", id: 4, status: StreamStatus.Ok, address: "127.0.0.1" });
    raw.sendStreamFrame({ type: "open", id: 5, target: { kind: "address", address: "127.0.0.1", port: 1 } });
    for (const id of [3, 4, 5]) assert.equal((await next(id, "reset")).status, StreamStatus.ProtocolError);

    const silent = opener.open({ kind: "address", address: "127.0.0.1", port: 1 });
    const { id } = await next(1, "open");
    await assert.rejects(
      silent,
      (error) => error instanceof StreamOpenError && error.status === StreamStatus.TimedOut,
    );
    assert.equal((await next(id, "reset")).status, StreamStatus.TimedOut, "the exit is told to give up");

    // Data past the credit the entrance granted resets the stream.
    const opening = opener.open({ kind: "address", address: "127.0.0.1", port: 1 });
    const open = await next(2, "open");
    raw.sendStreamFrame({ type: "opened", id: open.id, status: StreamStatus.Ok, address: "127.0.0.1" });
    const stream = await opening;
    const closed = new Promise<StreamStatus>((resolve) => stream.onClose(resolve));
    const chunk = Buffer.alloc(64 * 1024, 1);
    for (let sent = 0; sent <= STREAM_INITIAL_CREDIT; sent += chunk.length) {
      raw.sendStreamFrame({ type: "data", id: open.id, bytes: chunk });
    }
    assert.equal(await closed, StreamStatus.ProtocolError);
    assert.equal((await next(open.id, "reset")).status, StreamStatus.ProtocolError);
    assert.equal(subject.isOpen, true);
    raw.close();
  });

  it("refuses to open over an exit that did not announce Streams", async () => {
    const [a, b] = createMemoryPipe();
    const exit = new Link(a, { role: "exit", softwareVersion: "old" });
    const entrance = new Link(b, {
      role: "entrance",
      softwareVersion: "test",
      capabilities: Capability.Streams,
    });
    const opener = new LinkStreamOpener(entrance);
    await assert.rejects(
      opener.open({ kind: "name", name: "s.test", port: 80 }),
      (error) => error instanceof StreamOpenError && /Streams capability/.test(error.message),
    );
    exit.close();
  });
});
