/**
 * A message from another process or page, parsed when it is a JSON object: undefined for text
 * that is not JSON, and for JSON that is not an object (null, an array, a number). The caller
 * still checks each field it reads.
 */
export function parseJsonObject(text: string): Record<string, unknown> | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) return undefined;
  return value as Record<string, unknown>;
}
