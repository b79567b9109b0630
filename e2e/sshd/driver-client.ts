// The test's side of driver.ts: starts it in L and turns requests into awaited replies.
import { ChildRpc } from "../netns/child-rpc.js";
import type { NetworkNamespace } from "../netns/index.js";
import type { DriverCommands, DriverReply, DriverRequest } from "./driver-protocol.js";

export class SshDriver {
  private constructor(private readonly child: ChildRpc<DriverCommands>) {}

  /**
   * Starts the driver in `namespace` with HOME set to `home` and no SSH_AUTH_SOCK, so nothing of
   * this machine's own ~/.ssh or agent is used by accident. The namespace's lab stops it.
   */
  static start(namespace: NetworkNamespace, home: string): SshDriver {
    const env: NodeJS.ProcessEnv = { ...process.env, HOME: home };
    delete env.SSH_AUTH_SOCK;
    return new SshDriver(ChildRpc.start(namespace, "e2e/sshd/driver.ts", { env, name: "the SSH driver" }));
  }

  request(body: DriverRequest, timeoutMs = 60_000): Promise<DriverReply> {
    return this.child.request(body.op, body, timeoutMs);
  }

  async stop(): Promise<void> {
    await this.child.stop();
  }
}
