/**
 * The local helper's socket server: authenticates each connection by its token, runs one exit
 * session (NAT + DNS) per link connection, and streams that link's progress and tables to the
 * control connection main attaches to it. See src/shared/helper-protocol.ts for the wire format.
 */
import { randomBytes, timingSafeEqual } from "node:crypto";
import { rmSync, symlinkSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import { join } from "node:path";
import {
  agentProgress,
  encodeLine,
  MAX_HELLO_LINE,
  MAX_HELPER_LINE,
  parseCommand,
  parseHello,
  type HelperCommand,
  type HelperEvent,
  type HelperExitOptions,
  type HelperReply,
} from "../../shared/helper-protocol.js";
import type { RemoteDiagnosis } from "../../shared/diagnose-frames.js";
import { ControlChannel } from "./control-channel.js";
import { ExitSession, openExitLink } from "../engines/exit-session.js";
import { claimSocketPath } from "../engines/socket-path.js";
import { EndedBeforeFirstLineError, readFirstLine, splitLines } from "./line-socket.js";
import { handOverSocket, makePrivateSocketDir, privateSocketBase } from "./private-socket-dir.js";
import type { Link } from "../engines/link/link.js";
import type { NatEngineOptions } from "../engines/nat/engine.js";
import { LocalEntrance } from "./local-entrance.js";

export interface HelperServerOptions {
  /** Where main connects: DIR/helper.sock, through the control directory's descriptor (control-dir.ts). */
  socketPath: string;
  token: string;
  /**
   * When the helper runs elevated: the user main runs as. The socket is then made in a root-owned
   * directory (private-socket-dir.ts), handed to this user (still 0600), and `socketPath` is a
   * symlink to it.
   */
  ownerUid?: number;
  /** Where that root-owned directory is made; /run, else /tmp. */
  privateSocketBase?: string;
  icmp?: NatEngineOptions["icmp"];
  log(line: string): void;
  /** A `shutdown` hello with the right token arrived. */
  onShutdown(): void;
  /** Where this computer's entrances (`--remote-route`) journal their changes (local-journal.ts). */
  journalDir?: string;
}

export interface HelperServer {
  /** Links running now. */
  readonly linkCount: number;
  close(): Promise<void>;
}

const HELLO_TIMEOUT_MS = 5_000;
const STATUS_INTERVAL_MS = 1_000;
/** Room for two of the longest lines (table snapshots) waiting on a main that reads slowly. */
const MAX_CONTROL_BACKLOG = 2 * MAX_HELPER_LINE;

interface LinkEntry {
  link: Link;
  exit: ExitSession | undefined;
  ready: boolean;
  progress: Record<string, number>;
  /**
   * Set while this computer's TUN (--remote-route) is being set up: the agent's "ready" is held
   * back until it is, so that main says connected only once both ends are in place.
   */
  holdReady: boolean;
  control: Socket | undefined;
  channel: ControlChannel | undefined;
  closedReason: string | undefined;
  /** This computer's TUN entrance, when the link asked for one; undone when the link closes. */
  entrance: Promise<LocalEntrance | null>;
}

export async function startHelperServer(options: HelperServerOptions): Promise<HelperServer> {
  const links = new Map<string, LinkEntry>();
  const expected = Buffer.from(options.token);
  const socksOwner = options.ownerUid ?? process.getuid?.();

  const refuse = (socket: Socket, reason: string): void => {
    options.log(`refused a connection: ${reason}`);
    socket.end(encodeLine({ type: "refused", reason }));
  };

  const onConnection = async (socket: Socket): Promise<void> => {
    socket.on("error", () => undefined); // its close reports it
    let line: string;
    try {
      line = await readFirstLine(socket, MAX_HELLO_LINE, HELLO_TIMEOUT_MS);
    } catch (error) {
      // Connected and hung up without a byte: a readiness probe (the supervisor's), not a client.
      if (error instanceof EndedBeforeFirstLineError && error.bytesRead === 0) return void socket.destroy();
      return refuse(socket, error instanceof Error ? error.message : String(error));
    }
    let hello;
    try {
      hello = parseHello(line);
    } catch (error) {
      return refuse(socket, error instanceof Error ? error.message : String(error));
    }
    const offered = Buffer.from(hello.token);
    if (offered.length !== expected.length || !timingSafeEqual(offered, expected))
      return refuse(socket, "wrong token");
    switch (hello.type) {
      case "shutdown":
        socket.end();
        options.onShutdown();
        return;
      case "link":
        return startLink(socket, hello.options);
      case "control": {
        const entry = links.get(hello.linkId);
        if (!entry) return refuse(socket, "no such link (it may have closed)");
        if (entry.control) return refuse(socket, "that link already has a control connection");
        return attachControl(socket, hello.linkId, entry);
      }
      case "capture": {
        const entry = links.get(hello.linkId);
        if (!entry?.exit) return refuse(socket, "no such link (it may have closed or not started yet)");
        return startCapture(socket, hello.linkId, entry.exit, entry, hello);
      }
    }
  };

  const startLink = (socket: Socket, exitOptions: HelperExitOptions): void => {
    socket.setNoDelay(true);
    const linkId = randomBytes(16).toString("hex");
    // A DNS table in every mode: the proxy entrance's names are looked up there even with DNS off.
    const reply: HelperReply = { type: "accepted", linkId, dns: true };
    socket.write(encodeLine(reply)); // before the Link's HELLO: main reads this line first
    const link = openExitLink(socket, exitOptions);
    socket.resume();
    const entry: LinkEntry = {
      link,
      exit: undefined,
      ready: false,
      progress: {},
      holdReady: (exitOptions.remoteRoutes?.length ?? 0) + (exitOptions.remoteDnsDomains?.length ?? 0) > 0,
      control: undefined,
      channel: undefined,
      closedReason: undefined,
      entrance: Promise.resolve(null),
    };
    links.set(linkId, entry);
    link.ready.then(
      () => {
        entry.ready = true;
        send(entry, { type: "ready" });
        // A round-trip time to show at once, not only after the first keepalive.
        link.ping().catch(() => undefined);
      },
      () => undefined, // the close below reports it
    );
    link.on("stats", (report) => {
      let changed = false;
      for (const [key, value] of Object.entries(agentProgress(report.extra))) {
        if (entry.progress[key] === value) continue;
        entry.progress[key] = value;
        changed = true;
      }
      if (changed) sendProgress(entry);
    });
    void link.closed.then(async (info) => {
      entry.closedReason = info.reason;
      await closeEntrance(entry, linkId);
      options.log(`link ${linkId.slice(0, 8)} closed (${info.initiator}): ${info.reason}`);
      send(entry, { type: "closed", reason: info.reason });
      entry.control?.end();
      links.delete(linkId);
    });
    ExitSession.start({
      link,
      mtu: exitOptions.mtu,
      subnetV4: exitOptions.subnetV4,
      subnetV6: exitOptions.subnetV6,
      routes: exitOptions.routes,
      allowLocal: exitOptions.allowLocal,
      dns: exitOptions.dns,
      ...(exitOptions.reverse ? { reverse: exitOptions.reverse } : {}),
      ...(exitOptions.socks ? { socks: exitOptions.socks } : {}),
      // `--socks` serves the user main runs as without credentials (the helper may be root).
      ...(socksOwner === undefined ? {} : { socksOwnerUid: socksOwner }),
      dnsDomains: exitOptions.dnsDomains,
      icmp: options.icmp,
      log: (line) => options.log(`link ${linkId.slice(0, 8)}: ${line}`),
    }).then(
      (exit) => {
        entry.exit = exit;
        if (entry.control) subscribeTables(entry, exit);
        entry.entrance = openEntrance(link, exit, exitOptions, linkId);
      },
      (error: unknown) => {
        options.log(`could not start the exit side: ${String(error)}`);
        link.close("the local helper could not start its engines");
      },
    );
    options.log(`link ${linkId.slice(0, 8)} started`);
  };

  /**
   * `--remote-route` / `--remote-dns-domain`: a TUN on this computer whose packets go to the
   * agent's exit, once the handshake says the agent runs one. A failure closes the link with the
   * reason: the user asked for it, and a session without it would be a silent half.
   */
  const openEntrance = async (
    link: Link,
    exit: ExitSession,
    exitOptions: HelperExitOptions,
    linkId: string,
  ): Promise<LocalEntrance | null> => {
    const routes = exitOptions.remoteRoutes ?? [];
    const dnsDomains = exitOptions.remoteDnsDomains ?? [];
    if (routes.length === 0 && dnsDomains.length === 0) return null;
    const logLine = (line: string): void => options.log(`link ${linkId.slice(0, 8)}: ${line}`);
    try {
      await link.ready;
    } catch {
      return null;
    }
    if (!link.reverse) {
      link.close("the agent runs no exit (an older Backhaul on the remote): --remote-route cannot work");
      return null;
    }
    try {
      if (options.journalDir === undefined) throw new Error("this helper has no journal directory");
      const entrance = await LocalEntrance.open({
        journalDir: options.journalDir,
        subnetV4: exitOptions.subnetV4,
        subnetV6: exitOptions.subnetV6,
        mtu: exitOptions.mtu,
        routes,
        dnsDomains,
        port: exit.remoteExitPort,
        log: logLine,
      });
      const entry = links.get(linkId);
      if (entry === undefined) {
        await entrance.close(); // the link closed while the TUN was being set up
        return null;
      }
      entry.holdReady = false;
      sendProgress(entry);
      return entrance;
    } catch (error) {
      const why = error instanceof Error ? error.message : String(error);
      logLine(`this computer's TUN could not be set up: ${why}`);
      link.close(`this computer's TUN (--remote-route) could not be set up: ${why}`);
      return null;
    }
  };

  const closeEntrance = async (entry: LinkEntry, linkId: string): Promise<void> => {
    const entrance = await entry.entrance;
    if (entrance === null) return;
    const report = await entrance.close();
    for (const failure of report.failed)
      options.log(`link ${linkId.slice(0, 8)}: could not undo ${failure.error.message}`);
  };

  const attachControl = (socket: Socket, linkId: string, entry: LinkEntry): void => {
    entry.control = socket;
    socket.write(encodeLine({ type: "attached", linkId }));
    entry.channel = new ControlChannel(socket, { maxBacklogBytes: MAX_CONTROL_BACKLOG, log: options.log });
    if (entry.ready) send(entry, { type: "ready" });
    if (Object.keys(entry.progress).length > 0) sendProgress(entry);
    if (entry.exit) subscribeTables(entry, entry.exit);
    const status = setInterval(
      () => send(entry, { type: "status", rttMs: entry.link.rttMs }),
      STATUS_INTERVAL_MS,
    );
    splitLines(
      socket,
      MAX_HELLO_LINE,
      (line) => {
        try {
          const command = parseCommand(line);
          if (command.type === "routes") entry.exit?.updateRoutes(command.routes);
          else if (command.type === "dnsDomains") entry.exit?.updateDnsDomains(command.domains);
          else if (command.type === "dnsMode") entry.exit?.updateDnsMode(command.mode, command.domains);
          else if (command.type === "allowLocal") setAllowLocal(entry, linkId, command);
          else if (command.type === "diagnose") checkRemote(entry, command);
          else entry.link.close(command.reason);
        } catch (error) {
          options.log(`control: ${error instanceof Error ? error.message : String(error)}; ignored`);
        }
      },
      () => socket.destroy(),
    );
    socket.resume();
    socket.once("close", () => {
      clearInterval(status);
      // Main went away (or crashed): nobody would restore the remote's view of this link.
      entry.link.close("the broker closed its control connection");
    });
  };

  /**
   * The link's packets as pcapng, written to the capture connection: main, running as the user,
   * writes them into the user's file. A main that reads too slowly costs dropped packets.
   */
  const startCapture = (
    socket: Socket,
    linkId: string,
    exit: ExitSession,
    entry: LinkEntry,
    request: { maxBytes: number; session: string },
  ): void => {
    socket.write(encodeLine({ type: "attached", linkId }));
    const writer = exit.startCapture(socket, {
      ...request,
      onStop: (reason) => send(entry, { type: "capture", stopped: reason }),
    });
    // Any byte from main asks to stop: the writer then writes what it holds and ends the stream.
    socket.once("data", () => writer.close());
    socket.once("close", () => writer.close());
    socket.resume();
    options.log(`link ${linkId.slice(0, 8)}: recording packets (up to ${request.maxBytes} bytes)`);
  };

  const subscribeTables = (entry: LinkEntry, exit: ExitSession): void => {
    send(entry, { type: "flows", delta: { upserts: exit.nat.table.snapshot(), removals: [] } });
    const unsubscribeFlows = exit.nat.table.subscribe((delta) => send(entry, { type: "flows", delta }));
    send(entry, { type: "dns", delta: { upserts: exit.dns.table.snapshot(), removals: [] } });
    const unsubscribeDns = exit.dns.table.subscribe((delta) => send(entry, { type: "dns", delta }));
    entry.control?.once("close", () => {
      unsubscribeFlows();
      unsubscribeDns();
    });
  };

  const send = (entry: LinkEntry, event: HelperEvent): void => entry.channel?.send(event);

  const setAllowLocal = (
    entry: LinkEntry,
    linkId: string,
    command: Extract<HelperCommand, { type: "allowLocal" }>,
  ): void => {
    // Before the engines run nothing is open, and main's options at its next connect hold the setting.
    const endedFlows = entry.exit?.setAllowLocal(command.allow) ?? 0;
    if (endedFlows > 0)
      options.log(
        `link ${linkId.slice(0, 8)}: access to this computer switched off; ${endedFlows} open flow${endedFlows === 1 ? "" : "s"} to it ended`,
      );
    send(entry, { type: "allowLocal", id: command.id, endedFlows });
  };

  const checkRemote = (entry: LinkEntry, command: Extract<HelperCommand, { type: "diagnose" }>): void => {
    const { id, host, port, address } = command;
    const answer = (result: RemoteDiagnosis | null, error: string | null): void =>
      send(entry, { type: "diagnosis", id, result, error });
    if (!entry.exit) return answer(null, "the link to the remote is not up yet");
    entry.exit.remoteChecks.ask({ host, port, address }).then(
      (result) => answer(result, null),
      (error: unknown) => answer(null, error instanceof Error ? error.message : String(error)),
    );
  };

  const sendProgress = (entry: LinkEntry): void => {
    const { "agent.ready": ready, ...rest } = entry.progress;
    send(entry, { type: "progress", extra: entry.holdReady || ready === undefined ? rest : entry.progress });
  };

  // A live socket is another helper's (an elevated one that came late, say): never take it over.
  if (!(await claimSocketPath(options.socketPath)))
    throw new Error(`another helper already listens on ${options.socketPath}`);
  const elevated = options.ownerUid !== undefined && process.getuid?.() === 0;
  const privateDir = elevated
    ? makePrivateSocketDir(options.privateSocketBase ?? privateSocketBase())
    : undefined;
  const listenPath = privateDir ? join(privateDir, "helper.sock") : options.socketPath;
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    void onConnection(socket);
  });
  // Created owner-only from the start: the umask covers the window before any chmod.
  const umask = process.umask(0o177);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(listenPath, () => resolve());
    });
  } finally {
    process.umask(umask);
  }
  if (privateDir && options.ownerUid !== undefined) {
    try {
      handOverSocket(privateDir, listenPath, options.ownerUid);
      // Fails if anything is there already (the user may race us): never replaced, never followed.
      symlinkSync(listenPath, options.socketPath);
    } catch (error) {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(privateDir, { recursive: true, force: true });
      throw error;
    }
  }
  return {
    get linkCount() {
      return links.size;
    },
    close: async () => {
      const closing = [...links.entries()];
      for (const [, entry] of closing) entry.link.close("the local helper is stopping");
      await Promise.all(closing.map(([, entry]) => entry.link.closed));
      // The TUN, its routes and the resolver are back as they were before the helper exits.
      await Promise.all(closing.map(([linkId, entry]) => closeEntrance(entry, linkId)));
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy(); // a peer that never hangs up must not hold us
      await closed;
      rmSync(options.socketPath, { force: true });
      if (privateDir) rmSync(privateDir, { recursive: true, force: true });
    },
  };
}
