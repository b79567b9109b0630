/*
 * The UDP hot path of the split DNS forwarder (src/helper/system/dns/split-forwarder.ts): a thread
 * of its own that holds the forwarder's listening UDP socket and relays every query for a name
 * outside the split domains to the remote's own servers, and the answer back, without JavaScript.
 *
 * Why C: on a remote whose resolver is a plain resolv.conf, every name any program looks up goes
 * through the forwarder, and names outside the split domains must resolve as fast as before
 * Backhaul. Relayed by JavaScript, a lookup cost ~190 µs more on a quiet machine (an event-loop
 * wakeup and two dgram round trips, more when the agent's loop is busy with packets); this
 * thread, blocked in epoll_wait() on the sockets, adds two thread wakeups and two loopback datagrams,
 * within a few µs of a bare blocking recv/send relay. On a loaded 2-core VM (e2e/dns-split.test.ts)
 * getaddrinfo took 45 µs before Backhaul, ~120 through JavaScript and ~60 through this thread.
 *
 * JavaScript API (typed in ../addon-types.ts):
 *   new DnsRelay(options, onQuery)  binds the UDP socket options.listen:options.port (0: the
 *                                   kernel picks; .port says which), connects a first query socket
 *                                   to each server of options.servers (at most RELAY_MAX_SERVERS),
 *                                   takes options.domains as setDomains does, starts the thread.
 *                                   Throws an errno-named Error when it cannot.
 *   onQuery(message, address, port) every datagram the relay does not take itself: a name under
 *                                   the split domains, a query it cannot read in place, one longer
 *                                   than RELAY_QUERY_BYTES. JavaScript answers with send().
 *   setDomains(domains)             lower case, no trailing dot; applies to the next datagram.
 *   send(message, address, port)    sends from the listening socket; false when it could not.
 *   stats()                         relay_counters, as NativeDnsRelayStats names them.
 *   close()                         stops and joins the thread, closes every socket; idempotent.
 *                                   Also done by the finalizer and an env cleanup hook.
 *
 * What the thread does with a query it takes: a copy goes to the first server under a random id
 * of ours (the client's id is kept beside it), from a UDP socket of its own, connected to that
 * server, on a port the kernel picked at random; to the next server, from a fresh socket, after
 * nextServerMs without an answer (lastServerMs for the last), or at once when the kernel reports
 * the server unreachable; after the last, silence, or SERVFAIL when every server refused (as the
 * JavaScript forwarder does). An answer is taken only on the query's current socket (the kernel
 * drops datagrams from any other address or port, and a late one to a port it left), with our id
 * and the query's question; it goes back to the client byte for byte but for the id. The socket
 * gives its port back when its query is answered, timed out or moved on (connect(AF_UNSPEC): the
 * kernel then drops what comes to that port), and is connected again, on a new random port, for
 * a later query; close() closes them all.
 *
 * Why a port per query: with one port for the relay's lifetime, an off-path attacker who learns it
 * (one query of their own suffices) has only the 16-bit id to guess to poison every lookup of the
 * remote; glibc, which the relay stands in for, uses a fresh random port per query (RFC 5452
 * 9.2), which multiplies the guess by the ephemeral range. To keep the hot path as fast, each
 * server has a pool of RELAY_POOL ready connected sockets, refilled after an answer went out (or
 * when nothing is in flight), from sockets whose query ended; a query finding its pool empty opens
 * one inline. Reconnecting costs a third of a close() and a new socket().
 *
 * Hostile input: any local user can send to the listening socket. Queries in flight are at most
 * options.maxPending (a fixed table allocated up front; past it queries are dropped and counted
 * as overloaded), query sockets at most RELAY_MAX_QUERY_SOCKETS (past it, or when the kernel has
 * no descriptor or port to give, a query shares a socket in flight to its server, counted as
 * sharedPorts, and failed opens as socketFailures: the thread never stops for it), datagrams
 * waiting for JavaScript at most RELAY_TO_SCRIPT_ITEMS and RELAY_TO_SCRIPT_BYTES, ids come from
 * the kernel's random source, an answer that matches nothing is counted as stray, and nothing a
 * datagram says is trusted before its length is checked.
 */
#include "dns_relay_linux.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>
#include <uv.h>

#include "errors.h"

#define RELAY_MAX_SERVERS 8
/* Queries longer than this go to JavaScript: stub resolvers send well under it, and the table's
 * entries hold a copy for the next server. */
#define RELAY_QUERY_BYTES 512
#define RELAY_TO_SCRIPT_ITEMS 256
#define RELAY_TO_SCRIPT_BYTES (1024 * 1024)
/* Datagrams read from one socket per wakeup, so a flood on one cannot starve the others. */
#define RELAY_BURST 64
#define DNS_HEADER 12
#define DNS_MAX_NAME 255
#define DNS_QR 0x8000
#define DNS_RA 0x0080
#define DNS_KEPT_FLAGS (0x7800 | 0x0100 | 0x0010) /* opcode, RD, CD */
#define DNS_SERVFAIL 2
#define NO_SLOT (-1)
/* Query sockets open at once, the pools' included: a bound on descriptors under a flood. Past it a
 * query shares a socket already in flight to its server (told apart by the random id). */
#define RELAY_MAX_QUERY_SOCKETS 256
/* Ready sockets kept per server, so that a query's own port costs nothing between its arrival and
 * its send: enough for a stub's A and AAAA pair and a few more at once. */
#define RELAY_POOL 4
#define RELAY_EVENTS 64
#define NO_SOCKET (-1)
#define UNREACHABLE (-2)
/* epoll tags beyond the query sockets' indexes */
#define TAG_WAKE 1000u
#define TAG_TIMER 1001u
#define TAG_LISTEN 1002u

typedef union relay_address {
  struct sockaddr sa;
  struct sockaddr_in v4;
  struct sockaddr_in6 v6;
} relay_address;

/* A query in flight. Slots sit in a fixed table; a free slot is on the free list via `next`. */
typedef struct relay_query {
  int32_t prev, next; /* its deadline list (or the free list); NO_SLOT ends */
  int64_t deadline_ns;
  relay_address client;
  socklen_t client_length;
  uint16_t our_id, client_id, length, question_end;
  int16_t socket;   /* the query socket it went out on (its answer is taken there), or NO_SOCKET */
  int8_t server;    /* the server it went to last; -1 before the first */
  int8_t list;      /* its deadline list, or -1 */
  uint8_t in_use;
  uint8_t bytes[RELAY_QUERY_BYTES]; /* the query as forwarded (our id) */
} relay_query;

/* A UDP socket connected to one server, of a port the kernel picked at random: in flight for
 * `users` queries (one, or more past the bound), ready in its server's pool (no query yet), or
 * spare: disconnected after its query, its port given back, waiting to be connected again. */
typedef struct relay_socket {
  int fd; /* -1 when the entry is free */
  int16_t next_free;
  int8_t server;
  uint8_t pooled; /* ready or spare: not in flight */
  uint16_t users;
} relay_socket;

/* Queries in deadline order: every entry of a list has the same timeout, so appending keeps it. */
typedef struct relay_list {
  int32_t head, tail;
} relay_list;

enum { LIST_NEXT_SERVER, LIST_LAST_SERVER, LIST_COUNT };

/* Written by the relay thread, read by stats() on the main thread: relaxed atomics. */
typedef struct relay_counters {
  uint64_t via_remote, to_script, answered, unanswered, overloaded, refused, stray_answers, send_failures;
  uint64_t pending, pending_peak;
  uint64_t shared_ports, socket_failures, query_ports;
} relay_counters;

