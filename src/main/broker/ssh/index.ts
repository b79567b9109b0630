// SSH for the broker: connectSsh() and the errors it throws. See connect.ts.
export { connectSsh, type SshConnectOptions } from "./connect.js";
export type { SshConnection } from "./connection.js";
export {
  AuthFailedError,
  ConnectionLostError,
  HandshakeFailedError,
  HostKeyChangedError,
  HostKeyOtherTypeError,
  HostKeyUnknownError,
  SshError,
  UnreachableError,
  type AuthAttempt,
  type HostKeyInfo,
  type SshErrorCode,
} from "./errors.js";
export type { HostKeyPolicy } from "./host-key.js";
export type { PassphrasePrompt } from "./identities.js";
