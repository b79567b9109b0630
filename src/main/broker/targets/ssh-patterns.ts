// ssh_config(5) PATTERNS: '*' matches any run of characters, '?' exactly one, '!' negates.

/** OpenSSH's match_pattern(): the whole string, case-sensitive. */
export function matchPattern(text: string, pattern: string): boolean {
  // Iterative glob with one backtrack point: linear-ish, no regex built from user input.
  let t = 0;
  let p = 0;
  let starP = -1;
  let starT = 0;
  while (t < text.length) {
    const pc = pattern[p];
    if (pc === "*") {
      starP = p++;
      starT = t;
    } else if (pc !== undefined && (pc === "?" || pc === text[t])) {
      p++;
      t++;
    } else if (starP >= 0) {
      p = starP + 1;
      t = ++starT;
    } else {
      return false;
    }
  }
  while (pattern[p] === "*") p++;
  return p === pattern.length;
}

/**
 * A `Host` line: it applies when some pattern matches and no negated one does. A line of only
 * negations matches nothing.
 */
export function matchHostLine(host: string, patterns: readonly string[]): boolean {
  let matched = false;
  for (const pattern of patterns) {
    const negated = pattern.startsWith("!");
    if (!matchPattern(host, negated ? pattern.slice(1) : pattern)) continue;
    if (negated) return false;
    matched = true;
  }
  return matched;
}

/**
 * A comma-separated pattern-list as `Match host` takes it (OpenSSH's match_hostname()): host
 * names compare case-insensitively, and a matching negation wins.
 */
export function matchHostnameList(host: string, list: string): boolean {
  const lowered = host.toLowerCase();
  let matched = false;
  for (const entry of list.split(",")) {
    const negated = entry.startsWith("!");
    const pattern = (negated ? entry.slice(1) : entry).toLowerCase();
    if (!matchPattern(lowered, pattern)) continue;
    if (negated) return false;
    matched = true;
  }
  return matched;
}

/** A Host pattern that names one host: no wildcard, no negation. */
export function isConcreteAlias(pattern: string): boolean {
  return pattern !== "" && !/[*?!]/.test(pattern);
}