typedef struct relay_domain {
  const char *name;
  size_t length;
} relay_domain;

typedef struct dns_relay {
  napi_env env;
  int listen_fd, wake_fd;
  int epoll_fd;
  int timer_fd;     /* CLOCK_MONOTONIC, the clock of uv_hrtime */
  int64_t armed_ns; /* relay thread: when timer_fd fires next; 0 when it is not armed */
  int family;
  uint16_t port;
  int server_count;
  relay_address servers[RELAY_MAX_SERVERS];
  socklen_t server_lengths[RELAY_MAX_SERVERS];
  uint32_t next_server_ms, last_server_ms, max_pending;
  uv_thread_t thread;
  int thread_running;
  int cleanup_hook;
  napi_threadsafe_function to_script;
  uint64_t script_bytes; /* atomic: bytes queued for JavaScript */

  uv_mutex_t domains_lock;      /* setDomains (main) against lookups (relay thread) */
  relay_domain *domains;        /* sorted by compare_domains */
  size_t domain_count;

  /* Relay thread only from here on. */
  relay_query *queries;
  int32_t free_head;
  uint32_t pending;
  uint16_t *slot_of_id; /* 65536 entries: slot + 1, 0 when the id is free */
  int32_t *scratch;     /* max_pending entries, for server_failed */
  relay_list lists[LIST_COUNT];
  uint16_t random_ids[64];
  relay_socket sockets[RELAY_MAX_QUERY_SOCKETS];
  int16_t free_socket;
  uint16_t sockets_open;
  uint8_t open_blocked; /* an open failed: the pools wait for a socket to close before retrying */
  uint8_t answered;     /* an answer went out in this pass: the pools may be refilled */
  unsigned share_cursor;
  int16_t pools[RELAY_MAX_SERVERS][RELAY_POOL];
  uint8_t pool_counts[RELAY_MAX_SERVERS];
  int16_t spares[RELAY_MAX_SERVERS][RELAY_POOL];
  uint8_t spare_counts[RELAY_MAX_SERVERS];
  unsigned random_left;
  uint8_t buffer[65536];

  relay_counters counters;
} dns_relay;

/* What onQuery receives, queued for the main thread. */
typedef struct relay_item {
  dns_relay *relay;
  uint16_t port;
  char address[INET6_ADDRSTRLEN];
  size_t length;
  uint8_t message[];
} relay_item;

#define COUNT(r, field) __atomic_fetch_add(&(r)->counters.field, 1, __ATOMIC_RELAXED)
#define READ(r, field) __atomic_load_n(&(r)->counters.field, __ATOMIC_RELAXED)

/* Threads, locks and the clock come from libuv (Node's own): pthread_create and clock_gettime
 * would tie the binary to glibc 2.34 and 2.17, and the agent runs on older remotes. */
static int64_t now_ns(void) { return (int64_t)uv_hrtime(); }

static uint16_t read16(const uint8_t *at) { return (uint16_t)(at[0] << 8 | at[1]); }

static void write16(uint8_t *at, uint16_t value) {
  at[0] = (uint8_t)(value >> 8);
  at[1] = (uint8_t)value;
}

static uint8_t lower(uint8_t c) { return c >= 'A' && c <= 'Z' ? (uint8_t)(c + 32) : c; }

/* ---- reading a question in place ---------------------------------------------------------- */

/* Mirrors quickQuestion in split-forwarder.ts: one standard query with one plain question. Writes
 * its name in lower case, dotted, to `name` (room for 2 * DNS_MAX_NAME), and where the question
 * ends. 0 when the query is not that (JavaScript's slow path decides). */
static int read_question(const uint8_t *m, size_t length, char *name, size_t *name_length, uint16_t *end) {
  if (length < DNS_HEADER + 5) return 0;
  uint16_t flags = read16(m + 2);
  if ((flags & DNS_QR) != 0 || ((flags >> 11) & 0xf) != 0 || read16(m + 4) != 1) return 0;
  size_t at = DNS_HEADER, out = 0;
  for (;;) {
    /* The length byte at `at` ends a name of at - DNS_HEADER + 1 bytes at least: at most 255. */
    if (at >= length || at - DNS_HEADER >= DNS_MAX_NAME) return 0;
    uint8_t label = m[at];
    if ((label & 0xc0) != 0) return 0;
    at++;
    if (label == 0) break;
    if (at + label > length) return 0;
    if (out > 0) name[out++] = '.';
    for (size_t i = 0; i < label; i++) {
      /* A dot or NUL inside a label would read as another name: the slow path escapes it. */
      if (m[at + i] == '.' || m[at + i] == 0) return 0;
      name[out++] = (char)lower(m[at + i]);
    }
    at += label;
  }
  if (at + 4 > length) return 0;
  *name_length = out;
  *end = (uint16_t)(at + 4);
  return 1;
}

/* An answer carries the query's question: same labels (letters in any case), type and class. */
static int same_question(const relay_query *q, const uint8_t *m, size_t length) {
  if (length < q->question_end || read16(m + 4) != 1) return 0;
  size_t at = DNS_HEADER;
  while (q->bytes[at] != 0) {
    uint8_t label = q->bytes[at];
    if (m[at] != label) return 0;
    for (size_t i = 1; i <= label; i++)
      if (lower(m[at + i]) != lower(q->bytes[at + i])) return 0;
    at += 1 + (size_t)label;
  }
  return m[at] == 0 && memcmp(m + at + 1, q->bytes + at + 1, 4) == 0;
}

/* ---- the split domains -------------------------------------------------------------------- */

static int compare_domains(const void *a, const void *b) {
  const relay_domain *x = a, *y = b;
  size_t shorter = x->length < y->length ? x->length : y->length;
  int c = memcmp(x->name, y->name, shorter);
  if (c != 0) return c;
  return x->length < y->length ? -1 : x->length > y->length;
}

static void free_domains(relay_domain *domains, size_t count) {
  for (size_t i = 0; i < count; i++) free((char *)domains[i].name);
  free(domains);
}

/* Whether `name` is equal to or under a split domain (isSplit in split-forwarder.ts). */
static int is_split(dns_relay *r, const char *name, size_t length) {
  int found = 0;
  uv_mutex_lock(&r->domains_lock);
  if (r->domain_count > 0) {
    size_t at = 0;
    for (;;) {
      relay_domain key = {name + at, length - at};
      if (bsearch(&key, r->domains, r->domain_count, sizeof key, compare_domains) != NULL) {
        found = 1;
        break;
      }
      const char *dot = memchr(name + at, '.', length - at);
      if (dot == NULL) break;
      at = (size_t)(dot - name) + 1;
    }
  }
  uv_mutex_unlock(&r->domains_lock);
  return found;
}

/* ---- the table of queries in flight -------------------------------------------------------- */

static void list_remove(dns_relay *r, int32_t slot) {
  relay_query *q = &r->queries[slot];
  if (q->list < 0) return;
  relay_list *list = &r->lists[q->list];
  if (q->prev != NO_SLOT) r->queries[q->prev].next = q->next;
  else list->head = q->next;
  if (q->next != NO_SLOT) r->queries[q->next].prev = q->prev;
  else list->tail = q->prev;
  q->prev = q->next = NO_SLOT;
  q->list = -1;
}

