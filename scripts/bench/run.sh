#!/usr/bin/env bash
# tierdns side-by-side benchmark (`npm run bench`): tierdns against Knot DNS (the reference)
# and optionally gdnsd and PowerDNS, measured with dnsperf on loopback.
#
#   npm run bench                                   # defaults below, ~9 min on 2 CPUs
#   SERVERS="tierdns knot gdnsd pdns" ROUNDS=5 DURATION=15 npm run bench
#   SERVERS=knot MIXES=ws ROUNDS=1 bash scripts/bench/run.sh
#
# Environment (defaults):
#   SERVERS="tierdns knot"        any of: tierdns knot gdnsd pdns
#   MIXES="ws mixed tcp rrl lat latu workers scale"   also: micro (runs scripts/bench/micro-*.js)
#     ws      only `ws.lb.example.com A` (a pool of 4), UDP, saturation
#     mixed   90% names of 1,000 pools, 10% NXDOMAIN, 30% with EDNS (half + COOKIE), UDP
#     tcp     `ws` pipelined on persistent TCP connections (dnsperf -m tcp)
#     rrl     tierdns only: `ws` and `mixed` with response rate limiting off (--rrl-rate 0, as in
#             every other run) and on but never limiting (--rrl-exempt none --rrl-rate
#             100000000), interleaved: what RRL's bookkeeping costs per answer
#     lat     `ws` at LAT_FRACTION (0.5) of tierdns's measured ws peak (dnsperf -Q): p99
#             (its own interleaved rounds after the saturation ones, so the peak is known)
#     latu    the same rate, measured by lib/udplat.c (built here with cc) instead of
#             dnsperf -v: one thread that sleeps between sends and timestamps each answer
#             itself; dnsperf -v spends ~a core formatting per-query lines at that rate,
#             so its percentiles are mostly its own (runs right after lat, same server)
#     workers tierdns --workers 1 / 2 (and Knot with 1 / 2 workers when in SERVERS),
#             server and dnsperf unpinned over every CPU: queries/s only
#     scale   scripts/bench/scale.sh: 10,000 pools x 4, first answer and RSS
#     steer   scripts/bench/steer.sh (not in the default MIXES): the answering thread's CPU per
#             answer while 10,000 members are probed, without and with agent load feeds
#   ROUNDS=3 DURATION=5 WARMUP=2 CLIENTS=4 OUTSTANDING=100 (dnsperf -q)
#   LAT_QPS (fixed rate instead of the fraction) LAT_FRACTION=0.5  LAT_DURATION=$DURATION
#   WORKERS_LIST="1 2"  POOLS=1000  SCALE_POOLS=10000
#   SERVER_CPU=1 CLIENT_CPU=0
#   QUIET_PCT=10 QUIET_MAX=20 BUSY_WAIT=3 CONTAM_PCT=10 RETRIES=1 RETRY_BUDGET=8
#                                 (shared-machine guard, see below)
#   WS_CHECK=tcp   health check of the `ws` pool (tcp against 4 fake balancers, or none)
#
# Every round starts each server fresh (rounds interleave servers: A B A B ...), pins all
# its threads to SERVER_CPU, checks its answers with dig, warms it up, then runs each
# workload with dnsperf pinned to CLIENT_CPU, recording server CPU time, dnsperf CPU time,
# RSS and per-query latencies. Shared-machine guard: before each measurement wait until
# other processes use < QUIET_PCT % of a core (at most QUIET_MAX s; after one timeout the
# machine is taken as busy and later waits last at most BUSY_WAIT s); a run during which
# they used more than CONTAM_PCT % is repeated (RETRIES times, at most RETRY_BUDGET repeats
# per benchmark, so a busy machine cannot stretch it much) and flagged "noisy"; the summary
# uses a cell's quiet runs when it has any. Each server's CPU use at rest (no queries) is
# measured for IDLE_SECONDS (2) after its start.
# Output: results/bench-<ts>/{summary.md,summary.tsv,raw/,run.log}; results/bench-latest.
set -uo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
case "${1:-}" in -h|--help) sed -n '2,/^set -uo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;; esac
source "$HERE/lib/common.sh"
cd "$ROOT" || exit 1

