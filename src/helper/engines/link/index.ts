// The link layer: framing and batching over any Duplex stream. Wire format: src/shared/link-protocol.ts.
export { Link } from "./link.js";
export type { LinkCloseInfo, LinkEvents, LinkOptions, StreamFrameHandler } from "./link.js";
export { FrameDecoder } from "./frame-decoder.js";
export type { DecodedFrame } from "./frame-decoder.js";
export { PacketBatcher, DEFAULT_MAX_QUEUED_BYTES } from "./packet-batcher.js";
export type { AddResult, BatcherCounters, PacketBatcherOptions } from "./packet-batcher.js";
export { createMemoryPipe } from "./memory-pipe.js";
export type { MemoryPipeOptions } from "./memory-pipe.js";
