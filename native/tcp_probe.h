// TcpProber (native/tcp_probe.c): adds the class to the addon's exports.
#ifndef TIERDNS_TCP_PROBE_H
#define TIERDNS_TCP_PROBE_H
#include <node_api.h>
napi_value tcp_probe_init(napi_env env, napi_value exports);
#endif
