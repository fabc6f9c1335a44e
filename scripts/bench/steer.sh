#!/usr/bin/env bash
# Load feeds cost the answering thread nothing (docs/steering.md, "Cost"): one `tierdns serve`
# probing STEER_MEMBERS (10,000) members with tcp checks every 2 s, once without load feeds and
# once with every member on an agent feed (--load agent --load-port 0: the member's listener
# writes "up 60%" to every connection, lib of scripts/probe-load.js), answering dnsperf at a
# fixed STEER_QPS, once the first results' store writes are over. Measured: CPU of the
# answering thread (the main thread, /proc/PID/task/PID) per answer, and of the whole process;
# probes per second from /metrics (with a feed, each probe is a probe and a read) and the CPU
# of every other thread (the probe thread, GC helpers) per probe; change notifications during
# the measurement.
# Stores: a private redis-server on 127.0.0.1:5422 (no persistence), stopped by PID at the end.
#
# usage: bash scripts/bench/steer.sh   (env: STEER_MEMBERS=10000 STEER_QPS=10000 STEER_DURATION=10
#        STEER_SETTLE=25 (s of probing before measuring) ROUNDS=2 STEER_OUT=file)
set -uo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
case "${1:-}" in -h|--help) sed -n '2,/^set -uo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;; esac
source "$HERE/lib/common.sh"
cd "$ROOT" || exit 1
MEMBERS="${STEER_MEMBERS:-10000}"
QPS="${STEER_QPS:-10000}"
DURATION="${STEER_DURATION:-10}"
SETTLE="${STEER_SETTLE:-25}"
ROUNDS="${ROUNDS:-2}"
PORT=5421
REDIS_PORT=5422
METRICS_PORT=5423
PROBE_PORT=18090
OUTF="${STEER_OUT:-$ROOT/results/steer-$(date +%Y%m%d-%H%M%S).txt}"
D="$RUNDIR/steer"
CLI="$ROOT/dist/cli.js"
[ -f "$CLI" ] || { echo "no $CLI: run npm ci first" >&2; exit 1; }
for t in dnsperf redis-server redis-cli curl; do command -v "$t" >/dev/null || ensure_packages dnsperf:dnsperf redis-server:redis-server redis-cli:redis-tools curl:curl || exit 1; done
mkdir -p "$(dirname "$OUTF")"; : > "$OUTF"
say() { echo "$*" | tee -a "$OUTF"; }
note() { echo "[steer $(date +%H:%M:%S)] $*" >&2; }
PIDFILE="$D/server.pid"
REDIS_PIDFILE="$D/redis.pid"
BAL_PIDFILE="$D/balancers.pid"
cleanup() { for f in "$PIDFILE" "$BAL_PIDFILE" "$REDIS_PIDFILE"; do stop_daemon "$f" >/dev/null 2>&1; done; }
trap cleanup EXIT
trap 'exit 130' INT TERM
for p in "$PORT" "$REDIS_PORT" "$METRICS_PORT"; do port_busy "$p" && { say "error=port $p already in use"; exit 1; }; done
CLK_TCK="$(getconf CLK_TCK)"
rm -rf "$D"; mkdir -p "$D/zones"
cp "$ROOT/zones/$ZONE.zone" "$D/zones/"

PIN_CPUS="$CLIENT_CPU" start_daemon "$REDIS_PIDFILE" "$D/redis.log" redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --save '' --appendonly no --dir "$D"
for _ in $(seq 50); do redis-cli -p "$REDIS_PORT" ping 2>/dev/null | grep -q PONG && break; sleep 0.1; done
# The members' listeners (one per address, as in probe-load.js), on the client's CPU at a lower priority.
AGENT_REPLY="up 60%" PIN_CPUS="$CLIENT_CPU" start_daemon "$BAL_PIDFILE" "$D/balancers.log" \
  nice -n 10 "$NODE" -e 'process.send = () => console.log("ready"); require(process.argv[1])' \
  "$ROOT/scripts/probe-load.js" --child "$MEMBERS" "$PROBE_PORT" yes
for _ in $(seq 300); do grep -q ready "$D/balancers.log" && break; sleep 0.1; done
grep -q ready "$D/balancers.log" || { say "error=balancers did not start: $(tail -2 "$D/balancers.log")"; exit 1; }