SERVERS="${SERVERS:-tierdns knot}"
MIXES="${MIXES:-ws mixed tcp rrl lat latu workers scale}"
ROUNDS="${ROUNDS:-3}"
DURATION="${DURATION:-5}"
WARMUP="${WARMUP:-2}"
CLIENTS="${CLIENTS:-4}"
OUTSTANDING="${OUTSTANDING:-100}"
LAT_QPS="${LAT_QPS:-}"
LAT_FRACTION="${LAT_FRACTION:-0.5}"
LAT_DURATION="${LAT_DURATION:-$DURATION}"
WORKERS_LIST="${WORKERS_LIST:-1 2}"
POOLS="${POOLS:-1000}"
QUIET_PCT="${QUIET_PCT:-10}"
QUIET_MAX="${QUIET_MAX:-20}"
CONTAM_PCT="${CONTAM_PCT:-10}"
RETRIES="${RETRIES:-1}"
RETRY_BUDGET="${RETRY_BUDGET:-8}"
BUSY_WAIT="${BUSY_WAIT:-3}"
IDLE_SECONDS="${IDLE_SECONDS:-2}"
BUSY_PCT="${BUSY_PCT:-90}"
export WS_CHECK="${WS_CHECK:-tcp}"
CLK_TCK="$(getconf CLK_TCK)"
NPROC="$(nproc)"
ALL_CPUS="0-$((NPROC - 1))"
CPUWATCH=("$NODE" "$HERE/lib/cpuwatch.js")

has() { local x="$1"; shift; for y in "$@"; do [ "$x" = "$y" ] && return 0; done; return 1; }
for s in $SERVERS; do has "$s" tierdns knot gdnsd pdns || { echo "unknown server '$s' (tierdns knot gdnsd pdns)" >&2; exit 2; }; done
for m in $MIXES; do has "$m" ws mixed tcp rrl lat latu workers scale steer micro || { echo "unknown mix '$m' (ws mixed tcp rrl lat latu workers scale steer micro)" >&2; exit 2; }; done
[ "$NPROC" -ge 2 ] || echo "WARNING: fewer than 2 CPUs; server and dnsperf pinning overlap" >&2

# --- tools (Debian packages, installed with apt-get when absent)
pkgs=(dnsperf:dnsperf dig:bind9-dnsutils taskset:util-linux setsid:util-linux ss:iproute2)
for s in $SERVERS; do for p in $(packages_for "$s"); do pkgs+=("$p"); done; done
ensure_packages "${pkgs[@]}" || exit 1
needs_tierdns=0
{ has tierdns $SERVERS || has workers $MIXES || has scale $MIXES || has steer $MIXES; } && needs_tierdns=1
if [ "$needs_tierdns" = 1 ] && [ ! -f "$ROOT/dist/cli.js" ]; then
  echo "no dist/cli.js: run npm ci (or npm run build) first" >&2; exit 1
fi

TS="$(date +%Y%m%d-%H%M%S)"
OUT="$ROOT/results/bench-$TS"
RAW="$OUT/raw"
mkdir -p "$RAW" "$RUNDIR"
ln -sfn "bench-$TS" "$ROOT/results/bench-latest"
LOG="$OUT/run.log"
log() { echo "[$(date +%H:%M:%S)] $*" | tee -a "$LOG" >&2; }

# Only one benchmark at a time on this checkout (ports and run dir are fixed).
exec 9>"$RUNDIR/.lock"
flock -n 9 || { echo "another benchmark is running on this checkout ($RUNDIR/.lock)" >&2; exit 1; }

# udplat (latu): built from source for this machine; without a C compiler the mix is skipped.
if has latu $MIXES && ! UDPLAT="$(build_udplat)"; then
  echo "latu skipped: cannot build lib/udplat.c ($(tail -1 "$RUNDIR/udplat.build.log"))" >&2
  MIXES="$(tr ' ' '\n' <<<"$MIXES" | grep -vx latu | tr '\n' ' ')"
fi

