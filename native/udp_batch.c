// Batched UDP for tierdns (docs/native.md): one socket, read with recvmmsg, answered by ONE
// JS call per batch, written back with sendmmsg. Node's dgram costs a libuv callback, a
// Buffer, an rinfo object with an address string and a send request per datagram; here
// those costs are paid once per batch of up to `batch` datagrams.
//
// Memory shared with JS (three ArrayBuffers created here, reused for every batch):
//   inBuf   batch slots of slotBytes; recvmmsg writes datagram i at i * slotBytes (no copy)
//   outBuf  the responses of one batch, packed back to back, written by JS
//   meta    uint32 [0, batch)          length of datagram i (0 when it did not fit its slot)
//           uint32 [batch, 2*batch)    out[j]: index of the datagram response j answers
//           uint32 [2*batch, 3*batch)  out[j]: length of response j
//           uint32 [3*batch, 7*batch)  source address of datagram i at 3*batch + 4*i: four
//                                      big-endian words (IPv4 in the first), for rate limiting
// Client addresses stay here (addr[i]) and answers reference them by index, so JS never
// builds address strings. Everything JS writes into meta is bounds-checked before use.
#define _GNU_SOURCE
#ifndef NAPI_VERSION
#define NAPI_VERSION 8
#endif
#include <node_api.h>
#include <uv.h>

#include <errno.h>
#include <net/if.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tcp_probe.h"
#include "tcp_socket.h"

#define MAX_BATCH 1024
#define MIN_SLOT 512
#define MAX_SLOT 65536
#define MAX_OUT (64u << 20)
#define MAX_UDP_PAYLOAD 65507
// uint32 words of meta per datagram: length, out index, out length, four of source address.
#define META_WORDS 7
// Batches read per readable event: bounded so TCP, timers and store updates still get
// their turn during a flood; epoll is level-triggered, so what is left wakes us again.
#define MAX_ROUNDS 8
// Receive buffer asked for (the kernel caps it at net.core.rmem_max): the default ~208 KiB
// holds ~270 queries, 4 ms at 60k q/s, so a GC pause dropped queries that 1 MiB (~16 ms)
// answers a little late instead. Not more: 4 MiB turned an overload into 300 ms answers,
// later than a resolver waits (see src/dns/udpServer.ts, the same for dgram).
#define RCVBUF_BYTES (1 << 20)

typedef enum { S_NEW, S_BOUND, S_RUNNING, S_CLOSING, S_CLOSED } state_t;

typedef struct {
  napi_env env;
  napi_ref self;      // strong while the poll handle exists: keeps `this`, its buffers and us alive
  napi_ref on_batch;
  napi_ref on_close;
  napi_async_context actx;
  napi_async_cleanup_hook_handle cleanup;
  uv_poll_t poll;
  int fd;
  state_t state;
  int events;         // what the poll handle waits for: UV_READABLE, or UV_WRITABLE while sends wait
  int teardown;       // the environment is going away: close without calling JS
  uint32_t batch, slot, out_cap;
  uint8_t *in, *out;
  uint32_t *meta;
  struct mmsghdr *rmsg, *smsg;
  struct iovec *riov, *siov;
  struct sockaddr_storage *addr;
  uint32_t pend_pos, pend_count;  // responses of the current batch not yet sent (EAGAIN)
  uint64_t received, sent, truncated, send_errors, send_blocked, bad_responses, recv_errors, batches;
} sock_t;

static void on_poll(uv_poll_t *handle, int status, int events);
static void on_teardown(napi_async_cleanup_hook_handle hook, void *arg);

// Throw an Error with `code` set; returns NULL so callers can `return throw_...`.
static napi_value throw_code(napi_env env, const char *code, const char *msg) {
  napi_throw_error(env, code, msg);
  return NULL;
}

static napi_value throw_errno(napi_env env, const char *syscall, int err) {
  char msg[160];
  snprintf(msg, sizeof msg, "%s %s (%s)", syscall, uv_err_name(-err), strerror(err));
  return throw_code(env, uv_err_name(-err), msg);
}

