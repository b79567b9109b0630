import { sumVerifies, sumWords } from "./checksum.js";
import { ICMP_HEADER_LENGTH, IpProtocol } from "./constants.js";
import { PacketError } from "./errors.js";
import type { IpView } from "./ip.js";

/**
 * A checked view over an ICMPv4 (RFC 792) or ICMPv6 (RFC 4443) message. Both share the layout
 * type | code | checksum | 4 bytes of rest-of-header; they differ in the checksum, which covers a
 * pseudo-header only for ICMPv6. For echo messages the rest-of-header is identifier and sequence;
 * for errors the payload quotes the packet that caused them.
 */
export class IcmpView {
  private constructor(
    readonly buf: Buffer,
    readonly version: 4 | 6,
  ) {}

  static parse(message: Buffer, version: 4 | 6): IcmpView {
    if (message.length < ICMP_HEADER_LENGTH) {
      throw new PacketError(
        "truncated",
        `ICMP message of ${message.length} bytes is shorter than its header`,
      );
    }
    return new IcmpView(message, version);
  }

  get type(): number {
    return this.buf[0]!;
  }
  get code(): number {
    return this.buf[1]!;
  }
  get checksum(): number {
    return this.buf.readUInt16BE(2);
  }
  get restOfHeader(): number {
    return this.buf.readUInt32BE(4);
  }
  get identifier(): number {
    return this.buf.readUInt16BE(4);
  }
  get sequence(): number {
    return this.buf.readUInt16BE(6);
  }
  get payload(): Buffer {
    return this.buf.subarray(ICMP_HEADER_LENGTH);
  }

  verifyChecksum(ip: IpView): boolean {
    const initial = this.version === 6 ? ip.pseudoHeaderSum(IpProtocol.ICMPV6, this.buf.length) : 0;
    return sumVerifies(sumWords(this.buf, 0, this.buf.length, initial));
  }
}
