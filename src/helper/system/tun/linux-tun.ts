// TunDevice on Linux, over the addon's event-driven TunDevice (src/helper/native/src/tun_linux.c).
import type { NativeTunDevice } from "../../native/addon-types.js";
import { loadNativeAddon } from "../../native/load-addon.js";
import { LinuxInterface, type CommandRunner } from "./linux-interface.js";
import {
  checkTunMtu,
  type PacketBatchListener,
  type TunDevice,
  type TunErrorListener,
  type TunOpenOptions,
  type TunStats,
} from "./tun-device.js";

export class LinuxTunDevice implements TunDevice {
  readonly name: string;
  private packetListener: PacketBatchListener | undefined;
  private errorListener: TunErrorListener | undefined;
  private started = false;
  private isClosed = false;

  constructor(
    private readonly native: NativeTunDevice,
    readonly mtu: number,
  ) {
    this.name = native.name;
  }

  get closed(): boolean {
    return this.isClosed;
  }

  onPackets(listener: PacketBatchListener): void {
    this.packetListener = listener;
    if (this.started || this.isClosed) return;
    this.started = true;
    this.native.start(
      (data, lengths, count) => this.deliver(data, lengths, count),
      (error) => this.fail(error),
    );
  }

  onError(listener: TunErrorListener): void {
    this.errorListener = listener;
  }

  pause(): void {
    this.native.pause();
  }

  resume(): void {
    this.native.resume();
  }

  write(packets: readonly Buffer[]): number {
    return packets.length === 0 ? 0 : this.native.write(packets);
  }

  stats(): TunStats {
    const { packetsIn, packetsOut, bytesIn, bytesOut, writeDrops, readErrors } = this.native.stats();
    return { packetsIn, packetsOut, bytesIn, bytesOut, writeDrops, readErrors };
  }

  close(): void {
    this.isClosed = true;
    this.native.close();
  }

  /** Slices one batch into packets: views over the batch's single Buffer, no copies. */
  private deliver(data: Buffer, lengths: Uint32Array, count: number): void {
    const packets: Buffer[] = [];
    let offset = 0;
    for (let i = 0; i < count; i++) {
      const length = lengths[i] ?? 0;
      packets.push(data.subarray(offset, offset + length));
      offset += length;
    }
    this.packetListener?.(packets);
  }

  private fail(error: Error): void {
    if (!this.errorListener) throw error;
    this.errorListener(error);
  }
}

/**
 * Creates a TUN interface and sets its MTU. The interface is left down and unaddressed:
 * configure it with LinuxInterface. It disappears, with its routes, when the device is closed.
 */
export async function openLinuxTun(options: TunOpenOptions, runner?: CommandRunner): Promise<LinuxTunDevice> {
  checkTunMtu(options.mtu);
  const { TunDevice } = loadNativeAddon();
  const native = new TunDevice(options.name);
  try {
    await new LinuxInterface(native.name, runner).setMtu(options.mtu);
  } catch (error) {
    native.close();
    throw error;
  }
  return new LinuxTunDevice(native, options.mtu);
}
