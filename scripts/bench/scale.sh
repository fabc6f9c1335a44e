#!/usr/bin/env bash
# tierdns at scale (PRODUCT.md §8): 10,000 pools x 4 members in a file store.
#   1. fill the store (one node process through the store API, lib/mkpools.js)
#   2. start `tierdns serve` pinned to SERVER_CPU with an empty state dir and time the first
#      correct answer (NOERROR, AA, 4 A records for the LAST pool) from process start
#   3. let it settle, query every pool name for a few seconds, settle again: RSS (bar: < 150 MB)
#   4. restart with the state dir kept: first answer again (the warm path)
#   5. probing: SCALE_PROBE_MEMBERS (10,000) members under tcp checks (loopback addresses
#      where nothing listens: every probe is a refused connect), p99 latency at
#      SCALE_LAT_QPS (default $LAT_TARGET from run.sh, else 20,000 q/s) (bar: < 1 ms), by
#      dnsperf -v and by lib/udplat.c (run.sh's latu client) where cc can build it
# Checks are `none` in steps 1-4, so the numbers are the data structures, not the probes.
# Stores: SCALE_STORE (steps 1-4, default file) and SCALE_PROBE_STORE (step 5, default redis:
# probing 10,000 members means a stream of observation writes, and the file store rewrites
# its whole document per write, which is not what it is for). `redis` starts a private
# redis-server on 127.0.0.1:5412 (no persistence) and stops it by PID at the end.
#
# usage: bash scripts/bench/scale.sh     (env: SCALE_POOLS=10000 SCALE_SETTLE=5 SCALE_LOAD=3
#        SCALE_PROBE_MEMBERS=10000 (0 = skip step 5) SCALE_LAT_QPS SCALE_LAT_DURATION=5
#        SCALE_STORE=file|redis SCALE_PROBE_STORE=redis|file SCALE_PROBE_SETTLE=20 (s before
#        measuring the probing instance) SCALE_OUT=file for the results
#        SCALE_SCHED=1: perf sched record of SERVER_CPU during the udplat run, to see who kept
#        the server waiting: perf sched timehist -i results/.bench-run/scale/run/sched.data;
#        perf starting up shows as slow answers in the first ~0.2 s)
# Step 5 also reports where udplat's slow answers were (probe_latu_slow_at: seconds into its
# run, slow/all answers sent in that 10 ms, the slowest) and Redis commands of 1 ms or more
# during both measurements (probe_redis_slow; Redis runs on CLIENT_CPU), and the vCPU steal
# during each (probe_lat_steal_ms, probe_latu_steal_ms: time the hypervisor ran others).
set -uo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
case "${1:-}" in -h|--help) sed -n '2,/^set -uo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;; esac
source "$HERE/lib/common.sh"
cd "$ROOT" || exit 1
N="${SCALE_POOLS:-10000}"
SETTLE="${SCALE_SETTLE:-5}"
LOAD="${SCALE_LOAD:-3}"
PROBE_MEMBERS="${SCALE_PROBE_MEMBERS:-10000}"
LAT_QPS="${SCALE_LAT_QPS:-${LAT_TARGET:-20000}}"
LAT_DURATION="${SCALE_LAT_DURATION:-5}"
PROBE_SETTLE="${SCALE_PROBE_SETTLE:-20}"
PORT=5411
METRICS_PORT=5414
REDIS_PORT=5412
STORE_KIND="${SCALE_STORE:-file}"
PROBE_STORE_KIND="${SCALE_PROBE_STORE:-redis}"
OUTF="${SCALE_OUT:-$ROOT/results/scale-$(date +%Y%m%d-%H%M%S).txt}"
D="$RUNDIR/scale"
R="$D/run"
CLI="$ROOT/dist/cli.js"
[ -f "$CLI" ] || { echo "no $CLI: run npm ci first" >&2; exit 1; }
for t in dnsperf dig curl; do command -v "$t" >/dev/null || ensure_packages dnsperf:dnsperf dig:bind9-dnsutils curl:curl || exit 1; done
mkdir -p "$(dirname "$OUTF")"; : > "$OUTF"
say() { echo "$*" | tee -a "$OUTF"; }
note() { echo "[scale $(date +%H:%M:%S)] $*" >&2; }
PIDFILE="$R/server.pid"
REDIS_PIDFILE="$D/redis.pid"
cleanup() { stop_daemon "$PIDFILE" >/dev/null 2>&1; stop_daemon "$REDIS_PIDFILE" >/dev/null 2>&1; }
trap cleanup EXIT
trap 'exit 130' INT TERM
port_busy "$PORT" && { say "error=port $PORT already in use"; exit 1; }
CLK_TCK="$(getconf CLK_TCK)"

