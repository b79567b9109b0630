/*
 * Error helpers shared by every part of the addon (TUN today, the ICMP socket later).
 *
 * Errors reach JavaScript the way Node's own are shaped: an Error whose .code is the errno name
 * ("EPERM", "ENOENT"), .errno the negative errno, .syscall the failing call, and a message that
 * says what failed and what the user can do about it.
 */
#ifndef BACKHAUL_ERRORS_H
#define BACKHAUL_ERRORS_H

#include <node_api.h>

/* Builds the Error described above. `hint` may be NULL. Returns NULL if even that fails. */
napi_value bh_errno_error(napi_env env, int err, const char *syscall, const char *what, const char *hint);

/* Throws bh_errno_error(...) unless an exception is already pending. */
void bh_throw_errno(napi_env env, int err, const char *syscall, const char *what, const char *hint);

/* Throws a generic Error for a failed N-API call, unless an exception is already pending. */
void bh_throw_napi_failure(napi_env env, const char *call);

/* Evaluates an N-API call; on failure throws (if nothing is pending) and returns NULL. */
#define BH_CALL(env, call)                      \
  do {                                          \
    if ((call) != napi_ok) {                    \
      bh_throw_napi_failure((env), #call);      \
      return NULL;                              \
    }                                           \
  } while (0)

#endif