CURRENT=""; BAL_PID=""
cleanup() {
  [ -n "$CURRENT" ] && "$HERE/peers/$CURRENT/stop.sh" >>"$LOG" 2>&1
  [ -n "$BAL_PID" ] && kill "$BAL_PID" 2>/dev/null
  rm -f "$OUT"/.snap* "$OUT"/.stat* "$RAW"/*.v
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- inputs
log "results -> $OUT"
"$NODE" "$HERE/lib/gen.js" "$DATA" --pools "$POOLS" 2>&1 | tee -a "$LOG" >&2 || exit 1
rm -f "$DATA/store.json"*
if has tierdns $SERVERS || has workers $MIXES; then
  "$NODE" "$HERE/lib/mkpools.js" "file:$DATA/store.json" "$DATA/pools.json" "$DATA/zones" 2>&1 | tee -a "$LOG" >&2
  [ -s "$DATA/store.json" ] || { log "could not fill the tierdns store"; exit 1; }
fi

# fake balancers for the health-checked `ws` pool (tierdns tcp check, gdnsd tcp_connect)
setsid taskset -c "$CLIENT_CPU" "$NODE" "$HERE/lib/balancers.js" >"$RUNDIR/balancers.log" 2>&1 </dev/null 9>&- &
BAL_PID=$!
for _ in $(seq 100); do
  grep -q ready "$RUNDIR/balancers.log" 2>/dev/null && break
  kill -0 "$BAL_PID" 2>/dev/null || break
  sleep 0.1
done
grep -q ready "$RUNDIR/balancers.log" || { log "fake balancers failed (pid $BAL_PID): $(cat "$RUNDIR/balancers.log")"; exit 1; }

MY_SID="$(ps -o sid= -p $$ | tr -d ' ')"
BAL_SID="$BAL_PID"

{
  echo "TS=$TS"
  echo "COMMAND=$( for v in SERVERS MIXES ROUNDS DURATION; do if [[ "${!v}" == *" "* ]]; then printf '%s="%s" ' "$v" "${!v}"; else printf '%s=%s ' "$v" "${!v}"; fi; done )npm run bench"
  echo "CPU_MODEL=$(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')"
  echo "NPROC=$NPROC"
  echo "KERNEL=$(uname -sr)"
  echo "NODE_VERSION=$("$NODE" --version)"
  echo "DNSPERF_VERSION=$(dnsperf -h 2>&1 | awk '/^Version/{print $2}')"
  for v in SERVERS MIXES ROUNDS DURATION WARMUP CLIENTS OUTSTANDING LAT_FRACTION LAT_DURATION WORKERS_LIST POOLS \
           SERVER_CPU CLIENT_CPU QUIET_PCT QUIET_MAX BUSY_WAIT CONTAM_PCT RETRIES RETRY_BUDGET BUSY_PCT WS_CHECK IDLE_SECONDS; do echo "$v=${!v}"; done
} > "$OUT/params.env"
{
  cat "$OUT/params.env"; echo
  knotd --version 2>&1; gdnsd -h 2>&1 | grep -m1 -i version; pdns_server --version 2>&1 | grep -m1 -i authoritative
  echo "tierdns $(git -C "$ROOT" describe --always --dirty 2>/dev/null)"
} > "$OUT/env.txt" 2>&1

# verify PORT FILE: ws -> 4 A with AA; ws999 (a pool of the mixed workload) -> 4 A; a
# missing name -> NXDOMAIN with AA. Retries up to 15 s.
verify() {
  local port="$1" f="$2" i out n ok=0
  : > "$f"
  for i in $(seq 30); do
    out="$(dig @127.0.0.1 -p "$port" ws.lb.example.com A +norec +time=1 +tries=1 2>&1)"
    n="$(grep -cE '^ws\.lb\.example\.com\.[[:space:]]+[0-9]+[[:space:]]+IN[[:space:]]+A[[:space:]]' <<<"$out")"
    if [ "$n" = 4 ] && grep -q 'flags: qr aa' <<<"$out"; then ok=1; break; fi
    sleep 0.5
  done
  { echo "# attempts: $i"; echo "$out"; } >> "$f"
  [ "$ok" = 1 ] || { echo "VERIFY FAILED: ws gave $n A records" >> "$f"; return 1; }
  out="$(dig @127.0.0.1 -p "$port" "ws$((POOLS - 1)).lb.example.com" A +norec +time=1 +tries=1 2>&1)"; echo "$out" >> "$f"
  [ "$(grep -cE "^ws$((POOLS - 1))\.lb\.example\.com\.[[:space:]].*IN[[:space:]]+A[[:space:]]" <<<"$out")" = 4 ] \
    || { echo "VERIFY FAILED: ws$((POOLS - 1)) is not 4 A records" >> "$f"; return 1; }
  out="$(dig @127.0.0.1 -p "$port" nx-verify.lb.example.com A +norec +time=1 +tries=1 2>&1)"; echo "$out" >> "$f"
  grep -q 'status: NXDOMAIN' <<<"$out" && grep -q 'flags: qr aa' <<<"$out" || { echo "VERIFY FAILED: NXDOMAIN" >> "$f"; return 1; }
}

# wait_quiet SERVER_PID: block until other processes use < QUIET_PCT % of a core.
MACHINE_BUSY=0
RETRIES_USED=0
wait_quiet() {
  local sp="$1" waited=0 q pct max="$QUIET_MAX"
  [ "$MACHINE_BUSY" = 1 ] && max="$BUSY_WAIT"
  [ "$max" -gt 0 ] || return 0
  while :; do
    q="$("${CPUWATCH[@]}" quiet 1 "$MY_SID" "$BAL_SID" "$sp")"
    pct="$(sed -E 's/.*foreign_pct=([0-9.]+).*/\1/' <<<"$q")"
    awk -v p="$pct" -v m="$QUIET_PCT" 'BEGIN{exit !(p < m)}' && return 0
    waited=$((waited + 1))
    if [ "$waited" -ge "$max" ]; then
      [ "$MACHINE_BUSY" = 0 ] && log "  machine still busy after ${waited}s ($q): measuring anyway; waits shortened to ${BUSY_WAIT}s from now on"
      MACHINE_BUSY=1; return 0
    fi
    [ "$waited" = 1 ] && [ "$MACHINE_BUSY" = 0 ] && log "  other processes busy ($q), waiting up to ${max}s"
  done
}

