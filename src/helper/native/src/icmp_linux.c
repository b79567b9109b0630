/*
 * ICMP echo sockets (IPv4 and IPv6) for the NAT engine's exit side on Linux.
 *
 * Two kinds of socket send echo requests without a setuid helper:
 *  - "datagram": socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP) / (AF_INET6, ..., IPPROTO_ICMPV6), open
 *    to any process whose group is inside net.ipv4.ping_group_range (the sysctl covers both
 *    families and is per network namespace). The kernel owns the echo identifier: it rewrites it
 *    to the socket's bound "port" on send, fills in the checksum, and delivers only the echo
 *    replies carrying that identifier, without the IP header.
 *  - "raw": SOCK_RAW, which needs CAP_NET_RAW. A raw IPv4 socket gets every ICMP message the host
 *    receives, IP header included; a raw IPv6 one every ICMPv6 message, without it. Both are
 *    filtered to echo replies in the kernel (ICMP_FILTER, ICMP6_FILTER); choosing and checking
 *    the identifier is the caller's job. The ICMPv4 checksum is computed here; ICMPv6's by the
 *    kernel (always on for raw ICMPv6 sockets, RFC 3542 §3.1).
 * "auto" tries datagram first (no privilege needed), then raw.
 *
 * JavaScript API (typed in ../addon-types.ts):
 *   new IcmpSocket(family, mode?)  family 4 or 6; mode "auto" (default), "datagram" or "raw".
 *                                  Properties: family, mode (what was opened), identifier (the
 *                                  kernel's echo identifier for a datagram socket; null for raw),
 *                                  addressLength (4 or 16).
 *   start(onBatch, onError)        event-driven receive, like TunDevice: a uv_poll on the fd; each
 *                                  wakeup drains recvfrom() until EAGAIN (at most ICMP_BATCH
 *                                  messages), then calls onBatch(data, lengths, count) ONCE.
 *                                  Entry i of `data` is the source address (addressLength bytes)
 *                                  followed by lengths[i] bytes of ICMP echo reply, header first.
 *   send(address, message)         sendto() of a whole ICMP message; returns null when the kernel
 *                                  took it, else the errno name ("ENETUNREACH", "EAGAIN"...): a
 *                                  lost echo is routine, not an exception. Closed: "EBADF".
 *   stats()                        { packetsIn, bytesIn, packetsOut, bytesOut, sendErrors, readErrors }
 *   close()                        stops the poll and closes the fd so the process can exit;
 *                                  idempotent. Also done by the finalizer and an env cleanup hook.
 */
#include "icmp_linux.h"

#include <errno.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include "errors.h"
#include "poll_object.h"

/* From <linux/icmp.h>, which clashes with glibc's <netinet/in.h>: a raw IPv4 ICMP socket drops
 * every type whose bit is set in the filter. */
#define BH_ICMP_FILTER 1
struct bh_icmp_filter {
  uint32_t data;
};

#define ICMPV4_ECHO_REPLY 0
#define ICMPV6_ECHO_REPLY 129
#define ICMP_HEADER 8
/* Room for one received message: the largest IP packet (a raw IPv4 read includes its header). */
#define ICMP_MAX_READ 65536
/* At most this many replies per wakeup (fairness to the rest of the event loop). */
#define ICMP_BATCH 64
/* Echo replies are small; 512 KiB still takes 7 maximal ones in one wakeup. */
#define ICMP_ARENA_BYTES (512 * 1024)

typedef struct icmp_state {
  bh_poll_object base; /* first: fd, poll, callbacks, lengths, arena, counters */
  int family; /* 4 or 6 */
  int raw;
  uint8_t *scratch; /* raw IPv4 sends: a copy of the message carrying our checksum */
} icmp_state;
_Static_assert(offsetof(icmp_state, base) == 0, "bh_poll_adopt allocates the state as its base");

static size_t address_length(const icmp_state *s) { return s->family == 4 ? 4 : 16; }

/* ---- receiving ---------------------------------------------------------------------------- */

