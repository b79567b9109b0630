// What child-rpc.test.ts asks of child-rpc-fixture.ts.
export type FixtureCommands = {
  add: { args: { a: number; b: number }; result: number };
  later: { args: { ms: number; value: string }; result: string };
  fail: { args: { message: string; code: string }; result: never };
  tick: { args: { count: number }; result: void };
  silent: { args: null; result: never };
  die: { args: { code: number }; result: never };
  leave: { args: null; result: void };
};
