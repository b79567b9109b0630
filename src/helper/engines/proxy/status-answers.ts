// How the exit's StreamStatus is told to a proxy client: SOCKS5 reply codes and HTTP statuses.
import { StreamStatus } from "../../../shared/link-streams.js";
import { Reply } from "./socks5-wire.js";

export function socksReply(status: StreamStatus): Reply {
  switch (status) {
    case StreamStatus.Ok:
      return Reply.Succeeded;
    case StreamStatus.NotAllowed:
      return Reply.NotAllowed;
    case StreamStatus.NetworkUnreachable:
      return Reply.NetworkUnreachable;
    // SOCKS5 has no code for a name that does not resolve: proxies answer host unreachable.
    case StreamStatus.HostUnreachable:
    case StreamStatus.NameNotFound:
      return Reply.HostUnreachable;
    case StreamStatus.Refused:
      return Reply.Refused;
    case StreamStatus.TimedOut:
      return Reply.TtlExpired;
    default:
      return Reply.GeneralFailure;
  }
}

export function httpStatus(status: StreamStatus): { code: number; reason: string } {
  if (status === StreamStatus.NotAllowed) return { code: 403, reason: "Forbidden" };
  if (status === StreamStatus.TimedOut) return { code: 504, reason: "Gateway Timeout" };
  return { code: 502, reason: "Bad Gateway" };
}
