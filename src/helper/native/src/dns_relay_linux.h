/* The split DNS forwarder's UDP relay; see dns_relay_linux.c. */
#ifndef BACKHAUL_DNS_RELAY_LINUX_H
#define BACKHAUL_DNS_RELAY_LINUX_H

#include <node_api.h>

/* Adds the `DnsRelay` class to `exports`. */
napi_status dns_relay_register(napi_env env, napi_value exports);

#endif
