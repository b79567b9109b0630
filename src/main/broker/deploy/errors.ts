// Why the agent cannot be deployed or started on a remote, each with what to do about it.

export type DeployProblemCode =
  | "NOT_LINUX"
  | "UNSUPPORTED_ARCH"
  | "NO_ADDON_FOR_ARCH"
  | "NODE_MISSING"
  | "NODE_TOO_OLD"
  | "NO_TUN"
  | "SUDO_MISSING"
  | "SUDO_NEEDS_PASSWORD"
  | "NO_HOME";

export interface DeployProblem {
  code: DeployProblemCode;
  message: string;
}

/** The remote cannot run the agent; `problems` lists every reason found, so all can be fixed at once. */
export class RemoteNotReadyError extends Error {
  override readonly name = "RemoteNotReadyError";
  constructor(
    readonly host: string,
    readonly problems: readonly DeployProblem[],
  ) {
    super(
      problems.length === 1
        ? `${host} cannot run Backhaul's agent: ${problems[0]?.message}`
        : `${host} cannot run Backhaul's agent:\n${problems.map((problem) => `  - ${problem.message}`).join("\n")}`,
    );
  }

  has(code: DeployProblemCode): boolean {
    return this.problems.some((problem) => problem.code === code);
  }
}

/** Probing, uploading or verifying failed for another reason (a broken shell, a full disk). */
export class DeployFailedError extends Error {
  override readonly name = "DeployFailedError";
}

/**
 * sudo would not start the agent: the password was refused or not given, or sudo said no. Retrying
 * would only ask again (and count against the user's lockout), so the session ends here.
 */
/**
 * Why sudo did not start the agent: no password could be had (no terminal, none given), the one
 * given was wrong, or sudo refused this user. `auto` takes the proxy entrance on the first and
 * the last; a wrong password is the user's to know about.
 */
export type SudoRefusal = "no-password" | "wrong-password" | "refused";

export class SudoRefusedError extends Error {
  override readonly name = "SudoRefusedError";

  constructor(
    message: string,
    readonly why: SudoRefusal = "refused",
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
