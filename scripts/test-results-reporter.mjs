// A node:test reporter for scripts/test.mjs: one JSON line per finished test or suite, with its
// file, its full name (enclosing suites first) and, when it skipped, the reason. Node's own
// summary counts a skipped `describe` nowhere (`# skipped 0` while a whole suite did not run);
// these lines let the runner count and name every skip, suites included.

/** @param {AsyncIterable<{ type: string, data: Record<string, unknown> }>} source */
export default async function* testResults(source) {
  // Per file, the names of the tests being reported at each nesting level. Node emits test:start
  // in definition order, so the enclosing names are known when a result arrives.
  const open = new Map();
  for await (const event of source) {
    const { data } = event;
    const file = typeof data.file === "string" ? data.file : "";
    const nesting = typeof data.nesting === "number" ? data.nesting : 0;
    if (event.type === "test:start") {
      const names = open.get(file) ?? [];
      names.length = nesting;
      names.push(String(data.name));
      open.set(file, names);
      continue;
    }
    if (event.type !== "test:pass" && event.type !== "test:fail") continue;
    const enclosing = (open.get(file) ?? []).slice(0, nesting);
    const details = /** @type {{ type?: unknown } | undefined} */ (data.details);
    // A todo test may fail without failing the run, so todo is checked first.
    const outcome =
      data.todo !== undefined
        ? "todo"
        : event.type === "test:fail"
          ? "fail"
          : data.skip !== undefined
            ? "skip"
            : "pass";
    const reason = outcome === "skip" ? data.skip : outcome === "todo" ? data.todo : undefined;
    yield `${JSON.stringify({
      file,
      path: [...enclosing, String(data.name)],
      suite: details?.type === "suite",
      outcome,
      reason: typeof reason === "string" ? reason : undefined,
    })}\n`;
  }
}
