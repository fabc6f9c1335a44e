// TCP connect health checks for tierdns (docs/native.md): a `tcp` probe is a non-blocking
// connect() watched by libuv, settled by SO_ERROR or a libuv timer, and closed with a reset
// (SO_LINGER 0) as HAProxy closes its checks. Node's net.connect costs ~70 µs of the event
// loop per probe (a Socket, a TCPWrap, a connect request, events, a close callback); at
// 10,000 members every 2 s that was 40% of a core on the thread that answers DNS. Here a
// probe is a socket, a poll handle, a timer and one JS call with the outcome.
//
//   const p = new TcpProber(onResult)        onResult(id, err, latencyUs): err 0 = connected,
//                                            an errno (ECONNREFUSED…), or -1 = timed out
//   p.connect(id, ip, port, localIp, timeoutMs) -> 0 when started (onResult follows), or the
//                                            errno of a connect that failed at once (no call)
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
#include <sys/socket.h>
#include <unistd.h>

#include "tcp_probe.h"

#define TIMED_OUT (-1)

typedef struct prober_s prober_t;

typedef struct probe_s {
  uv_poll_t poll;
  uv_timer_t timer;
  prober_t *owner;
  struct probe_s *prev, *next;  // the owner's list of open probes
  uint64_t started_ns;
  uint32_t id;
  int fd;
  int closing;  // handles still to close before the fd and the struct go
  int connected;
} probe_t;

