// Errors of target resolution: each says what went wrong and what to type or run instead.
import { CodedError } from "../../../shared/coded-error.js";

export type TargetErrorCode =
  /** The target as typed cannot be understood. */
  | "bad-spec"
  /** An ssh config file has a line ssh itself would refuse. */
  | "ssh-config"
  /** `gh` is not installed, or not where we were told. */
  | "gh-missing"
  /** `gh` has no GitHub login. */
  | "gh-not-logged-in"
  /** `gh`'s token lacks the codespace scope. */
  | "gh-missing-scope"
  /** This `gh` predates a flag or JSON field we use. */
  | "gh-too-old"
  /** `gh` failed for another reason; the message carries what it said. */
  | "gh-failed"
  /** No codespace by that name. */
  | "codespace-not-found"
  /** The codespace did not become Available in time, or failed to start. */
  | "codespace-start"
  /** The codespace's SSH key could not be created. */
  | "codespace-key";

export class TargetError extends CodedError<TargetErrorCode> {
  override readonly name = "TargetError";
}