#define CHECK(env, call)                                              \
  do {                                                                \
    if ((call) != napi_ok) return throw_code(env, "TIERDNS_E_NATIVE", #call " failed"); \
  } while (0)

static sock_t *unwrap(napi_env env, napi_callback_info info, size_t *argc, napi_value *argv, napi_value *self) {
  void *p = NULL;
  if (napi_get_cb_info(env, info, argc, argv, self, NULL) != napi_ok) return NULL;
  if (napi_unwrap(env, *self, &p) != napi_ok) return NULL;
  return p;
}

static void free_sock(sock_t *s) {
  free(s->rmsg);  // one allocation holds rmsg, smsg, riov, siov and addr
  free(s);
}

static void finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  sock_t *s = data;
  // Only reachable when no poll handle exists (`self` is strong until it is closed); if a
  // teardown ever finalizes an open socket anyway, leak rather than free memory libuv uses.
  if (s->state == S_NEW || s->state == S_CLOSED) free_sock(s);
}

// new UdpBatchSocket(batch, slotBytes, outBytes)
static napi_value construct(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3], self;
  uint32_t batch = 0, slot = 0, out_cap = 0;
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, &self, NULL));
  if (argc < 3 || napi_get_value_uint32(env, argv[0], &batch) != napi_ok ||
      napi_get_value_uint32(env, argv[1], &slot) != napi_ok || napi_get_value_uint32(env, argv[2], &out_cap) != napi_ok) {
    return throw_code(env, "TIERDNS_E_NATIVE", "UdpBatchSocket(batch, slotBytes, outBytes): three integers expected");
  }
  // Limits keep batch * slotBytes and the meta array far from size_t overflow.
  if (batch < 1 || batch > MAX_BATCH || slot < MIN_SLOT || slot > MAX_SLOT || out_cap < slot || out_cap > MAX_OUT) {
    return throw_code(env, "TIERDNS_E_NATIVE", "UdpBatchSocket: batch 1-1024, slotBytes 512-65536, outBytes slotBytes-64MiB");
  }
  sock_t *s = calloc(1, sizeof *s);
  size_t per = 2 * sizeof(struct mmsghdr) + 2 * sizeof(struct iovec) + sizeof(struct sockaddr_storage);
  char *arrays = calloc(batch, per);
  if (!s || !arrays) {
    free(s);
    free(arrays);
    return throw_code(env, "TIERDNS_E_NATIVE", "UdpBatchSocket: out of memory");
  }
  s->rmsg = (struct mmsghdr *)arrays;
  s->smsg = s->rmsg + batch;
  s->addr = (struct sockaddr_storage *)(s->smsg + batch);
  s->riov = (struct iovec *)(s->addr + batch);
  s->siov = s->riov + batch;
  s->env = env;
  s->fd = -1;
  s->batch = batch;
  s->slot = slot;
  s->out_cap = out_cap;

  // V8 owns the memory (its backing stores never move); `this` holds the buffers.
  napi_value in_ab, out_ab, meta_ab;
  void *p;
  if (napi_create_arraybuffer(env, (size_t)batch * slot, &p, &in_ab) != napi_ok) goto fail;
  s->in = p;
  if (napi_create_arraybuffer(env, out_cap, &p, &out_ab) != napi_ok) goto fail;
  s->out = p;
  if (napi_create_arraybuffer(env, (size_t)batch * META_WORDS * sizeof(uint32_t), &p, &meta_ab) != napi_ok) goto fail;
  s->meta = p;
  if (napi_set_named_property(env, self, "inBuf", in_ab) != napi_ok ||
      napi_set_named_property(env, self, "outBuf", out_ab) != napi_ok ||
      napi_set_named_property(env, self, "meta", meta_ab) != napi_ok) goto fail;

  for (uint32_t i = 0; i < batch; i++) {
    s->riov[i].iov_base = s->in + (size_t)i * slot;
    s->riov[i].iov_len = slot;
    s->rmsg[i].msg_hdr.msg_name = &s->addr[i];
    s->rmsg[i].msg_hdr.msg_iov = &s->riov[i];
    s->rmsg[i].msg_hdr.msg_iovlen = 1;
  }
  if (napi_wrap(env, self, s, finalize, NULL, NULL) != napi_ok) goto fail;
  return self;

