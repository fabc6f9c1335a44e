#!/usr/bin/env bash
# Start pdns_server (foreground, no guardian) bound to $PIN_CPUS with static records.
# Extra flags: $PDNS_EXTRA (e.g. "--cache-ttl=0").
set -euo pipefail
P="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$P/../../lib/common.sh"
PORT="$(port_of pdns)"
R="$RUNDIR/pdns"; rm -rf "$R"; mkdir -p "$R"
port_busy "$PORT" && { echo "port $PORT is already in use" >&2; exit 1; }
REUSEPORT=no; [ "$WORKERS" -gt 1 ] && REUSEPORT=yes
sed -e "s#@RUN@#$R#g" -e "s#@PORT@#$PORT#g" -e "s#@WORKERS@#$WORKERS#g" -e "s#@REUSEPORT@#$REUSEPORT#g" \
  "$P/pdns.conf.in" > "$R/pdns.conf"
cp "$DATA/lb.example.com.static.zone" "$R/lb.example.com.zone"
cat > "$R/named.conf" <<NC
options { directory "$R"; };
zone "lb.example.com" { type master; file "$R/lb.example.com.zone"; };
NC
# shellcheck disable=SC2086
start_daemon "$R/server.pid" "$R/server.log" pdns_server --config-dir="$R" ${PDNS_EXTRA:-}
wait_dns "$PORT" 20 "$(cat "$R/server.pid")"
pin_all "$(cat "$R/server.pid")"
echo "pdns up: pid $(cat "$R/server.pid") port $PORT workers $WORKERS cpus $PIN_CPUS ${PDNS_EXTRA:-}"
