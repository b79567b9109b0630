/** A DNS domain as the user typed it, in the one form every side compares: lower case, no final dot. */
export function normaliseDnsDomain(text: string): string | null {
  const domain = text.trim().toLowerCase().replace(/\.$/, "");
  const label = "[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?";
  return new RegExp(`^(?=.{1,253}$)${label}(\\.${label})*$`).test(domain) ? domain : null;
}
