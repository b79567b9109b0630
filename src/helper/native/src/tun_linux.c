/*
 * A Linux TUN device (IFF_TUN | IFF_NO_PI: raw IP packets, no extra header) for JavaScript.
 *
 * JavaScript API (typed in ../addon-types.ts):
 *   new TunDevice(name?)            opens /dev/net/tun non-blocking and close-on-exec, creates
 *                                   the interface ("bh%d" style patterns allowed); .name is the
 *                                   name the kernel gave it.
 *   start(onBatch, onError)         starts event-driven reading: a uv_poll on the fd; on each
 *                                   wakeup the fd is drained with read() until EAGAIN (at most
 *                                   TUN_BATCH_PACKETS packets, so one busy device can't starve the
 *                                   loop; level-triggered polling brings us straight back for the
 *                                   rest), then onBatch(data, lengths, count) is called ONCE.
 *   pause() / resume()              stop / restart polling (backpressure: the kernel's TUN queue
 *                                   then fills and drops, as a NIC would).
 *   write(packets)                  one write() per packet (TUN takes one packet per write);
 *                                   returns how many were written. A full queue (EAGAIN,
 *                                   ENOBUFS) or a down device (EIO) drops the rest of the batch;
 *                                   a packet the kernel rejects (EINVAL) is dropped alone. Drops
 *                                   are counted in stats(), never thrown: the TUN queue is the
 *                                   drop point, like a NIC's.
 *   stats()                         { packetsIn, bytesIn, packetsOut, bytesOut, writeDrops, readErrors }
 *   close()                         stops the poll (uv_close) and closes the fd, so the process
 *                                   can exit; idempotent. Also done by the finalizer and by an
 *                                   env cleanup hook (worker or Electron teardown).
 *
 * Batch memory: packets are read into one reusable C arena, then copied with a single memcpy
 * into ONE exact-size Buffer per batch; `lengths` is a Uint32Array created once and reused, and
 * JavaScript slices the batch with subarray(). That is one allocation per wakeup instead of one
 * per packet, and no wasted tail. The cost: a slice keeps its whole batch alive, so consumers
 * that hold packets for long should copy them.
 */
#include "tun_linux.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <uv.h>

#include "errors.h"

/* The largest MTU a TUN device accepts: every read gets this much room, so no packet is cut. */
#define TUN_MAX_PACKET 65535
/* At most this many packets per wakeup (fairness to the rest of the event loop). */
#define TUN_BATCH_PACKETS 256
/* Arena: 256 packets at MTU 1500 fit; with a 64 KiB MTU a wakeup still takes 16 full packets. */
#define TUN_ARENA_BYTES (1024 * 1024)

typedef struct tun_state {
  napi_env env;
  int fd;                       /* -1 once closed */
  char name[IFNAMSIZ];
  uv_poll_t *poll;              /* own allocation: freed by uv's close callback, maybe after us */
  int polling;                  /* uv_poll_start is active */
  int paused;
  napi_ref self;                /* 0 = weak; 1 while started, so GC can't close a live device */
  napi_ref on_batch;
  napi_ref on_error;
  napi_ref lengths_ref;         /* the reused Uint32Array(TUN_BATCH_PACKETS) */
  uint32_t *lengths;            /* its memory (V8 array buffers do not move) */
  napi_async_context async_ctx; /* so callbacks run as proper async callbacks (nextTick, hooks) */
  int cleanup_hook;             /* registered env cleanup hook */
  uint8_t *arena;               /* TUN_ARENA_BYTES, allocated on start() */
  uint64_t packets_in, bytes_in, packets_out, bytes_out, write_drops, read_errors;
} tun_state;

/* ---- teardown ----------------------------------------------------------------------------- */

static void free_poll_handle(uv_handle_t *handle) { free(handle); }

