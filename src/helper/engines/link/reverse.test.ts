// Link protocol revision 2: REVERSE_PACKETS, streams opened by either side (the id's top bit), and
// FLOWS, only between two sides that both announced Capability.Reverse; an older peer is refused
// clearly, never sent what it cannot read.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Capability } from "../../../shared/link-protocol.js";
import { STREAM_ID_REVERSE_BIT, StreamOpenError } from "../../../shared/link-streams.js";
import type { StreamFrame } from "../../../shared/stream-frames.js";
import { until } from "../../../shared/test-until.js";
import { reverseLinkPort } from "../port/reverse-link-port.js";
import { linkPort } from "../port/link-port.js";
import { LinkStreamOpener } from "../streams/stream-opener.js";
import { Link, type StreamFrameHandler } from "./link.js";
import { createMemoryPipe } from "./memory-pipe.js";

const BOTH = Capability.Streams | Capability.Reverse;

async function pair(entranceCaps: number, exitCaps: number): Promise<[Link, Link]> {
  const [a, b] = createMemoryPipe();
  const entrance = new Link(a, {
    role: "entrance",
    softwareVersion: "agent-test",
    capabilities: entranceCaps,
  });
  const exit = new Link(b, { role: "exit", softwareVersion: "helper-test", capabilities: exitCaps });
  await Promise.all([entrance.ready, exit.ready]);
  return [entrance, exit];
}

function frames(): StreamFrameHandler & { got: StreamFrame[] } {
  const got: StreamFrame[] = [];
  return { got, frame: (frame) => void got.push(frame), malformed: () => undefined };
}

