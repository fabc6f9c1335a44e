// tcpLimitUnsent (native/tcp_socket.c): adds the function to the addon's exports.
#ifndef TIERDNS_TCP_SOCKET_H
#define TIERDNS_TCP_SOCKET_H
#include <node_api.h>
napi_value tcp_socket_init(napi_env env, napi_value exports);
#endif
