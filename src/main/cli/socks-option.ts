import { parseSocksAddress, type SocksAddress } from "../../shared/socks-address.js";
import { UsageError } from "./usage-error.js";

/** `--socks [ADDR:]PORT`: "1080", "127.0.0.1:1080", "[::1]:1080"; no address means loopback. */
export function parseSocksOption(text: string): SocksAddress {
  const address = parseSocksAddress(text);
  if (address === null)
    throw new UsageError(`--socks takes [ADDR:]PORT (1080, 127.0.0.1:1080, [::1]:1080), not "${text}"`);
  return address;
}
