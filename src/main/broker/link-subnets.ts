/** Link subnets that real networks rarely use: the CGNAT range and a ULA prefix of our own. */
export const DEFAULT_SUBNET_V4 = "100.87.53.0/30";
export const DEFAULT_SUBNET_V6 = "fd62:6b68:6c00::/64";
