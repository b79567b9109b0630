/*
 * F_SETPIPE_SZ for the agent's link: Node has no binding for it. Over SSH the agent's stdin and
 * stdout are pipes of 64 KiB (sshd's), less than one full link frame; every frame then takes two
 * reads and sshd waits for the pipe more often than it writes. A larger pipe lets sshd hand over
 * a burst in one write and the agent read it in one wakeup.
 *
 * fcntl(2) through syscall(): built with _FILE_OFFSET_BITS=64 (node-gyp's default) on glibc 2.28
 * or later, fcntl() binds to fcntl64@GLIBC_2.28, and the addon would not load on an older
 * remote's C library (glibc-floor.test.ts keeps the addon at 2.17).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "errors.h"
#include "pipe_linux.h"

/* Whether `value` is a whole number from `min` to INT_MAX (NaN is not). */
static int whole(double value, double min) { return value >= min && value <= INT_MAX && value == (double)(int)value; }

/*
 * setPipeSize(fd, bytes): the pipe's capacity afterwards, in bytes; null when fd is not a pipe.
 * A size the kernel refuses to an unprivileged user (over pipe-max-size or the user's pipe pages)
 * is not an error: the pipe keeps the size it has, which is returned.
 */
static napi_value pipe_set_size(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  BH_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  /* Doubles, not napi_get_value_int32: that wraps modulo 2^32, so fd + 2^32 would be fd and a
   * size of 2^32 + 4096 would be 4096. Only whole numbers from 0 (fd) or 1 (bytes) to INT_MAX. */
  double fd_value = -1, bytes_value = 0;
  if (argc < 2 || napi_get_value_double(env, argv[0], &fd_value) != napi_ok || !whole(fd_value, 0) ||
      napi_get_value_double(env, argv[1], &bytes_value) != napi_ok || !whole(bytes_value, 1)) {
    napi_throw_type_error(env, NULL, "setPipeSize(fd, bytes) needs a file descriptor and a positive size");
    return NULL;
  }
  int fd = (int)fd_value, bytes = (int)bytes_value;
  napi_value result;
  int size = (int)syscall(SYS_fcntl, fd, F_GETPIPE_SZ);
  if (size < 0) {
    /* EBADF: a closed fd or not a pipe (a socket, when a command's stdio is a socketpair). */
    if (errno == EBADF || errno == EINVAL) {
      BH_CALL(env, napi_get_null(env, &result));
      return result;
    }
    bh_throw_errno(env, errno, "fcntl", "cannot read the pipe's size", NULL);
    return NULL;
  }
  if (size < bytes) {
    int grown = (int)syscall(SYS_fcntl, fd, F_SETPIPE_SZ, bytes);
    if (grown >= 0) size = grown;
    else if (errno != EPERM && errno != EBUSY && errno != ENOMEM) {
      bh_throw_errno(env, errno, "fcntl", "cannot set the pipe's size", NULL);
      return NULL;
    }
  }
  BH_CALL(env, napi_create_int32(env, size, &result));
  return result;
}

napi_status pipe_register(napi_env env, napi_value exports) {
  napi_value fn;
  napi_status st = napi_create_function(env, "setPipeSize", NAPI_AUTO_LENGTH, pipe_set_size, NULL, &fn);
  if (st != napi_ok) return st;
  return napi_set_named_property(env, exports, "setPipeSize", fn);
}
