/** main's side of the helper protocol (src/shared/helper-protocol.ts): opening links and controls. */
import { connect, type Socket } from "node:net";
import {
  encodeLine,
  MAX_HELLO_LINE,
  parseReply,
  type HelperExitOptions,
  type HelperHello,
  type HelperReply,
} from "../../../shared/helper-protocol.js";
import { readFirstLine } from "../../../helper/local/line-socket.js";

export interface HelperEndpoint {
  socketPath: string;
  token: string;
}

/** The helper said no (a wrong token, a link that closed); retrying the same would not help. */
export class HelperRefusedError extends Error {
  override readonly name = "HelperRefusedError";
}

const REPLY_TIMEOUT_MS = 5_000;

/** Opens a link connection; the returned socket is paused, its next byte the first link frame. */
export async function openHelperLink(
  endpoint: HelperEndpoint,
  options: HelperExitOptions,
): Promise<{ socket: Socket; linkId: string; dns: boolean }> {
  const { socket, reply } = await hello(endpoint, { type: "link", token: endpoint.token, options });
  if (reply.type !== "accepted") throw unexpected(socket, reply);
  return { socket, linkId: reply.linkId, dns: reply.dns };
}

/** Attaches the control connection of a link; the returned socket is paused. */
export async function attachHelperControl(endpoint: HelperEndpoint, linkId: string): Promise<Socket> {
  const { socket, reply } = await hello(endpoint, { type: "control", token: endpoint.token, linkId });
  if (reply.type !== "attached") throw unexpected(socket, reply);
  return socket;
}

/**
 * Opens a capture connection to a link: the returned socket carries the link's packets as
 * pcapng, paused. Writing any byte to it asks the helper to stop; it then ends the stream.
 */
export async function openHelperCapture(
  endpoint: HelperEndpoint,
  linkId: string,
  request: { maxBytes: number; session: string },
): Promise<Socket> {
  const { socket, reply } = await hello(endpoint, {
    type: "capture",
    token: endpoint.token,
    linkId,
    ...request,
  });
  if (reply.type !== "attached") throw unexpected(socket, reply);
  return socket;
}

/** Asks the helper to exit (an elevated one cannot be signalled by us). */
export async function shutdownHelper(endpoint: HelperEndpoint): Promise<void> {
  const socket = await connected(endpoint.socketPath);
  await new Promise<void>((resolve) => {
    socket.once("close", () => resolve());
    socket.end(encodeLine({ type: "shutdown", token: endpoint.token }));
  });
}

async function hello(
  endpoint: HelperEndpoint,
  message: HelperHello,
): Promise<{ socket: Socket; reply: HelperReply }> {
  const socket = await connected(endpoint.socketPath);
  try {
    socket.write(encodeLine(message));
    const reply = parseReply(await readFirstLine(socket, MAX_HELLO_LINE, REPLY_TIMEOUT_MS));
    return { socket, reply };
  } catch (error) {
    socket.destroy();
    throw new Error(
      `the local helper did not answer: ${error instanceof Error ? error.message : String(error)}`,
      {
        cause: error,
      },
    );
  }
}

function unexpected(socket: Socket, reply: HelperReply): Error {
  socket.destroy();
  if (reply.type === "refused") return new HelperRefusedError(`the local helper refused: ${reply.reason}`);
  return new Error(`the local helper answered ${reply.type} unexpectedly`);
}

function connected(path: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(path);
    socket.once("connect", () => {
      socket.off("error", reject);
      socket.on("error", () => undefined); // its close reports it
      socket.setNoDelay(true);
      resolve(socket);
    });
    socket.once("error", reject);
  });
}
