import {
  IPV4_HEADER_LENGTH,
  IPV6_HEADER_LENGTH,
  TCP_HEADER_LENGTH,
  type TcpOptions,
} from "../../packet/index.js";

/** Our window scale shift: windows up to 8 MiB, enough for a fast, short link. */
export const OUR_WINDOW_SCALE = 7;

/**
 * The smallest MSS we honour, as Linux's tcp_min_snd_mss: a remote offering less (down to 1) would
 * make us cut its downloads into tiny segments, a header per byte (CVE-2019-11479).
 */
export const MIN_SEND_MSS = 48;

/** RFC 9293 defaults when the SYN carries no MSS option. */
const DEFAULT_MSS_V4 = 536;
const DEFAULT_MSS_V6 = 1220;

export interface Negotiated {
  /** Largest payload we put in one segment towards the remote. */
  sendMss: number;
  /** MSS we announce: what fits the link MTU. */
  announcedMss: number;
  /** Shift applied to the remote's window fields (0 when scaling is off). */
  sendWindowShift: number;
  /** Shift applied to the windows we advertise. */
  receiveWindowShift: number;
  sackPermitted: boolean;
}

/**
 * What the SYN-ACK answers to the remote's SYN. Window scaling and SACK are used only when the
 * remote offered them (RFC 7323 §2.2, RFC 2018); without scaling, windows cap at 64 KiB.
 */
export function negotiate(family: 4 | 6, linkMtu: number, syn: TcpOptions): Negotiated {
  const headers = (family === 4 ? IPV4_HEADER_LENGTH : IPV6_HEADER_LENGTH) + TCP_HEADER_LENGTH;
  const announcedMss = Math.max(1, Math.min(0xffff, linkMtu - headers));
  const offered = syn.mss ?? (family === 4 ? DEFAULT_MSS_V4 : DEFAULT_MSS_V6);
  const scaling = syn.windowScale !== undefined;
  return {
    sendMss: Math.min(announcedMss, Math.max(MIN_SEND_MSS, offered)),
    announcedMss,
    sendWindowShift: scaling ? Math.min(14, syn.windowScale ?? 0) : 0,
    receiveWindowShift: scaling ? OUR_WINDOW_SCALE : 0,
    sackPermitted: syn.sackPermitted === true,
  };
}

export function synAckOptions(negotiated: Negotiated): TcpOptions {
  const options: TcpOptions = { mss: negotiated.announcedMss };
  if (negotiated.receiveWindowShift > 0) options.windowScale = negotiated.receiveWindowShift;
  if (negotiated.sackPermitted) options.sackPermitted = true;
  return options;
}