/* Errors that concern one earlier datagram, not the socket: skip them and read on. */
static int is_transient(int err) {
  return err == ECONNREFUSED || err == EHOSTUNREACH || err == ENETUNREACH || err == EHOSTDOWN ||
         err == ENETDOWN || err == EPROTO || err == ENOBUFS || err == ENOMEM;
}

/* Turns what recvfrom() wrote at `msg` into a bare echo reply; returns its length, or 0 to skip. */
static size_t echo_reply_length(const icmp_state *s, uint8_t *msg, size_t length) {
  if (s->raw && s->family == 4) {
    /* Raw IPv4 reads start with the IP header: strip it. */
    if (length < 20) return 0;
    size_t ihl = (size_t)(msg[0] & 0x0f) * 4;
    if (ihl < 20 || ihl > length) return 0;
    memmove(msg, msg + ihl, length - ihl);
    length -= ihl;
  }
  int reply_type = s->family == 4 ? ICMPV4_ECHO_REPLY : ICMPV6_ECHO_REPLY;
  if (length < ICMP_HEADER || msg[0] != reply_type || msg[1] != 0) return 0;
  return length;
}

static int copy_source(const icmp_state *s, const struct sockaddr_storage *from, uint8_t *out) {
  if (s->family == 4 && from->ss_family == AF_INET) {
    memcpy(out, &((const struct sockaddr_in *)from)->sin_addr, 4);
    return 1;
  }
  if (s->family == 6 && from->ss_family == AF_INET6) {
    memcpy(out, &((const struct sockaddr_in6 *)from)->sin6_addr, 16);
    return 1;
  }
  return 0;
}

static uint32_t icmp_drain(bh_poll_object *o, size_t *used_out, int *err_out) {
  icmp_state *s = BH_CONTAINER_OF(o, icmp_state, base);
  size_t addr_len = address_length(s);
  size_t used = 0;
  uint32_t count = 0;
  int err = 0;
  /* Skipped messages (not ours, transient errors) count as attempts, so the loop is bounded. */
  for (int attempts = 0; attempts < 4 * ICMP_BATCH && count < ICMP_BATCH; attempts++) {
    if (ICMP_ARENA_BYTES - used < addr_len + ICMP_MAX_READ) break;
    uint8_t *entry = o->arena + used;
    uint8_t *msg = entry + addr_len;
    struct sockaddr_storage from;
    socklen_t from_len = sizeof from;
    ssize_t n = recvfrom(o->fd, msg, ICMP_MAX_READ, 0, (struct sockaddr *)&from, &from_len);
    if (n < 0) {
      if (errno == EINTR || is_transient(errno)) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) err = errno;
      break;
    }
    size_t length = echo_reply_length(s, msg, (size_t)n);
    if (length == 0 || !copy_source(s, &from, entry)) continue;
    o->lengths[count++] = (uint32_t)length;
    used += addr_len + length;
    o->packets_in++;
    o->bytes_in += length;
  }
  *used_out = used;
  *err_out = err;
  return count;
}

static void icmp_on_close(bh_poll_object *o);

static const bh_poll_class icmp_class = {
    .name = "IcmpSocket",
    .not_this = "not an IcmpSocket",
    .resource_name = "BackhaulIcmpSocket",
    .noun = "ICMP socket",
    .started_code = "ERR_ICMP_STARTED",
    .no_memory = "no memory for the ICMP receive buffer",
    .read_syscall = "recvfrom",
    .read_failed = "receiving from the ICMP socket failed",
    .read_hint = "receiving has stopped; close and reopen the socket",
    .arena_bytes = ICMP_ARENA_BYTES,
    .batch = ICMP_BATCH,
    .drain = icmp_drain,
    .send_failures_key = "sendErrors",
    .on_close = icmp_on_close,
};

static void icmp_finalize(napi_env env, void *data, void *hint) {
  icmp_state *s = data;
  bh_poll_finalize(&s->base, env);
  free(s->scratch);
  free(s);
}

/* ---- methods ------------------------------------------------------------------------------ */

/* RFC 1071 over a whole ICMPv4 message whose checksum field is zero. */
static uint16_t inet_checksum(const uint8_t *data, size_t length) {
  uint64_t sum = 0;
  for (size_t i = 0; i + 1 < length; i += 2) sum += (uint32_t)(data[i] << 8 | data[i + 1]);
  if (length & 1) sum += (uint32_t)data[length - 1] << 8;
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return (uint16_t)~sum;
}