/* Stops polling and closes the fd. Makes no N-API calls, so it is safe in the cleanup hook. */
static void tun_shutdown(tun_state *s) {
  if (s->poll != NULL) {
    /* libuv: the fd may be closed right after uv_close(); the handle memory lives until the
     * close callback, which no longer looks at the state. */
    s->poll->data = NULL;
    uv_close((uv_handle_t *)s->poll, free_poll_handle);
    s->poll = NULL;
    s->polling = 0;
  }
  if (s->fd >= 0) {
    close(s->fd);
    s->fd = -1;
  }
  free(s->arena);
  s->arena = NULL;
}

static void delete_ref(napi_env env, napi_ref *ref) {
  if (*ref != NULL) {
    napi_delete_reference(env, *ref);
    *ref = NULL;
  }
}

/* Full close from JavaScript: shut down, drop the callbacks and the strong self reference. */
static void tun_close_from_js(tun_state *s) {
  tun_shutdown(s);
  delete_ref(s->env, &s->on_batch);
  delete_ref(s->env, &s->on_error);
  if (s->async_ctx != NULL) {
    napi_async_destroy(s->env, s->async_ctx);
    s->async_ctx = NULL;
  }
  if (s->self != NULL) {
    uint32_t count = 1;
    while (count > 0 && napi_reference_unref(s->env, s->self, &count) == napi_ok) {
    }
  }
}

static void tun_cleanup_hook(void *arg) {
  tun_state *s = arg;
  s->cleanup_hook = 0;
  tun_shutdown(s);
}

static void tun_finalize(napi_env env, void *data, void *hint) {
  tun_state *s = data;
  if (s->cleanup_hook) napi_remove_env_cleanup_hook(env, tun_cleanup_hook, s);
  tun_shutdown(s);
  delete_ref(env, &s->on_batch);
  delete_ref(env, &s->on_error);
  delete_ref(env, &s->lengths_ref);
  delete_ref(env, &s->self);
  if (s->async_ctx != NULL) napi_async_destroy(env, s->async_ctx);
  free(s);
}

/* ---- calling back into JavaScript --------------------------------------------------------- */

/* Calls `ref` with argv; an exception thrown by it becomes an uncaught exception. */
static void call_js(tun_state *s, napi_ref ref, size_t argc, napi_value *argv) {
  napi_env env = s->env;
  napi_value fn, recv, result;
  if (ref == NULL || napi_get_reference_value(env, ref, &fn) != napi_ok || fn == NULL) return;
  if (napi_get_reference_value(env, s->self, &recv) != napi_ok || recv == NULL) {
    napi_get_undefined(env, &recv);
  }
  napi_status st = napi_make_callback(env, s->async_ctx, recv, fn, argc, argv, &result);
  if (st != napi_ok) {
    bool pending = false;
    napi_is_exception_pending(env, &pending);
    if (pending) {
      napi_value exception;
      napi_get_and_clear_last_exception(env, &exception);
      napi_fatal_exception(env, exception);
    }
  }
}

/* A read error ends reading: stop the poll and tell JavaScript through onError. */
static void report_read_error(tun_state *s, int err) {
  s->read_errors++;
  if (s->poll != NULL && s->polling) {
    uv_poll_stop(s->poll);
    s->polling = 0;
  }
  napi_value error = bh_errno_error(s->env, err, "read", "reading from the TUN device failed",
                                    "reading has stopped; close and reopen the device");
  if (error != NULL) call_js(s, s->on_error, 1, &error);
}

static void deliver_batch(tun_state *s, size_t used, uint32_t count) {
  napi_env env = s->env;
  napi_value argv[3];
  void *copy = NULL;
  if (napi_create_buffer_copy(env, used, s->arena, &copy, &argv[0]) != napi_ok) return;
  if (napi_get_reference_value(env, s->lengths_ref, &argv[1]) != napi_ok) return;
  if (napi_create_uint32(env, count, &argv[2]) != napi_ok) return;
  call_js(s, s->on_batch, 3, argv);
}

