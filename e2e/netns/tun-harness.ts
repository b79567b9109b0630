// Owns a TUN device inside a network namespace on behalf of a test:
//   ip netns exec NS node --import tsx e2e/netns/tun-harness.ts
// Requests arrive as JSON lines on stdin; replies and every packet batch read from the device go
// out as JSON lines on stdout. After "close" it stops reading stdin and does nothing else, so it
// exits only if closing the device really released the event loop (the test checks that).
import { createInterface } from "node:readline";
import { LinuxInterface, openTun, type TunDevice } from "../../src/helper/tun/index.js";
import type { HarnessMessage, HarnessRequest, TunConfig } from "./tun-harness-protocol.js";

let device: TunDevice | undefined;

function send(message: HarnessMessage): void {
  process.stdout.write(`${JSON.stringify(message)}\n`);
}

function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}

async function open(config: TunConfig): Promise<string> {
  if (device) throw new Error("a TUN device is already open");
  const tun = await openTun({ name: config.name, mtu: config.mtu });
  device = tun;
  tun.onError((error) => send({ event: "tun-error", message: error.message, code: errorCode(error) }));
  tun.onPackets((packets) =>
    send({ event: "packets", packets: packets.map((packet) => packet.toString("base64")) }),
  );
  const iface = new LinuxInterface(tun.name);
  for (const address of config.addresses) await iface.addAddress(address);
  await iface.up();
  for (const route of config.routes) await iface.addRoute(route);
  return tun.name;
}

function requireDevice(): TunDevice {
  if (!device) throw new Error("no TUN device is open");
  return device;
}

async function handle(request: HarnessRequest): Promise<void> {
  switch (request.op) {
    case "open":
      send({ event: "reply", id: request.id, name: await open(request.config) });
      return;
    case "write": {
      const written = requireDevice().write(request.packets.map((packet) => Buffer.from(packet, "base64")));
      send({ event: "reply", id: request.id, written });
      return;
    }
    case "pause":
      requireDevice().pause();
      send({ event: "reply", id: request.id });
      return;
    case "resume":
      requireDevice().resume();
      send({ event: "reply", id: request.id });
      return;
    case "stats":
      send({ event: "reply", id: request.id, stats: requireDevice().stats() });
      return;
    case "close": {
      const tun = requireDevice();
      tun.close();
      send({ event: "reply", id: request.id, stats: tun.stats() });
      lines.close();
      process.stdin.destroy();
      return;
    }
  }
}

const lines = createInterface({ input: process.stdin });
lines.on("line", (line) => {
  const request = JSON.parse(line) as HarnessRequest;
  handle(request).catch((error: unknown) =>
    send({
      event: "failed",
      id: request.id,
      message: error instanceof Error ? error.message : String(error),
      code: errorCode(error),
    }),
  );
});
// The test went away without "close": release the device and leave.
lines.on("close", () => device?.close());
