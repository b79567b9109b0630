#ifndef BACKHAUL_SOCKDIAG_LINUX_H
#define BACKHAUL_SOCKDIAG_LINUX_H

#include <node_api.h>

/* Adds `tcpSocketOwner(family, src, srcPort, dst, dstPort)` to `exports`. */
napi_status sockdiag_register(napi_env env, napi_value exports);

#endif