rm -rf "$D"; mkdir -p "$D" "$R"

# store_url KIND NAME: a fresh, empty store of that kind (file under $R, or a key prefix in
# the private Redis, started on first use).
store_url() {
  case "$1" in
    file) echo "file:$R/$2.json" ;;
    redis)
      if [ ! -s "$REDIS_PIDFILE" ]; then
        command -v redis-server >/dev/null || ensure_packages redis-server:redis-server >&2 || return 1
        port_busy "$REDIS_PORT" && { echo "port $REDIS_PORT is already in use" >&2; return 1; }
        PIN_CPUS="$CLIENT_CPU" start_daemon "$REDIS_PIDFILE" "$D/redis.log" redis-server --bind 127.0.0.1 \
          --port "$REDIS_PORT" --save '' --appendonly no --dir "$D" \
          --slowlog-log-slower-than 1000 --slowlog-max-len 10000
        for _ in $(seq 50); do redis-cli -p "$REDIS_PORT" ping 2>/dev/null | grep -q PONG && break; sleep 0.1; done
      fi
      echo "redis://127.0.0.1:$REDIS_PORT/0?prefix=$2:" ;;
    *) echo "unknown store kind $1 (file or redis)" >&2; return 1 ;;
  esac
}
"$NODE" "$HERE/lib/gen.js" "$D/data" --pools "$N" --queries 10 >&2 || exit 1
# every pool name once, for the load step (ws0..ws{N-1}, plus ws)
awk '{print $1" A"}' <("$NODE" -e 'for (const p of require(process.argv[1])) console.log(p.name)' "$D/data/pools.json") > "$D/names.txt"

say "pools=$((N + 1))"
say "members_per_pool=4"
STORE_URL="$(store_url "$STORE_KIND" store)" || exit 1
say "store=$STORE_KIND"
fill="$(WS_CHECK=none "$NODE" "$HERE/lib/mkpools.js" "$STORE_URL" "$D/data/pools.json" "$D/data/zones")" || { say "error=store fill failed"; exit 1; }
note "$fill"
say "store_fill_s=$(sed -E 's/.* in ([0-9.]+) s.*/\1/' <<<"$fill")"
say "fill_how=$(sed -E 's/.* via (.*) in .*/\1/' <<<"$fill")"
[ "$STORE_KIND" = file ] && say "store_file_mb=$(awk -v b="$(stat -c %s "$R/store.json")" 'BEGIN{printf "%.1f", b/1048576}')"

# start_timed LABEL STORE_URL STATE_DIR [LAST_POOL_INDEX]: start and time the first correct
# answer (4 A records) for the last pool
start_timed() {
  local label="$1" store="$2" state="$3" last="${4:-$((N - 1))}" res
  res="$("$NODE" "$HERE/lib/firstanswer.js" "$PORT" "ws$last.$ZONE" 4 "${SCALE_START_TIMEOUT:-30}" "$PIDFILE" "$R/server-$label.log" -- \
    taskset -c "$SERVER_CPU" "$NODE" $TIERDNS_NODE_FLAGS "$CLI" serve --zones "$D/data/zones" --listen "127.0.0.1:$PORT" \
    --store "$store" --state-dir "$state" --log-level warn ${EXTRA_SERVE_ARGS:-})"
  note "$label: $res"
  if ! grep -q first_answer_s <<<"$res"; then say "error=$label: ${res#error=}"; tail -5 "$R/server-$label.log" >&2; return 1; fi
  pin_all "$(cat "$PIDFILE")"
  FIRST="$(sed -E 's/first_answer_s=([0-9.]+).*/\1/' <<<"$res")"
}
mb() { awk -v k="$1" 'BEGIN{printf "%.1f", k/1024}'; }

