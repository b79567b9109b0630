/*
 * Backhaul's native addon: registration only. Each feature lives in its own file and exports a
 * register function: tun_linux.c (the remote agent's TUN device), icmp_linux.c (the local
 * helper's ICMP echo sockets) and lock_linux.c (the agent's single-instance lock),
 * sockdiag_linux.c (who owns a loopback TCP socket, for the helper's `--socks`), pipe_linux.c
 * (the agent's link pipes' size) and dns_relay_linux.c (the agent's split DNS forwarder's UDP
 * relay, in a thread of its own).
 *
 * Why an addon at all: the remote agent needs an event-driven TUN device, and no maintained npm
 * package offers one (tuntap2 is not on the registry we can use; appium-ios-tuntap only offers a
 * polling read). Plain C against node_api.h (N-API version 8) keeps one binary per OS/arch that
 * loads in both Node and Electron, with no rebuild per runtime version.
 */
#include <node_api.h>

#include "dns_relay_linux.h"
#include "icmp_linux.h"
#include "lock_linux.h"
#include "pipe_linux.h"
#include "sockdiag_linux.h"
#include "tun_linux.h"

static napi_value init(napi_env env, napi_value exports) {
  if (tun_register(env, exports) != napi_ok) return NULL;
  if (icmp_register(env, exports) != napi_ok) return NULL;
  if (lock_register(env, exports) != napi_ok) return NULL;
  if (sockdiag_register(env, exports) != napi_ok) return NULL;
  if (pipe_register(env, exports) != napi_ok) return NULL;
  if (dns_relay_register(env, exports) != napi_ok) return NULL;
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