# run_dnsperf PORT CPUS OUTFILE args...: dnsperf -v; per-query lines -> percentiles.
run_dnsperf() {
  local port="$1" cpus="$2" f="$3"; shift 3
  local cmd=(taskset -c "$cpus" dnsperf -s 127.0.0.1 -p "$port" -q "$OUTSTANDING" "$@")
  local TIMEFORMAT='# client_cpu_user_s=%U client_cpu_sys_s=%S client_wall_s=%R'
  echo "# cmd: ${cmd[*]}" > "$f"
  { time "${cmd[@]}" -v > "$f.v" 2>>"$f" ; } 2>> "$f"
  grep -v '^> ' "$f.v" >> "$f"
  "$NODE" "$HERE/lib/latency.js" "$f.v" >> "$f"
  rm -f "$f.v"
}
qps_of() { awk '/Queries per second/{print $4}' "$1"; }

# run_udplat PORT CPUS OUTFILE args...: lib/udplat (-d FILE -Q QPS -l SECONDS), same report lines.
run_udplat() {
  local port="$1" cpus="$2" f="$3"; shift 3
  local cmd=(taskset -c "$cpus" "$UDPLAT" -s 127.0.0.1 -p "$port" "$@")
  local TIMEFORMAT='# client_cpu_user_s=%U client_cpu_sys_s=%S client_wall_s=%R'
  echo "# cmd: ${cmd[*]}" > "$f"
  { time "${cmd[@]}" >> "$f" 2>&1 ; } 2>> "$f"
}