# --- cold start, settle, load, settle
start_timed cold "$STORE_URL" "$R/state" || exit 1
say "first_answer_s=$FIRST"
pid="$(cat "$PIDFILE")"
sleep "$SETTLE"
read -r rss hwm _ _ <<<"$(rss_kb "$pid")"
say "rss_idle_mb=$(mb "$rss")"
taskset -c "$CLIENT_CPU" dnsperf -s 127.0.0.1 -p "$PORT" -d "$D/names.txt" -c 4 -T 1 -l "$LOAD" > "$R/load.txt" 2>&1
say "load_qps=$(awk '/Queries per second/{printf "%.0f", $4}' "$R/load.txt")"
say "load_rcodes=$(awk -F': +' '/Response codes/{print $2}' "$R/load.txt" | tr -d ' ')"
sleep 2
read -r rss hwm _ _ <<<"$(rss_kb "$pid")"
say "settle_s=$((SETTLE + LOAD + 2))"
say "rss_settled_mb=$(mb "$rss")"
say "rss_peak_mb=$(mb "$hwm")"
dig @127.0.0.1 -p "$PORT" "ws$((N / 2)).$ZONE" A +norec > "$R/dig-mid.txt" 2>&1
say "mid_pool_answers=$(grep -cE "^ws$((N / 2))\.$ZONE\.[[:space:]].*IN[[:space:]]+A" "$R/dig-mid.txt")"
stop_daemon "$PIDFILE" >/dev/null

# --- warm restart (state dir kept)
if start_timed warm "$STORE_URL" "$R/state"; then say "first_answer_restart_s=$FIRST"; fi
stop_daemon "$PIDFILE" >/dev/null

