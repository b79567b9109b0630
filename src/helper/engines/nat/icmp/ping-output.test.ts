// The ping output parser against recorded outputs.
//
// Provenance of fixtures/: linux-* were recorded on this machine (iputils 20221126) in network
// namespaces with the exact command pingCommand() builds. macos-* and windows-* cannot be
// recorded here: they are transcribed from those systems' ping output formats (macOS ping and
// ping6; Windows ping.exe in English, and in German and French as code page 850 bytes, CRLF).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { parsePingReply, type PingReply } from "./ping-output.js";

function fixture(name: string): string {
  // latin1: what runPing decodes with, whatever the console code page was.
  return readFileSync(new URL(`./fixtures/${name}.txt`, import.meta.url), "latin1");
}

const cases: Array<{ file: string; destination: string; reply: PingReply | undefined }> = [
  { file: "linux-ipv4-reply", destination: "198.18.5.2", reply: { rttMs: 0.24, ttl: 64 } },
  { file: "linux-ipv6-reply", destination: "2001:db8:5::2", reply: { rttMs: 13.3, ttl: 64 } },
  { file: "linux-ipv4-unreachable", destination: "198.18.5.99", reply: undefined },
  { file: "linux-ipv6-unreachable", destination: "2001:db8:5::99", reply: undefined },
  { file: "linux-ipv4-timeout", destination: "198.18.7.1", reply: undefined },
  { file: "macos-ipv4-reply", destination: "198.18.5.2", reply: { rttMs: 0.412, ttl: 63 } },
  { file: "macos-ipv6-reply", destination: "2001:db8:5::2", reply: { rttMs: 0.512, ttl: 64 } },
  { file: "macos-ipv4-unreachable", destination: "198.18.5.99", reply: undefined },
  { file: "macos-ipv4-timeout", destination: "198.18.7.1", reply: undefined },
  { file: "macos-ipv6-timeout", destination: "2001:db8:7::1", reply: undefined },
  { file: "windows-ipv4-reply", destination: "198.18.5.2", reply: { rttMs: 1, ttl: 64 } },
  { file: "windows-ipv4-reply-sub-ms", destination: "198.18.5.2", reply: { rttMs: 1, ttl: 128 } },
  { file: "windows-ipv6-reply", destination: "2001:db8:5::2", reply: { rttMs: 1 } },
  { file: "windows-ipv4-reply-german", destination: "198.18.5.2", reply: { rttMs: 2, ttl: 64 } },
  { file: "windows-ipv4-reply-french", destination: "198.18.5.2", reply: { rttMs: 1, ttl: 64 } },
  // Windows ping exits 0 for these two: only the output tells they are not replies.
  { file: "windows-ipv4-unreachable", destination: "198.18.5.99", reply: undefined },
  { file: "windows-ipv4-ttl-expired", destination: "198.18.7.1", reply: undefined },
  { file: "windows-ipv4-timeout", destination: "198.18.7.1", reply: undefined },
];

for (const { file, destination, reply } of cases) {
  test(`${file}: ${reply ? `a reply, ${reply.rttMs} ms` : "no reply"}`, () => {
    assert.deepEqual(parsePingReply(fixture(file), destination), reply);
  });
}

test("a reply from another address is not the destination's", () => {
  assert.equal(parsePingReply(fixture("linux-ipv4-reply"), "198.18.5.20"), undefined);
  assert.equal(parsePingReply(fixture("windows-ipv4-reply"), "198.18.5.1"), undefined);
});

test("IPv6 addresses compare in any spelling", () => {
  const output = "64 bytes from 2001:0DB8:5:0::2: icmp_seq=1 ttl=64 time=0.1 ms\n";
  assert.deepEqual(parsePingReply(output, "2001:db8:5::2"), { rttMs: 0.1, ttl: 64 });
  // An address that merely starts like the destination does not count.
  assert.equal(parsePingReply("Reply from 2001:db8:5::2:1: time<1ms\r\n", "2001:db8:5::2"), undefined);
});

test("garbage and empty output are no reply", () => {
  assert.equal(parsePingReply("", "198.18.5.2"), undefined);
  assert.equal(parsePingReply("ping: connect: Invalid argument\n", "198.18.5.2"), undefined);
  assert.equal(parsePingReply("64 bytes from 198.18.5.2: time=1 ms\n", "not an address"), undefined);
  // A nonsense TTL is left out rather than written into the reply.
  assert.deepEqual(parsePingReply("64 bytes from 198.18.5.2: ttl=999 time=1 ms\n", "198.18.5.2"), {
    rttMs: 1,
  });
});
