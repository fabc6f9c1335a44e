{
  # The optional native UDP path (native/udp_batch.c), tcp prober (native/tcp_probe.c) and TCP socket options (native/tcp_socket.c), docs/native.md. `npm ci` builds it via
  # scripts/native-build.js; when it cannot build, tierdns uses Node's dgram instead.
  "targets": [
    {
      "target_name": "udp_batch",
      "sources": ["native/udp_batch.c", "native/tcp_probe.c", "native/tcp_socket.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