# measure SERVER LABEL ROUND MIX PORT PID CLIENT_CPUS [extra meta] -- dnsperf args...
measure() {
  local s="$1" label="$2" round="$3" mix="$4" port="$5" pid="$6" ccpus="$7"; shift 7
  local meta=""; while [ "$1" != -- ]; do meta+=" $1"; shift; done; shift
  local f="$RAW/r$round-$label-$mix.txt" try t0 t1 w0 w1 foreign rss hwm pss np fp sb ss st cb cs ct
  for try in $(seq $((RETRIES + 1))); do
    wait_quiet "$pid"
    "${CPUWATCH[@]}" snap "$OUT/.snap0"
    t0="$(cpu_ticks "$pid")"; w0="$(date +%s.%N)"; cat /proc/stat > "$OUT/.stat0"
    if [ "$mix" = latu ]; then run_udplat "$port" "$ccpus" "$f" "$@"; else run_dnsperf "$port" "$ccpus" "$f" "$@"; fi
    t1="$(cpu_ticks "$pid")"; w1="$(date +%s.%N)"; cat /proc/stat > "$OUT/.stat1"
    "${CPUWATCH[@]}" snap "$OUT/.snap1"
    read -r sb ss st <<<"$(cpu_busy "$OUT/.stat0" "$OUT/.stat1" "$PIN_CPUS")"
    read -r cb cs ct <<<"$(cpu_busy "$OUT/.stat0" "$OUT/.stat1" "$ccpus")"
    foreign="$("${CPUWATCH[@]}" diff "$OUT/.snap0" "$OUT/.snap1" "$MY_SID" "$BAL_SID" "$pid")"
    read -r rss hwm pss np <<<"$(rss_kb "$pid")"
    {
      echo "# meta: server=$label round=$round mix=$mix port=$port try=$try cpus=$PIN_CPUS$meta"
      echo "# server_cpu_ticks=$((t1 - t0)) clk_tck=$CLK_TCK wall_s=$(awk -v a="$w0" -v b="$w1" 'BEGIN{printf "%.3f", b-a}')"
      echo "# rss_kb=$rss hwm_kb=$hwm pss_kb=$pss nproc=$np"
      echo "# server_cpus_busy_pct=$sb server_cpus_softirq_pct=$ss client_cpus_busy_pct=$cb client_cpus_softirq_pct=$cs"
      echo "# server_cpus_steal_pct=$st client_cpus_steal_pct=$ct"
      echo "# $foreign"
    } >> "$f"
    log "  $mix: $(qps_of "$f") q/s, lost $(awk '/Queries lost/{print $3; exit}' "$f"), $(grep -o 'lat_p99_ms=[0-9.]*' "$f"),"\
" server cpu $(awk -v t=$((t1 - t0)) -v c="$CLK_TCK" -v a="$w0" -v b="$w1" 'BEGIN{printf "%.0f%%", 100*t/c/(b-a)}'),"\
" dnsperf cpu $(awk -F'[= ]' '/client_cpu_user_s/{printf "%.0f%%", 100*($3+$5)/$7}' "$f"), cpu busy server ${sb}% client ${cb}%, rss $((rss / 1024)) MB; $foreign"
    fp="$(sed -E 's/.*foreign_pct=([0-9.]+).*/\1/' <<<"$foreign")"
    if [ "$RETRIES_USED" -lt "$RETRY_BUDGET" ] && [ "$try" -le "$RETRIES" ] && awk -v p="$fp" -v m="$CONTAM_PCT" 'BEGIN{exit !(p > m)}'; then
      RETRIES_USED=$((RETRIES_USED + 1))
      mv "$f" "${f%.txt}.contaminated-$try.txt"
      log "  -> other processes used ${fp}% of a core during the run, repeating"
      continue
    fi
    break
  done
  LAST_FILE="$f"
}