static void list_append(dns_relay *r, int which, int32_t slot) {
  relay_query *q = &r->queries[slot];
  relay_list *list = &r->lists[which];
  q->list = (int8_t)which;
  q->next = NO_SLOT;
  q->prev = list->tail;
  if (list->tail != NO_SLOT) r->queries[list->tail].next = slot;
  else list->head = slot;
  list->tail = slot;
}

/* A 16-bit id from the kernel's random source, 64 at a time. */
static uint16_t random_id(dns_relay *r) {
  if (r->random_left == 0) {
    if (uv_random(NULL, NULL, r->random_ids, sizeof r->random_ids, 0, NULL) != 0) {
      /* No random source (never on Linux): ids stay unique, only less hard to guess. */
      for (unsigned i = 0; i < 64; i++) r->random_ids[i] = (uint16_t)(now_ns() * 2654435761u >> 7);
    }
    r->random_left = 64;
  }
  return r->random_ids[--r->random_left];
}

/* A free id: random, or after a few tries the next free one (pending < 65536 guarantees one). */
static uint16_t pick_id(dns_relay *r) {
  uint16_t id = random_id(r);
  for (int tries = 0; r->slot_of_id[id] != 0 && tries < 16; tries++) id = random_id(r);
  while (r->slot_of_id[id] != 0) id++;
  return id;
}

/* ---- query sockets ------------------------------------------------------------------------ */

static void init_sockets(dns_relay *r) {
  for (int i = 0; i < RELAY_MAX_QUERY_SOCKETS; i++)
    r->sockets[i] = (relay_socket){.fd = -1, .next_free = i + 1 < RELAY_MAX_QUERY_SOCKETS ? (int16_t)(i + 1) : NO_SOCKET};
  r->free_socket = 0;
}

static void set_query_ports(dns_relay *r) {
  __atomic_store_n(&r->counters.query_ports, r->sockets_open, __ATOMIC_RELAXED);
}

/* Out of descriptors, memory or ephemeral ports: worth sharing a socket, not a reason to move on. */
static int short_of_resources(int error) {
  return error == EMFILE || error == ENFILE || error == ENOBUFS || error == ENOMEM || error == EAGAIN ||
         error == EADDRNOTAVAIL || error == ENOSPC;
}

/* A fresh socket connected to `server` (the kernel binds it to a random ephemeral port and drops
 * datagrams from anyone else), watched by epoll until it is closed: its index, NO_SOCKET at the
 * bound, or UNREACHABLE with errno set. */
