#ifndef BACKHAUL_PIPE_LINUX_H
#define BACKHAUL_PIPE_LINUX_H

#include <node_api.h>

/* Adds `setPipeSize(fd, bytes)` to `exports`. */
napi_status pipe_register(napi_env env, napi_value exports);

#endif