# start_server SERVER LABEL ROUND -> sets SPID, SPORT; 1 on failure
start_server() {
  local s="$1" label="$2" round="$3" tag="r$3-$2"
  SPORT="$(port_of "$s")"
  log "round $round: $label (port $SPORT, cpus $PIN_CPUS) start"
  CURRENT="$s"
  if ! "$HERE/peers/$s/start.sh" > "$RAW/$tag-start.log" 2>&1; then
    log "  START FAILED: $(tail -3 "$RAW/$tag-start.log" | tr '\n' ' ')"; stop_server; return 1
  fi
  SPID="$(cat "$RUNDIR/$s/server.pid")"
  affinity_report "$SPID" | tr ' ' '\n' > "$RAW/$tag-affinity.txt"
  if ! verify "$SPORT" "$RAW/$tag-verify.txt"; then
    log "  VERIFY FAILED: $(grep 'VERIFY FAILED' "$RAW/$tag-verify.txt")"; stop_server; return 1
  fi
  # CPU at rest: background work (probing, store sync) with no queries at all
  [ "$IDLE_SECONDS" = 0 ] && return 0
  local t0 t1 w0 w1 rss hwm pss np
  sleep 1
  t0="$(cpu_ticks "$SPID")"; w0="$(date +%s.%N)"; sleep "$IDLE_SECONDS"; t1="$(cpu_ticks "$SPID")"; w1="$(date +%s.%N)"
  read -r rss hwm pss np <<<"$(rss_kb "$SPID")"
  {
    echo "# meta: server=$label round=$round mix=idle port=$SPORT cpus=$PIN_CPUS"
    echo "# server_cpu_ticks=$((t1 - t0)) clk_tck=$CLK_TCK wall_s=$(awk -v a="$w0" -v b="$w1" 'BEGIN{printf "%.3f", b-a}')"
    echo "# rss_kb=$rss hwm_kb=$hwm pss_kb=$pss nproc=$np"
  } > "$RAW/$tag-idle.txt"
  log "  at rest: cpu $(awk -v t=$((t1 - t0)) -v c="$CLK_TCK" -v a="$w0" -v b="$w1" 'BEGIN{printf "%.0f%%", 100*t/c/(b-a)}'), rss $((rss / 1024)) MB"
}
stop_server() { [ -n "$CURRENT" ] && "$HERE/peers/$CURRENT/stop.sh" >>"$LOG" 2>&1; CURRENT=""; }

# --- phase 1: pinned servers, interleaved rounds: saturation workloads, then latency
SAT=(); for m in $MIXES; do has "$m" ws mixed tcp && SAT+=("$m"); done
ORDERED="$SERVERS"
if has tierdns $SERVERS; then ORDERED="tierdns $(tr ' ' '\n' <<<"$SERVERS" | grep -vx tierdns | tr '\n' ' ')"; fi
if [ ${#SAT[@]} -gt 0 ]; then
  for round in $(seq "$ROUNDS"); do
    for s in $ORDERED; do
      export PIN_CPUS="$SERVER_CPU" WORKERS=1; unset TIERDNS_WORKERS
      start_server "$s" "$s" "$round" || continue
      run_dnsperf "$SPORT" "$CLIENT_CPU" "$RAW/r$round-$s-warmup.txt" -d "$DATA/queries/ws.txt" -c "$CLIENTS" -T 1 -l "$WARMUP"
      for mix in "${SAT[@]}"; do
        case "$mix" in
          ws)    measure "$s" "$s" "$round" ws "$SPORT" "$SPID" "$CLIENT_CPU" -- -d "$DATA/queries/ws.txt" -c "$CLIENTS" -T 1 -l "$DURATION" ;;
          mixed) measure "$s" "$s" "$round" mixed "$SPORT" "$SPID" "$CLIENT_CPU" -- -B -d "$DATA/queries/mixed.bin" -c "$CLIENTS" -T 1 -l "$DURATION" ;;
          tcp)   measure "$s" "$s" "$round" tcp "$SPORT" "$SPID" "$CLIENT_CPU" -- -m tcp -d "$DATA/queries/ws.txt" -c "$CLIENTS" -T 1 -l "$DURATION" ;;
        esac
      done
      stop_server
    done
  done
fi