static napi_value errno_name(napi_env env, int err) {
  char name[32];
  uv_err_name_r(-err, name, sizeof name);
  napi_value result;
  BH_CALL(env, napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &result));
  return result;
}

static int get_bytes(napi_env env, napi_value value, uint8_t **data, size_t *length) {
  bool is_typed = false;
  napi_typedarray_type type = napi_int8_array;
  void *raw = NULL;
  if (napi_is_typedarray(env, value, &is_typed) != napi_ok || !is_typed) return 0;
  if (napi_get_typedarray_info(env, value, &type, length, &raw, NULL, NULL) != napi_ok) return 0;
  *data = raw;
  return type == napi_uint8_array;
}

static napi_value icmp_send(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  icmp_state *s = bh_poll_unwrap(env, info, &argc, argv);
  if (s == NULL) return NULL;
  uint8_t *address = NULL, *message = NULL;
  size_t address_len = 0, message_len = 0;
  if (argc < 2 || !get_bytes(env, argv[0], &address, &address_len) ||
      !get_bytes(env, argv[1], &message, &message_len)) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "send(address, message) needs two Uint8Arrays");
    return NULL;
  }
  if (address_len != address_length(s) || message_len < ICMP_HEADER) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_VALUE",
                          "send(address, message): the address must match the socket's family and "
                          "the message hold at least an ICMP header");
    return NULL;
  }
  if (s->base.fd < 0) return errno_name(env, EBADF);
  if (message_len > ICMP_MAX_READ) return errno_name(env, EMSGSIZE);

  const uint8_t *data = message;
  if (s->raw && s->family == 4) {
    if (s->scratch == NULL && (s->scratch = malloc(ICMP_MAX_READ)) == NULL) return errno_name(env, ENOMEM);
    memcpy(s->scratch, message, message_len);
    s->scratch[2] = s->scratch[3] = 0;
    uint16_t sum = inet_checksum(s->scratch, message_len);
    s->scratch[2] = (uint8_t)(sum >> 8);
    s->scratch[3] = (uint8_t)sum;
    data = s->scratch;
  }

  struct sockaddr_storage to;
  socklen_t to_len;
  memset(&to, 0, sizeof to);
  if (s->family == 4) {
    struct sockaddr_in *in = (struct sockaddr_in *)&to;
    in->sin_family = AF_INET;
    memcpy(&in->sin_addr, address, 4);
    to_len = sizeof *in;
  } else {
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&to;
    in6->sin6_family = AF_INET6;
    memcpy(&in6->sin6_addr, address, 16);
    to_len = sizeof *in6;
  }
  ssize_t n;
  do {
    n = sendto(s->base.fd, data, message_len, 0, (struct sockaddr *)&to, to_len);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    s->base.send_failures++;
    return errno_name(env, errno);
  }
  s->base.packets_out++;
  s->base.bytes_out += message_len;
  napi_value null_value;
  BH_CALL(env, napi_get_null(env, &null_value));
  return null_value;
}

/* Sends after close() answer EBADF before touching scratch; the finalizer frees it otherwise. */
static void icmp_on_close(bh_poll_object *o) {
  icmp_state *s = BH_CONTAINER_OF(o, icmp_state, base);
  free(s->scratch);
  s->scratch = NULL;
}

/* ---- opening ------------------------------------------------------------------------------ */

typedef struct open_failure {
  int err; /* 0: not tried */
  const char *syscall;
} open_failure;

static int fail_with(open_failure *failure, int fd, const char *syscall) {
  failure->err = errno;
  failure->syscall = syscall;
  if (fd >= 0) close(fd);
  return -1;
}

static socklen_t any_address(int family, struct sockaddr_storage *addr) {
  memset(addr, 0, sizeof *addr);
  if (family == 4) {
    ((struct sockaddr_in *)addr)->sin_family = AF_INET;
    return sizeof(struct sockaddr_in);
  }
  ((struct sockaddr_in6 *)addr)->sin6_family = AF_INET6;
  return sizeof(struct sockaddr_in6);
}

