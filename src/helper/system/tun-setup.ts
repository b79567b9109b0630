// Opens the TUN device and gives it its link addresses, each step journaled first. The device
// goes into `openTuns`, the map systemUndo() closes devices from: closing is what removes it.
import { LinuxInterface, openTun, type TunDevice, type TunOpenOptions } from "./tun/index.js";
import { execFileRunner, isAlreadyExists, linkExists, tunRunner, type CommandRunner } from "./command.js";
import { NothingChangedError } from "./errors.js";
import type { Journal } from "./journal.js";

/**
 * Packets the kernel may queue for the agent: enough for a burst while the agent is writing to
 * the link (500, the default, drops and costs retransmissions at a 1,500-byte MTU).
 */
export const TUN_TX_QUEUE_PACKETS = 4096;

export interface JournaledTunOptions {
  /** A fixed name ("bh0"), not a kernel pattern: the journal must know what it undoes. */
  name: string;
  mtu: number;
  /** Link addresses with their prefix length, e.g. "198.18.0.1/30", "2001:db8:1::1/64". */
  addresses: readonly string[];
  /** Shared with systemUndo({ openTuns }). */
  openTuns: Map<string, TunDevice>;
  run?: CommandRunner;
  /** Default openTun; tests pass a fake device. */
  open?: (options: TunOpenOptions) => Promise<TunDevice>;
}

export async function openJournaledTun(journal: Journal, options: JournaledTunOptions): Promise<TunDevice> {
  const run = options.run ?? execFileRunner;
  const { name } = options;
  if (name.includes("%")) throw new TypeError(`the agent's TUN needs a fixed name, not the pattern ${name}`);
  // An existing persistent TUN of that name would be attached to, not created: and then undone.
  if (await linkExists(run, name)) {
    throw new NothingChangedError(
      `an interface named ${name} already exists on the remote: choose another TUN name`,
    );
  }
  const open = options.open ?? openTun;
  const device = await journal.recordThenApply({ kind: "tun", name }, async () => {
    const tun = await open({ name, mtu: options.mtu });
    options.openTuns.set(tun.name, tun);
    return tun;
  });
  const iface = new LinuxInterface(name, tunRunner(run));
  for (const cidr of options.addresses) {
    await journal.recordThenApply({ kind: "address", cidr, dev: name }, async () => {
      try {
        await iface.addAddress(cidr);
      } catch (error) {
        if (isAlreadyExists(error))
          throw new NothingChangedError(`${cidr} is already on ${name}`, { cause: error });
        throw error;
      }
    });
  }
  await iface.setTxQueueLength(TUN_TX_QUEUE_PACKETS);
  await iface.up();
  return device;
}
