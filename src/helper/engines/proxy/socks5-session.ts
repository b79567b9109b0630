// One SOCKS5 client connection: greeting, username/password (the only method offered: the
// remote is shared, so there is no "no authentication" — except for a client the OS says is the
// proxy's own user, see ProxyServerOptions.isOwner), then CONNECT or UDP ASSOCIATE.
import type { Socket } from "node:net";
import { StreamOpenError, StreamStatus } from "../../../shared/link-streams.js";
import { credentialsMatch } from "./credentials.js";
import { refuse, type HandshakeReader } from "./handshake-reader.js";
import type { ProxyContext } from "./proxy-context.js";
import {
  AUTH_VERSION,
  Command,
  encodeReply,
  Method,
  parseGreeting,
  parseRequest,
  parseUserPass,
  Reply,
  SOCKS_VERSION,
} from "./socks5-wire.js";
import { splice } from "./splice.js";
import { socksReply } from "./status-answers.js";

export async function serveSocks5(
  socket: Socket,
  reader: HandshakeReader,
  context: ProxyContext,
): Promise<void> {
  const { counters } = context;
  const greeting = await reader.next(parseGreeting);
  if (greeting.status !== "ok") {
    counters.badRequests++;
    // A SOCKS5 greeting we cannot read still gets "no acceptable method" when it claims v5.
    refuse(socket, reader, Buffer.from([SOCKS_VERSION, Method.NoAcceptable]));
    return;
  }
  const { methods } = greeting.value;
  // A client that offers credentials gives them; one that offers none is served only when the OS
  // says it is the proxy's own user (`--socks` on this computer, Linux: ProxyServerOptions.isOwner).
  if (methods.includes(Method.UsernamePassword)) {
    socket.write(Buffer.from([SOCKS_VERSION, Method.UsernamePassword]));
    const auth = await reader.next(parseUserPass);
    if (
      auth.status !== "ok" ||
      !credentialsMatch(context.credentials, auth.value.username, auth.value.password)
    ) {
      if (auth.status === "ok") counters.authRefused++;
      else counters.badRequests++;
      // RFC 1929: a non-zero status, then the server must close the connection.
      refuse(socket, reader, Buffer.from([AUTH_VERSION, 1]));
      return;
    }
    socket.write(Buffer.from([AUTH_VERSION, 0]));
  } else if (methods.includes(Method.NoAuthentication) && (await context.ownerClient())) {
    socket.write(Buffer.from([SOCKS_VERSION, Method.NoAuthentication]));
  } else {
    counters.authRefused++;
    refuse(socket, reader, Buffer.from([SOCKS_VERSION, Method.NoAcceptable]));
    return;
  }

  const request = await reader.next(parseRequest);
  if (request.status === "invalid") {
    counters.badRequests++;
    refuse(socket, reader, encodeReply(Reply.GeneralFailure));
    return;
  }
  if (request.status === "refused") {
    counters.badRequests++;
    refuse(socket, reader, encodeReply(request.reply));
    return;
  }
  if (request.status !== "ok") return;
  context.handshakeDone();
  const { command, target } = request.value;

  if (command === Command.Connect) {
    let stream;
    try {
      stream = await context.opener.open(target);
    } catch (error) {
      counters.openFailed++;
      const status = error instanceof StreamOpenError ? error.status : StreamStatus.GeneralFailure;
      refuse(socket, reader, encodeReply(socksReply(status)));
      return;
    }
    counters.streamsOpened++;
    if (socket.destroyed) {
      stream.reset();
      return;
    }
    socket.write(encodeReply(Reply.Succeeded));
    await splice(socket, stream, reader.detach());
    return;
  }
  if (command === Command.UdpAssociate && context.udp !== null) {
    const control = reader.detach();
    const association = await context.udp.associate(socket, target.port);
    counters.udpAssociations++;
    socket.write(encodeReply(Reply.Succeeded, association.bound));
    // The association lives as long as its control connection (RFC 1928 section 7).
    const close = (): void => association.close();
    if (control.ended) {
      socket.end();
      close();
    }
    socket.on("data", () => undefined);
    socket.on("end", () => socket.end());
    socket.on("close", close);
    socket.resume();
    return;
  }
  counters.badRequests++;
  refuse(socket, reader, encodeReply(Reply.CommandNotSupported));
}
