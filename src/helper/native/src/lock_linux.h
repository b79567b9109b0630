#ifndef BACKHAUL_LOCK_LINUX_H
#define BACKHAUL_LOCK_LINUX_H

#include <node_api.h>

/* Adds `flockExclusive(fd)` to `exports`. */
napi_status lock_register(napi_env env, napi_value exports);

#endif
