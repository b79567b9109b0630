import { sumVerifies, sumWords } from "./checksum.js";
import { IpProtocol, UDP_HEADER_LENGTH } from "./constants.js";
import { PacketError } from "./errors.js";
import type { IpView } from "./ip.js";

/** A checked view over a UDP datagram (RFC 768); `buf` is cut to the UDP length field. */
export class UdpView {
  private constructor(readonly buf: Buffer) {}

  static parse(datagram: Buffer): UdpView {
    if (datagram.length < UDP_HEADER_LENGTH) {
      throw new PacketError(
        "truncated",
        `UDP datagram of ${datagram.length} bytes is shorter than its header`,
      );
    }
    const length = datagram.readUInt16BE(4);
    if (length < UDP_HEADER_LENGTH || length > datagram.length) {
      throw new PacketError(
        "bad-length",
        `UDP length ${length} does not fit the ${datagram.length} bytes present`,
      );
    }
    return new UdpView(length === datagram.length ? datagram : datagram.subarray(0, length));
  }

  get srcPort(): number {
    return this.buf.readUInt16BE(0);
  }
  get dstPort(): number {
    return this.buf.readUInt16BE(2);
  }
  get length(): number {
    return this.buf.length;
  }
  get checksum(): number {
    return this.buf.readUInt16BE(6);
  }
  get payload(): Buffer {
    return this.buf.subarray(UDP_HEADER_LENGTH);
  }

  /** A zero checksum means "none" over IPv4 but is invalid over IPv6 (RFC 8200 §8.1). */
  verifyChecksum(ip: IpView): boolean {
    if (this.checksum === 0) return ip.version === 4;
    return sumVerifies(
      sumWords(this.buf, 0, this.buf.length, ip.pseudoHeaderSum(IpProtocol.UDP, this.buf.length)),
    );
  }
}