static int open_query_socket(dns_relay *r, int server) {
  int16_t s = r->free_socket;
  if (s == NO_SOCKET) return NO_SOCKET;
  int fd = socket(r->servers[server].sa.sa_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return UNREACHABLE;
  struct epoll_event event = {.events = EPOLLIN, .data.u32 = (uint32_t)s};
  if (connect(fd, &r->servers[server].sa, r->server_lengths[server]) != 0 ||
      epoll_ctl(r->epoll_fd, EPOLL_CTL_ADD, fd, &event) != 0) {
    int error = errno;
    close(fd);
    errno = error;
    return UNREACHABLE;
  }
  r->free_socket = r->sockets[s].next_free;
  r->sockets[s] = (relay_socket){.fd = fd, .next_free = NO_SOCKET, .server = (int8_t)server};
  r->sockets_open++;
  set_query_ports(r);
  return s;
}

/* close() also takes it out of the epoll set (the descriptor is never duplicated). */
static void close_query_socket(dns_relay *r, int s) {
  relay_socket *socket = &r->sockets[s];
  close(socket->fd);
  *socket = (relay_socket){.fd = -1, .next_free = r->free_socket};
  r->free_socket = (int16_t)s;
  r->sockets_open--;
  r->open_blocked = 0;
  set_query_ports(r);
}

/* A socket in flight to `server`, for a query past the bound; round robin over the table. */
static int in_flight_to(dns_relay *r, int server) {
  for (int i = 0; i < RELAY_MAX_QUERY_SOCKETS; i++) {
    int s = (int)((r->share_cursor + (unsigned)i) % RELAY_MAX_QUERY_SOCKETS);
    if (r->sockets[s].fd >= 0 && !r->sockets[s].pooled && r->sockets[s].server == server) {
      r->share_cursor = (unsigned)s + 1;
      return s;
    }
  }
  return NO_SOCKET;
}

/* At the bound with nothing in flight to `server`: a socket waiting for another server makes room. */
static int close_other_pooled(dns_relay *r, int server) {
  for (int other = 0; other < r->server_count; other++) {
    if (other == server) continue;
    if (r->spare_counts[other] > 0) {
      close_query_socket(r, r->spares[other][--r->spare_counts[other]]);
      return 1;
    }
    if (r->pool_counts[other] > 0) {
      close_query_socket(r, r->pools[other][--r->pool_counts[other]]);
      return 1;
    }
  }
  return 0;
}

/* Gives the socket's port back: connect(AF_UNSPEC) unhashes a port the kernel bound implicitly, so
 * from now on the kernel drops (and answers with port unreachable) whatever comes to it. A third
 * of the cost of close() and a new socket(), which also free and allocate through RCU. */
static int disconnect_socket(int fd) {
  struct sockaddr unspec = {.sa_family = AF_UNSPEC};
  return connect(fd, &unspec, sizeof unspec);
}

/* A spare connected to its server again, on a new random port, after what was queued on its old
 * port is thrown away: it is ready. 0 (the socket closed) when the kernel refuses. */
static int reconnect_spare(dns_relay *r, int s) {
  relay_socket *socket = &r->sockets[s];
  for (int burst = 0; burst < RELAY_BURST; burst++) {
    ssize_t n = recv(socket->fd, r->buffer, sizeof r->buffer, MSG_DONTWAIT);
    if (n >= 0) COUNT(r, stray_answers); /* came after its query ended: a duplicate, or a spoof */
    else if (errno == EAGAIN || errno == EWOULDBLOCK) break;
  }
  if (connect(socket->fd, &r->servers[socket->server].sa, r->server_lengths[socket->server]) != 0) {
    int error = errno;
    close_query_socket(r, s);
    errno = error;
    return 0;
  }
  return 1;
}

/* The socket a query to `server` goes out on: its own (from the pool, or opened now when the pool
 * is empty), or past the bound or short of descriptors one in flight to that server (counted).
 * UNREACHABLE when the kernel refuses to connect to the server; NO_SOCKET when there is none. */
static int acquire_socket(dns_relay *r, int server) {
  if (r->pool_counts[server] > 0) {
    int s = r->pools[server][--r->pool_counts[server]];
    r->sockets[s].pooled = 0;
    return s;
  }
  if (r->spare_counts[server] > 0) {
    int s = r->spares[server][--r->spare_counts[server]];
    if (reconnect_spare(r, s)) {
      r->sockets[s].pooled = 0;
      return s;
    }
  }
  int s = open_query_socket(r, server);
  if (s == NO_SOCKET && in_flight_to(r, server) == NO_SOCKET && close_other_pooled(r, server))
    s = open_query_socket(r, server);
  if (s >= 0) return s;
  if (s == UNREACHABLE) {
    if (!short_of_resources(errno)) return UNREACHABLE;
    COUNT(r, socket_failures);
  }
  s = in_flight_to(r, server);
  if (s != NO_SOCKET) COUNT(r, shared_ports);
  return s;
}

/* The query leaves its socket; its last query gives the port back at once, and the socket waits
 * as a spare for the next refill (or closes, past RELAY_POOL spares). */
static void release_socket(dns_relay *r, relay_query *q) {
  int s = q->socket;
  if (s == NO_SOCKET) return;
  q->socket = NO_SOCKET;
  relay_socket *socket = &r->sockets[s];
  if (--socket->users > 0) return;
  int server = socket->server;
  if (r->spare_counts[server] < RELAY_POOL && disconnect_socket(socket->fd) == 0) {
    socket->pooled = 1;
    r->spares[server][r->spare_counts[server]++] = (int16_t)s;
  } else {
    close_query_socket(r, s);
  }
}

/* Off the critical path (after answers went out): each server's pool back to RELAY_POOL. After a
 * failure, nothing until a socket closes: a remote out of descriptors is not retried per wakeup. */
static void refill_pools(dns_relay *r) {
  for (int server = 0; server < r->server_count && !r->open_blocked; server++)
    while (r->pool_counts[server] < RELAY_POOL) {
      if (r->spare_counts[server] > 0) {
        int spare = r->spares[server][--r->spare_counts[server]];
        if (reconnect_spare(r, spare)) r->pools[server][r->pool_counts[server]++] = (int16_t)spare;
        continue;
      }
      int s = open_query_socket(r, server);
      if (s < 0) {
        if (s == UNREACHABLE && short_of_resources(errno)) COUNT(r, socket_failures);
        r->open_blocked = 1;
        break;
      }
      r->sockets[s].pooled = 1;
      r->pools[server][r->pool_counts[server]++] = (int16_t)s;
    }
}

static void free_slot(dns_relay *r, int32_t slot) {
  relay_query *q = &r->queries[slot];
  list_remove(r, slot);
  release_socket(r, q);
  r->slot_of_id[q->our_id] = 0;
  q->in_use = 0;
  q->next = r->free_head;
  r->free_head = slot;
  r->pending--;
  __atomic_store_n(&r->counters.pending, r->pending, __ATOMIC_RELAXED);
}

static void send_to_client(dns_relay *r, const relay_query *q, const uint8_t *message, size_t length) {
  ssize_t n;
  do {
    n = sendto(r->listen_fd, message, length, MSG_DONTWAIT | MSG_NOSIGNAL, &q->client.sa, q->client_length);
  } while (n < 0 && errno == EINTR);
  if (n < 0) COUNT(r, send_failures);
}

/* After the last server: silence after timeouts (as a server that times out), SERVFAIL at once
 * when every server refused (better than making the client wait for nothing). */
static void give_up(dns_relay *r, int32_t slot, int failed_fast) {
  relay_query *q = &r->queries[slot];
  COUNT(r, unanswered);
  if (failed_fast) {
    uint8_t answer[RELAY_QUERY_BYTES];
    memcpy(answer, q->bytes, q->question_end);
    write16(answer, q->client_id);
    write16(answer + 2, (uint16_t)(DNS_QR | DNS_RA | (read16(q->bytes + 2) & DNS_KEPT_FLAGS) | DNS_SERVFAIL));
    memset(answer + 6, 0, DNS_HEADER - 6); /* the question alone */
    send_to_client(r, q, answer, q->question_end);
  }
  free_slot(r, slot);
}

/* To the next server, or the end. A send the kernel refuses (the server unreachable) moves on at
 * once; one it has no room for is lost like a datagram, and the timer moves it on. */
static void advance(dns_relay *r, int32_t slot, int failed_fast) {
  relay_query *q = &r->queries[slot];
  for (;;) {
    list_remove(r, slot);
    release_socket(r, q); /* a late answer to the port it leaves is dropped by the kernel */
    q->server++;
    if (q->server >= r->server_count) {
      give_up(r, slot, failed_fast);
      return;
    }
    int last = q->server == r->server_count - 1;
    q->deadline_ns = now_ns() + (int64_t)(last ? r->last_server_ms : r->next_server_ms) * 1000000;
    list_append(r, last ? LIST_LAST_SERVER : LIST_NEXT_SERVER, slot);
    int s = acquire_socket(r, q->server);
    if (s == UNREACHABLE) {
      failed_fast = 1;
      continue;
    }
    if (s == NO_SOCKET) {
      COUNT(r, send_failures); /* lost like a datagram: the timer moves it on */
      return;
    }
    q->socket = (int16_t)s;
    r->sockets[s].users++;
    ssize_t n;
    do {
      n = send(r->sockets[s].fd, q->bytes, q->length, MSG_DONTWAIT | MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR);
    if (n >= 0) return;
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS || errno == ENOMEM) {
      COUNT(r, send_failures);
      return;
    }
    failed_fast = 1;
  }
}

/* The kernel says the server of socket `s` is unreachable: every query on it moves on now (the
 * socket closes when the last one leaves it). */
static void socket_failed(dns_relay *r, int s) {
  uint32_t count = 0;
  for (int which = 0; which < LIST_COUNT; which++)
    for (int32_t slot = r->lists[which].head; slot != NO_SLOT; slot = r->queries[slot].next)
      if (r->queries[slot].socket == s && count < r->max_pending) r->scratch[count++] = slot;
  for (uint32_t i = 0; i < count; i++) {
    relay_query *q = &r->queries[r->scratch[i]];
    if (q->in_use && q->socket == s) advance(r, r->scratch[i], 1);
  }
}

static void expire(dns_relay *r) {
  int64_t now = now_ns();
  for (int which = 0; which < LIST_COUNT; which++) {
    int32_t slot;
    while ((slot = r->lists[which].head) != NO_SLOT && r->queries[slot].deadline_ns <= now) advance(r, slot, 0);
  }
}

/* Arms the timer for the first deadline when that is earlier than the one it is armed for. A
 * timer armed for a query answered since fires once for nothing and is armed again then: one
 * spare wakeup every few seconds, where a poll() timeout armed a kernel timer on every wait,
 * which cost the hot path a few µs on a VM. */
static void arm_timer(dns_relay *r) {
  int64_t first = INT64_MAX;
  for (int which = 0; which < LIST_COUNT; which++) {
    int32_t slot = r->lists[which].head;
    if (slot != NO_SLOT && r->queries[slot].deadline_ns < first) first = r->queries[slot].deadline_ns;
  }
  if (first == INT64_MAX || (r->armed_ns != 0 && r->armed_ns <= first)) return;
  struct itimerspec at = {.it_value = {.tv_sec = first / 1000000000, .tv_nsec = first % 1000000000}};
  if (timerfd_settime(r->timer_fd, TFD_TIMER_ABSTIME, &at, NULL) == 0) r->armed_ns = first;
}

/* ---- datagrams from clients --------------------------------------------------------------- */

static void to_script(dns_relay *r, const uint8_t *message, size_t length, const relay_address *from) {
  uint64_t queued = __atomic_load_n(&r->script_bytes, __ATOMIC_RELAXED);
  if (r->to_script == NULL || queued + length > RELAY_TO_SCRIPT_BYTES) {
    COUNT(r, overloaded);
    return;
  }
  relay_item *item = malloc(sizeof *item + length);
  if (item == NULL) {
    COUNT(r, overloaded);
    return;
  }
  item->relay = r;
  item->length = length;
  memcpy(item->message, message, length);
  if (from->sa.sa_family == AF_INET6) {
    inet_ntop(AF_INET6, &from->v6.sin6_addr, item->address, sizeof item->address);
    item->port = ntohs(from->v6.sin6_port);
  } else {
    inet_ntop(AF_INET, &from->v4.sin_addr, item->address, sizeof item->address);
    item->port = ntohs(from->v4.sin_port);
  }
  __atomic_fetch_add(&r->script_bytes, length, __ATOMIC_RELAXED);
  if (napi_call_threadsafe_function(r->to_script, item, napi_tsfn_nonblocking) != napi_ok) {
    __atomic_fetch_sub(&r->script_bytes, length, __ATOMIC_RELAXED);
    free(item);
    COUNT(r, overloaded);
    return;
  }
  COUNT(r, to_script);
}

static void from_client(dns_relay *r, uint8_t *message, size_t length, const relay_address *from,
                        socklen_t from_length) {
  if (length < DNS_HEADER) {
    COUNT(r, refused); /* not even a header: dropped, as the slow path would */
    return;
  }
  char name[2 * DNS_MAX_NAME];
  size_t name_length = 0;
  uint16_t question_end = 0;
  if (length > RELAY_QUERY_BYTES || !read_question(message, length, name, &name_length, &question_end) ||
      is_split(r, name, name_length)) {
    to_script(r, message, length, from);
    return;
  }
  if (r->pending >= r->max_pending) {
    COUNT(r, overloaded);
    return;
  }
  COUNT(r, via_remote);
  int32_t slot = r->free_head;
  relay_query *q = &r->queries[slot];
  r->free_head = q->next;
  q->in_use = 1;
  q->prev = q->next = NO_SLOT;
  q->list = -1;
  q->server = -1;
  q->socket = NO_SOCKET;
  q->our_id = pick_id(r);
  r->slot_of_id[q->our_id] = (uint16_t)(slot + 1);
  q->client_id = read16(message);
  q->length = (uint16_t)length;
  q->question_end = question_end;
  memcpy(q->bytes, message, length);
  write16(q->bytes, q->our_id);
  memcpy(&q->client, from, from_length);
  q->client_length = from_length;
  r->pending++;
  __atomic_store_n(&r->counters.pending, r->pending, __ATOMIC_RELAXED);
  if (r->pending > r->counters.pending_peak)
    __atomic_store_n(&r->counters.pending_peak, r->pending, __ATOMIC_RELAXED);
  advance(r, slot, 0);
}

static void drain_clients(dns_relay *r) {
  for (int burst = 0; burst < RELAY_BURST; burst++) {
    relay_address from;
    socklen_t from_length = sizeof from;
    ssize_t n = recvfrom(r->listen_fd, r->buffer, sizeof r->buffer, MSG_DONTWAIT, &from.sa, &from_length);
    if (n < 0) {
      if (errno == EINTR) continue;
      return; /* EAGAIN, or nothing this socket can report that is ours to act on */
    }
    from_client(r, r->buffer, (size_t)n, &from, from_length);
  }
}

/* ---- answers from servers ----------------------------------------------------------------- */

static void from_server(dns_relay *r, int s, uint8_t *message, size_t length) {
  if (length < DNS_HEADER || (read16(message + 2) & DNS_QR) == 0) {
    COUNT(r, stray_answers);
    return;
  }
  uint16_t slot_plus_one = r->slot_of_id[read16(message)];
  if (slot_plus_one == 0) {
    COUNT(r, stray_answers);
    return;
  }
  int32_t slot = slot_plus_one - 1;
  relay_query *q = &r->queries[slot];
  /* Only on the socket it went out on: another query's port (shared past the bound) or a pool's
   * is not its own. */
  if (q->socket != s || !same_question(q, message, length)) {
    COUNT(r, stray_answers);
    return;
  }
  write16(message, q->client_id);
  send_to_client(r, q, message, length);
  COUNT(r, answered);
  r->answered = 1;
  free_slot(r, slot);
}

/* An answer closes its socket when it was the socket's only query: the loop stops there. An
 * index reused within one epoll batch reads a newer socket's datagrams, which are matched alike. */
static void drain_socket(dns_relay *r, int s) {
  for (int burst = 0; burst < RELAY_BURST && r->sockets[s].fd >= 0; burst++) {
    ssize_t n = recv(r->sockets[s].fd, r->buffer, sizeof r->buffer, MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return;
      socket_failed(r, s); /* ECONNREFUSED, EHOSTUNREACH...: reported once per socket */
      return;
    }
    from_server(r, s, r->buffer, (size_t)n);
  }
}

/* Linux 6.12+ (EEVDF): a task that asks for a short time slice is let in sooner when it wakes on
 * a busy CPU, with no more CPU share than before. The relay works a few µs per wakeup, and each
 * lookup wakes it twice: on a loaded remote, waiting out another task's slice (up to ms) is what
 * made it slow. Older kernels refuse the request, and nothing changes. */
static void request_short_slice(void) {
  struct {
    uint32_t size, policy;
    uint64_t flags;
    int32_t nice;
    uint32_t priority;
    uint64_t runtime, deadline, period;
  } attr = {.size = sizeof attr, .policy = 0 /* SCHED_OTHER */, .runtime = 100000 /* ns: the least allowed */};
  attr.nice = getpriority(PRIO_PROCESS, 0);
  long ignored = syscall(SYS_sched_setattr, 0, &attr, 0);
  (void)ignored;
}

static void relay_main(void *arg) {
  dns_relay *r = arg;
  sigset_t all;
  sigfillset(&all);
  /* Signals stay with Node's threads. sigprocmask sets the calling thread's mask on Linux, and
   * is older than pthread_sigmask's glibc 2.32 symbol. */
  sigprocmask(SIG_BLOCK, &all, NULL);
  prctl(PR_SET_NAME, "bh-dns-relay");
  request_short_slice();
  refill_pools(r);
  /* epoll, not poll(): the set of sockets in flight changes with every query, and under a flood
   * it is up to RELAY_MAX_QUERY_SOCKETS; poll() would register every one again on each wakeup (and
   * need its array rebuilt), where epoll registers a socket once, when it is opened (it stays
   * registered while it is reconnected for later queries; close() unregisters it), and a wakeup
   * costs what is ready. At a stub's pace both wake as fast (measured: 16 µs a round trip). */
  struct epoll_event events[RELAY_EVENTS];
  for (;;) {
    int ready = epoll_wait(r->epoll_fd, events, RELAY_EVENTS, -1);
    if (ready < 0) {
      if (errno == EINTR) continue;
      /* ENOMEM: the kernel is short of memory for a moment. Leaving would leave every lookup of
       * the remote unanswered while the agent runs on; only EFAULT or EINVAL (our bug) can. */
      if (errno == ENOMEM) {
        uv_sleep(10);
        continue;
      }
      break;
    }
    int stop = 0;
    for (int i = 0; i < ready; i++) {
      uint32_t tag = events[i].data.u32;
      if (tag == TAG_WAKE) stop = 1;
      else if (tag == TAG_TIMER) {
        uint64_t ticks;
        ssize_t cleared = read(r->timer_fd, &ticks, sizeof ticks); /* EAGAIN when another wakeup cleared it */
        (void)cleared;
        r->armed_ns = 0;
      } else if (tag == TAG_LISTEN) drain_clients(r);
      else if (tag < RELAY_MAX_QUERY_SOCKETS) drain_socket(r, (int)tag);
    }
    if (stop) break;
    expire(r);
    arm_timer(r);
    /* Not between a query and its answer: on a busy core that would delay the server's reply. */
    if (r->answered || r->pending == 0) refill_pools(r);
    r->answered = 0;
  }
}

/* ---- lifecycle ---------------------------------------------------------------------------- */

static void close_fd(int *fd) {
  if (*fd >= 0) {
    close(*fd);
    *fd = -1;
  }
}

/* Stops the thread and closes every socket. No N-API calls: safe in the cleanup hook. */
static void relay_stop(dns_relay *r) {
  if (r->thread_running) {
    uint64_t one = 1;
    ssize_t n;
    do {
      n = write(r->wake_fd, &one, sizeof one);
    } while (n < 0 && errno == EINTR);
    uv_thread_join(&r->thread);
    r->thread_running = 0;
  }
  close_fd(&r->listen_fd);
  close_fd(&r->wake_fd);
  close_fd(&r->timer_fd);
  for (int s = 0; s < RELAY_MAX_QUERY_SOCKETS; s++)
    if (r->sockets[s].fd >= 0) close_query_socket(r, s);
  for (int server = 0; server < r->server_count; server++) r->pool_counts[server] = r->spare_counts[server] = 0;
  close_fd(&r->epoll_fd);
}

/* Stops the thread, then lets the thread-safe function go. Datagrams still queued for JavaScript
 * are freed by relay_call_js with a NULL env. */
static void relay_close(dns_relay *r) {
  relay_stop(r);
  if (r->to_script != NULL) {
    napi_release_threadsafe_function(r->to_script, napi_tsfn_abort);
    r->to_script = NULL;
  }
}

/* Worker or Electron teardown: registered after the thread-safe function, so it runs before the
 * function's own hook and the thread is joined while the function still exists. */
static void cleanup_hook(void *arg) {
  dns_relay *r = arg;
  r->cleanup_hook = 0;
  relay_close(r);
}

static void relay_finalize(napi_env env, void *data, void *hint) {
  dns_relay *r = data;
  if (r->cleanup_hook) napi_remove_env_cleanup_hook(env, cleanup_hook, r);
  relay_close(r);
  uv_mutex_destroy(&r->domains_lock);
  free_domains(r->domains, r->domain_count);
  free(r->queries);
  free(r->slot_of_id);
  free(r->scratch);
  free(r);
}

/* On the main thread: hands one datagram to onQuery. A NULL env means the function is being torn
 * down: only the memory is released. */
static void relay_call_js(napi_env env, napi_value on_query, void *context, void *data) {
  relay_item *item = data;
  if (env != NULL && on_query != NULL) {
    __atomic_fetch_sub(&item->relay->script_bytes, item->length, __ATOMIC_RELAXED);
    napi_value argv[3], receiver;
    void *copy = NULL;
    if (napi_create_buffer_copy(env, item->length, item->message, &copy, &argv[0]) == napi_ok &&
        napi_create_string_utf8(env, item->address, NAPI_AUTO_LENGTH, &argv[1]) == napi_ok &&
        napi_create_uint32(env, item->port, &argv[2]) == napi_ok && napi_get_undefined(env, &receiver) == napi_ok)
      napi_call_function(env, receiver, on_query, 3, argv, NULL);
  }
  free(item);
}

/* ---- constructor -------------------------------------------------------------------------- */

/* Replaces the split domains with `array`'s strings (lower case, no trailing dot); 0 with an Error
 * thrown when it is not an array of strings. */
static int load_domains(napi_env env, dns_relay *r, napi_value array) {
  bool is_array = false;
  uint32_t count = 0;
  if (napi_is_array(env, array, &is_array) != napi_ok || !is_array ||
      napi_get_array_length(env, array, &count) != napi_ok) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "DnsRelay: the domains must be an array of strings");
    return 0;
  }
  relay_domain *domains = calloc(count > 0 ? count : 1, sizeof *domains);
  if (domains == NULL) {
    bh_throw_errno(env, ENOMEM, "calloc", "no memory for the split domains", NULL);
    return 0;
  }
  for (uint32_t i = 0; i < count; i++) {
    napi_value element;
    size_t length = 0;
    char *name = NULL;
    if (napi_get_element(env, array, i, &element) != napi_ok ||
        napi_get_value_string_utf8(env, element, NULL, 0, &length) != napi_ok ||
        (name = malloc(length + 1)) == NULL ||
        napi_get_value_string_utf8(env, element, name, length + 1, &length) != napi_ok) {
      free(name);
      free_domains(domains, i);
      napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "DnsRelay: the domains must be an array of strings");
      return 0;
    }
    domains[i] = (relay_domain){name, length};
  }
  qsort(domains, count, sizeof *domains, compare_domains);
  uv_mutex_lock(&r->domains_lock);
  relay_domain *old = r->domains;
  size_t old_count = r->domain_count;
  r->domains = domains;
  r->domain_count = count;
  uv_mutex_unlock(&r->domains_lock);
  free_domains(old, old_count);
  return 1;
}