struct prober_s {
  napi_env env;
  napi_ref self;  // strong while any probe is open: keeps `this` and the callback alive
  napi_ref on_result;
  napi_async_context actx;
  probe_t *open;
  uint32_t count;
  int teardown;
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

static void on_handle_closed(uv_handle_t *h) {
  probe_t *p = h->data;
  if (--p->closing > 0) return;
  if (p->connected) {
    // Reset rather than FIN: the closing side would hold a TIME_WAIT entry for a minute.
    struct linger lg = {1, 0};
    setsockopt(p->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
  }
  close(p->fd);
  free(p);
}

// Unlink and close; the struct is freed once both handles are closed.
static void release(probe_t *p) {
  prober_t *o = p->owner;
  if (p->prev) p->prev->next = p->next;
  else o->open = p->next;
  if (p->next) p->next->prev = p->prev;
  o->count--;
  p->closing = 2;
  uv_close((uv_handle_t *)&p->poll, on_handle_closed);
  uv_close((uv_handle_t *)&p->timer, on_handle_closed);
  if (o->count == 0 && o->self && !o->teardown) {
    // Nothing in flight: let GC collect the prober once JS drops it.
    napi_reference_unref(o->env, o->self, NULL);
  }
}

static void settle(probe_t *p, int err) {
  prober_t *o = p->owner;
  uint32_t id = p->id;
  double latency_us = (double)(uv_hrtime() - p->started_ns) / 1e3;
  p->connected = err == 0;
  uv_poll_stop(&p->poll);
  uv_timer_stop(&p->timer);
  release(p);
  if (o->teardown) return;
  napi_env env = o->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_value fn, recv, argv[3], ignored;
  if (napi_get_reference_value(env, o->on_result, &fn) == napi_ok && napi_get_reference_value(env, o->self, &recv) == napi_ok &&
      napi_create_uint32(env, id, &argv[0]) == napi_ok && napi_create_int32(env, err, &argv[1]) == napi_ok &&
      napi_create_double(env, latency_us, &argv[2]) == napi_ok) {
    // make_callback: process.nextTick and promise jobs run afterwards, as after any I/O.
    if (napi_make_callback(env, o->actx, recv, fn, 3, argv, &ignored) != napi_ok) {
      bool pending = false;
      napi_value exc;
      if (napi_is_exception_pending(env, &pending) == napi_ok && pending && napi_get_and_clear_last_exception(env, &exc) == napi_ok) {
        napi_fatal_exception(env, exc);
      }
    }
  }
  napi_close_handle_scope(env, scope);
}

static void on_writable(uv_poll_t *h, int status, int events) {
  (void)events;
  probe_t *p = h->data;
  int err = 0;
  socklen_t len = sizeof err;
  if (getsockopt(p->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
  if (err == 0 && status < 0) err = -status;
  settle(p, err);
}

static void on_timeout(uv_timer_t *t) {
  settle(t->data, TIMED_OUT);
}

// connect(id, ip, port, localIp, timeoutMs) -> 0 or errno
static napi_value probe_connect(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5], self, result;
  void *data = NULL;
  if (napi_get_cb_info(env, info, &argc, argv, &self, NULL) != napi_ok || napi_unwrap(env, self, &data) != napi_ok || !data) {
    return throw_msg(env, "connect: not a TcpProber");
  }
  prober_t *o = data;
  uint32_t id = 0, port = 0, timeout_ms = 0;
  char ip[INET6_ADDRSTRLEN + IF_NAMESIZE + 2], local[INET6_ADDRSTRLEN + IF_NAMESIZE + 2];
  size_t ip_len = 0, local_len = 0;
  if (argc < 5 || napi_get_value_uint32(env, argv[0], &id) != napi_ok ||
      napi_get_value_string_utf8(env, argv[1], ip, sizeof ip, &ip_len) != napi_ok ||
      napi_get_value_uint32(env, argv[2], &port) != napi_ok ||
      napi_get_value_string_utf8(env, argv[3], local, sizeof local, &local_len) != napi_ok ||
      napi_get_value_uint32(env, argv[4], &timeout_ms) != napi_ok) {
    return throw_msg(env, "connect(id, ip, port, localIp, timeoutMs): integer, string, integer, string, integer expected");
  }
  if (o->teardown) return throw_msg(env, "connect: the environment is shutting down");

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
  if (!err && connect(fd, (struct sockaddr *)&sa, sa_len) != 0 && errno != EINPROGRESS) err = errno;
  probe_t *p = NULL;
  uv_loop_t *loop = NULL;
  if (!err) {
    p = calloc(1, sizeof *p);
    if (!p) err = ENOMEM;
  }
  if (!err && (napi_get_uv_event_loop(env, &loop) != napi_ok || uv_poll_init_socket(loop, &p->poll, fd) != 0)) err = EIO;
  if (err) {
    // Refused on loopback usually lands here: connect() fails at once.
    if (fd >= 0) close(fd);
    free(p);
    napi_create_int32(env, err, &result);
    return result;
  }
  uv_timer_init(loop, &p->timer);
  p->poll.data = p->timer.data = p;
  p->owner = o;
  p->fd = fd;
  p->id = id;
  p->started_ns = uv_hrtime();
  p->next = o->open;
  if (o->open) o->open->prev = p;
  o->open = p;
  if (o->count++ == 0) napi_reference_ref(env, o->self, NULL);
  uv_poll_start(&p->poll, UV_WRITABLE, on_writable);
  uv_timer_start(&p->timer, on_timeout, timeout_ms, 0);
  napi_create_int32(env, 0, &result);
  return result;
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

static void on_teardown(void *arg);

static void prober_finalize(napi_env env, void *data, void *hint) {
  (void)hint;
  prober_t *o = data;
  napi_remove_env_cleanup_hook(env, on_teardown, o);
  // `self` is strong while probes are open, so this runs with none open (or at teardown,
  // after on_teardown closed them; their structs no longer point here once closed).
  if (o->actx) napi_async_destroy(env, o->actx);
  if (o->on_result) napi_delete_reference(env, o->on_result);
  if (o->self) napi_delete_reference(env, o->self);
  if (o->count == 0) free(o);
}

static void on_teardown(void *arg) {
  prober_t *o = arg;
  o->teardown = 1;
  while (o->open) {
    probe_t *p = o->open;
    uv_poll_stop(&p->poll);
    uv_timer_stop(&p->timer);
    release(p);
  }
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
  if (!o) return throw_msg(env, "TcpProber: out of memory");
  o->env = env;
  if (napi_create_reference(env, argv[0], 1, &o->on_result) != napi_ok ||
      napi_create_string_utf8(env, "tierdns.TcpProbe", NAPI_AUTO_LENGTH, &name) != napi_ok ||
      napi_async_init(env, self, name, &o->actx) != napi_ok ||
      napi_wrap(env, self, o, prober_finalize, NULL, NULL) != napi_ok ||
      napi_create_reference(env, self, 0, &o->self) != napi_ok ||
      napi_add_env_cleanup_hook(env, on_teardown, o) != napi_ok) {
    return throw_msg(env, "TcpProber: cannot set up");
  }
  return self;
}

napi_value tcp_probe_init(napi_env env, napi_value exports) {
  napi_property_descriptor methods[] = {
    {"connect", NULL, probe_connect, NULL, NULL, NULL, napi_default, NULL},
    {"inFlight", NULL, probe_in_flight, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_value cls;
  if (napi_define_class(env, "TcpProber", NAPI_AUTO_LENGTH, prober_construct, NULL, 2, methods, &cls) != napi_ok ||
      napi_set_named_property(env, exports, "TcpProber", cls) != napi_ok) {
    return throw_msg(env, "cannot define TcpProber");
  }
  return exports;
}
