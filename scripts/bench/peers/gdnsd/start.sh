#!/usr/bin/env bash
# Start gdnsd (foreground, backgrounded by us) bound to $PIN_CPUS: every pool a multifo
# DYNA resource (ws: tcp_connect to the fake balancers; ws0..: built-in `up`).
set -euo pipefail
P="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$P/../../lib/common.sh"
PORT="$(port_of gdnsd)"
R="$RUNDIR/gdnsd"; rm -rf "$R"; mkdir -p "$R/etc/zones" "$R/rundir" "$R/state"
port_busy "$PORT" && { echo "port $PORT is already in use" >&2; exit 1; }
sed -e "s#@RUN@#$R/rundir#" -e "s#@STATE@#$R/state#" -e "s#@PORT@#$PORT#" -e "s#@WORKERS@#$WORKERS#g" \
  -e "/^@PLUGINS@$/{r $DATA/gdnsd-plugins.conf" -e 'd}' "$P/config.in" > "$R/etc/config"
cp "$DATA/lb.example.com.gdnsd.zone" "$R/etc/zones/lb.example.com"
gdnsd -c "$R/etc" checkconf > "$R/checkconf.log" 2>&1 || { cat "$R/checkconf.log"; exit 1; }
start_daemon "$R/server.pid" "$R/server.log" gdnsd -c "$R/etc" start
wait_dns "$PORT" 20 "$(cat "$R/server.pid")"
pin_all "$(cat "$R/server.pid")"
echo "gdnsd up: pid $(cat "$R/server.pid") port $PORT workers $WORKERS cpus $PIN_CPUS"
