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
 *                                   rest), then onBatch(data, lengths, count) is called ONCE
 *                                   (data: the arena, lent for the call; see Batch memory).
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
 * Batch memory: packets are read straight into one arena, a Buffer made on start(), and onBatch
 * gets that same Buffer on every wakeup with `lengths` (a Uint32Array created once); JavaScript
 * slices it with subarray(). Nothing is copied or allocated per wakeup: the bulk path's packets
 * are copied once more anyway, into the link's batch (PacketPort: a batch is lent for the
 * handler's call). The next wakeup overwrites the arena, so a consumer that keeps a packet past
 * the call copies it. (A copy per batch here was half of the agent's user-space memmove and an
 * allocation of the batch's size per wakeup for its GC.) Detaching the Buffer's ArrayBuffer
 * (transfer(), a transfer list) takes it from us: the next wakeup reads into a new one.
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

#include "errors.h"
#include "poll_object.h"

/* The largest MTU a TUN device accepts: every read gets this much room, so no packet is cut. */
#define TUN_MAX_PACKET 65535
/* At most this many packets per wakeup (fairness to the rest of the event loop). */
#define TUN_BATCH_PACKETS 256
/* Arena: 256 packets at MTU 1500 fit; with a 64 KiB MTU a wakeup still takes 16 full packets. */
#define TUN_ARENA_BYTES (1024 * 1024)

typedef struct tun_state {
  bh_poll_object base;          /* first: fd, poll, callbacks, lengths, arena, counters */
  char name[IFNAMSIZ];
} tun_state;
_Static_assert(offsetof(tun_state, base) == 0, "bh_poll_adopt allocates the state as its base");

/* ---- reading ------------------------------------------------------------------------------ */

static uint32_t tun_drain(bh_poll_object *o, size_t *used_out, int *err_out) {
  size_t used = 0;
  uint32_t count = 0;
  int err = 0;
  while (count < TUN_BATCH_PACKETS && TUN_ARENA_BYTES - used >= TUN_MAX_PACKET) {
    ssize_t n = read(o->fd, o->arena + used, TUN_MAX_PACKET);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) err = errno;
      break;
    }
    if (n == 0) break;
    o->lengths[count++] = (uint32_t)n;
    used += (size_t)n;
  }
  o->packets_in += count;
  o->bytes_in += used;
  *used_out = used;
  *err_out = err;
  return count;
}

static const bh_poll_class tun_class = {
    .name = "TunDevice",
    .not_this = "not a TunDevice",
    .resource_name = "BackhaulTunDevice",
    .noun = "TUN device",
    .started_code = "ERR_TUN_STARTED",
    .no_memory = "no memory for the TUN read buffer",
    .read_syscall = "read",
    .read_failed = "reading from the TUN device failed",
    .read_hint = "reading has stopped; close and reopen the device",
    .arena_bytes = TUN_ARENA_BYTES,
    .lend_arena = 1,
    .batch = TUN_BATCH_PACKETS,
    .drain = tun_drain,
    .send_failures_key = "writeDrops",
};

static void tun_finalize(napi_env env, void *data, void *hint) {
  tun_state *s = data;
  bh_poll_finalize(&s->base, env);
  free(s);
}

/* ---- methods ------------------------------------------------------------------------------ */

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
  tun_state *s = bh_poll_unwrap(env, info, &argc, argv);
  if (s == NULL) return NULL;
  bool is_array = false;
  if (argc < 1 || napi_is_array(env, argv[0], &is_array) != napi_ok || !is_array) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "write(packets) needs an array of Buffers");
    return NULL;
  }
  uint32_t total = 0;
  BH_CALL(env, napi_get_array_length(env, argv[0], &total));

  uint32_t written = 0;
  if (s->base.fd < 0) {
    /* A closed device drops like a NIC that is down: the link may still be delivering. */
    s->base.send_failures += total;
  }
  for (uint32_t i = 0; s->base.fd >= 0 && i < total; i++) {
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
      n = write(s->base.fd, data, length);
    } while (n < 0 && errno == EINTR);
    if (n >= 0) {
      written++;
      s->base.packets_out++;
      s->base.bytes_out += (uint64_t)n;
      continue;
    }
    int err = errno;
    write_outcome outcome = classify_write_error(err);
    if (outcome == WRITE_DROP_ONE) {
      s->base.send_failures++;
      continue;
    }
    if (outcome == WRITE_DROP_REST) {
      s->base.send_failures += total - i;
      break;
    }
    bh_throw_errno(env, err, "write", "writing to the TUN device failed", NULL);
    return NULL;
  }
  napi_value result;
  BH_CALL(env, napi_create_uint32(env, written, &result));
  return result;
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
  napi_value argv[1];
  napi_value self = bh_poll_construct_this(env, info, &argc, argv, "TunDevice must be called with new");
  if (self == NULL) return NULL;

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

  tun_state *s = bh_poll_adopt(env, self, &tun_class, fd, sizeof *s, tun_finalize);
  if (s == NULL) return NULL;
  memcpy(s->name, ifr.ifr_name, IFNAMSIZ);
  s->name[IFNAMSIZ - 1] = '\0';

  napi_value name_value;
  BH_CALL(env, napi_create_string_utf8(env, s->name, NAPI_AUTO_LENGTH, &name_value));

  napi_property_descriptor props[] = {
      {"name", NULL, NULL, NULL, NULL, name_value, napi_enumerable, NULL},
  };
  BH_CALL(env, napi_define_properties(env, self, 1, props));
  return self;
}

napi_status tun_register(napi_env env, napi_value exports) {
  const napi_property_descriptor methods[] = {
      BH_POLL_METHOD("start", bh_poll_js_start, &tun_class),
      BH_POLL_METHOD("pause", bh_poll_js_pause, &tun_class),
      BH_POLL_METHOD("resume", bh_poll_js_resume, &tun_class),
      BH_POLL_METHOD("write", tun_write, &tun_class),
      BH_POLL_METHOD("stats", bh_poll_js_stats, &tun_class),
      BH_POLL_METHOD("close", bh_poll_js_close, &tun_class),
  };
  return bh_poll_define_class(env, exports, &tun_class, tun_construct, sizeof methods / sizeof methods[0], methods);
}