/* A datagram ICMP socket bound to port 0: the kernel picks the echo identifier now, so we can
 * report it. Returns the fd, or -1 with `failure` filled in. */
static int open_datagram(int family, uint16_t *identifier, open_failure *failure) {
  int fd = family == 4 ? socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_ICMP)
                       : socket(AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_ICMPV6);
  if (fd < 0) return fail_with(failure, fd, "socket");
  struct sockaddr_storage addr;
  socklen_t len = any_address(family, &addr);
  if (bind(fd, (struct sockaddr *)&addr, len) < 0) return fail_with(failure, fd, "bind");
  len = sizeof addr;
  if (getsockname(fd, (struct sockaddr *)&addr, &len) < 0) return fail_with(failure, fd, "getsockname");
  uint16_t port = family == 4 ? ((struct sockaddr_in *)&addr)->sin_port : ((struct sockaddr_in6 *)&addr)->sin6_port;
  *identifier = ntohs(port);
  return fd;
}

/* A raw ICMP socket that the kernel filters down to echo replies. */
static int open_raw(int family, open_failure *failure) {
  int fd = family == 4 ? socket(AF_INET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_ICMP)
                       : socket(AF_INET6, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_ICMPV6);
  if (fd < 0) return fail_with(failure, fd, "socket");
  if (family == 4) {
    struct bh_icmp_filter filter = {~(UINT32_C(1) << ICMPV4_ECHO_REPLY)};
    if (setsockopt(fd, SOL_RAW, BH_ICMP_FILTER, &filter, sizeof filter) < 0) {
      return fail_with(failure, fd, "setsockopt(ICMP_FILTER)");
    }
  } else {
    struct icmp6_filter filter;
    ICMP6_FILTER_SETBLOCKALL(&filter);
    ICMP6_FILTER_SETPASS(ICMP6_ECHO_REPLY, &filter);
    if (setsockopt(fd, IPPROTO_ICMPV6, ICMP6_FILTER, &filter, sizeof filter) < 0) {
      return fail_with(failure, fd, "setsockopt(ICMP6_FILTER)");
    }
  }
  return fd;
}

static int is_permission(int err) { return err == EACCES || err == EPERM; }

#define HINT_SYSCTL                                                                                \
  "unprivileged ICMP sockets for this user's group (sudo sysctl -w "                              \
  "net.ipv4.ping_group_range=\"0 2147483647\"; it covers IPv6 too)"
#define HINT_ELEVATE "elevation (run as root, or grant CAP_NET_RAW)"

static void throw_open_error(napi_env env, int family, const open_failure *dgram, const open_failure *raw) {
  char what[64];
  snprintf(what, sizeof what, "cannot open an ICMP socket for IPv%d", family);
  int dgram_denied = dgram->err == 0 || is_permission(dgram->err);
  int raw_denied = raw->err == 0 || is_permission(raw->err);
  if (dgram_denied && raw_denied) {
    const open_failure *f = dgram->err != 0 ? dgram : raw;
    const char *hint = dgram->err != 0 && raw->err != 0 ? "ICMP echo needs either " HINT_SYSCTL " or " HINT_ELEVATE
                       : dgram->err != 0                 ? "datagram ICMP sockets need " HINT_SYSCTL
                                                         : "raw ICMP sockets need " HINT_ELEVATE;
    bh_throw_errno(env, f->err, f->syscall, what, hint);
    return;
  }
  const open_failure *f = !dgram_denied ? dgram : raw;
  const char *hint = f->err == EAFNOSUPPORT || f->err == EPROTONOSUPPORT
                         ? (family == 6 ? "this system has IPv6 disabled" : "the kernel lacks ICMP sockets")
                         : NULL;
  bh_throw_errno(env, f->err, f->syscall, what, hint);
}

typedef enum { MODE_AUTO, MODE_DATAGRAM, MODE_RAW, MODE_INVALID } open_mode;

