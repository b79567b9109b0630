// The order ssh2 tries to log in, as OpenSSH does it: "none" (to learn the server's methods), the
// keys in ssh-agent, then each identity file (decrypted only when its turn comes, so a working
// agent means no passphrase prompt). Every attempt is recorded for AuthFailedError.
import { existsSync } from "node:fs";
import ssh2, {
  type AnyAuthMethod,
  type AuthHandlerMiddleware,
  type IdentityCallback,
  type ParsedKey,
} from "ssh2";
import { AuthFailedError, type AuthAttempt } from "./errors.js";
import { loadIdentity, type PassphrasePrompt } from "./identities.js";
import { fingerprintSha256 } from "./known-hosts.js";
import { sanitiseRemoteText } from "../../../shared/remote-text.js";

export interface AuthPlanOptions {
  username: string;
  /** The host as the user named it, for messages. */
  host: string;
  agentSocket: string | null;
  identityFiles: readonly string[];
  /** Default files that do not exist are not worth mentioning; named ones are. */
  identityFilesAreDefaults: boolean;
  passphrase?: PassphrasePrompt | undefined;
}

/** OpenSSHAgent that remembers what it listed, for the error message and to skip duplicate files. */
class RecordingAgent extends ssh2.OpenSSHAgent {
  keys: ParsedKey[] = [];
  error: Error | undefined;

  override getIdentities(callback: IdentityCallback<ParsedKey>): void {
    super.getIdentities((error, keys) => {
      if (error) this.error = error;
      else this.keys = (keys ?? []).filter((key): key is ParsedKey => "getPublicSSH" in key);
      callback(error, keys);
    });
  }
}

function describeAgentKey(key: ParsedKey): string {
  const fingerprint = fingerprintSha256(key.getPublicSSH());
  return key.comment ? `${key.comment} (${fingerprint})` : fingerprint;
}

// ssh2 takes `false` for "no more methods", which its types leave out.
const NO_MORE_METHODS = false as unknown as AnyAuthMethod;

export class AuthPlan {
  readonly attempts: AuthAttempt[] = [];
  /** What the server said it accepts, once it said it. */
  serverMethods: string[] = [];
  private readonly steps: AsyncGenerator<AnyAuthMethod, void>;

  constructor(private readonly options: AuthPlanOptions) {
    this.steps = this.sequence();
  }

  /** ssh2's authHandler: called first with null, then after each failure with the methods left. */
  readonly handler: AuthHandlerMiddleware = (methodsLeft, _partialSuccess, next) => {
    // ssh2 passes null on the first call, though its types say otherwise.
    if (Array.isArray(methodsLeft))
      this.serverMethods = methodsLeft.map((method) => sanitiseRemoteText(method, 64));
    const keysAllowed = !Array.isArray(methodsLeft) || methodsLeft.includes("publickey");
    if (!keysAllowed) {
      next(NO_MORE_METHODS);
      return;
    }
    this.steps.next().then(
      (step) => next(step.done ? NO_MORE_METHODS : step.value),
      () => next(NO_MORE_METHODS),
    );
  };

  failure(reason?: string): AuthFailedError {
    return new AuthFailedError(
      this.options.username,
      this.options.host,
      this.attempts,
      this.serverMethods,
      reason,
    );
  }

  private async *sequence(): AsyncGenerator<AnyAuthMethod, void> {
    const { username, agentSocket } = this.options;
    yield { type: "none", username };

    let agent: RecordingAgent | undefined;
    if (agentSocket) {
      const attempt: AuthAttempt = {
        source: `ssh-agent (${agentSocket})`,
        outcome: "no agent listens there",
      };
      this.attempts.push(attempt);
      if (existsSync(agentSocket)) {
        agent = new RecordingAgent(agentSocket);
        yield { type: "agent", username, agent };
        attempt.outcome = agent.error
          ? `cannot use it (${agent.error.message})`
          : agent.keys.length === 0
            ? "holds no keys"
            : `refused by the server: ${agent.keys.map(describeAgentKey).join(", ")}`;
      }
    }

    for (const file of this.options.identityFiles) {
      const load = await loadIdentity(file, this.options.passphrase);
      if (load.status === "missing") {
        if (!this.options.identityFilesAreDefaults)
          this.attempts.push({ source: file, outcome: "not found" });
        continue;
      }
      if (load.status === "skipped") {
        this.attempts.push({ source: file, outcome: load.reason });
        continue;
      }
      const publicBlob = load.key.getPublicSSH();
      if (agent?.keys.some((key) => key.getPublicSSH().equals(publicBlob))) {
        this.attempts.push({ source: file, outcome: "same key as one in the agent, already refused" });
        continue;
      }
      this.attempts.push({ source: file, outcome: "refused by the server" });
      yield { type: "publickey", username, key: load.key };
    }
  }
}
