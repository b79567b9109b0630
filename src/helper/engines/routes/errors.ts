// Typed errors of the routes module, with messages a user can act on.
import { CodedError } from "../../../shared/coded-error.js";

/** A prefix given by the user (or found in a table) that cannot be used, and why. */
export class CidrError extends Error {
  constructor(
    readonly input: string,
    readonly reason: string,
  ) {
    super(`${JSON.stringify(input)} is not a usable prefix: ${reason}`);
    this.name = "CidrError";
  }
}

export type RouteTableErrorCode =
  "command-not-found" | "command-failed" | "unparsable-output" | "unsupported-platform";

/** The routing table could not be read: which command, and what went wrong. */
export class RouteTableError extends CodedError<RouteTableErrorCode> {
  override readonly name = "RouteTableError";
}
