// A real UDP socket for namespace tests: sends one datagram and waits for one reply.
//   ip netns exec NS node --import tsx e2e/netns/udp-peer.ts HOST PORT MESSAGE [TIMEOUT_MS]
// Prints {"from","port","payload"} as JSON and exits 0 on a reply; exits 2 on timeout.
import { createSocket } from "node:dgram";
import { isIPv6 } from "node:net";

const [host, portText, message, timeoutText] = process.argv.slice(2);
if (!host || !portText || message === undefined) {
  console.error("usage: udp-peer.ts HOST PORT MESSAGE [TIMEOUT_MS]");
  process.exit(64);
}
const socket = createSocket(isIPv6(host) ? "udp6" : "udp4");
const timer = setTimeout(
  () => {
    console.error(`udp-peer: no reply from ${host}:${portText} within ${timeoutText ?? 5000} ms`);
    process.exit(2);
  },
  Number(timeoutText ?? 5000),
);
socket.on("message", (payload, remote) => {
  clearTimeout(timer);
  console.log(JSON.stringify({ from: remote.address, port: remote.port, payload: payload.toString("utf8") }));
  socket.close();
});
socket.send(message, Number(portText), host);
