/** A bad command line: exit code 2 and a sentence that says what to type instead. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}
