/*
 * The owner (uid) of one TCP socket, by its exact addresses and ports, through sock_diag
 * (NETLINK_SOCK_DIAG, as ss(8) asks): the local helper's `--socks` proxy uses it to tell whether a
 * loopback client is the session's user. Reading /proc/net/tcp gives the same answer but makes the
 * kernel print every TCP socket of the namespace (milliseconds per connection on a busy machine);
 * an exact request is one hash lookup. No privilege is needed: any process may ask.
 */
#include <errno.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "errors.h"

/* TCP_LISTEN in the kernel's tcp_states.h, not exported to user space. */
#define TCP_LISTEN_STATE 10
#include "sockdiag_linux.h"

/* The socket's uid, -1 when the kernel knows no such socket (ENOENT), or -errno. */
static int64_t owner_of(int family, const uint8_t *src, uint16_t sport, const uint8_t *dst, uint16_t dport) {
  int fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
  if (fd < 0) return -errno;
  struct {
    struct nlmsghdr nlh;
    struct inet_diag_req_v2 req;
  } msg;
  memset(&msg, 0, sizeof msg);
  msg.nlh.nlmsg_len = sizeof msg;
  msg.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
  msg.nlh.nlmsg_flags = NLM_F_REQUEST;
  msg.req.sdiag_family = family == 6 ? AF_INET6 : AF_INET;
  msg.req.sdiag_protocol = IPPROTO_TCP;
  msg.req.idiag_states = ~0U;
  msg.req.id.idiag_sport = htons(sport);
  msg.req.id.idiag_dport = htons(dport);
  size_t length = family == 6 ? 16 : 4;
  memcpy(msg.req.id.idiag_src, src, length);
  memcpy(msg.req.id.idiag_dst, dst, length);
  msg.req.id.idiag_cookie[0] = INET_DIAG_NOCOOKIE;
  msg.req.id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;
  struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
  ssize_t sent;
  do {
    sent = sendto(fd, &msg, sizeof msg, 0, (struct sockaddr *)&kernel, sizeof kernel);
  } while (sent < 0 && errno == EINTR);
  if (sent < 0) {
    int err = errno;
    close(fd);
    return -err;
  }
  /* One answer: the socket's inet_diag_msg (and attributes we did not ask for), or an error. */
  union {
    struct nlmsghdr nlh;
    char bytes[8192];
  } answer;
  ssize_t got;
  do {
    got = recv(fd, &answer, sizeof answer, 0);
  } while (got < 0 && errno == EINTR);
  int err = errno;
  close(fd);
  if (got < 0) return -err;
  struct nlmsghdr *h = &answer.nlh;
  if (!NLMSG_OK(h, (size_t)got)) return -EPROTO;
  if (h->nlmsg_type == NLMSG_ERROR) {
    const struct nlmsgerr *e = NLMSG_DATA(h);
    return e->error == -ENOENT || e->error == 0 ? -1 : e->error;
  }
  if (h->nlmsg_type != SOCK_DIAG_BY_FAMILY || h->nlmsg_len < NLMSG_LENGTH(sizeof(struct inet_diag_msg))) return -EPROTO;
  const struct inet_diag_msg *d = NLMSG_DATA(h);
  /* The kernel looks the 4-tuple up as for an arriving packet, so a miss can fall back to a
   * listener on that port (of anyone, on any address): only the very socket asked for counts. */
  if (d->idiag_state == TCP_LISTEN_STATE || d->id.idiag_sport != htons(sport) || d->id.idiag_dport != htons(dport) ||
      memcmp(d->id.idiag_src, src, length) != 0 || memcmp(d->id.idiag_dst, dst, length) != 0)
    return -1;
  return (int64_t)d->idiag_uid;
}

/* tcpSocketOwner(family 4|6, src Buffer, srcPort, dst Buffer, dstPort): uid, or -1 for no such socket. */
static napi_value sockdiag_tcp_socket_owner(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  BH_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t family = 0;
  uint32_t sport = 0, dport = 0;
  void *src = NULL, *dst = NULL;
  size_t src_length = 0, dst_length = 0;
  if (argc < 5 || napi_get_value_int32(env, argv[0], &family) != napi_ok || (family != 4 && family != 6) ||
      napi_get_buffer_info(env, argv[1], &src, &src_length) != napi_ok ||
      napi_get_value_uint32(env, argv[2], &sport) != napi_ok ||
      napi_get_buffer_info(env, argv[3], &dst, &dst_length) != napi_ok ||
      napi_get_value_uint32(env, argv[4], &dport) != napi_ok || sport > 0xffff || dport > 0xffff ||
      src_length != (family == 6 ? 16u : 4u) || dst_length != src_length) {
    napi_throw_type_error(env, NULL, "tcpSocketOwner(family, src, srcPort, dst, dstPort) needs 4 or 6, two addresses of that family and two ports");
    return NULL;
  }
  int64_t owner = owner_of(family, src, (uint16_t)sport, dst, (uint16_t)dport);
  if (owner < -1) {
    bh_throw_errno(env, (int)-owner, "sock_diag", "cannot ask the kernel who owns a TCP socket", NULL);
    return NULL;
  }
  napi_value result;
  BH_CALL(env, napi_create_int64(env, owner, &result));
  return result;
}

napi_status sockdiag_register(napi_env env, napi_value exports) {
  napi_value fn;
  napi_status st =
      napi_create_function(env, "tcpSocketOwner", NAPI_AUTO_LENGTH, sockdiag_tcp_socket_owner, NULL, &fn);
  if (st != napi_ok) return st;
  return napi_set_named_property(env, exports, "tcpSocketOwner", fn);
}
