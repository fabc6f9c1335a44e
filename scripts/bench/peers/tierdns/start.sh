#!/usr/bin/env bash
# Start tierdns from this checkout (dist/, after npm ci / npm run build) bound to $PIN_CPUS:
# the benchmark zone's static part from a zone file, the pools (ws + ws0..) from a file store
# filled once by lib/mkpools.js ($DATA/store.json, copied fresh for every start).
# Response rate limiting is off (--rrl-rate 0): loopback is exempt by default anyway, and a
# saturation run must never be limited; $TIERDNS_RRL_ARGS (run.sh's rrl mix) comes last.
# $TIERDNS_WORKERS adds --workers N; $TIERDNS_ARGS adds any other serve flags;
# $TIERDNS_STORE_TEMPLATE / $TIERDNS_ZONES override the inputs (scale.sh).
set -euo pipefail
P="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$P/../../lib/common.sh"
PORT="${TIERDNS_PORT:-$(port_of tierdns)}"
CLI="$ROOT/dist/cli.js"
[ -f "$CLI" ] || { echo "no $CLI: run npm ci (or npm run build) first" >&2; exit 1; }
R="$RUNDIR/tierdns"; rm -rf "$R"; mkdir -p "$R"
port_busy "$PORT" && { echo "port $PORT is already in use" >&2; exit 1; }
TPL="${TIERDNS_STORE_TEMPLATE:-$DATA/store.json}"
ZONES="${TIERDNS_ZONES:-$DATA/zones}"
[ -s "$TPL" ] || "$NODE" "$BENCH/lib/mkpools.js" "file:$TPL" "$DATA/pools.json" "$ZONES"
cp "$TPL" "$R/store.json"
args=(serve --zones "$ZONES" --listen "127.0.0.1:$PORT" --store "file:$R/store.json" --state-dir "$R/state" --log-level warn --rrl-rate 0)
[ -n "${TIERDNS_WORKERS:-}" ] && args+=(--workers "$TIERDNS_WORKERS")
# shellcheck disable=SC2206
[ -n "${TIERDNS_ARGS:-}" ] && args+=(${TIERDNS_ARGS})
# shellcheck disable=SC2206
[ -n "${TIERDNS_RRL_ARGS:-}" ] && args+=(${TIERDNS_RRL_ARGS})
echo "$NODE $CLI ${args[*]}" > "$R/cmdline"
start_daemon "$R/server.pid" "$R/server.log" "$NODE" $TIERDNS_NODE_FLAGS "$CLI" "${args[@]}"
wait_dns "$PORT" "${TIERDNS_START_TIMEOUT:-30}" "$(cat "$R/server.pid")" || { tail -20 "$R/server.log" >&2; exit 1; }
pin_all "$(cat "$R/server.pid")"
echo "tierdns up: pid $(cat "$R/server.pid") port $PORT workers ${TIERDNS_WORKERS:-default} cpus $PIN_CPUS"