fail:
  free_sock(s);
  return throw_code(env, "TIERDNS_E_NATIVE", "UdpBatchSocket: cannot allocate buffers");
}

// bind(host, port, reusePort) -> bound port. host is an IP literal ("::1", "fe80::1%eth0").
static napi_value bind_sock(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3], self, result;
  sock_t *s = unwrap(env, info, &argc, argv, &self);
  if (!s) return throw_code(env, "TIERDNS_E_NATIVE", "bind: not a UdpBatchSocket");
  if (s->state != S_NEW) return throw_code(env, "TIERDNS_E_NATIVE", "bind: socket already bound");
  char host[INET6_ADDRSTRLEN + IF_NAMESIZE + 2];
  size_t host_len = 0;
  uint32_t port = 0;
  bool reuse = false;
  if (argc < 3 || napi_get_value_string_utf8(env, argv[0], host, sizeof host, &host_len) != napi_ok ||
      napi_get_value_uint32(env, argv[1], &port) != napi_ok || napi_get_value_bool(env, argv[2], &reuse) != napi_ok) {
    return throw_code(env, "TIERDNS_E_NATIVE", "bind(host, port, reusePort): string, integer, boolean expected");
  }
  // A host that filled the buffer was cut short: refuse it rather than bind a prefix.
  if (host_len >= sizeof host - 1 || port > 65535) return throw_errno(env, "bind", EINVAL);

  struct sockaddr_storage sa;
  memset(&sa, 0, sizeof sa);
  int v6 = strchr(host, ':') != NULL;
  int rc = v6 ? uv_ip6_addr(host, (int)port, (struct sockaddr_in6 *)&sa) : uv_ip4_addr(host, (int)port, (struct sockaddr_in *)&sa);
  if (rc != 0) return throw_errno(env, "bind", EINVAL);
  socklen_t sa_len = v6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);

  const char *op = "socket";
  int fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return throw_errno(env, op, errno);
  int one = 1;
  op = "setsockopt";
  // Like dgram's ipv6Only: an IPv6 listen address answers IPv6 only.
  if (v6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) != 0) goto sys_fail;
  // Cluster workers each bind their own socket on one port; the kernel spreads clients.
  if (reuse && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0) goto sys_fail;
  int rcvbuf = RCVBUF_BYTES;
  (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);  // best effort
  op = "bind";
  if (bind(fd, (struct sockaddr *)&sa, sa_len) != 0) goto sys_fail;
  op = "getsockname";
  if (getsockname(fd, (struct sockaddr *)&sa, &sa_len) != 0) goto sys_fail;
  uint32_t bound = ntohs(v6 ? ((struct sockaddr_in6 *)&sa)->sin6_port : ((struct sockaddr_in *)&sa)->sin_port);

  uv_loop_t *loop;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok || uv_poll_init(loop, &s->poll, fd) != 0) {
    close(fd);
    return throw_code(env, "TIERDNS_E_NATIVE", "bind: cannot watch the socket");
  }
  s->poll.data = s;
  s->fd = fd;
  s->state = S_BOUND;
  // From here the poll handle exists: keep `this` (and so s) alive until it is closed.
  if (napi_create_reference(env, self, 1, &s->self) != napi_ok ||
      napi_add_async_cleanup_hook(env, on_teardown, s, &s->cleanup) != napi_ok) {
    return throw_code(env, "TIERDNS_E_NATIVE", "bind: cannot register the socket");
  }
  CHECK(env, napi_create_uint32(env, bound, &result));
  return result;

sys_fail: {
    int err = errno;
    close(fd);
    return throw_errno(env, op, err);
  }
}

static void set_events(sock_t *s, int events) {
  s->events = events;
  uv_poll_start(&s->poll, events, on_poll);
}

// A datagram's source address as four host-order words of its big-endian bytes.
static void put_source(uint32_t *words, const struct sockaddr_storage *sa) {
  memset(words, 0, 4 * sizeof(uint32_t));
  if (sa->ss_family == AF_INET) {
    words[0] = ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr);
  } else if (sa->ss_family == AF_INET6) {
    const uint8_t *b = ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr;
    for (int w = 0; w < 4; w++) {
      words[w] = ((uint32_t)b[4 * w] << 24) | ((uint32_t)b[4 * w + 1] << 16) | ((uint32_t)b[4 * w + 2] << 8) | b[4 * w + 3];
    }
  }
}

