// What a test asks of driver.ts (the local helper's entrance, run inside a namespace L standing
// for this computer) over e2e/netns/child-rpc.ts.

export interface EntranceDriverConfig {
  /** The namespace it runs in: resolv.conf is written only when it is that namespace's file. */
  netns: string;
  journalDir: string;
  subnetV4: string;
  subnetV6: string | null;
  /** A name under a --remote-dns-domain and the address the stand-in remote exit answers for it. */
  remoteName: string;
  remoteAddress: string;
}

export interface OpenArgs {
  routes: string[];
  dnsDomains: string[];
}

export type EntranceDriverCommands = {
  /** Opens the entrance; answers its TUN, routes and DNS kind. */
  open: { args: OpenArgs; result: { tun: string; routes: string[]; dns: string | null } };
  /** Undoes every change; answers the report's lines and failures. */
  close: { args: null; result: { lines: string[]; failed: number } };
  /** Undoes the journals of dead helpers (what the helper does when it starts). */
  recover: { args: null; result: string[] };
};

export type EntranceDriverEvent =
  /** A packet the kernel routed into the TUN reached the stand-in remote exit. */
  { event: "packet"; dst: string; kind: string };