static int get_property(napi_env env, napi_value object, const char *key, napi_valuetype want, napi_value *out) {
  napi_valuetype type = napi_undefined;
  if (napi_get_named_property(env, object, key, out) != napi_ok || napi_typeof(env, *out, &type) != napi_ok ||
      type != want) {
    char text[160];
    snprintf(text, sizeof text, "DnsRelay: options.%s must be a %s", key,
             want == napi_string ? "string" : "number");
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", text);
    return 0;
  }
  return 1;
}

static int get_string(napi_env env, napi_value object, const char *key, char *out, size_t size) {
  napi_value value;
  size_t length = 0;
  if (!get_property(env, object, key, napi_string, &value)) return 0;
  if (napi_get_value_string_utf8(env, value, out, size, &length) != napi_ok || length + 1 >= size) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_VALUE", "DnsRelay: an address is too long");
    return 0;
  }
  return 1;
}

static int get_uint32(napi_env env, napi_value object, const char *key, uint32_t min, uint32_t max, uint32_t *out) {
  napi_value value;
  if (!get_property(env, object, key, napi_number, &value)) return 0;
  if (napi_get_value_uint32(env, value, out) != napi_ok || *out < min || *out > max) {
    char text[160];
    snprintf(text, sizeof text, "DnsRelay: options.%s must be from %u to %u", key, min, max);
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", text);
    return 0;
  }
  return 1;
}