static void tun_on_readable(uv_poll_t *handle, int status, int events) {
  tun_state *s = handle->data;
  if (s == NULL || s->fd < 0) return;
  napi_handle_scope scope;
  if (napi_open_handle_scope(s->env, &scope) != napi_ok) return;

  if (status < 0) {
    report_read_error(s, -status);
    napi_close_handle_scope(s->env, scope);
    return;
  }

  size_t used = 0;
  uint32_t count = 0;
  int err = 0;
  while (count < TUN_BATCH_PACKETS && TUN_ARENA_BYTES - used >= TUN_MAX_PACKET) {
    ssize_t n = read(s->fd, s->arena + used, TUN_MAX_PACKET);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) err = errno;
      break;
    }
    if (n == 0) break;
    s->lengths[count++] = (uint32_t)n;
    used += (size_t)n;
  }
  s->packets_in += count;
  s->bytes_in += used;

  if (count > 0) deliver_batch(s, used, count);
  /* The batch callback may have closed the device. */
  if (err != 0 && s->fd >= 0) report_read_error(s, err);
  napi_close_handle_scope(s->env, scope);
}

/* ---- methods ------------------------------------------------------------------------------ */

static tun_state *unwrap_this(napi_env env, napi_callback_info info, size_t *argc, napi_value *argv) {
  napi_value self;
  void *data = NULL;
  if (napi_get_cb_info(env, info, argc, argv, &self, NULL) != napi_ok) return NULL;
  if (napi_unwrap(env, self, &data) != napi_ok || data == NULL) {
    napi_throw_type_error(env, "ERR_INVALID_THIS", "not a TunDevice");
    return NULL;
  }
  return data;
}

static int start_polling(tun_state *s) {
  int rc = uv_poll_start(s->poll, UV_READABLE, tun_on_readable);
  if (rc == 0) s->polling = 1;
  return rc;
}

static napi_value tun_start(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  tun_state *s = unwrap_this(env, info, &argc, argv);
  if (s == NULL) return NULL;
  napi_valuetype t0 = napi_undefined, t1 = napi_undefined;
  if (argc >= 1) napi_typeof(env, argv[0], &t0);
  if (argc >= 2) napi_typeof(env, argv[1], &t1);
  if (t0 != napi_function || t1 != napi_function) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "start(onBatch, onError) needs two functions");
    return NULL;
  }
  if (s->fd < 0) {
    bh_throw_errno(env, EBADF, "start", "the TUN device is closed", NULL);
    return NULL;
  }
  if (s->poll != NULL) {
    napi_throw_error(env, "ERR_TUN_STARTED", "the TUN device is already started");
    return NULL;
  }

  s->arena = malloc(TUN_ARENA_BYTES);
  s->poll = malloc(sizeof *s->poll);
  if (s->arena == NULL || s->poll == NULL) {
    free(s->arena);
    free(s->poll);
    s->arena = NULL;
    s->poll = NULL;
    bh_throw_errno(env, ENOMEM, "malloc", "no memory for the TUN read buffer", NULL);
    return NULL;
  }
  uv_loop_t *loop = NULL;
  BH_CALL(env, napi_get_uv_event_loop(env, &loop));
  int rc = uv_poll_init(loop, s->poll, s->fd);
  if (rc != 0) {
    free(s->poll);
    s->poll = NULL;
    bh_throw_errno(env, -rc, "uv_poll_init", "cannot watch the TUN device", NULL);
    return NULL;
  }
  s->poll->data = s;

  napi_value resource_name;
  BH_CALL(env, napi_create_string_utf8(env, "BackhaulTunDevice", NAPI_AUTO_LENGTH, &resource_name));
  BH_CALL(env, napi_async_init(env, NULL, resource_name, &s->async_ctx));
  BH_CALL(env, napi_create_reference(env, argv[0], 1, &s->on_batch));
  BH_CALL(env, napi_create_reference(env, argv[1], 1, &s->on_error));
  uint32_t refs = 0;
  BH_CALL(env, napi_reference_ref(env, s->self, &refs));

  if (!s->paused) {
    rc = start_polling(s);
    if (rc != 0) {
      bh_throw_errno(env, -rc, "uv_poll_start", "cannot watch the TUN device", NULL);
      return NULL;
    }
  }
  return NULL;
}

