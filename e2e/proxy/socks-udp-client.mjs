// A small SOCKS5 UDP ASSOCIATE client (RFC 1928 section 7, RFC 1929), run by a user on R with
// proxy.env sourced: `node socks-udp-client.mjs HOST PORT TEXT` sends TEXT to HOST:PORT (a name,
// resolved by the proxy) through $ALL_PROXY and prints what comes back. Plain Node, no imports of
// ours: it runs as another user, from wherever this file is.
import { createSocket } from "node:dgram";
import { connect } from "node:net";

const [host = "", portText = "", text = ""] = process.argv.slice(2);
const proxy = new URL(process.env.ALL_PROXY ?? "");
if (proxy.protocol !== "socks5h:") throw new Error(`ALL_PROXY is not socks5h: ${proxy.protocol}`);
const user = Buffer.from(decodeURIComponent(proxy.username));
const password = Buffer.from(decodeURIComponent(proxy.password));

const control = connect({ host: proxy.hostname, port: Number(proxy.port) });
let received = Buffer.alloc(0);
const need = (length) =>
  new Promise((resolve, reject) => {
    const check = () => {
      if (received.length < length) return;
      control.off("data", check);
      const out = received.subarray(0, length);
      received = received.subarray(length);
      resolve(out);
    };
    control.on("data", check);
    control.once("close", () => reject(new Error("the proxy closed the control connection")));
    check();
  });
control.on("data", (chunk) => (received = Buffer.concat([received, chunk])));
const timer = setTimeout(() => {
  process.stderr.write("no answer within 10 s\n");
  process.exit(1);
}, 10_000);

await new Promise((resolve) => control.once("connect", resolve));
control.write(Buffer.from([5, 1, 2]));
if ((await need(2))[1] !== 2) throw new Error("the proxy did not offer username/password");
control.write(Buffer.concat([Buffer.from([1, user.length]), user, Buffer.from([password.length]), password]));
if ((await need(2))[1] !== 0) throw new Error("the proxy refused the credentials");
control.write(Buffer.from([5, 3, 0, 1, 0, 0, 0, 0, 0, 0]));
const reply = await need(10);
if (reply[1] !== 0) throw new Error(`UDP ASSOCIATE refused with reply ${reply[1]}`);
const relayPort = reply.readUInt16BE(8);
const relayHost = [...reply.subarray(4, 8)].join(".");

const udp = createSocket("udp4");
const name = Buffer.from(host);
const port = Buffer.alloc(2);
port.writeUInt16BE(Number(portText));
udp.on("message", (message) => {
  // RSV RSV FRAG ATYP: the reply's source is an address (1: IPv4, 4: IPv6).
  const dataOffset = 4 + (message[3] === 4 ? 16 : 4) + 2;
  process.stdout.write(`${JSON.stringify({ reply: message.subarray(dataOffset).toString() })}\n`);
  clearTimeout(timer);
  udp.close();
  control.destroy();
});
udp.send(
  Buffer.concat([Buffer.from([0, 0, 0, 3, name.length]), name, port, Buffer.from(text)]),
  relayPort,
  relayHost,
);
