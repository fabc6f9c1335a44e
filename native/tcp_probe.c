// TCP connect health checks for tierdns (docs/native.md): a `tcp` probe is a non-blocking
// connect() watched by the prober's own epoll set, settled by SO_ERROR or its deadline, and
// closed with a reset (SO_LINGER 0) as HAProxy closes its checks. Node's net.connect costs
// ~70 µs of the event loop per probe (a Socket, a TCPWrap, a connect request, events, a close
// callback); at 10,000 members every 2 s that was 40% of a core on the thread that answers
// DNS. A libuv poll handle and timer per probe still cost 4-5 epoll_ctl calls and an ioctl
// per probe (uv_poll_init tests the fd with an ADD and a DEL, the loop adds it, closing
// removes it), which on this project's VM cost as much as the connect itself. Here:
//   - one epoll set per prober, watched by one uv_poll on its fd: a probe is socket(),
//     connect(), one EPOLL_CTL_ADD, then getsockopt(SO_ERROR) and close() (which removes it);
//   - one uv_timer for every deadline: probes are kept in deadline order (appended, as
//     probes of one timeout arrive in order), the timer armed for the first;
//   - the results of one wakeup go to JS in one callback scope (promise jobs run once after
//     the batch, not after each result);
//   - an agent read is the same connect, watched edge-triggered in both directions, then
//     recv() into the probe's own bounded buffer until the first CR or LF (no epoll_ctl after
//     the ADD, no getsockopt unless the socket reports an error); JS gets the line's bytes.
//
//   const p = new TcpProber(onResult)        onResult(id, err, latencyUs): err 0 = connected,
//                                            an errno (ECONNREFUSED…), or -1 = timed out
//   p.connect(id, ip, port, localIp, timeoutMs) -> 0 when started (onResult follows), or the
//                                            errno of a connect that failed at once (no call)
//   p.readLine(id, ip, port, localIp, timeoutMs, maxLine)
//                                            an agent read (HAProxy agent-check, docs/steering.md):
//                                            connect, read to the first CR or LF, hang up; then
//                                            onResult(id, err, latencyUs, line) with err
//                                              0  line (latin1) ended by CR or LF,
//                                             -2  the agent closed: line is what came (maybe ''),
//                                             -3  no CR/LF in the first maxLine + 1 bytes (no line),
//                                             -1  timed out, an errno = connect failed,
//                                             READ_FAILED (0x10000) | errno = the read failed;
//                                            returns like connect()
//   p.inFlight()                             probes started and not yet settled
//
// ip and localIp ('' = the kernel's choice) are IP literals. A probe in flight keeps the event
// loop alive until it settles, like a socket. At environment teardown open probes are closed
// without calling JS.
#define _GNU_SOURCE
#include <node_api.h>
#include <uv.h>

#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tcp_probe.h"

#define TIMED_OUT (-1)
#define LINE_EOF (-2)
#define LINE_LONG (-3)
#define READ_FAILED 0x10000
#define MAX_LINE 65535
#define BATCH 256

typedef struct prober_s prober_t;

typedef struct probe_s {
  struct probe_s *prev, *next;  // the owner's open probes, in deadline order
  uint64_t started_ns;
  uint64_t deadline_ms;  // in uv_now() time
  uint32_t id;
  uint32_t gen;  // with fd, what the epoll entry carries (see on_events)
  int fd;
  // An agent read (readLine) has a line buffer of cap = maxLine + 1 bytes; a tcp check none.
  int connected;
  uint32_t cap, len;
  char line[];
} probe_t;

// The libuv handles live apart from the prober: they are freed by their close callbacks,
// which may run after the prober itself is gone (GC or environment teardown). They also hold
// the environment's async cleanup hook: teardown waits until their close callbacks have run.
// (A plain cleanup hook let a worker thread unload the addon first, and its loop then called
// a close callback that was no longer mapped: SIGSEGV at the exit of every probing worker.)
typedef struct {
  uv_poll_t poll;   // readable when the epoll set has events
  uv_timer_t timer; // the earliest deadline
  int closing;
  prober_t *owner;  // NULL once the prober has closed them
  napi_async_cleanup_hook_handle hook;
} handles_t;