static napi_value tun_pause(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  tun_state *s = unwrap_this(env, info, &argc, NULL);
  if (s == NULL) return NULL;
  s->paused = 1;
  if (s->poll != NULL && s->polling) {
    uv_poll_stop(s->poll);
    s->polling = 0;
  }
  return NULL;
}

static napi_value tun_resume(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  tun_state *s = unwrap_this(env, info, &argc, NULL);
  if (s == NULL) return NULL;
  s->paused = 0;
  if (s->poll != NULL && !s->polling && s->fd >= 0) {
    int rc = start_polling(s);
    if (rc != 0) bh_throw_errno(env, -rc, "uv_poll_start", "cannot resume reading the TUN device", NULL);
  }
  return NULL;
}

/* What a failed write() means for the rest of the batch. */
typedef enum { WRITE_RETRY, WRITE_DROP_REST, WRITE_DROP_ONE, WRITE_FATAL } write_outcome;

static write_outcome classify_write_error(int err) {
  switch (err) {
    case EINTR:
      return WRITE_RETRY;
    case EAGAIN:
#if EWOULDBLOCK != EAGAIN
    case EWOULDBLOCK:
#endif
    case ENOBUFS:
    case ENOMEM:
    case EIO: /* device is down */
      return WRITE_DROP_REST;
    case EINVAL: /* not an IP packet the kernel accepts */
    case EMSGSIZE:
      return WRITE_DROP_ONE;
    default:
      return WRITE_FATAL;
  }
}

static napi_value tun_write(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  tun_state *s = unwrap_this(env, info, &argc, argv);
  if (s == NULL) return NULL;
  bool is_array = false;
  if (argc < 1 || napi_is_array(env, argv[0], &is_array) != napi_ok || !is_array) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "write(packets) needs an array of Buffers");
    return NULL;
  }
  uint32_t total = 0;
  BH_CALL(env, napi_get_array_length(env, argv[0], &total));

  uint32_t written = 0;
  if (s->fd < 0) {
    /* A closed device drops like a NIC that is down: the link may still be delivering. */
    s->write_drops += total;
  }
  for (uint32_t i = 0; s->fd >= 0 && i < total; i++) {
    napi_value element;
    BH_CALL(env, napi_get_element(env, argv[0], i, &element));
    bool is_typed = false;
    napi_typedarray_type type = napi_int8_array;
    size_t length = 0;
    void *data = NULL;
    BH_CALL(env, napi_is_typedarray(env, element, &is_typed));
    if (is_typed) BH_CALL(env, napi_get_typedarray_info(env, element, &type, &length, &data, NULL, NULL));
    if (!is_typed || type != napi_uint8_array) {
      napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "write(packets): every packet must be a Buffer");
      return NULL;
    }
    ssize_t n;
    do {
      n = write(s->fd, data, length);
    } while (n < 0 && errno == EINTR);
    if (n >= 0) {
      written++;
      s->packets_out++;
      s->bytes_out += (uint64_t)n;
      continue;
    }
    int err = errno;
    write_outcome outcome = classify_write_error(err);
    if (outcome == WRITE_DROP_ONE) {
      s->write_drops++;
      continue;
    }
    if (outcome == WRITE_DROP_REST) {
      s->write_drops += total - i;
      break;
    }
    bh_throw_errno(env, err, "write", "writing to the TUN device failed", NULL);
    return NULL;
  }
  napi_value result;
  BH_CALL(env, napi_create_uint32(env, written, &result));
  return result;
}

