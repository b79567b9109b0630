/** "host:port", with IPv6 hosts in brackets, as the NAT table shows them. */
export function hostPort(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}
