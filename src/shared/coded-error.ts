/**
 * An error that carries a machine-readable `code` beside a message a user can act on: the base of
 * each module's typed error (LinkError, PacketError, RouteTableError, TargetError), which names
 * itself and lists its codes.
 */
export class CodedError<Code extends string> extends Error {
  constructor(
    readonly code: Code,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
