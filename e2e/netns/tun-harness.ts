// Owns a TUN device inside a network namespace on behalf of a test:
//   ip netns exec NS node --import tsx e2e/netns/tun-harness.ts
// Serves tun-harness-protocol.ts's commands over child-rpc.ts; every packet batch read from the
// device goes out as an event. After "close" it stops reading stdin and does nothing else, so it
// exits only if closing the device really released the event loop (the test checks that).
import { LinuxInterface, openTun, type TunDevice } from "../../src/helper/system/tun/index.js";
import { emit, serve, type Serving } from "./child-rpc.js";
import type { HarnessCommands, HarnessEvent, TunConfig } from "./tun-harness-protocol.js";

let device: TunDevice | undefined;

const send = (event: HarnessEvent): void => emit(event);

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

const serving: Serving = serve<HarnessCommands>(
  {
    open,
    write: (packets) => requireDevice().write(packets.map((packet) => Buffer.from(packet, "base64"))),
    pause: () => requireDevice().pause(),
    resume: () => requireDevice().resume(),
    stats: () => requireDevice().stats(),
    close: () => {
      const tun = requireDevice();
      tun.close();
      serving.close();
      return tun.stats();
    },
  },
  // The test went away without "close": release the device and leave.
  { onInputEnd: () => device?.close() },
);