typedef struct {
  uint32_t id;
  int err;
  double latency_us;
  probe_t *read;  // an agent read's probe, kept for its line until the batch reaches JS
} result_t;

struct prober_s {
  napi_env env;
  napi_ref self;  // strong while any probe is open: keeps `this` and the callback alive
  napi_ref on_result;
  napi_async_context actx;
  uv_loop_t *loop;
  handles_t *h;
  int epfd;
  probe_t *head, *tail;
  probe_t **by_fd;  // open probes by fd, for the events (see on_events)
  int by_fd_len;
  uint32_t gen;
  uint32_t count;
  int teardown;
  result_t results[BATCH];
  int nresults;
};

static napi_value throw_msg(napi_env env, const char *msg) {
  napi_throw_error(env, "TIERDNS_E_NATIVE", msg);
  return NULL;
}

static int parse_ip(const char *ip, int port, struct sockaddr_storage *sa, socklen_t *len) {
  memset(sa, 0, sizeof *sa);
  if (strchr(ip, ':')) {
    *len = sizeof(struct sockaddr_in6);
    return uv_ip6_addr(ip, port, (struct sockaddr_in6 *)sa);
  }
  *len = sizeof(struct sockaddr_in);
  return uv_ip4_addr(ip, port, (struct sockaddr_in *)sa);
}

static void unlink_probe(prober_t *o, probe_t *p) {
  if (p->prev) p->prev->next = p->next;
  else o->head = p->next;
  if (p->next) p->next->prev = p->prev;
  else o->tail = p->prev;
  if (--o->count == 0) {
    // Nothing in flight: the handles stop holding the loop open, and GC may collect the
    // prober once JS drops it.
    uv_unref((uv_handle_t *)&o->h->poll);
    uv_unref((uv_handle_t *)&o->h->timer);
    if (o->self && !o->teardown) napi_reference_unref(o->env, o->self, NULL);
  }
}

