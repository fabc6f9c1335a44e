#!/usr/bin/env bash
# Start knotd (foreground, backgrounded by us) bound to $PIN_CPUS with $WORKERS UDP/TCP workers.
set -euo pipefail
P="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$P/../../lib/common.sh"
PORT="$(port_of knot)"
R="$RUNDIR/knot"; rm -rf "$R"; mkdir -p "$R/db" "$R/zones"
port_busy "$PORT" && { echo "port $PORT is already in use" >&2; exit 1; }
cp "$DATA/lb.example.com.static.zone" "$R/zones/lb.example.com.zone"
sed -e "s#@RUN@#$R#g" -e "s#@ZONEDIR@#$R/zones#g" -e "s#@PORT@#$PORT#g" -e "s#@WORKERS@#$WORKERS#g" \
  "$P/knot.conf.in" > "$R/knot.conf"
knotc -c "$R/knot.conf" conf-check >/dev/null
start_daemon "$R/server.pid" "$R/server.log" knotd -c "$R/knot.conf"
wait_dns "$PORT" 20 "$(cat "$R/server.pid")"
# GOTCHA: knotd pins UDP worker i to CPU (i % online CPUs) itself, so with one UDP worker
# it runs on CPU 0 -- on top of dnsperf -- whatever taskset said. Re-bind every thread.
pin_all "$(cat "$R/server.pid")"
echo "knot up: pid $(cat "$R/server.pid") port $PORT workers $WORKERS cpus $PIN_CPUS"
