// A real UDP socket for namespace tests, asked over child-rpc.ts: "exchange" sends one datagram
// and answers the one reply (its source and text), or fails after timeoutMs.
import { createSocket } from "node:dgram";
import { isIPv6 } from "node:net";
import { serve } from "./child-rpc.js";

export interface UdpReply {
  from: string;
  port: number;
  payload: string;
}

export type UdpPeerCommands = {
  exchange: { args: { host: string; port: number; message: string; timeoutMs: number }; result: UdpReply };
};

serve<UdpPeerCommands>({
  exchange: ({ host, port, message, timeoutMs }) =>
    new Promise((resolve, reject) => {
      const socket = createSocket(isIPv6(host) ? "udp6" : "udp4");
      const timer = setTimeout(() => {
        socket.close();
        reject(new Error(`no reply from ${host}:${port} within ${timeoutMs} ms`));
      }, timeoutMs);
      socket.on("message", (payload, remote) => {
        clearTimeout(timer);
        socket.close();
        resolve({ from: remote.address, port: remote.port, payload: payload.toString("utf8") });
      });
      socket.send(message, port, host);
    }),
});
