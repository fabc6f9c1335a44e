{
  # The optional native UDP path (native/udp_batch.c) and tcp prober (native/tcp_probe.c), docs/native.md. `npm ci` builds it via
  # scripts/native-build.js; when it cannot build, tierdns uses Node's dgram instead.
  "targets": [
    {
      "target_name": "udp_batch",
      "sources": ["native/udp_batch.c", "native/tcp_probe.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