// Read up to `batch` datagrams; returns how many (0 when none is waiting).
static uint32_t recv_batch(sock_t *s) {
  for (uint32_t i = 0; i < s->batch; i++) s->rmsg[i].msg_hdr.msg_namelen = sizeof(struct sockaddr_storage);
  int n = recvmmsg(s->fd, s->rmsg, s->batch, MSG_DONTWAIT, NULL);
  if (n <= 0) {
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) s->recv_errors++;
    return 0;
  }
  for (int i = 0; i < n; i++) {
    uint32_t len = s->rmsg[i].msg_len;
    // A datagram larger than its slot was cut by the kernel: hand JS an empty message
    // (dropped like any runt) rather than a truncated query.
    if ((s->rmsg[i].msg_hdr.msg_flags & MSG_TRUNC) || len > s->slot) {
      len = 0;
      s->truncated++;
    }
    s->meta[i] = len;
    put_source(s->meta + 3 * (size_t)s->batch + 4 * (size_t)i, &s->addr[i]);
  }
  s->received += (uint64_t)n;
  s->batches++;
  return (uint32_t)n;
}

// One JS call for the batch; returns how many responses JS wrote (0 if it threw).
static uint32_t call_js(sock_t *s, uint32_t n) {
  napi_env env = s->env;
  napi_value fn, recv, arg, result;
  uint32_t m = 0;
  if (napi_get_reference_value(env, s->on_batch, &fn) != napi_ok || napi_get_reference_value(env, s->self, &recv) != napi_ok ||
      napi_create_uint32(env, n, &arg) != napi_ok) {
    return 0;
  }
  // make_callback (not call_function): runs process.nextTick and promise jobs afterwards,
  // as Node does after any I/O callback.
  if (napi_make_callback(env, s->actx, recv, fn, 1, &arg, &result) != napi_ok) {
    bool pending = false;
    napi_value exc;
    if (napi_is_exception_pending(env, &pending) == napi_ok && pending && napi_get_and_clear_last_exception(env, &exc) == napi_ok) {
      napi_fatal_exception(env, exc);  // an uncaught exception, as from any other callback
    }
    return 0;
  }
  if (napi_get_value_uint32(env, result, &m) != napi_ok || m > n) {
    s->bad_responses++;
    return 0;
  }
  return m;
}

// Turn the responses JS packed into outBuf into sendmmsg headers, checking every field.
static void prepare_send(sock_t *s, uint32_t n, uint32_t m) {
  const uint32_t *out_index = s->meta + s->batch, *out_len = s->meta + 2 * (size_t)s->batch;
  size_t off = 0;
  uint32_t k = 0;
  for (uint32_t j = 0; j < m; j++) {
    uint32_t idx = out_index[j], len = out_len[j];
    // Past the end of outBuf every later offset is wrong too: stop.
    if (len > s->out_cap - off) {
      s->bad_responses += m - j;
      break;
    }
    if (idx >= n || len == 0 || len > MAX_UDP_PAYLOAD) {
      s->bad_responses++;
      off += len;
      continue;
    }
    s->siov[k].iov_base = s->out + off;
    s->siov[k].iov_len = len;
    struct msghdr *h = &s->smsg[k].msg_hdr;
    h->msg_name = &s->addr[idx];
    h->msg_namelen = s->rmsg[idx].msg_hdr.msg_namelen;
    h->msg_iov = &s->siov[k];
    h->msg_iovlen = 1;
    h->msg_control = NULL;
    h->msg_controllen = 0;
    h->msg_flags = 0;
    off += len;
    k++;
  }
  s->pend_pos = 0;
  s->pend_count = k;
}

