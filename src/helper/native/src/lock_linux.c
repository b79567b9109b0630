/*
 * flock(2) for the remote agent's single-instance lock: Node has no binding for it. The lock
 * belongs to the open file description, so the kernel drops it when the agent exits in any
 * way, SIGKILL included, and only a process that can open the file (root, in the agent's 0700
 * journal directory) can take it.
 */
#include <errno.h>
#include <sys/file.h>

#include "errors.h"
#include "lock_linux.h"

/* flockExclusive(fd): true when this fd now holds the lock, false when another holder has it. */
static napi_value lock_flock_exclusive(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  BH_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t fd = -1;
  if (argc < 1 || napi_get_value_int32(env, argv[0], &fd) != napi_ok || fd < 0) {
    napi_throw_type_error(env, NULL, "flockExclusive(fd) needs a file descriptor");
    return NULL;
  }
  int rc;
  do {
    rc = flock(fd, LOCK_EX | LOCK_NB);
  } while (rc != 0 && errno == EINTR);
  napi_value result;
  if (rc == 0) {
    BH_CALL(env, napi_get_boolean(env, true, &result));
    return result;
  }
  if (errno == EWOULDBLOCK) {
    BH_CALL(env, napi_get_boolean(env, false, &result));
    return result;
  }
  bh_throw_errno(env, errno, "flock", "cannot lock the agent's lock file", NULL);
  return NULL;
}

napi_status lock_register(napi_env env, napi_value exports) {
  napi_value fn;
  napi_status st = napi_create_function(env, "flockExclusive", NAPI_AUTO_LENGTH, lock_flock_exclusive, NULL, &fn);
  if (st != napi_ok) return st;
  return napi_set_named_property(env, exports, "flockExclusive", fn);
}
