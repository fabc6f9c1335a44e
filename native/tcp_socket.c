// Socket options Node does not expose, for the DNS-over-TCP server (docs/tcp.md):
//
//   tcpLimitUnsent(fd, bytes) -> 0, or the errno of setsockopt
//
// sets TCP_NOTSENT_LOWAT on an accepted connection: the kernel then takes no more of our
// writes once `bytes` of them wait unsent (because the client does not read and its window
// is closed), so writes back up in Node, where the server sees them and stops reading that
// client. Without it the kernel's send buffer, autotuned up to net.ipv4.tcp_wmem's maximum
// (4 MiB by default), takes answers for a client that never reads them.
#include <node_api.h>

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

static napi_value limit_unsent(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  int32_t fd = -1;
  int32_t bytes = 0;
  napi_value result;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2 ||
      napi_get_value_int32(env, argv[0], &fd) != napi_ok || napi_get_value_int32(env, argv[1], &bytes) != napi_ok ||
      fd < 0 || bytes < 0) {
    napi_throw_error(env, "TIERDNS_E_NATIVE", "tcpLimitUnsent(fd, bytes): two non-negative integers expected");
    return NULL;
  }
  int err = 0;
#ifdef TCP_NOTSENT_LOWAT
  int value = bytes;
  if (setsockopt(fd, IPPROTO_TCP, TCP_NOTSENT_LOWAT, &value, sizeof value) != 0) err = errno;
#else
  err = ENOPROTOOPT;
#endif
  if (napi_create_int32(env, err, &result) != napi_ok) return NULL;
  return result;
}

static napi_value trim_heap(napi_env env, napi_callback_info info) {
  napi_value result;
  int released = 0;
#ifdef __GLIBC__
  released = malloc_trim(0);
#endif
  if (napi_get_boolean(env, released != 0, &result) != napi_ok) return NULL;
  return result;
}

napi_value tcp_socket_init(napi_env env, napi_value exports) {
  napi_value fn;
  if (napi_create_function(env, "trimHeap", NAPI_AUTO_LENGTH, trim_heap, NULL, &fn) != napi_ok ||
      napi_set_named_property(env, exports, "trimHeap", fn) != napi_ok) {
    napi_throw_error(env, "TIERDNS_E_NATIVE", "cannot define trimHeap");
    return NULL;
  }
  if (napi_create_function(env, "tcpLimitUnsent", NAPI_AUTO_LENGTH, limit_unsent, NULL, &fn) != napi_ok ||
      napi_set_named_property(env, exports, "tcpLimitUnsent", fn) != napi_ok) {
    napi_throw_error(env, "TIERDNS_E_NATIVE", "cannot define tcpLimitUnsent");
    return NULL;
  }
  return exports;
}