# fill PREFIX LOAD: MEMBERS/4 pools p0..pN.lb.example.com of 4 members each, tcp checks on PROBE_PORT.
fill() {
  "$NODE" -e '
    const [root, url, load, members, port] = process.argv.slice(1);
    const { openStore } = require(`${root}/dist/store/open`);
    const { defaultPoolConfig } = require(`${root}/dist/model/poolConfig`);
    const ipOf = (i) => `127.0.${1 + Math.floor(i / 250)}.${1 + (i % 250)}`;
    (async () => {
      const store = openStore(url);
      const pools = Number(members) / 4;
      for (let p = 0; p < pools; p += 100) {
        await Promise.all(Array.from({ length: Math.min(100, pools - p) }, async (_, k) => {
          const name = `p${p + k}.lb.example.com`;
          await store.setPool({ ...defaultPoolConfig(name), check: "tcp", port: Number(port), load, loadPort: 0 });
          await store.updateMembers(name, [0, 1, 2, 3].map((j) => [ipOf((p + k) * 4 + j), { create: true }]));
        }));
      }
      await store.close();
    })().catch((e) => { console.error(e); process.exit(1); });' "$ROOT" "$1" "$2" "$MEMBERS" "$PROBE_PORT"
}
"$NODE" -e 'for (let p = 0; p < Number(process.argv[1]) / 4; p++) console.log(`p${p}.lb.example.com A`)' "$MEMBERS" > "$D/names.txt"

main_ticks() { sed 's/^.*) //' "/proc/$1/task/$1/stat" | awk '{print $12+$13}'; }
metric() { curl -s "http://127.0.0.1:$METRICS_PORT/metrics" | awk -v m="$1" '$1 ~ "^"m {n+=$2} END{print n+0}'; }

say "members=$MEMBERS qps=$QPS duration_s=$DURATION settle_s=$SETTLE rounds=$ROUNDS cpus=$(nproc) server_cpu=$SERVER_CPU"
for load in none agent; do fill "redis://127.0.0.1:$REDIS_PORT/0?prefix=$load:" "$load" || { say "error=fill $load"; exit 1; }; done
for round in $(seq "$ROUNDS"); do
  for load in none agent; do
    PIN_CPUS="$SERVER_CPU" start_daemon "$PIDFILE" "$D/server-$load.log" "$NODE" $TIERDNS_NODE_FLAGS "$CLI" serve --zones "$D/zones" \
      --listen "127.0.0.1:$PORT" --store "redis://127.0.0.1:$REDIS_PORT/0?prefix=$load:" --metrics "127.0.0.1:$METRICS_PORT" --log-level warn
    pid="$(cat "$PIDFILE")"
    wait_dns "$PORT" 30 "$pid" || { say "error=$load: server did not answer"; exit 1; }
    pin_all "$pid"
    sleep "$SETTLE"
    # The first results (and first load readings) of 10,000 members are as many store writes
    # and change notifications: measure once they are over (no change for 5 s; at most 120 s more).
    changes() { redis-cli -p "$REDIS_PORT" get "$load:changecount" 2>/dev/null || echo 0; }
    quiet=0; last="$(changes)"
    for _ in $(seq 120); do
      sleep 1; now="$(changes)"
      if [ "$now" = "$last" ]; then quiet=$((quiet + 1)); [ "$quiet" -ge 5 ] && break; else quiet=0; last="$now"; fi
    done
    c0="$(changes)"; p0="$(metric tierdns_probes_total)"; m0="$(main_ticks "$pid")"; a0="$(cpu_ticks "$pid")"; cat /proc/stat > "$D/stat0"
    taskset -c "$CLIENT_CPU" dnsperf -s 127.0.0.1 -p "$PORT" -d "$D/names.txt" -c 4 -T 1 -l "$DURATION" -Q "$QPS" > "$D/dnsperf.txt" 2>&1
    c1="$(changes)"; p1="$(metric tierdns_probes_total)"; m1="$(main_ticks "$pid")"; a1="$(cpu_ticks "$pid")"; cat /proc/stat > "$D/stat1"
    answers="$(awk '/Queries completed/{print $3; exit}' "$D/dnsperf.txt")"
    say "round=$round load=$load answers=$answers probes_per_s=$(( (p1 - p0) / DURATION )) changes=$((c1 - c0)) main_us_per_answer=$(awk -v t=$((m1 - m0)) -v c="$CLK_TCK" -v n="$answers" 'BEGIN{printf "%.2f", t/c*1e6/n}') process_us_per_answer=$(awk -v t=$((a1 - a0)) -v c="$CLK_TCK" -v n="$answers" 'BEGIN{printf "%.2f", t/c*1e6/n}') other_threads_us_per_probe=$(awk -v t=$(( (a1 - a0) - (m1 - m0) )) -v c="$CLK_TCK" -v n=$((p1 - p0)) 'BEGIN{printf "%.1f", n ? t/c*1e6/n : 0}') steal_ms=$(steal_ms "$D/stat0" "$D/stat1") loadavg=$(cut -d' ' -f1 /proc/loadavg)"
    stop_daemon "$PIDFILE" >/dev/null
  done
done
# Median of each variant's rounds.
for load in none agent; do
  say "median load=$load main_us_per_answer=$(awk -v l="load=$load" '$0 ~ l {sub(/.*main_us_per_answer=/, ""); sub(/ .*/, ""); print}' "$OUTF" | sort -n | awk '{a[NR]=$1} END{print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}')"
done
note "results: $OUTF"