// Send what is pending; returns 1 when all is sent, 0 when the socket is full (EAGAIN).
static int flush(sock_t *s) {
  while (s->pend_pos < s->pend_count) {
    int r = sendmmsg(s->fd, s->smsg + s->pend_pos, s->pend_count - s->pend_pos, MSG_DONTWAIT);
    if (r > 0) {
      s->pend_pos += (uint32_t)r;
      s->sent += (uint64_t)r;
    } else if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      s->send_blocked++;
      return 0;
    } else if (r < 0 && errno == EINTR) {
      continue;
    } else {
      // sendmmsg fails only for the first message it tried: that datagram is lost (as any
      // UDP loss, the client retries); go on with the rest.
      s->send_errors++;
      s->pend_pos++;
    }
  }
  s->pend_pos = s->pend_count = 0;
  return 1;
}

static void on_poll(uv_poll_t *handle, int status, int events) {
  sock_t *s = handle->data;
  if (s->state != S_RUNNING) return;
  if (status < 0) {
    // libuv stops the handle on POLLERR (a pending socket error): clear the error, which
    // is about one datagram, and keep serving. Only a dead descriptor stops us.
    int err = 0;
    socklen_t len = sizeof err;
    s->recv_errors++;
    if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0) set_events(s, s->events);
    return;
  }
  if (s->pend_count) {
    // Responses wait for send space; reading on would overwrite their client addresses.
    if (!(events & UV_WRITABLE) || !flush(s)) return;
    set_events(s, UV_READABLE);
  }
  for (int round = 0; round < MAX_ROUNDS; round++) {
    uint32_t n = recv_batch(s);
    if (n == 0) break;
    napi_handle_scope scope;
    if (napi_open_handle_scope(s->env, &scope) != napi_ok) break;
    uint32_t m = call_js(s, n);
    napi_close_handle_scope(s->env, scope);
    // JS may have closed the socket from the callback: the batch is dropped with it.
    if (s->state != S_RUNNING) return;
    prepare_send(s, n, m);
    if (!flush(s)) {
      set_events(s, UV_WRITABLE);
      return;
    }
    if (n < s->batch) break;  // the socket is drained
  }
}

// start(onBatch): onBatch(count) is called with `this` and returns how many responses it packed.
static napi_value start(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], self, name;
  napi_valuetype type;
  sock_t *s = unwrap(env, info, &argc, argv, &self);
  if (!s) return throw_code(env, "TIERDNS_E_NATIVE", "start: not a UdpBatchSocket");
  if (s->state != S_BOUND) return throw_code(env, "TIERDNS_E_NATIVE", "start: socket not bound, or already started");
  if (argc < 1 || napi_typeof(env, argv[0], &type) != napi_ok || type != napi_function) {
    return throw_code(env, "TIERDNS_E_NATIVE", "start(onBatch): a function expected");
  }
  CHECK(env, napi_create_reference(env, argv[0], 1, &s->on_batch));
  CHECK(env, napi_create_string_utf8(env, "tierdns.UdpBatch", NAPI_AUTO_LENGTH, &name));
  CHECK(env, napi_async_init(env, self, name, &s->actx));
  s->events = UV_READABLE;
  int rc = uv_poll_start(&s->poll, UV_READABLE, on_poll);
  if (rc != 0) return throw_errno(env, "poll", -rc);
  s->state = S_RUNNING;
  return NULL;
}

static void on_closed(uv_handle_t *handle) {
  sock_t *s = handle->data;
  close(s->fd);
  s->fd = -1;
  s->state = S_CLOSED;
  napi_remove_async_cleanup_hook(s->cleanup);
  if (s->teardown) return;  // no JS during teardown; the environment frees our references
  napi_env env = s->env;
  napi_handle_scope scope;
  napi_open_handle_scope(env, &scope);
  napi_value fn, recv, ignored;
  if (s->on_close && napi_get_reference_value(env, s->on_close, &fn) == napi_ok &&
      napi_get_reference_value(env, s->self, &recv) == napi_ok) {
    // Reuse the batch context when there is one; a never-started socket gets its own.
    napi_async_context ctx = s->actx;
    napi_value name;
    if (!ctx && napi_create_string_utf8(env, "tierdns.UdpBatch", NAPI_AUTO_LENGTH, &name) == napi_ok) {
      napi_async_init(env, recv, name, &ctx);
      s->actx = ctx;
    }
    if (napi_make_callback(env, ctx, recv, fn, 0, NULL, &ignored) != napi_ok) {
      bool pending = false;
      napi_value exc;
      if (napi_is_exception_pending(env, &pending) == napi_ok && pending && napi_get_and_clear_last_exception(env, &exc) == napi_ok) {
        napi_fatal_exception(env, exc);
      }
    }
  }
  if (s->on_batch) napi_delete_reference(env, s->on_batch);
  if (s->on_close) napi_delete_reference(env, s->on_close);
  if (s->actx) napi_async_destroy(env, s->actx);
  s->on_batch = s->on_close = NULL;
  s->actx = NULL;
  napi_ref self = s->self;
  s->self = NULL;
  napi_close_handle_scope(env, scope);
  // Last: once `this` is unreferenced, GC may finalize and free s.
  napi_delete_reference(env, self);
}

