/* See errors.h. */
#include "errors.h"

#include <stdio.h>
#include <string.h>
#include <uv.h>

static napi_status set_string(napi_env env, napi_value obj, const char *key, const char *value) {
  napi_value v;
  napi_status st = napi_create_string_utf8(env, value, NAPI_AUTO_LENGTH, &v);
  if (st != napi_ok) return st;
  return napi_set_named_property(env, obj, key, v);
}

napi_value bh_errno_error(napi_env env, int err, const char *syscall, const char *what, const char *hint) {
  /* libuv's names match errno's on Unix (UV_EPERM == -EPERM); uv_err_name_r avoids glibc's newer
   * strerrorname_np, so the binary still loads on older remote hosts. */
  char code[64];
  uv_err_name_r(-err, code, sizeof code);
  char text[512];
  if (hint != NULL) {
    snprintf(text, sizeof text, "%s: %s (%s): %s", code, what, strerror(err), hint);
  } else {
    snprintf(text, sizeof text, "%s: %s (%s)", code, what, strerror(err));
  }
  napi_value msg, error, errno_value;
  if (napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &msg) != napi_ok) return NULL;
  if (napi_create_error(env, NULL, msg, &error) != napi_ok) return NULL;
  if (set_string(env, error, "code", code) != napi_ok) return NULL;
  if (napi_create_int32(env, -err, &errno_value) != napi_ok) return NULL;
  if (napi_set_named_property(env, error, "errno", errno_value) != napi_ok) return NULL;
  if (syscall != NULL && set_string(env, error, "syscall", syscall) != napi_ok) return NULL;
  return error;
}

void bh_throw_errno(napi_env env, int err, const char *syscall, const char *what, const char *hint) {
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (pending) return;
  napi_value error = bh_errno_error(env, err, syscall, what, hint);
  if (error != NULL) {
    napi_throw(env, error);
  } else {
    napi_throw_error(env, NULL, what);
  }
}

void bh_throw_napi_failure(napi_env env, const char *call) {
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (pending) return;
  const napi_extended_error_info *info = NULL;
  napi_get_last_error_info(env, &info);
  char text[512];
  snprintf(text, sizeof text, "backhaul_native: %s failed: %s", call,
           info != NULL && info->error_message != NULL ? info->error_message : "unknown N-API error");
  napi_throw_error(env, "ERR_BACKHAUL_NATIVE", text);
}
