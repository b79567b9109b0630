// Run by dns-relay-hostile.test.ts under a low RLIMIT_NOFILE (prlimit): a relay whose server
// (argv[2], on 127.0.0.1) is silent to a burst of 1,000 queries, so the kernel runs out of
// descriptors for query sockets; then one query the server answers. Prints one JSON line.
import { makeQuery } from "../engines/dns/test-support.js";
import {
  loopbackRelayOptions,
  openDescriptors,
  openedSince,
  sleep,
  udpSocket,
  until,
} from "./dns-relay-test-world.js";
import { loadNativeAddon } from "./load-addon.js";

const serverPort = Number(process.argv[2]);

const DnsRelay = loadNativeAddon().DnsRelay;
if (DnsRelay === undefined) throw new Error("the addon has no DnsRelay");
const client = await udpSocket();
const before = openDescriptors();
const relay = new DnsRelay(
  loopbackRelayOptions([serverPort], [], { nextServerMs: 60_000, lastServerMs: 60_000 }),
  () => undefined,
);
for (let i = 0; i < 1_000; i++)
  client.socket.send(makeQuery(`burst${i}.remote.test`, { id: i }), relay.port, "127.0.0.1");
// The kernel drops what the relay's socket has no room for: taken is what it counted, once stable.
const taken = (): number => relay.stats().viaRemote + relay.stats().overloaded;
for (let last = -1; taken() !== last;) {
  last = taken();
  await sleep(200);
}
// Nothing here opens a descriptor until close(): the relay holds every one left.
const burst = relay.stats();

client.socket.send(makeQuery("after.remote.test", { id: 0xafaf }), relay.port, "127.0.0.1");
const answered = await until(
  () => client.received.some(({ message }) => message.readUInt16BE(0) === 0xafaf),
  "the answer",
).then(
  () => true,
  () => false,
);
const final = relay.stats();
relay.close();
const leftOpen = openedSince(before);
client.socket.close();
process.stdout.write(`${JSON.stringify({ burst, final, answered, leftOpen })}\n`);