# --- latency while probing PROBE_MEMBERS members
if [ "$PROBE_MEMBERS" -gt 0 ]; then
  P=$((PROBE_MEMBERS / 4))
  "$NODE" "$HERE/lib/gen.js" "$D/probe-data" --pools "$P" --queries 10 >&2 || exit 1
  "$NODE" -e '
    const [src, dst] = process.argv.slice(1);
    const pools = require(src);
    for (const p of pools) p.ws = true;                    // -> WS_CHECK (tcp) for every pool
    require("node:fs").writeFileSync(dst, JSON.stringify(pools));' "$D/probe-data/pools.json" "$D/probe-pools.json"
  # ws -> the fake balancers are not running here: every member of every pool is refused
  PROBE_URL="$(store_url "$PROBE_STORE_KIND" probe-store)" || exit 1
  WS_CHECK=tcp "$NODE" "$HERE/lib/mkpools.js" "$PROBE_URL" "$D/probe-pools.json" "$D/data/zones" >&2 || exit 1
  say "probe_store=$PROBE_STORE_KIND"
  say "probe_members=$(( (P + 1) * 4 ))"
  if EXTRA_SERVE_ARGS="--metrics 127.0.0.1:$METRICS_PORT ${EXTRA_SERVE_ARGS:-}" start_timed probe "$PROBE_URL" "$R/probe-state" "$((P - 1))"; then
    pid="$(cat "$PIDFILE")"
    # First probe rounds: every member's first result (unknown -> down) is a state change to
    # record; measure the steady state after them.
    sleep "$PROBE_SETTLE"
    probes() { curl -s "http://127.0.0.1:$METRICS_PORT/metrics" | awk '/^tierdns_probes_total/{n+=$2} END{print n+0}'; }
    n0="$(probes)"; t0="$(cpu_ticks "$pid")"; sleep 2; t1="$(cpu_ticks "$pid")"; n1="$(probes)"
    say "probe_idle_cpu_pct=$(awk -v t=$((t1 - t0)) -v c="$CLK_TCK" 'BEGIN{printf "%.0f", 100*t/c/2}')"
    # On schedule: members / interval (10,004 / 2 s = 5,002 probes/s).
    say "probe_rate_per_s=$(( (n1 - n0) / 2 ))"
    echo "ws.$ZONE A" > "$D/ws.txt"
    [ "$PROBE_STORE_KIND" = redis ] && redis-cli -p "$REDIS_PORT" slowlog reset >/dev/null
    n0="$(probes)"; cat /proc/stat > "$R/stat0"
    taskset -c "$CLIENT_CPU" dnsperf -s 127.0.0.1 -p "$PORT" -d "$D/ws.txt" -c 4 -T 1 -l "$LAT_DURATION" -Q "$LAT_QPS" -v > "$R/lat.v" 2>&1
    n1="$(probes)"; cat /proc/stat > "$R/stat1"
    # vCPU steal during the run: a stall that no process here caused.
    say "probe_lat_steal_ms=$(steal_ms "$R/stat0" "$R/stat1")"
    say "probe_rate_during_load_per_s=$(( (n1 - n0) / LAT_DURATION ))"
    lat="$("$NODE" "$HERE/lib/latency.js" "$R/lat.v")"
    say "probe_lat_qps=$LAT_QPS"
    say "probe_lat_achieved_qps=$(awk '/Queries per second/{printf "%.0f", $4}' "$R/lat.v")"
    say "probe_lat_lost=$(awk '/Queries lost/{print $3; exit}' "$R/lat.v")"
    say "probe_lat_p50_ms=$(sed -E 's/.*lat_p50_ms=([0-9.]+).*/\1/' <<<"$lat")"
    say "probe_lat_p99_ms=$(sed -E 's/.*lat_p99_ms=([0-9.]+).*/\1/' <<<"$lat")"
    # The same rate measured by udplat (see run.sh, mix latu), where it can be built.
    if U="$(build_udplat)"; then
      sched=""
      if [ -n "${SCALE_SCHED:-}" ] && command -v perf >/dev/null; then
        perf sched record -C "$SERVER_CPU" -o "$R/sched.data" -- sleep "$LAT_DURATION" > "$R/sched.log" 2>&1 &
        sched=$!
      fi
      cat /proc/stat > "$R/stat0"
      taskset -c "$CLIENT_CPU" "$U" -s 127.0.0.1 -p "$PORT" -d "$D/ws.txt" -Q "$LAT_QPS" -l "$LAT_DURATION" -t "$R/latu.timeline" > "$R/latu.txt" 2>&1
      cat /proc/stat > "$R/stat1"
      say "probe_latu_steal_ms=$(steal_ms "$R/stat0" "$R/stat1")"
      say "probe_latu_lost=$(awk '/Queries lost/{print $3; exit}' "$R/latu.txt")"
      say "probe_latu_p50_ms=$(sed -nE 's/.*lat_p50_ms=([0-9.]+).*/\1/p' "$R/latu.txt")"
      say "probe_latu_p99_ms=$(sed -nE 's/.*lat_p99_ms=([0-9.]+).*/\1/p' "$R/latu.txt")"
      # Where the answers of 1 ms or more were: seconds into the run (of 10 ms spans), worst first.
      say "probe_latu_slow_at=$(awk '!/^#/ && $4 > 0 {printf "%s %.2fs:%d/%d,%.1fms\n", $4, $1/1000, $4, $2, $3/1000}' "$R/latu.timeline" | sort -rn | head -8 | cut -d' ' -f2 | tr '\n' ' ')"
      if [ -n "$sched" ]; then
        wait "$sched"
        perf sched -i "$R/sched.data" latency --sort max > "$R/sched-latency.txt" 2>/dev/null
        say "probe_sched_node=$(awk -F'|' '$1 ~ /node/ {gsub(/ +/, " "); print $1 "runtime" $2 "max delay" $5; exit}' "$R/sched-latency.txt")"
      fi
    fi
    # Redis commands of >= 1 ms during both measurements (Redis shares CLIENT_CPU with the
    # load generator: a long one delays the client's timestamps too).
    if [ "$PROBE_STORE_KIND" = redis ]; then
      # (--json needs redis-cli 7; an empty file reads as "unavailable", not as "none")
      redis-cli --json -p "$REDIS_PORT" slowlog get 10000 > "$R/slowlog.json" 2>/dev/null
      say "probe_redis_slow=$("$NODE" -e '
        const log = JSON.parse(require("node:fs").readFileSync(process.argv[1], "utf8"));
        const by = {};
        for (const [, , us, args] of log) { const c = String(args[0]).toLowerCase(); (by[c] ??= []).push(us / 1000); }
        console.log(Object.entries(by).map(([c, ms]) => `${c}:${ms.length}x,max${Math.max(...ms).toFixed(1)}ms`).join(" ") || "none");' "$R/slowlog.json" 2>/dev/null || echo unavailable)"
    fi
    read -r rss hwm _ _ <<<"$(rss_kb "$pid")"
    say "probe_rss_mb=$(mb "$rss")"
    rm -f "$R/lat.v"
  fi
  stop_daemon "$PIDFILE" >/dev/null
fi
note "results: $OUTF"
