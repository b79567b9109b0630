/* ICMP echo sockets (IPv4 and IPv6) for the NAT engine; see icmp_linux.c. */
#ifndef BACKHAUL_ICMP_LINUX_H
#define BACKHAUL_ICMP_LINUX_H

#include <node_api.h>

/* Adds the `IcmpSocket` class to `exports`. */
napi_status icmp_register(napi_env env, napi_value exports);

#endif