/* A numeric address and port (scope ids like fe80::1%eth0 included), or 0 with an Error thrown. */
static int resolve_numeric(napi_env env, const char *address, uint32_t port, relay_address *out,
                           socklen_t *length) {
  char service[8];
  snprintf(service, sizeof service, "%u", port);
  struct addrinfo hints = {.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV, .ai_socktype = SOCK_DGRAM};
  struct addrinfo *found = NULL;
  int rc = getaddrinfo(address, service, &hints, &found);
  if (rc != 0 || found == NULL || found->ai_addrlen > sizeof *out) {
    if (found != NULL) freeaddrinfo(found);
    char what[160];
    snprintf(what, sizeof what, "DnsRelay: %s is not an IP address", address);
    bh_throw_errno(env, EINVAL, "getaddrinfo", what, NULL);
    return 0;
  }
  memcpy(out, found->ai_addr, found->ai_addrlen);
  *length = found->ai_addrlen;
  freeaddrinfo(found);
  return 1;
}

static int open_socket(napi_env env, int family, const char *what) {
  int fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) bh_throw_errno(env, errno, "socket", what, NULL);
  return fd;
}

/* Binds the listening socket and connects one per server; 0 with an Error thrown. */
static int open_sockets(napi_env env, dns_relay *r, napi_value options) {
  char listen[INET6_ADDRSTRLEN + 16];
  uint32_t port = 0;
  relay_address address;
  socklen_t length = 0;
  if (!get_string(env, options, "listen", listen, sizeof listen) ||
      !get_uint32(env, options, "port", 0, 65535, &port) ||
      !resolve_numeric(env, listen, port, &address, &length))
    return 0;
  r->family = address.sa.sa_family;
  r->listen_fd = open_socket(env, r->family, "cannot open the DNS relay's socket");
  if (r->listen_fd < 0) return 0;
  if (bind(r->listen_fd, &address.sa, length) != 0) {
    char what[160];
    snprintf(what, sizeof what, "cannot listen on %s port %u for DNS", listen, port);
    bh_throw_errno(env, errno, "bind", what, NULL);
    return 0;
  }
  length = sizeof address;
  if (getsockname(r->listen_fd, &address.sa, &length) != 0) {
    bh_throw_errno(env, errno, "getsockname", "cannot read the DNS relay's port", NULL);
    return 0;
  }
  r->port = ntohs(r->family == AF_INET6 ? address.v6.sin6_port : address.v4.sin_port);

  napi_value servers;
  bool is_array = false;
  uint32_t count = 0;
  if (napi_get_named_property(env, options, "servers", &servers) != napi_ok ||
      napi_is_array(env, servers, &is_array) != napi_ok || !is_array ||
      napi_get_array_length(env, servers, &count) != napi_ok) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "DnsRelay: options.servers must be an array");
    return 0;
  }
  if (count > RELAY_MAX_SERVERS) {
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "DnsRelay: at most 8 servers");
    return 0;
  }
  for (uint32_t i = 0; i < count; i++) {
    napi_value server;
    char server_address[INET6_ADDRSTRLEN + 16];
    uint32_t server_port = 0;
    if (napi_get_element(env, servers, i, &server) != napi_ok ||
        !get_string(env, server, "address", server_address, sizeof server_address) ||
        !get_uint32(env, server, "port", 1, 65535, &server_port) ||
        !resolve_numeric(env, server_address, server_port, &address, &length))
      return 0;
    r->servers[r->server_count] = address;
    r->server_lengths[r->server_count] = length;
    r->server_count++;
  }
  r->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (r->wake_fd < 0) {
    bh_throw_errno(env, errno, "eventfd", "cannot create the DNS relay's wakeup", NULL);
    return 0;
  }
  r->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  if (r->timer_fd < 0) {
    bh_throw_errno(env, errno, "timerfd_create", "cannot create the DNS relay's timer", NULL);
    return 0;
  }
  r->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
  if (r->epoll_fd < 0) {
    bh_throw_errno(env, errno, "epoll_create1", "cannot create the DNS relay's epoll set", NULL);
    return 0;
  }
  const struct {
    int fd;
    uint32_t tag;
  } fixed[] = {{r->wake_fd, TAG_WAKE}, {r->timer_fd, TAG_TIMER}, {r->listen_fd, TAG_LISTEN}};
  for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) {
    struct epoll_event event = {.events = EPOLLIN, .data.u32 = fixed[i].tag};
    if (epoll_ctl(r->epoll_fd, EPOLL_CTL_ADD, fixed[i].fd, &event) != 0) {
      bh_throw_errno(env, errno, "epoll_ctl", "cannot watch the DNS relay's sockets", NULL);
      return 0;
    }
  }
  /* One ready socket per server now: a server the kernel cannot connect to fails here, as before
   * per-query ports (the thread fills the pools). */
  for (int server = 0; server < r->server_count; server++) {
    int s = open_query_socket(r, server);
    if (s < 0) {
      char what[160], host[INET6_ADDRSTRLEN] = "?";
      const relay_address *to = &r->servers[server];
      uint16_t to_port = ntohs(to->sa.sa_family == AF_INET6 ? to->v6.sin6_port : to->v4.sin_port);
      if (to->sa.sa_family == AF_INET6) inet_ntop(AF_INET6, &to->v6.sin6_addr, host, sizeof host);
      else inet_ntop(AF_INET, &to->v4.sin_addr, host, sizeof host);
      snprintf(what, sizeof what, "cannot reach the DNS server %s port %u", host, to_port);
      bh_throw_errno(env, errno, "connect", what, NULL);
      return 0;
    }
    r->sockets[s].pooled = 1;
    r->pools[server][r->pool_counts[server]++] = (int16_t)s;
  }
  return 1;
}