static open_mode parse_mode(napi_env env, napi_value value) {
  napi_valuetype type = napi_undefined;
  if (value == NULL || napi_typeof(env, value, &type) != napi_ok) return MODE_AUTO;
  if (type == napi_undefined || type == napi_null) return MODE_AUTO;
  if (type != napi_string) return MODE_INVALID;
  char text[16] = {0};
  size_t len = 0;
  if (napi_get_value_string_utf8(env, value, text, sizeof text, &len) != napi_ok) return MODE_INVALID;
  if (strcmp(text, "auto") == 0) return MODE_AUTO;
  if (strcmp(text, "datagram") == 0) return MODE_DATAGRAM;
  if (strcmp(text, "raw") == 0) return MODE_RAW;
  return MODE_INVALID;
}

static napi_status define_properties(napi_env env, napi_value self, icmp_state *s, int has_identifier,
                                     uint16_t identifier) {
  napi_value family, mode, ident, addr_len;
  napi_status st;
  if ((st = napi_create_int32(env, s->family, &family)) != napi_ok) return st;
  if ((st = napi_create_string_utf8(env, s->raw ? "raw" : "datagram", NAPI_AUTO_LENGTH, &mode)) != napi_ok) return st;
  st = has_identifier ? napi_create_uint32(env, identifier, &ident) : napi_get_null(env, &ident);
  if (st != napi_ok) return st;
  if ((st = napi_create_uint32(env, (uint32_t)address_length(s), &addr_len)) != napi_ok) return st;
  napi_property_descriptor props[] = {
      {"family", NULL, NULL, NULL, NULL, family, napi_enumerable, NULL},
      {"mode", NULL, NULL, NULL, NULL, mode, napi_enumerable, NULL},
      {"identifier", NULL, NULL, NULL, NULL, ident, napi_enumerable, NULL},
      {"addressLength", NULL, NULL, NULL, NULL, addr_len, napi_enumerable, NULL},
  };
  return napi_define_properties(env, self, sizeof props / sizeof props[0], props);
}

/* new IcmpSocket(family: 4 | 6, mode?: "auto" | "datagram" | "raw") */
static napi_value icmp_construct(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2] = {NULL, NULL};
  napi_value self = bh_poll_construct_this(env, info, &argc, argv, "IcmpSocket must be called with new");
  if (self == NULL) return NULL;
  int32_t family = 0;
  if (argc < 1 || napi_get_value_int32(env, argv[0], &family) != napi_ok || (family != 4 && family != 6)) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_VALUE", "IcmpSocket(family): family must be 4 or 6");
    return NULL;
  }
  open_mode mode = parse_mode(env, argc >= 2 ? argv[1] : NULL);
  if (mode == MODE_INVALID) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_VALUE",
                          "IcmpSocket(family, mode): mode must be \"auto\", \"datagram\" or \"raw\"");
    return NULL;
  }

  open_failure dgram_failure = {0, NULL}, raw_failure = {0, NULL};
  uint16_t identifier = 0;
  int fd = -1, raw = 0;
  if (mode != MODE_RAW) fd = open_datagram(family, &identifier, &dgram_failure);
  if (fd < 0 && mode != MODE_DATAGRAM) {
    fd = open_raw(family, &raw_failure);
    raw = fd >= 0;
  }
  if (fd < 0) {
    throw_open_error(env, family, &dgram_failure, &raw_failure);
    return NULL;
  }

  icmp_state *s = bh_poll_adopt(env, self, &icmp_class, fd, sizeof *s, icmp_finalize);
  if (s == NULL) return NULL;
  s->family = family;
  s->raw = raw;
  BH_CALL(env, define_properties(env, self, s, !raw, identifier));
  return self;
}

napi_status icmp_register(napi_env env, napi_value exports) {
  const napi_property_descriptor methods[] = {
      BH_POLL_METHOD("start", bh_poll_js_start, &icmp_class),
      BH_POLL_METHOD("send", icmp_send, &icmp_class),
      BH_POLL_METHOD("stats", bh_poll_js_stats, &icmp_class),
      BH_POLL_METHOD("close", bh_poll_js_close, &icmp_class),
  };
  return bh_poll_define_class(env, exports, &icmp_class, icmp_construct, sizeof methods / sizeof methods[0],
                              methods);
}
