/* The Linux TUN device class; see tun_linux.c. */
#ifndef BACKHAUL_TUN_LINUX_H
#define BACKHAUL_TUN_LINUX_H

#include <node_api.h>

/* Adds the `TunDevice` class to `exports`. */
napi_status tun_register(napi_env env, napi_value exports);

#endif
