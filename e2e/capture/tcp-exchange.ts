/**
 * Reads a capture back with tshark and checks that one HTTP exchange over TCP is in it, whole:
 * the SYN, SYN-ACK, request, response and each side's FIN, in order, with the direction
 * (epb_flags: inbound = from the remote) matching who sent each packet.
 */
import assert from "node:assert/strict";
import { runCommand } from "../netns/index.js";

interface CapturedSegment {
  inbound: boolean;
  fromServer: boolean;
  syn: boolean;
  ack: boolean;
  fin: boolean;
  length: number;
}

const FIELDS = [
  "frame.packet_flags_direction",
  "ip.src",
  "tcp.flags.syn",
  "tcp.flags.ack",
  "tcp.flags.fin",
  "tcp.len",
];
const INBOUND = "0x00000001";

/** Asserts the exchange with `server` on port 80 is in `file`; `responseBytes` at least came back. */
export async function assertHttpExchangeCaptured(
  file: string,
  server: string,
  responseBytes: number,
): Promise<void> {
  const tshark = await runCommand(
    "tshark",
    [
      "-r",
      file,
      "-Y",
      `ip.addr == ${server} && tcp.port == 80`,
      "-T",
      "fields",
      ...FIELDS.flatMap((f) => ["-e", f]),
    ],
    { timeoutMs: 30_000 },
  );
  assert.equal(tshark.code, 0, tshark.stderr);
  const flag = (value: string | undefined): boolean => value === "1" || value === "True";
  const packets: CapturedSegment[] = tshark.stdout
    .trim()
    .split("\n")
    .map((line) => {
      const [direction, source, syn, ack, fin, length] = line.split("\t");
      return {
        inbound: direction === INBOUND,
        fromServer: source === server,
        syn: flag(syn),
        ack: flag(ack),
        fin: flag(fin),
        length: Number(length),
      };
    });
  const first = (what: string, match: (p: CapturedSegment) => boolean): number => {
    const index = packets.findIndex(match);
    assert.ok(index >= 0, `no ${what} among ${packets.length} packets:\n${tshark.stdout.slice(0, 2000)}`);
    return index;
  };
  assert.ok(
    packets.every((p) => p.inbound !== p.fromServer),
    "inbound = from the remote, outbound = from the server",
  );
  const order = [
    first("SYN from the remote", (p) => p.inbound && p.syn && !p.ack),
    first("SYN-ACK to the remote", (p) => !p.inbound && p.syn && p.ack),
    first("request data", (p) => p.inbound && p.length > 0),
    first("response data", (p) => !p.inbound && p.length > 0),
  ];
  assert.deepEqual(
    [...order].sort((a, b) => a - b),
    order,
    `SYN, SYN-ACK, request, response in order: ${order.join(", ")}`,
  );
  for (const [what, inbound] of [
    ["FIN from the remote", true],
    ["FIN to the remote", false],
  ] as const)
    assert.ok(first(what, (p) => p.inbound === inbound && p.fin) > order[3]!, `${what} after the data`);
  const response = packets.filter((p) => !p.inbound).reduce((sum, p) => sum + p.length, 0);
  assert.ok(response >= responseBytes, `the whole response is in the capture (${response} bytes)`);
}