describe("Link revision 2: the reverse direction", () => {
  it("carries REVERSE_PACKETS apart from PACKETS, both ways, in one batch each turn", async () => {
    const [entrance, exit] = await pair(BOTH, BOTH);
    const forward: string[] = [];
    const reverse: string[] = [];
    linkPort(entrance).onPackets((p) => p.forEach((b) => forward.push(`agent:${b.toString()}`)));
    reverseLinkPort(entrance).onPackets((p) => p.forEach((b) => reverse.push(`agent:${b.toString()}`)));
    linkPort(exit).onPackets((p) => p.forEach((b) => forward.push(`helper:${b.toString()}`)));
    reverseLinkPort(exit).onPackets((p) => p.forEach((b) => reverse.push(`helper:${b.toString()}`)));
    // Interleaved in one turn: each packet must still arrive on its own direction's port.
    linkPort(exit).send(Buffer.from("f1"));
    reverseLinkPort(exit).send(Buffer.from("r1"));
    linkPort(exit).send(Buffer.from("f2"));
    reverseLinkPort(entrance).sendAll([Buffer.from("r2"), Buffer.from("r3")]);
    linkPort(entrance).send(Buffer.from("f3"));
    await until(() => forward.length === 3 && reverse.length === 3);
    assert.deepEqual(forward.sort(), ["agent:f1", "agent:f2", "helper:f3"]);
    assert.deepEqual(reverse.sort(), ["agent:r1", "helper:r2", "helper:r3"]);
    entrance.close();
    exit.close();
  });

  it("routes stream frames by who opened the stream: the top bit of the id", async () => {
    const [entrance, exit] = await pair(BOTH, BOTH);
    const agentOpener = frames();
    const agentExit = frames();
    const helperExit = frames();
    const helperOpener = frames();
    entrance.setStreamHandler(agentOpener, "here");
    entrance.setStreamHandler(agentExit, "there");
    exit.setStreamHandler(helperExit, "there");
    exit.setStreamHandler(helperOpener, "here");
    const reverseId = STREAM_ID_REVERSE_BIT + 7;
    exit.sendStreamFrame({ type: "open", id: reverseId, target: { kind: "name", name: "p.test", port: 80 } });
    exit.sendStreamFrame({ type: "credit", id: 3, bytes: 10 });
    entrance.sendStreamFrame({ type: "open", id: 3, target: { kind: "name", name: "s.test", port: 80 } });
    entrance.sendStreamFrame({ type: "end", id: reverseId });
    await until(
      () =>
        agentExit.got.length + agentOpener.got.length + helperExit.got.length + helperOpener.got.length === 4,
    );
    const expected = [
      { handler: agentExit, got: [["open", reverseId]], which: "the agent's exit" },
      { handler: agentOpener, got: [["credit", 3]], which: "the agent's opener" },
      { handler: helperExit, got: [["open", 3]], which: "the helper's exit" },
      { handler: helperOpener, got: [["end", reverseId]], which: "the helper's opener" },
    ];
    for (const { handler, got, which } of expected)
      assert.deepEqual(
        handler.got.map((f) => [f.type, f.id]),
        got,
        which,
      );
    entrance.close();
    exit.close();
  });

  it("the exit-role side opens streams with the top bit set, the entrance-role side without", async () => {
    const [entrance, exit] = await pair(BOTH, BOTH);
    const atAgent = frames();
    const atHelper = frames();
    entrance.setStreamHandler(atAgent, "there");
    exit.setStreamHandler(atHelper, "there");
    void new LinkStreamOpener(exit, { openTimeoutMs: 60_000 })
      .open({ kind: "name", name: "p.test", port: 80 })
      .catch(() => undefined);
    void new LinkStreamOpener(entrance, { openTimeoutMs: 60_000 })
      .open({ kind: "name", name: "s.test", port: 80 })
      .catch(() => undefined);
    await until(() => atAgent.got.length === 1 && atHelper.got.length === 1);
    assert.ok(atAgent.got[0]!.id >= STREAM_ID_REVERSE_BIT, "this computer's stream id has the top bit");
    assert.ok(atHelper.got[0]!.id < STREAM_ID_REVERSE_BIT, "the agent's stream id has not");
    entrance.close();
    exit.close();
  });

  it("with an older agent (no Reverse): refuses --socks opens clearly and sends no reverse frame", async () => {
    const [entrance, exit] = await pair(Capability.Streams, BOTH);
    assert.equal(exit.reverse, false);
    const opener = new LinkStreamOpener(exit);
    await assert.rejects(
      opener.open({ kind: "name", name: "p.test", port: 80 }),
      (error: unknown) => error instanceof StreamOpenError && /agent-test\) runs no exit/.test(error.message),
    );
    const reverse: Buffer[] = [];
    entrance.on("reversePackets", (p) => reverse.push(...p));
    const before = exit.counters.framesOut;
    reverseLinkPort(exit).send(Buffer.from("r1"));
    assert.equal(exit.sendFlows({ upserts: [], removals: [1] }), false);
    await entrance.ping();
    assert.equal(exit.counters.framesOut, before + 1, "only the PONG went out");
    assert.equal(exit.counters.rejectedPackets, 1);
    assert.deepEqual(reverse, []);
    entrance.close();
    exit.close();
  });

  it("FLOWS arrive checked, with the direction this computer gives them; a bad one is dropped", async () => {
    const [entrance, exit] = await pair(BOTH, BOTH);
    const deltas: unknown[] = [];
    exit.on("flows", (delta) => deltas.push(delta));
    const row = {
      id: 4,
      protocol: "tcp" as const,
      family: 4 as const,
      remote: "198.18.0.1 stream 2147483649",
      destination: "198.18.90.10:80\u001b]52;c;x\u0007",
      name: "p.test",
      localSocket: "198.18.9.1:40000",
      state: "ESTABLISHED",
      upBytes: 10,
      downBytes: 20,
      upPackets: 0,
      downPackets: 0,
      startedAt: 1,
      lastActivityAt: 2,
      closedAt: null,
      closeReason: null,
    };
    assert.equal(entrance.sendFlows({ upserts: [row], removals: [3] }), true);
    assert.equal(entrance.sendFlows({ upserts: [{ ...row, upBytes: -1 }], removals: [] }), true);
    await until(() => exit.counters.malformedFrames === 1);
    assert.equal(deltas.length, 1);
    assert.deepEqual(deltas[0], {
      upserts: [{ ...row, direction: "local-to-remote", destination: "198.18.90.10:80" }],
      removals: [3],
    });
    entrance.close();
    exit.close();
  });
});