static void close_fd(prober_t *o, probe_t *p, int connected) {
  if (p->fd < o->by_fd_len) o->by_fd[p->fd] = NULL;
  if (connected) {
    // Reset rather than FIN: the closing side would hold a TIME_WAIT entry for a minute.
    struct linger lg = {1, 0};
    setsockopt(p->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
  }
  close(p->fd);  // also leaves the epoll set
  p->fd = -1;
}

static void close_probe(prober_t *o, probe_t *p, int connected) {
  close_fd(o, p, connected);
  free(p);
}

// Forget the batch (its agent reads' probes were kept for their lines).
static void drop_results(prober_t *o) {
  for (int i = 0; i < o->nresults; i++) free(o->results[i].read);
  o->nresults = 0;
}

static void flush_results(prober_t *o);

static void settle(prober_t *o, probe_t *p, int err) {
  unlink_probe(o, p);
  if (o->nresults == BATCH) flush_results(o);
  result_t *r = &o->results[o->nresults++];
  r->id = p->id;
  r->err = err;
  r->latency_us = (double)(uv_hrtime() - p->started_ns) / 1e3;
  if (p->cap) {
    r->read = p;
    close_fd(o, p, p->connected);
  } else {
    r->read = NULL;
    close_probe(o, p, err == 0);
  }
}

// One callback scope for the batch: process.nextTick and promise jobs run once, after it.
static void flush_results(prober_t *o) {
  int n = o->nresults;
  if (n == 0 || o->teardown) {
    drop_results(o);
    return;
  }
  // Taken out of the prober first: a callback may start probes that settle at once.
  result_t batch[BATCH];
  memcpy(batch, o->results, (size_t)n * sizeof *batch);
  o->nresults = 0;
  napi_env env = o->env;
  napi_handle_scope hscope;
  if (napi_open_handle_scope(env, &hscope) != napi_ok) {
    for (int i = 0; i < n; i++) free(batch[i].read);
    return;
  }
  // Held across the calls: a callback that drops the last probe must not let GC take `o`.
  napi_reference_ref(env, o->self, NULL);
  napi_value fn, recv;
  napi_callback_scope cscope;
  if (napi_get_reference_value(env, o->on_result, &fn) == napi_ok && napi_get_reference_value(env, o->self, &recv) == napi_ok &&
      napi_open_callback_scope(env, recv, o->actx, &cscope) == napi_ok) {
    for (int i = 0; i < n; i++) {
      napi_value argv[4], ignored;
      const result_t *r = &batch[i];
      size_t argc = 3;
      if (napi_create_uint32(env, r->id, &argv[0]) != napi_ok || napi_create_int32(env, r->err, &argv[1]) != napi_ok ||
          napi_create_double(env, r->latency_us, &argv[2]) != napi_ok) {
        continue;
      }
      if (r->read) {
        // Bytes as latin1: one character per byte, NULs and all; JS parses the line.
        int has_line = r->err == 0 || r->err == LINE_EOF;
        if ((has_line ? napi_create_string_latin1(env, r->read->line, r->read->len, &argv[3]) : napi_get_undefined(env, &argv[3])) != napi_ok) continue;
        argc = 4;
      }
      if (napi_call_function(env, recv, fn, argc, argv, &ignored) != napi_ok) {
        bool pending = false;
        napi_value exc;
        if (napi_is_exception_pending(env, &pending) == napi_ok && pending && napi_get_and_clear_last_exception(env, &exc) == napi_ok) {
          napi_fatal_exception(env, exc);
        }
      }
    }
    napi_close_callback_scope(env, cscope);
  }
  napi_reference_unref(env, o->self, NULL);
  napi_close_handle_scope(env, hscope);
  for (int i = 0; i < n; i++) free(batch[i].read);
}

static void on_timer(uv_timer_t *t);

static void rearm(prober_t *o) {
  if (!o->head) {
    uv_timer_stop(&o->h->timer);
    return;
  }
  uint64_t now = uv_now(o->loop);
  uint64_t due = o->head->deadline_ms;
  uv_timer_start(&o->h->timer, on_timer, due > now ? due - now : 0, 0);
}

// An agent read's socket has an event. Its epoll entry is edge-triggered and watches both
// directions, so connecting and reading cost no epoll_ctl after the ADD: writable without an
// error means connected (a socket still connecting is never writable), and each arrival of
// bytes (or the close) is an edge, read until EAGAIN. What an agent may send is bounded by the
// buffer: the first CR or LF ends the read, and cap bytes without one fail it (LINE_LONG).
static void on_line_event(prober_t *o, probe_t *p, uint32_t events) {
  if (!p->connected) {
    if (events & EPOLLERR) {
      int err = 0;
      socklen_t len = sizeof err;
      if (getsockopt(p->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
      if (err != 0) {
        settle(o, p, err);
        return;
      }
    }
    p->connected = 1;
  }
  if (!(events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))) return;
  for (;;) {
    ssize_t n = recv(p->fd, p->line + p->len, p->cap - p->len, 0);
    if (n > 0) {
      const char *got = p->line + p->len;
      for (ssize_t i = 0; i < n; i++) {
        if (got[i] == '\r' || got[i] == '\n') {
          p->len += (uint32_t)i;
          settle(o, p, 0);
          return;
        }
      }
      p->len += (uint32_t)n;
      if (p->len >= p->cap) {
        settle(o, p, LINE_LONG);
        return;
      }
    } else if (n == 0) {
      settle(o, p, LINE_EOF);
      return;
    } else if (errno != EINTR) {
      if (errno != EAGAIN && errno != EWOULDBLOCK) settle(o, p, READ_FAILED | errno);
      return;
    }
  }
}

// Settle every probe whose socket has an event (connected, refused, reset).
static void drain_events(prober_t *o) {
  struct epoll_event ev[BATCH];
  for (;;) {
    int n = epoll_wait(o->epfd, ev, BATCH, 0);
    for (int i = 0; i < n; i++) {
      // Entries carry fd and generation, not a pointer: close() removes a socket from the set
      // only when no other descriptor refers to it, and a child between fork and exec holds
      // copies, so an entry may outlive its probe. Such an entry fires once (EPOLLONESHOT)
      // and is ignored here.
      int fd = (int)(uint32_t)ev[i].data.u64;
      uint32_t gen = (uint32_t)(ev[i].data.u64 >> 32);
      probe_t *p = fd < o->by_fd_len ? o->by_fd[fd] : NULL;
      if (!p || p->gen != gen) continue;
      if (p->cap) {
        on_line_event(o, p, ev[i].events);
        continue;
      }
      int err = 0;
      socklen_t len = sizeof err;
      if (getsockopt(p->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
      if (err == 0 && (ev[i].events & (EPOLLERR | EPOLLHUP))) err = ECONNRESET;
      settle(o, p, err);
    }
    if (n < BATCH) break;
  }
}

static void on_timer(uv_timer_t *t) {
  prober_t *o = t->data;
  // libuv runs timers before polling: after the loop was held up (a long GC, a starved
  // thread), handshakes that completed meanwhile are waiting in the epoll set. They count as
  // what they are, not as timeouts of probes whose answer was already there.
  drain_events(o);
  uint64_t now = uv_now(o->loop);
  while (o->head && o->head->deadline_ms <= now) settle(o, o->head, TIMED_OUT);
  rearm(o);
  flush_results(o);
}

static void on_events(uv_poll_t *h, int status, int events) {
  (void)status;
  (void)events;
  prober_t *o = h->data;
  drain_events(o);
  // The timer may point at a probe that just settled: it then finds nothing due and re-arms.
  flush_results(o);
}

// connect(id, ip, port, localIp, timeoutMs) -> 0 or errno; with read_line,
// readLine(id, ip, port, localIp, timeoutMs, maxLine) -> 0 or errno.
static napi_value start_probe(napi_env env, napi_callback_info info, int read_line) {
  size_t argc = 6;
  napi_value argv[6], self, result;
  void *data = NULL;
  if (napi_get_cb_info(env, info, &argc, argv, &self, NULL) != napi_ok || napi_unwrap(env, self, &data) != napi_ok || !data) {
    return throw_msg(env, read_line ? "readLine: not a TcpProber" : "connect: not a TcpProber");
  }
  prober_t *o = data;
  uint32_t id = 0, port = 0, timeout_ms = 0, max_line = 0;
  char ip[INET6_ADDRSTRLEN + IF_NAMESIZE + 2], local[INET6_ADDRSTRLEN + IF_NAMESIZE + 2];
  size_t ip_len = 0, local_len = 0;
  if (argc < (read_line ? 6u : 5u) || napi_get_value_uint32(env, argv[0], &id) != napi_ok ||
      napi_get_value_string_utf8(env, argv[1], ip, sizeof ip, &ip_len) != napi_ok ||
      napi_get_value_uint32(env, argv[2], &port) != napi_ok ||
      napi_get_value_string_utf8(env, argv[3], local, sizeof local, &local_len) != napi_ok ||
      napi_get_value_uint32(env, argv[4], &timeout_ms) != napi_ok ||
      (read_line && napi_get_value_uint32(env, argv[5], &max_line) != napi_ok)) {
    return throw_msg(env, read_line ? "readLine(id, ip, port, localIp, timeoutMs, maxLine): integer, string, integer, string, integer, integer expected"
                                    : "connect(id, ip, port, localIp, timeoutMs): integer, string, integer, string, integer expected");
  }
  if (read_line && (max_line < 1 || max_line > MAX_LINE)) return throw_msg(env, "readLine: maxLine must be 1..65535");
  if (o->teardown) return throw_msg(env, read_line ? "readLine: the environment is shutting down" : "connect: the environment is shutting down");

  int err = 0;
  struct sockaddr_storage sa, la;
  socklen_t sa_len = 0, la_len = 0;
  if (ip_len >= sizeof ip - 1 || port == 0 || port > 65535 || parse_ip(ip, (int)port, &sa, &sa_len) != 0) err = EINVAL;
  if (!err && local_len > 0 && (local_len >= sizeof local - 1 || parse_ip(local, 0, &la, &la_len) != 0 || la.ss_family != sa.ss_family)) err = EINVAL;
  int fd = -1;
  if (!err) {
    fd = socket(sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) err = errno;
  }
  if (!err && local_len > 0 && bind(fd, (struct sockaddr *)&la, la_len) != 0) err = errno;
  // Refused on loopback often ends here: connect() fails at once.
  if (!err && connect(fd, (struct sockaddr *)&sa, sa_len) != 0 && errno != EINPROGRESS) err = errno;
  probe_t *p = NULL;
  if (!err) {
    p = calloc(1, sizeof *p + (read_line ? max_line + 1 : 0));
    if (!p) err = ENOMEM;
    else if (read_line) p->cap = max_line + 1;
  }
  if (!err && fd >= o->by_fd_len) {
    int len = o->by_fd_len ? o->by_fd_len : 1024;
    while (len <= fd) len *= 2;
    probe_t **grown = realloc(o->by_fd, (size_t)len * sizeof *grown);
    if (!grown) err = ENOMEM;
    else {
      memset(grown + o->by_fd_len, 0, (size_t)(len - o->by_fd_len) * sizeof *grown);
      o->by_fd = grown;
      o->by_fd_len = len;
    }
  }
  if (!err) {
    p->gen = ++o->gen;
    // A tcp check needs one event; an agent read every edge until it settles (on_line_event).
    uint32_t want = read_line ? EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET : EPOLLOUT | EPOLLONESHOT;
    struct epoll_event ev = {.events = want, .data = {.u64 = ((uint64_t)p->gen << 32) | (uint32_t)fd}};
    if (epoll_ctl(o->epfd, EPOLL_CTL_ADD, fd, &ev) != 0) err = errno;
  }
  if (err) {
    if (fd >= 0) close(fd);
    free(p);
    napi_create_int32(env, err, &result);
    return result;
  }
  p->fd = fd;
  o->by_fd[fd] = p;
  p->id = id;
  p->started_ns = uv_hrtime();
  p->deadline_ms = uv_now(o->loop) + timeout_ms;
  // Deadline order: from the tail, since probes with one timeout arrive in order.
  probe_t *after = o->tail;
  while (after && after->deadline_ms > p->deadline_ms) after = after->prev;
  p->prev = after;
  p->next = after ? after->next : o->head;
  if (p->next) p->next->prev = p;
  else o->tail = p;
  if (after) after->next = p;
  else o->head = p;
  if (o->count++ == 0) {
    uv_ref((uv_handle_t *)&o->h->poll);
    uv_ref((uv_handle_t *)&o->h->timer);
    napi_reference_ref(env, o->self, NULL);
  }
  if (o->head == p) rearm(o);
  napi_create_int32(env, 0, &result);
  return result;
}

static napi_value probe_connect(napi_env env, napi_callback_info info) {
  return start_probe(env, info, 0);
}

static napi_value probe_read_line(napi_env env, napi_callback_info info) {
  return start_probe(env, info, 1);
}

static napi_value probe_in_flight(napi_env env, napi_callback_info info) {
  napi_value self, result;
  void *data = NULL;
  size_t argc = 0;
  if (napi_get_cb_info(env, info, &argc, NULL, &self, NULL) != napi_ok || napi_unwrap(env, self, &data) != napi_ok || !data) {
    return throw_msg(env, "inFlight: not a TcpProber");
  }
  napi_create_uint32(env, ((prober_t *)data)->count, &result);
  return result;
}

static void on_handle_closed(uv_handle_t *handle) {
  handles_t *h = handle->data;
  if (--h->closing > 0) return;
  // Unregisters the hook, or (at teardown) tells the environment this addon is done.
  if (h->hook) napi_remove_async_cleanup_hook(h->hook);
  free(h);
}

// Close every open probe without calling JS, then the handles and the epoll set.
static void shut(prober_t *o) {
  while (o->head) {
    probe_t *p = o->head;
    o->head = p->next;
    close_probe(o, p, 0);
  }
  o->tail = NULL;
  o->count = 0;
  drop_results(o);
  if (o->h) {
    o->h->poll.data = o->h->timer.data = o->h;
    o->h->owner = NULL;
    o->h->closing = 2;
    uv_close((uv_handle_t *)&o->h->poll, on_handle_closed);
    uv_close((uv_handle_t *)&o->h->timer, on_handle_closed);
    o->h = NULL;
  }
  if (o->epfd >= 0) close(o->epfd);
  o->epfd = -1;
  free(o->by_fd);
  o->by_fd = NULL;
  o->by_fd_len = 0;
}

// Environment teardown: close open probes without calling JS, then the handles; their close
// callback completes the hook. Handles already closing (the prober was collected) complete
// it the same way.
static void on_teardown(napi_async_cleanup_hook_handle hook, void *arg) {
  (void)hook;
  handles_t *h = arg;
  if (!h->owner) return;
  h->owner->teardown = 1;
  shut(h->owner);
}

static void prober_finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  prober_t *o = data;
  // `self` is strong while probes are open, so this runs with none open (or at teardown,
  // after on_teardown closed them).
  shut(o);
  if (o->actx) napi_async_destroy(env, o->actx);
  if (o->on_result) napi_delete_reference(env, o->on_result);
  if (o->self) napi_delete_reference(env, o->self);
  free(o);
}

// new TcpProber(onResult)
static napi_value prober_construct(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], self, name;
  napi_valuetype type;
  if (napi_get_cb_info(env, info, &argc, argv, &self, NULL) != napi_ok) return throw_msg(env, "TcpProber: bad call");
  if (argc < 1 || napi_typeof(env, argv[0], &type) != napi_ok || type != napi_function) {
    return throw_msg(env, "TcpProber(onResult): a function expected");
  }
  prober_t *o = calloc(1, sizeof *o);
  handles_t *h = calloc(1, sizeof *h);
  if (!o || !h) {
    free(o);
    free(h);
    return throw_msg(env, "TcpProber: out of memory");
  }
  o->env = env;
  o->epfd = epoll_create1(EPOLL_CLOEXEC);
  if (o->epfd < 0 || napi_get_uv_event_loop(env, &o->loop) != napi_ok || uv_poll_init(o->loop, &h->poll, o->epfd) != 0) {
    if (o->epfd >= 0) close(o->epfd);
    free(o);
    free(h);
    return throw_msg(env, "TcpProber: cannot create its epoll set");
  }
  uv_timer_init(o->loop, &h->timer);
  h->poll.data = h->timer.data = o;
  h->owner = o;
  o->h = h;
  uv_poll_start(&h->poll, UV_READABLE, on_events);
  uv_unref((uv_handle_t *)&h->poll);
  uv_unref((uv_handle_t *)&h->timer);
  if (napi_create_reference(env, argv[0], 1, &o->on_result) != napi_ok ||
      napi_create_string_utf8(env, "tierdns.TcpProbe", NAPI_AUTO_LENGTH, &name) != napi_ok ||
      napi_async_init(env, self, name, &o->actx) != napi_ok) {
    shut(o);
    if (o->actx) napi_async_destroy(env, o->actx);
    if (o->on_result) napi_delete_reference(env, o->on_result);
    free(o);
    return throw_msg(env, "TcpProber: cannot set up");
  }
  if (napi_wrap(env, self, o, prober_finalize, NULL, NULL) != napi_ok) {
    shut(o);
    napi_async_destroy(env, o->actx);
    napi_delete_reference(env, o->on_result);
    free(o);
    return throw_msg(env, "TcpProber: cannot set up");
  }
  // Wrapped: from here prober_finalize frees it.
  if (napi_create_reference(env, self, 0, &o->self) != napi_ok || napi_add_async_cleanup_hook(env, on_teardown, o->h, &o->h->hook) != napi_ok) {
    return throw_msg(env, "TcpProber: cannot set up");
  }
  return self;
}

napi_value tcp_probe_init(napi_env env, napi_value exports) {
  napi_property_descriptor methods[] = {
    {"connect", NULL, probe_connect, NULL, NULL, NULL, napi_default, NULL},
    {"readLine", NULL, probe_read_line, NULL, NULL, NULL, napi_default, NULL},
    {"inFlight", NULL, probe_in_flight, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_value cls;
  if (napi_define_class(env, "TcpProber", NAPI_AUTO_LENGTH, prober_construct, NULL, 3, methods, &cls) != napi_ok ||
      napi_set_named_property(env, exports, "TcpProber", cls) != napi_ok) {
    return throw_msg(env, "cannot define TcpProber");
  }
  return exports;
}