static napi_status set_counter(napi_env env, napi_value obj, const char *key, uint64_t value) {
  napi_value v;
  napi_status st = napi_create_double(env, (double)value, &v);
  if (st != napi_ok) return st;
  return napi_set_named_property(env, obj, key, v);
}

static napi_value tun_stats(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  tun_state *s = unwrap_this(env, info, &argc, NULL);
  if (s == NULL) return NULL;
  napi_value obj;
  BH_CALL(env, napi_create_object(env, &obj));
  BH_CALL(env, set_counter(env, obj, "packetsIn", s->packets_in));
  BH_CALL(env, set_counter(env, obj, "bytesIn", s->bytes_in));
  BH_CALL(env, set_counter(env, obj, "packetsOut", s->packets_out));
  BH_CALL(env, set_counter(env, obj, "bytesOut", s->bytes_out));
  BH_CALL(env, set_counter(env, obj, "writeDrops", s->write_drops));
  BH_CALL(env, set_counter(env, obj, "readErrors", s->read_errors));
  return obj;
}

static napi_value tun_close(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  tun_state *s = unwrap_this(env, info, &argc, NULL);
  if (s == NULL) return NULL;
  tun_close_from_js(s);
  return NULL;
}

/* ---- constructor -------------------------------------------------------------------------- */

static void throw_open_error(napi_env env, int err, const char *name) {
  char what[128];
  switch (err) {
    case ENOENT:
      bh_throw_errno(env, err, "open", "/dev/net/tun does not exist",
                     "load the tun module (modprobe tun), or pass the device into the container "
                     "(docker run --device /dev/net/tun)");
      return;
    case EACCES:
    case EPERM:
      bh_throw_errno(env, err, "open", "cannot open /dev/net/tun",
                     "run as root (sudo) or grant CAP_NET_ADMIN");
      return;
    case ENODEV:
    case ENXIO:
      bh_throw_errno(env, err, "open", "the kernel has no TUN driver", "load the tun module (modprobe tun)");
      return;
    default:
      snprintf(what, sizeof what, "cannot open /dev/net/tun for %s", name[0] ? name : "a new interface");
      bh_throw_errno(env, err, "open", what, NULL);
  }
}

static void throw_setiff_error(napi_env env, int err, const char *name) {
  char what[128];
  snprintf(what, sizeof what, "cannot create TUN interface %s", name[0] ? name : "(kernel-chosen name)");
  switch (err) {
    case EPERM:
    case EACCES:
      bh_throw_errno(env, err, "ioctl(TUNSETIFF)", what,
                     "creating a TUN device needs CAP_NET_ADMIN: run as root (sudo) or grant the capability");
      return;
    case EBUSY:
      bh_throw_errno(env, err, "ioctl(TUNSETIFF)", what,
                     "an interface with that name already exists and is in use or is not a TUN device; "
                     "choose another name");
      return;
    case EINVAL:
      bh_throw_errno(env, err, "ioctl(TUNSETIFF)", what,
                     "the interface name is not valid (at most 15 characters, no '/', ':' or spaces)");
      return;
    default:
      bh_throw_errno(env, err, "ioctl(TUNSETIFF)", what, NULL);
  }
}