static int allocate_table(dns_relay *r) {
  r->queries = calloc(r->max_pending, sizeof *r->queries);
  r->slot_of_id = calloc(65536, sizeof *r->slot_of_id);
  r->scratch = calloc(r->max_pending, sizeof *r->scratch);
  if (r->queries == NULL || r->slot_of_id == NULL || r->scratch == NULL) return 0;
  for (uint32_t i = 0; i < r->max_pending; i++) {
    r->queries[i].next = i + 1 < r->max_pending ? (int32_t)(i + 1) : NO_SLOT;
    r->queries[i].list = -1;
  }
  r->free_head = 0;
  for (int which = 0; which < LIST_COUNT; which++) r->lists[which] = (relay_list){NO_SLOT, NO_SLOT};
  return 1;
}

/* new DnsRelay({ listen, port, servers, domains, nextServerMs, lastServerMs, maxPending }, onQuery) */
static napi_value relay_construct(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2], self, target;
  BH_CALL(env, napi_get_new_target(env, info, &target));
  if (target == NULL) {
    napi_throw_type_error(env, "ERR_CONSTRUCT_CALL_REQUIRED", "DnsRelay must be called with new");
    return NULL;
  }
  BH_CALL(env, napi_get_cb_info(env, info, &argc, argv, &self, NULL));
  napi_valuetype t0 = napi_undefined, t1 = napi_undefined;
  if (argc >= 1) napi_typeof(env, argv[0], &t0);
  if (argc >= 2) napi_typeof(env, argv[1], &t1);
  if (t0 != napi_object || t1 != napi_function) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE",
                          "new DnsRelay(options, onQuery) needs an object and a function");
    return NULL;
  }

  dns_relay *r = calloc(1, sizeof *r);
  if (r == NULL) {
    bh_throw_errno(env, ENOMEM, "calloc", "no memory for the DNS relay", NULL);
    return NULL;
  }
  r->env = env;
  r->listen_fd = r->wake_fd = r->timer_fd = r->epoll_fd = -1;
  init_sockets(r);
  if (uv_mutex_init(&r->domains_lock) != 0) {
    free(r);
    bh_throw_errno(env, ENOMEM, "uv_mutex_init", "cannot create the DNS relay's lock", NULL);
    return NULL;
  }
  /* From here on relay_finalize releases everything. */
  if (napi_wrap(env, self, r, relay_finalize, NULL, NULL) != napi_ok) {
    uv_mutex_destroy(&r->domains_lock);
    free(r);
    bh_throw_napi_failure(env, "napi_wrap");
    return NULL;
  }
  if (!get_uint32(env, argv[0], "nextServerMs", 1, 600000, &r->next_server_ms) ||
      !get_uint32(env, argv[0], "lastServerMs", 1, 600000, &r->last_server_ms) ||
      !get_uint32(env, argv[0], "maxPending", 1, 32768, &r->max_pending) || !open_sockets(env, r, argv[0])) {
    relay_stop(r);
    return NULL;
  }
  /* Before the thread starts: no query may pass for outside the domains while it has none. */
  napi_value domains;
  if (napi_get_named_property(env, argv[0], "domains", &domains) != napi_ok || !load_domains(env, r, domains)) {
    relay_stop(r);
    return NULL;
  }
  if (!allocate_table(r)) {
    relay_stop(r);
    bh_throw_errno(env, ENOMEM, "calloc", "no memory for the DNS relay's table", NULL);
    return NULL;
  }

  napi_value resource_name;
  BH_CALL(env, napi_create_string_utf8(env, "BackhaulDnsRelay", NAPI_AUTO_LENGTH, &resource_name));
  if (napi_create_threadsafe_function(env, argv[1], NULL, resource_name, RELAY_TO_SCRIPT_ITEMS, 1, NULL, NULL, r,
                                      relay_call_js, &r->to_script) != napi_ok) {
    relay_stop(r);
    bh_throw_napi_failure(env, "napi_create_threadsafe_function");
    return NULL;
  }
  /* After the function's own hook: at teardown hooks run in reverse, so ours joins the thread first. */
  if (napi_add_env_cleanup_hook(env, cleanup_hook, r) == napi_ok) r->cleanup_hook = 1;

  int rc = uv_thread_create(&r->thread, relay_main, r);
  if (rc != 0) {
    relay_close(r);
    bh_throw_errno(env, -rc, "uv_thread_create", "cannot start the DNS relay's thread", NULL);
    return NULL;
  }
  r->thread_running = 1;

  napi_value port;
  BH_CALL(env, napi_create_uint32(env, r->port, &port));
  napi_property_descriptor props[] = {{"port", NULL, NULL, NULL, NULL, port, napi_enumerable, NULL}};
  BH_CALL(env, napi_define_properties(env, self, 1, props));
  return self;
}