// The environment (process or worker thread) is shutting down with the socket open.
static void on_teardown(napi_async_cleanup_hook_handle hook, void *arg) {
  (void)hook;
  sock_t *s = arg;
  s->teardown = 1;
  if (s->state == S_BOUND || s->state == S_RUNNING) {
    s->state = S_CLOSING;
    uv_close((uv_handle_t *)&s->poll, on_closed);
  }
}

// close(onClose) -> true when onClose will be called, false when there was nothing to close.
static napi_value close_sock(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], self, result;
  sock_t *s = unwrap(env, info, &argc, argv, &self);
  if (!s) return throw_code(env, "TIERDNS_E_NATIVE", "close: not a UdpBatchSocket");
  bool open = s->state == S_BOUND || s->state == S_RUNNING;
  if (open) {
    napi_valuetype type;
    if (argc >= 1 && napi_typeof(env, argv[0], &type) == napi_ok && type == napi_function) {
      CHECK(env, napi_create_reference(env, argv[0], 1, &s->on_close));
    }
    s->state = S_CLOSING;
    // Pending responses are dropped with the socket; uv_close also stops the poll.
    s->pend_count = s->pend_pos = 0;
    uv_close((uv_handle_t *)&s->poll, on_closed);
  }
  CHECK(env, napi_get_boolean(env, open, &result));
  return result;
}

static napi_value stats(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  napi_value self, obj, v;
  sock_t *s = unwrap(env, info, &argc, NULL, &self);
  if (!s) return throw_code(env, "TIERDNS_E_NATIVE", "stats: not a UdpBatchSocket");
  CHECK(env, napi_create_object(env, &obj));
  int rcvbuf = 0;
  socklen_t rcvbuf_len = sizeof rcvbuf;
  if (s->fd < 0 || getsockopt(s->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, &rcvbuf_len) != 0) rcvbuf = 0;
  const struct { const char *name; uint64_t value; } fields[] = {
    {"recvBufferBytes", (uint64_t)rcvbuf},
    {"received", s->received}, {"sent", s->sent}, {"batches", s->batches}, {"truncated", s->truncated},
    {"sendErrors", s->send_errors}, {"sendBlocked", s->send_blocked}, {"badResponses", s->bad_responses},
    {"recvErrors", s->recv_errors},
  };
  for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
    CHECK(env, napi_create_double(env, (double)fields[i].value, &v));
    CHECK(env, napi_set_named_property(env, obj, fields[i].name, v));
  }
  return obj;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor methods[] = {
    {"bind", NULL, bind_sock, NULL, NULL, NULL, napi_default, NULL},
    {"start", NULL, start, NULL, NULL, NULL, napi_default, NULL},
    {"close", NULL, close_sock, NULL, NULL, NULL, napi_default, NULL},
    {"stats", NULL, stats, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_value cls;
  CHECK(env, napi_define_class(env, "UdpBatchSocket", NAPI_AUTO_LENGTH, construct, NULL, sizeof methods / sizeof methods[0], methods, &cls));
  CHECK(env, napi_set_named_property(env, exports, "UdpBatchSocket", cls));
  if (tcp_probe_init(env, exports) == NULL) return NULL;
  return tcp_socket_init(env, exports);
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