/* new TunDevice(name?: string) */
static napi_value tun_construct(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], self, target;
  BH_CALL(env, napi_get_new_target(env, info, &target));
  if (target == NULL) {
    napi_throw_type_error(env, "ERR_CONSTRUCT_CALL_REQUIRED", "TunDevice must be called with new");
    return NULL;
  }
  BH_CALL(env, napi_get_cb_info(env, info, &argc, argv, &self, NULL));

  char name[IFNAMSIZ] = {0};
  napi_valuetype type = napi_undefined;
  if (argc >= 1) BH_CALL(env, napi_typeof(env, argv[0], &type));
  if (type == napi_string) {
    size_t len = 0;
    BH_CALL(env, napi_get_value_string_utf8(env, argv[0], NULL, 0, &len));
    if (len == 0 || len >= IFNAMSIZ) {
      bh_throw_errno(env, EINVAL, "TunDevice", "invalid TUN interface name",
                     "use 1 to 15 characters, e.g. \"bh0\" or \"bh%d\"");
      return NULL;
    }
    BH_CALL(env, napi_get_value_string_utf8(env, argv[0], name, sizeof name, &len));
  } else if (type != napi_undefined && type != napi_null) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "TunDevice(name): name must be a string");
    return NULL;
  }

  int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    throw_open_error(env, errno, name);
    return NULL;
  }
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
  memcpy(ifr.ifr_name, name, sizeof ifr.ifr_name);
  if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
    int err = errno;
    close(fd);
    throw_setiff_error(env, err, name);
    return NULL;
  }

  tun_state *s = calloc(1, sizeof *s);
  if (s == NULL) {
    close(fd);
    bh_throw_errno(env, ENOMEM, "calloc", "no memory for the TUN device", NULL);
    return NULL;
  }
  s->env = env;
  s->fd = fd;
  memcpy(s->name, ifr.ifr_name, IFNAMSIZ);
  s->name[IFNAMSIZ - 1] = '\0';

  if (napi_wrap(env, self, s, tun_finalize, NULL, &s->self) != napi_ok) {
    close(fd);
    free(s);
    bh_throw_napi_failure(env, "napi_wrap");
    return NULL;
  }
  /* From here on the finalizer owns `s`. */
  if (napi_add_env_cleanup_hook(env, tun_cleanup_hook, s) == napi_ok) s->cleanup_hook = 1;

  napi_value name_value, lengths_buffer, lengths;
  BH_CALL(env, napi_create_string_utf8(env, s->name, NAPI_AUTO_LENGTH, &name_value));
  void *lengths_data = NULL;
  BH_CALL(env, napi_create_arraybuffer(env, TUN_BATCH_PACKETS * sizeof(uint32_t), &lengths_data, &lengths_buffer));
  BH_CALL(env, napi_create_typedarray(env, napi_uint32_array, TUN_BATCH_PACKETS, lengths_buffer, 0, &lengths));
  s->lengths = lengths_data;
  BH_CALL(env, napi_create_reference(env, lengths, 1, &s->lengths_ref));

  napi_property_descriptor props[] = {
      {"name", NULL, NULL, NULL, NULL, name_value, napi_enumerable, NULL},
  };
  BH_CALL(env, napi_define_properties(env, self, 1, props));
  return self;
}

napi_status tun_register(napi_env env, napi_value exports) {
  napi_value max_batch;
  napi_status st = napi_create_uint32(env, TUN_BATCH_PACKETS, &max_batch);
  if (st != napi_ok) return st;
  napi_property_descriptor methods[] = {
      {"start", NULL, tun_start, NULL, NULL, NULL, napi_default, NULL},
      {"pause", NULL, tun_pause, NULL, NULL, NULL, napi_default, NULL},
      {"resume", NULL, tun_resume, NULL, NULL, NULL, napi_default, NULL},
      {"write", NULL, tun_write, NULL, NULL, NULL, napi_default, NULL},
      {"stats", NULL, tun_stats, NULL, NULL, NULL, napi_default, NULL},
      {"close", NULL, tun_close, NULL, NULL, NULL, napi_default, NULL},
      {"maxBatch", NULL, NULL, NULL, NULL, max_batch, napi_static | napi_enumerable, NULL},
  };
  napi_value cls;
  st = napi_define_class(env, "TunDevice", NAPI_AUTO_LENGTH, tun_construct, NULL,
                         sizeof methods / sizeof methods[0], methods, &cls);
  if (st != napi_ok) return st;
  return napi_set_named_property(env, exports, "TunDevice", cls);
}