/* ---- methods ------------------------------------------------------------------------------ */

static dns_relay *unwrap(napi_env env, napi_callback_info info, size_t *argc, napi_value *argv) {
  napi_value self;
  void *state = NULL;
  if (napi_get_cb_info(env, info, argc, argv, &self, NULL) != napi_ok) return NULL;
  if (napi_unwrap(env, self, &state) != napi_ok || state == NULL) {
    napi_throw_type_error(env, "ERR_INVALID_THIS", "not a DnsRelay");
    return NULL;
  }
  return state;
}

/* setDomains(domains: string[]) */
static napi_value relay_set_domains(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  dns_relay *r = unwrap(env, info, &argc, argv);
  if (r == NULL) return NULL;
  if (argc < 1) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "setDomains(domains) needs an array of strings");
    return NULL;
  }
  load_domains(env, r, argv[0]);
  return NULL;
}

/* send(message: Uint8Array, address: string, port: number): boolean */
static napi_value relay_send(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  dns_relay *r = unwrap(env, info, &argc, argv);
  if (r == NULL) return NULL;
  bool is_typed = false;
  napi_typedarray_type type = napi_int8_array;
  size_t length = 0;
  void *data = NULL;
  char address[INET6_ADDRSTRLEN + 16];
  size_t address_length = 0;
  uint32_t port = 0;
  if (argc < 3 || napi_is_typedarray(env, argv[0], &is_typed) != napi_ok || !is_typed ||
      napi_get_typedarray_info(env, argv[0], &type, &length, &data, NULL, NULL) != napi_ok ||
      type != napi_uint8_array ||
      napi_get_value_string_utf8(env, argv[1], address, sizeof address, &address_length) != napi_ok ||
      napi_get_value_uint32(env, argv[2], &port) != napi_ok || port > 65535) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE",
                          "send(message, address, port) needs a Buffer, a string and a port");
    return NULL;
  }
  bool sent = false;
  relay_address to;
  memset(&to, 0, sizeof to);
  socklen_t to_length = 0;
  if (r->family == AF_INET6 && inet_pton(AF_INET6, address, &to.v6.sin6_addr) == 1) {
    to.v6.sin6_family = AF_INET6;
    to.v6.sin6_port = htons((uint16_t)port);
    to_length = sizeof to.v6;
  } else if (r->family == AF_INET && inet_pton(AF_INET, address, &to.v4.sin_addr) == 1) {
    to.v4.sin_family = AF_INET;
    to.v4.sin_port = htons((uint16_t)port);
    to_length = sizeof to.v4;
  }
  if (r->listen_fd >= 0 && to_length > 0) {
    ssize_t n;
    do {
      n = sendto(r->listen_fd, data, length, MSG_DONTWAIT | MSG_NOSIGNAL, &to.sa, to_length);
    } while (n < 0 && errno == EINTR);
    sent = n >= 0;
  }
  if (!sent) COUNT(r, send_failures);
  napi_value result;
  BH_CALL(env, napi_get_boolean(env, sent, &result));
  return result;
}

static napi_status set_counter(napi_env env, napi_value object, const char *key, uint64_t value) {
  napi_value v;
  napi_status st = napi_create_double(env, (double)value, &v);
  if (st != napi_ok) return st;
  return napi_set_named_property(env, object, key, v);
}

static napi_value relay_stats(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  dns_relay *r = unwrap(env, info, &argc, NULL);
  if (r == NULL) return NULL;
  napi_value o;
  BH_CALL(env, napi_create_object(env, &o));
  BH_CALL(env, set_counter(env, o, "viaRemote", READ(r, via_remote)));
  BH_CALL(env, set_counter(env, o, "toScript", READ(r, to_script)));
  BH_CALL(env, set_counter(env, o, "answered", READ(r, answered)));
  BH_CALL(env, set_counter(env, o, "unanswered", READ(r, unanswered)));
  BH_CALL(env, set_counter(env, o, "overloaded", READ(r, overloaded)));
  BH_CALL(env, set_counter(env, o, "refused", READ(r, refused)));
  BH_CALL(env, set_counter(env, o, "strayAnswers", READ(r, stray_answers)));
  BH_CALL(env, set_counter(env, o, "sendFailures", READ(r, send_failures)));
  BH_CALL(env, set_counter(env, o, "pending", READ(r, pending)));
  BH_CALL(env, set_counter(env, o, "pendingPeak", READ(r, pending_peak)));
  BH_CALL(env, set_counter(env, o, "sharedPorts", READ(r, shared_ports)));
  BH_CALL(env, set_counter(env, o, "socketFailures", READ(r, socket_failures)));
  BH_CALL(env, set_counter(env, o, "queryPorts", READ(r, query_ports)));
  return o;
}

static napi_value relay_js_close(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  dns_relay *r = unwrap(env, info, &argc, NULL);
  if (r == NULL) return NULL;
  relay_close(r);
  return NULL;
}

napi_status dns_relay_register(napi_env env, napi_value exports) {
  const napi_property_descriptor methods[] = {
      {"setDomains", NULL, relay_set_domains, NULL, NULL, NULL, napi_default, NULL},
      {"send", NULL, relay_send, NULL, NULL, NULL, napi_default, NULL},
      {"stats", NULL, relay_stats, NULL, NULL, NULL, napi_default, NULL},
      {"close", NULL, relay_js_close, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_value js_class;
  napi_status st = napi_define_class(env, "DnsRelay", NAPI_AUTO_LENGTH, relay_construct, NULL,
                                     sizeof methods / sizeof methods[0], methods, &js_class);
  if (st != napi_ok) return st;
  return napi_set_named_property(env, exports, "DnsRelay", js_class);
}
