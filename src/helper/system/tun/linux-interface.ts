// Linux interface configuration for the TUN device: MTU, addresses, up/down, routes.
// Done with iproute2's `ip`, run through run-command.ts (no shell, so no quoting or injection
// issues): every failure is a CommandError that says which command failed and what `ip` answered.
import { runCommand } from "../../engines/run-command.js";
import { parsePrefix, type IpFamily } from "../../../shared/ip-prefix.js";

/** Runs a command; resolves on exit 0. Injectable so callers and tests can record or fake it. */
export type CommandRunner = (file: string, args: readonly string[]) => Promise<void>;

const IP_TIMEOUT_MS = 10_000;

export const execFileRunner: CommandRunner = async (file, args) => {
  await runCommand(file, args, { timeoutMs: IP_TIMEOUT_MS, name: "ip", installHint: "install iproute2" });
};

/** An address or prefix with its length, e.g. "198.18.0.1/30" or "2001:db8:2::/64". */
function parseCidr(cidr: string): { family: IpFamily } {
  const parsed = parsePrefix(cidr, { bareIsHost: true });
  if (!parsed.ok) throw new TypeError(`not an IP address or prefix: ${JSON.stringify(cidr)}`);
  return parsed.prefix;
}

/** Interface names as the kernel accepts them; a leading '-' would read as an option to `ip`. */
function checkInterfaceName(name: string): void {
  if (!/^[A-Za-z0-9_.][A-Za-z0-9_.@-]{0,14}$/.test(name)) {
    throw new TypeError(`not a valid interface name: ${JSON.stringify(name)}`);
  }
}

export class LinuxInterface {
  constructor(
    readonly name: string,
    private readonly run: CommandRunner = execFileRunner,
    private readonly ipPath = "ip",
  ) {
    checkInterfaceName(name);
  }

  async setMtu(mtu: number): Promise<void> {
    if (!Number.isInteger(mtu) || mtu < 68 || mtu > 65535) throw new RangeError(`invalid MTU ${mtu}`);
    return this.ip(["link", "set", "dev", this.name, "mtu", String(mtu)]);
  }

  /**
   * The kernel's queue in front of the device. TUN defaults to 500 packets, which a burst from a
   * fast sender overflows while the reader is busy: every drop costs the sender a retransmission.
   */
  async setTxQueueLength(packets: number): Promise<void> {
    if (!Number.isInteger(packets) || packets < 1) throw new RangeError(`invalid queue length ${packets}`);
    return this.ip(["link", "set", "dev", this.name, "txqueuelen", String(packets)]);
  }

  async up(): Promise<void> {
    return this.ip(["link", "set", "dev", this.name, "up"]);
  }

  async down(): Promise<void> {
    return this.ip(["link", "set", "dev", this.name, "down"]);
  }

  /**
   * Adds "198.18.0.1/30" or "2001:db8:1::1/64". IPv6 addresses skip duplicate address detection:
   * on a point-to-point TUN there is nobody to collide with, and DAD would delay the address.
   */
  async addAddress(cidr: string): Promise<void> {
    const { family } = parseCidr(cidr);
    const extra = family === 6 ? ["nodad"] : [];
    return this.ip([`-${family}`, "address", "add", cidr, "dev", this.name, ...extra]);
  }

  async deleteAddress(cidr: string): Promise<void> {
    const { family } = parseCidr(cidr);
    return this.ip([`-${family}`, "address", "del", cidr, "dev", this.name]);
  }

  /** Routes a prefix into this interface. Routes vanish with the interface when the TUN closes. */
  async addRoute(prefix: string, options: { metric?: number } = {}): Promise<void> {
    const { family } = parseCidr(prefix);
    const metric = options.metric === undefined ? [] : ["metric", String(options.metric)];
    return this.ip([`-${family}`, "route", "add", prefix, "dev", this.name, ...metric]);
  }

  async deleteRoute(prefix: string): Promise<void> {
    const { family } = parseCidr(prefix);
    return this.ip([`-${family}`, "route", "del", prefix, "dev", this.name]);
  }

  private ip(args: string[]): Promise<void> {
    return this.run(this.ipPath, args);
  }
}
