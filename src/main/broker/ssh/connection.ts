// A logged-in SSH connection: exec channels, SFTP, direct-tcpip channels (for ProxyJump).
import { EventEmitter } from "node:events";
import type { Client, ClientChannel, ClientErrorExtensions, SFTPWrapper } from "ssh2";
import { ConnectionLostError } from "./errors.js";
import type { Transport } from "./transport.js";

export interface SshConnection {
  /** The server's IP address for a direct TCP connection; the host name as given otherwise. */
  readonly remoteAddress: string;
  /** Runs `command` through the remote user's shell, without a pty. */
  exec(command: string): Promise<ClientChannel>;
  sftp(): Promise<SFTPWrapper>;
  /** Ends the connection; "close" follows. Safe to call more than once. */
  close(): void;
  on(event: "close", listener: () => void): this;
  on(event: "error", listener: (error: Error) => void): this;
  once(event: "close", listener: () => void): this;
  once(event: "error", listener: (error: Error) => void): this;
}

export class SshConnectionImpl extends EventEmitter implements SshConnection {
  readonly remoteAddress: string;
  private closed = false;

  constructor(
    private readonly client: Client,
    transport: Transport,
    private readonly host: string,
  ) {
    super();
    this.remoteAddress = transport.remoteAddress;
    client.on("error", (error: Error & ClientErrorExtensions) => {
      if (error.level === "agent") return;
      // An "error" nobody listens to would throw; "close" follows anyway and tells the same story.
      if (this.listenerCount("error") > 0)
        this.emit(
          "error",
          new ConnectionLostError(`the SSH connection to ${host} failed: ${error.message}`, { cause: error }),
        );
    });
    client.on("close", () => {
      this.closed = true;
      transport.close();
      this.emit("close");
    });
  }

  exec(command: string): Promise<ClientChannel> {
    return new Promise((resolve, reject) => {
      if (this.closed) return reject(this.closedError());
      this.client.exec(command, (error, channel) => (error ? reject(error) : resolve(channel)));
    });
  }

  sftp(): Promise<SFTPWrapper> {
    return new Promise((resolve, reject) => {
      if (this.closed) return reject(this.closedError());
      this.client.sftp((error, sftp) => (error ? reject(error) : resolve(sftp)));
    });
  }

  /** A direct-tcpip channel to host:port as seen from the server (what `ssh -W` does). */
  forwardOut(host: string, port: number): Promise<ClientChannel> {
    return new Promise((resolve, reject) => {
      if (this.closed) return reject(this.closedError());
      this.client.forwardOut("127.0.0.1", 0, host, port, (error, channel) =>
        error ? reject(error) : resolve(channel),
      );
    });
  }

  close(): void {
    if (this.closed) return;
    this.client.end();
  }

  private closedError(): ConnectionLostError {
    return new ConnectionLostError(`the SSH connection to ${this.host} is closed`);
  }
}
