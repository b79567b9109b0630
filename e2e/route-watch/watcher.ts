// Run inside a test namespace: a RouteWatch with its defaults (the OS's monitor, the slow safety
// poll), emitting one event at start and one per change (e2e/netns/child-rpc.ts).
import { RouteWatch } from "../../src/main/broker/route-watch.js";
import { emit } from "../netns/child-rpc.js";

const say = emit;
const watch = new RouteWatch({
  include: [],
  exclude: [],
  onMonitorLost: (why) => say({ type: "lost", why }),
});
watch.on("change", (prefixes) => say({ type: "change", prefixes, at: Date.now() }));
watch.on("error", (error) => say({ type: "error", message: error.message }));
say({ type: "ready", prefixes: await watch.start() });
// Runs until the test stops it (SIGTERM: stop, then exit) or kills it.
const keepAlive = setInterval(() => undefined, 60_000);
process.once("SIGTERM", () => {
  watch.stop();
  clearInterval(keepAlive);
});