# --- phase 1b: RRL bookkeeping cost (tierdns only, pinned like phase 1): off vs on-but-unlimited
if has rrl $MIXES && has tierdns $SERVERS; then
  for round in $(seq "$ROUNDS"); do
    for cfg in off on; do
      export PIN_CPUS="$SERVER_CPU" WORKERS=1; unset TIERDNS_WORKERS
      if [ "$cfg" = on ]; then export TIERDNS_RRL_ARGS="--rrl-rate 100000000 --rrl-exempt none"; else unset TIERDNS_RRL_ARGS; fi
      IDLE_SECONDS=0 start_server tierdns "tierdns-rrl-$cfg" "$round" || continue
      run_dnsperf "$SPORT" "$CLIENT_CPU" "$RAW/r$round-tierdns-rrl-$cfg-warmup.txt" -d "$DATA/queries/ws.txt" -c "$CLIENTS" -T 1 -l "$WARMUP"
      measure tierdns "tierdns-rrl-$cfg" "$round" rrl-ws "$SPORT" "$SPID" "$CLIENT_CPU" -- -d "$DATA/queries/ws.txt" -c "$CLIENTS" -T 1 -l "$DURATION"
      measure tierdns "tierdns-rrl-$cfg" "$round" rrl-mixed "$SPORT" "$SPID" "$CLIENT_CPU" -- -B -d "$DATA/queries/mixed.bin" -c "$CLIENTS" -T 1 -l "$DURATION"
      stop_server
    done
  done
  unset TIERDNS_RRL_ARGS
fi

# ws peak of SERVER from this run's ws measurements: median of the quiet runs, else the best
ws_peak() {
  "$NODE" -e '
    const fs = require("node:fs"); const [dir, s, contam] = process.argv.slice(1);
    const runs = fs.readdirSync(dir).filter((f) => new RegExp(`^r\\d+-${s}-ws\\.txt$`).test(f)).map((f) => {
      const t = fs.readFileSync(`${dir}/${f}`, "utf8");
      const q = /Queries per second:\s+([\d.]+)/.exec(t); const fp = /foreign_pct=([\d.]+)/.exec(t);
      return q ? { qps: Number(q[1]), noisy: fp ? Number(fp[1]) > Number(contam) : false } : null;
    }).filter(Boolean);
    const quiet = runs.filter((r) => !r.noisy).map((r) => r.qps).sort((a, b) => a - b);
    const m = quiet.length ? (quiet.length % 2 ? quiet[(quiet.length - 1) / 2] : (quiet[quiet.length / 2 - 1] + quiet[quiet.length / 2]) / 2)
      : Math.max(0, ...runs.map((r) => r.qps));
    if (m > 0) console.log(`${Math.round(m)} ${quiet.length ? `median of ${quiet.length} quiet run(s)` : `best of ${runs.length} noisy run(s)`}`);
  ' "$RAW" "$1" "$CONTAM_PCT"
}

LAT_TARGET="$LAT_QPS"; LAT_BASIS=""
[ -n "$LAT_QPS" ] && LAT_BASIS="fixed LAT_QPS"
if has lat $MIXES || has latu $MIXES; then
  REF="$(awk '{print $1}' <<<"$ORDERED")"
  if [ -z "$LAT_TARGET" ]; then
    read -r peak how <<<"$(ws_peak "$REF")"
    if [ -n "${peak:-}" ]; then
      LAT_TARGET="$(awk -v p="$peak" -v f="$LAT_FRACTION" 'BEGIN{printf "%d", p*f}')"
      LAT_BASIS="$LAT_FRACTION × $REF's ws peak of $peak q/s ($how)"
      log "lat target: $LAT_TARGET q/s ($LAT_BASIS)"
    fi
  fi
  for round in $(seq "$ROUNDS"); do
    for s in $ORDERED; do
      export PIN_CPUS="$SERVER_CPU" WORKERS=1; unset TIERDNS_WORKERS
      IDLE_SECONDS=0 start_server "$s" "$s" "lat$round" || continue
      run_dnsperf "$SPORT" "$CLIENT_CPU" "$RAW/rlat$round-$s-warmup.txt" -d "$DATA/queries/ws.txt" -c "$CLIENTS" -T 1 -l "$WARMUP"
      if [ -z "$LAT_TARGET" ]; then   # no ws measurement: calibrate on the reference server
        run_dnsperf "$SPORT" "$CLIENT_CPU" "$RAW/r$round-$s-calibrate.txt" -d "$DATA/queries/ws.txt" -c "$CLIENTS" -T 1 -l 3
        peak="$(qps_of "$RAW/r$round-$s-calibrate.txt")"
        LAT_TARGET="$(awk -v p="$peak" -v f="$LAT_FRACTION" 'BEGIN{printf "%d", p*f}')"
        LAT_BASIS="$LAT_FRACTION × $s's ws peak of $(printf '%.0f' "$peak") q/s (3 s calibration)"
        log "  lat target: $LAT_TARGET q/s ($LAT_BASIS)"
      fi
      if has lat $MIXES; then
        measure "$s" "$s" "$round" lat "$SPORT" "$SPID" "$CLIENT_CPU" "target_qps=$LAT_TARGET" -- \
          -d "$DATA/queries/ws.txt" -c "$CLIENTS" -T 1 -l "$LAT_DURATION" -Q "$LAT_TARGET"
      fi
      if has latu $MIXES; then
        measure "$s" "$s" "$round" latu "$SPORT" "$SPID" "$CLIENT_CPU" "target_qps=$LAT_TARGET" -- \
          -d "$DATA/queries/ws.txt" -l "$LAT_DURATION" -Q "$LAT_TARGET"
      fi
      stop_server
    done
  done
