// The child child-rpc.test.ts talks to: a few commands and events, nothing networked.
import { emit, serve, type Serving } from "./child-rpc.js";
import type { FixtureCommands } from "./child-rpc-fixture-protocol.js";

const serving: Serving = serve<FixtureCommands>({
  add: ({ a, b }) => a + b,
  later: async ({ ms, value }) => {
    await new Promise((resolve) => setTimeout(resolve, ms));
    return value;
  },
  fail: ({ message, code }) => {
    throw Object.assign(new Error(message), { code });
  },
  tick: ({ count }) => {
    for (let n = 1; n <= count; n++) emit({ tick: n });
  },
  silent: () => new Promise<never>(() => undefined),
  die: ({ code }) => {
    process.stderr.write(`dying with ${code}\n`);
    process.exit(code);
  },
  leave: (): void => serving.close(),
});
emit({ ready: true });
