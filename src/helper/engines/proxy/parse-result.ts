/** What an incremental parser says about the bytes so far: wait for more, refuse, or a value. */
export type ParseResult<T> =
  | { status: "incomplete" }
  | { status: "invalid"; reason: string }
  | { status: "ok"; value: T; length: number };

export const INCOMPLETE = { status: "incomplete" } as const;

export function invalid(reason: string): { status: "invalid"; reason: string } {
  return { status: "invalid", reason };
}
