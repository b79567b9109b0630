// One HTTP proxy connection: CONNECT host:port (a tunnel), or one absolute-form request for plain
// HTTP, forwarded without the proxy's credentials and spliced to that origin.
import type { Socket } from "node:net";
import {
  StreamOpenError,
  StreamStatus,
  type LinkStream,
  type StreamTarget,
} from "../../../shared/link-streams.js";
import { basicMatches } from "./credentials.js";
import { refuse, type HandshakeReader } from "./handshake-reader.js";
import {
  bodyLength,
  header,
  originHead,
  parseAbsoluteTarget,
  parseAuthority,
  parseHead,
  statusResponse,
} from "./http-head.js";
import type { ProxyContext } from "./proxy-context.js";
import { splice } from "./splice.js";
import { httpStatus } from "./status-answers.js";

export async function serveHttp(
  socket: Socket,
  reader: HandshakeReader,
  context: ProxyContext,
): Promise<void> {
  const { counters } = context;
  const result = await reader.next(parseHead);
  if (result.status === "too-large") {
    counters.badRequests++;
    refuse(socket, reader, statusResponse(431, "Request Header Fields Too Large"));
    return;
  }
  if (result.status !== "ok") {
    counters.badRequests++;
    refuse(socket, reader, statusResponse(400, "Bad Request"));
    return;
  }
  const head = result.value;
  const authorization = header(head, "Proxy-Authorization");
  const allowed =
    authorization === undefined
      ? await context.ownerClient()
      : basicMatches(context.credentials, authorization);
  if (!allowed) {
    counters.authRefused++;
    refuse(
      socket,
      reader,
      statusResponse(407, "Proxy Authentication Required", ['Proxy-Authenticate: Basic realm="backhaul"']),
    );
    return;
  }
  context.handshakeDone();

  if (head.method === "CONNECT") {
    const target = parseAuthority(head.target, null);
    if (target === null) return badRequest(socket, reader, context);
    const stream = await open(socket, reader, target, context);
    if (stream === null) return;
    socket.write("HTTP/1.1 200 Connection established\r\n\r\n");
    await splice(socket, stream, reader.detach());
    return;
  }
  const absolute = parseAbsoluteTarget(head.target);
  const body = bodyLength(head);
  if (absolute === null || body === null) return badRequest(socket, reader, context);
  const stream = await open(socket, reader, absolute.target, context);
  if (stream === null) return;
  stream.write(originHead(head, absolute));
  await splice(socket, stream, { ...reader.detach(), ...(body !== undefined && { upstreamLimit: body }) });
}

function badRequest(socket: Socket, reader: HandshakeReader, context: ProxyContext): void {
  context.counters.badRequests++;
  refuse(socket, reader, statusResponse(400, "Bad Request"));
}

async function open(
  socket: Socket,
  reader: HandshakeReader,
  target: StreamTarget,
  context: ProxyContext,
): Promise<LinkStream | null> {
  try {
    const stream = await context.opener.open(target);
    context.counters.streamsOpened++;
    if (!socket.destroyed) return stream;
    stream.reset();
    return null;
  } catch (error) {
    context.counters.openFailed++;
    const status = error instanceof StreamOpenError ? error.status : StreamStatus.GeneralFailure;
    const { code, reason } = httpStatus(status);
    refuse(socket, reader, statusResponse(code, reason));
    return null;
  }
}