fi
echo "LAT_BASIS=$LAT_BASIS" >> "$OUT/params.env"

# --- phase 2: workers scaling, unpinned (server and dnsperf over every CPU)
if has workers $MIXES; then
  WCFG=(); for w in $WORKERS_LIST; do WCFG+=("tierdns:$w"); done
  if has knot $SERVERS; then for w in $WORKERS_LIST; do WCFG+=("knot:$w"); done; fi
  for round in $(seq "$ROUNDS"); do
    for cfg in "${WCFG[@]}"; do
      s="${cfg%%:*}"; w="${cfg#*:}"; label="$s-w$w"
      export PIN_CPUS="$ALL_CPUS" WORKERS="$w" TIERDNS_WORKERS="$w"
      start_server "$s" "$label" "$round" || continue
      run_dnsperf "$SPORT" "$ALL_CPUS" "$RAW/r$round-$label-warmup.txt" -d "$DATA/queries/ws.txt" -c "$CLIENTS" -T "$NPROC" -l "$WARMUP"
      measure "$s" "$label" "$round" workers "$SPORT" "$SPID" "$ALL_CPUS" "workers=$w" -- \
        -d "$DATA/queries/ws.txt" -c "$((CLIENTS > NPROC ? CLIENTS : NPROC))" -T "$NPROC" -l "$DURATION"
      stop_server
    done
  done
  export PIN_CPUS="$SERVER_CPU" WORKERS=1; unset TIERDNS_WORKERS
fi

# --- phase 3: 10,000 pools: first answer and RSS
if has scale $MIXES; then
  log "scale: scripts/bench/scale.sh"
  SCALE_OUT="$RAW/scale.txt" LAT_TARGET="$LAT_TARGET" bash "$HERE/scale.sh" 2>&1 | tee -a "$LOG" >&2
fi

# --- phase 3b: load feeds on 10,000 members: the answering thread's CPU per answer
if has steer $MIXES; then
  log "steer: scripts/bench/steer.sh"
  STEER_OUT="$RAW/steer.txt" ROUNDS="$ROUNDS" bash "$HERE/steer.sh" 2>&1 | tee -a "$LOG" >&2
fi

# --- phase 4: micro-benchmarks (scripts/bench/micro-*.js, when present)
if has micro $MIXES; then
  found=0
  for m in "$HERE"/micro-*.js; do
    [ -f "$m" ] || continue; found=1
    log "micro: $(basename "$m")"
    "$NODE" "$m" > "$RAW/$(basename "${m%.js}").txt" 2>&1 || log "  $(basename "$m") failed (see raw/)"
  done
  [ "$found" = 1 ] || log "micro: no scripts/bench/micro-*.js yet"
fi

trap - EXIT; cleanup
"$NODE" "$HERE/lib/summarize.js" "$OUT" | tee -a "$LOG"
log "done: $OUT/summary.md"
