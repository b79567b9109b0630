/**
 * A download through the exit, mixed into the fuzzer's traffic on the same link: the smallest
 * TCP client that does the job (in-order receive, one cumulative ACK per batch, the request
 * sent again until the data flows). It hashes the HTTP body from S (e2e/nat/servers.ts).
 */
import { createHash } from "node:crypto";
import { buildTcpPacket, TcpFlag, type TcpView } from "../../src/helper/engines/packet/index.js";

const WINDOW_SCALE = 7;
/** 8 MiB: the exit never has to wait for the window on a link this short. */
const WINDOW = 0xffff;
const RESEND_MS = 1_000;
const MAX_REFUSALS = 60;

export interface DownloadResult {
  sha256: string;
  bodyBytes: number;
}

export class Download {
  readonly done: Promise<DownloadResult>;
  private resolve: (result: DownloadResult) => void = () => undefined;
  private reject: (error: Error) => void = () => undefined;
  private readonly iss = 0x1000_0000;
  private rcvNxt = 0;
  private state: "syn-sent" | "established" | "done" = "syn-sent";
  private header = Buffer.alloc(0);
  private bodyLength: number | undefined;
  private received = 0;
  private readonly hash = createHash("sha256");
  private ackOwed = false;
  private requestSent = false;
  /** Times the SYN was refused (the exit's flow table full): it is sent again. */
  refusals = 0;
  private lastProgress = Date.now();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly send: (packet: Buffer) => void,
    private readonly ends: { src: Uint8Array; dst: Uint8Array; srcPort: number; dstPort: number },
    private readonly bytes: number,
  ) {
    this.done = new Promise((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    this.timer = setInterval(() => this.resendIfStuck(), RESEND_MS);
    this.sendSyn();
  }

  get finished(): boolean {
    return this.state === "done";
  }

  /** Whether a segment from the exit belongs to this download. */
  owns(srcPort: number, dstPort: number, src: Buffer, dst: Buffer): boolean {
    return (
      srcPort === this.ends.dstPort &&
      dstPort === this.ends.srcPort &&
      src.equals(this.ends.dst) &&
      dst.equals(this.ends.src)
    );
  }

  receive(tcp: TcpView): void {
    if (this.state === "done") return;
    if (tcp.rst && this.state === "syn-sent") {
      // Refused while a flood fills the exit's flow table: a client tries again a moment later.
      if (++this.refusals > MAX_REFUSALS) return this.fail(`refused ${this.refusals} times`);
      this.lastProgress = Date.now();
      return;
    }
    if (tcp.rst) return this.fail(`the exit reset the download after ${this.received} bytes`);
    if (this.state === "syn-sent") {
      if (!tcp.syn || !tcp.hasAck) return;
      this.rcvNxt = (tcp.seq + 1) >>> 0;
      this.state = "established";
      this.sendRequest();
      return;
    }
    const payload = tcp.payload;
    const offset = (this.rcvNxt - tcp.seq) >>> 0;
    if (offset > 0x7fff_ffff) return; // a later segment: the exit resends after our ACK
    if (offset < payload.length) {
      this.take(payload.subarray(offset));
      this.rcvNxt = (this.rcvNxt + payload.length - offset) >>> 0;
      this.lastProgress = Date.now();
    }
    if (tcp.fin && offset <= payload.length) this.rcvNxt = (this.rcvNxt + 1) >>> 0;
    this.ackOwed = true;
  }

  /** After each batch from the link: one ACK for everything received in it. */
  flush(): void {
    if (!this.ackOwed || this.state === "syn-sent") return;
    this.ackOwed = false;
    this.segment(TcpFlag.ACK);
  }

  stop(): void {
    clearInterval(this.timer);
    if (this.state === "established") this.segment(TcpFlag.RST | TcpFlag.ACK);
    if (this.state !== "done") this.fail("stopped before the end");
  }

  private take(data: Buffer): void {
    if (this.bodyLength === undefined) {
      this.header = Buffer.concat([this.header, data]);
      const end = this.header.indexOf("\r\n\r\n");
      if (end < 0) return;
      const head = this.header.subarray(0, end).toString("latin1");
      const length = /^content-length:\s*(\d+)/im.exec(head);
      if (!/^HTTP\/1\.1 200/.test(head) || !length) return this.fail(`unexpected response: ${head}`);
      this.bodyLength = Number(length[1]);
      data = this.header.subarray(end + 4);
      this.header = Buffer.alloc(0);
    }
    const wanted = Math.min(data.length, this.bodyLength - this.received);
    this.hash.update(data.subarray(0, wanted));
    this.received += wanted;
    if (this.received === this.bodyLength) {
      this.state = "done";
      clearInterval(this.timer);
      this.segment(TcpFlag.RST | TcpFlag.ACK);
      this.resolve({ sha256: this.hash.digest("hex"), bodyBytes: this.received });
    }
  }

  private fail(why: string): void {
    this.state = "done";
    clearInterval(this.timer);
    this.reject(new Error(why));
  }

  private sendSyn(): void {
    this.send(
      buildTcpPacket({
        ...this.ends,
        seq: this.iss,
        ack: 0,
        flags: TcpFlag.SYN,
        window: WINDOW,
        options: { mss: 65_000, windowScale: WINDOW_SCALE },
      }),
    );
  }

  private request(): Buffer {
    return Buffer.from(`GET /bytes/${this.bytes} HTTP/1.1\r\nHost: s.test\r\nConnection: close\r\n\r\n`);
  }

  private sendRequest(): void {
    this.requestSent = false;
    this.segment(TcpFlag.ACK | TcpFlag.PSH, this.request());
    this.requestSent = true;
  }

  private segment(flags: number, payload?: Buffer): void {
    const sent = this.requestSent ? this.request().length : 0;
    this.send(
      buildTcpPacket({
        ...this.ends,
        seq: (this.iss + 1 + sent) >>> 0,
        ack: this.rcvNxt,
        flags,
        window: WINDOW,
        payload,
      }),
    );
  }

  /** A lost SYN or request (a link queue full of fuzz) is sent again; the exit drops duplicates. */
  private resendIfStuck(): void {
    if (Date.now() - this.lastProgress < RESEND_MS) return;
    if (this.state === "syn-sent") this.sendSyn();
    else if (this.state === "established" && this.bodyLength === undefined && this.header.length === 0)
      this.sendRequest();
    else if (this.state === "established") this.segment(TcpFlag.ACK);
  }
}
