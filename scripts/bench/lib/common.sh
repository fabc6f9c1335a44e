# Shared helpers for scripts/bench/run.sh, scale.sh and peers/*/{start,stop}.sh.
# Source it; it sets BENCH (scripts/bench), ROOT (project root), RUNDIR (runtime state)
# and DATA (generated zones, query files, store templates).
BENCH="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ROOT="${TIERDNS_DIR:-$(cd "$BENCH/../.." && pwd)}"
RUNDIR="${BENCH_RUNDIR:-$ROOT/results/.bench-run}"
DATA="$RUNDIR/data"
SERVER_CPU="${SERVER_CPU:-1}"          # CPU the server under test is pinned to
CLIENT_CPU="${CLIENT_CPU:-0}"          # CPU dnsperf / dig run on
PIN_CPUS="${PIN_CPUS:-$SERVER_CPU}"    # taskset list for the server ("0-1" = unpinned)
WORKERS="${WORKERS:-1}"                # server worker threads/processes (workers mix)
ZONE=lb.example.com
NODE="${NODE:-node}"
# V8 flags for tierdns serve, as `npm start` and the README recommend (a 2 MB young generation).
TIERDNS_NODE_FLAGS="${TIERDNS_NODE_FLAGS---expose-gc --max-semi-space-size=2}"

# build_udplat: compile lib/udplat.c (the latency client of the latu mix) to $RUNDIR/udplat
# and print that path; fails (with the reason in $RUNDIR/udplat.build.log) without a C compiler.
build_udplat() {
  mkdir -p "$RUNDIR"
  if ! command -v cc >/dev/null; then echo "no cc" > "$RUNDIR/udplat.build.log"; return 1; fi
  cc -O2 -o "$RUNDIR/udplat" "$BENCH/lib/udplat.c" 2>"$RUNDIR/udplat.build.log" && echo "$RUNDIR/udplat"
}

# Fixed ports, away from the shared bench (53xx) and `npm start` (5300).
port_of() {
  case "$1" in
    gdnsd) echo 5401 ;; pdns) echo 5403 ;; knot) echo 5404 ;; tierdns) echo 5410 ;;
    *) echo "unknown server $1" >&2; return 1 ;;
  esac
}

# port_busy PORT: something already listens on 127.0.0.1:PORT (udp or tcp).
port_busy() {
  ss -Hlnu "sport = :$1" 2>/dev/null | grep -q . || ss -Hlnt "sport = :$1" 2>/dev/null | grep -q .
}

# start_daemon PIDFILE LOGFILE cmd args...
# Runs cmd in its own session (so every child it forks can be found again), bound to
# $PIN_CPUS, in the background; writes its PID to PIDFILE.
start_daemon() {
  local pidfile="$1" log="$2"; shift 2
  if [ -s "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
    echo "already running: pid $(cat "$pidfile")" >&2; return 1
  fi
  # In a non-interactive shell a background job is not a process-group leader,
  # so setsid execs in place: $! is the daemon's own PID.
  setsid taskset -c "$PIN_CPUS" "$@" >"$log" 2>&1 </dev/null 9>&- &
  echo $! > "$pidfile"
}

# session_pids PID: PID plus every process in its session (forked workers).
session_pids() {
  local pid="$1"
  { echo "$pid"; ps -o pid= -s "$pid" 2>/dev/null; } | awk 'NF{print $1}' | sort -un
}

# stop_daemon PIDFILE: SIGTERM the daemon, wait up to 10 s, then SIGKILL what is left of
# its session. Only PIDs this benchmark started are signalled.
stop_daemon() {
  local pidfile="$1" pid pids p any
  [ -s "$pidfile" ] || { echo "not running (no pidfile $pidfile)"; return 0; }
  pid="$(cat "$pidfile")"
  if ! kill -0 "$pid" 2>/dev/null; then rm -f "$pidfile"; echo "not running"; return 0; fi
  pids="$(session_pids "$pid")"
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 100); do
    any=0
    for p in $pids; do kill -0 "$p" 2>/dev/null && any=1; done
    [ "$any" = 0 ] && break
    sleep 0.1
  done
  for p in $pids; do kill -0 "$p" 2>/dev/null && { echo "SIGKILL $p"; kill -KILL "$p" 2>/dev/null || true; }; done
  rm -f "$pidfile"
  echo "stopped pid $pid"
}

# wait_dns PORT [TIMEOUT_S] [PID]: wait until the server answers the zone's SOA
# (gives up early when PID died).
wait_dns() {
  local port="$1" t="${2:-20}" pid="${3:-}" i
  for i in $(seq $((t * 20))); do
    if dig @127.0.0.1 -p "$port" "$ZONE" SOA +norec +short +time=1 +tries=1 2>/dev/null | grep -q hostmaster; then
      return 0
    fi
    if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then echo "server (pid $pid) exited" >&2; return 1; fi
    sleep 0.05
  done
  echo "server on port $port did not answer within ${t}s" >&2
  return 1
}

# rss_kb PID -> "RSS_KB HWM_KB PSS_KB NPROC" summed over the daemon's session.
rss_kb() {
  local pid="$1" p rss=0 hwm=0 pss=0 n=0 r h s
  for p in $(session_pids "$pid"); do
    [ -r "/proc/$p/status" ] || continue
    r=$(awk '/^VmRSS:/{print $2}' "/proc/$p/status"); h=$(awk '/^VmHWM:/{print $2}' "/proc/$p/status")
    s=$(awk '/^Pss:/{print $2}' "/proc/$p/smaps_rollup" 2>/dev/null)
    rss=$((rss + ${r:-0})); hwm=$((hwm + ${h:-0})); pss=$((pss + ${s:-0})); n=$((n + 1))
  done
  echo "$rss $hwm $pss $n"
}

# cpu_ticks PID -> utime+stime (clock ticks, incl. exited threads) summed over the session.
cpu_ticks() {
  local pid="$1" p t=0 v
  for p in $(session_pids "$pid"); do
    # strip "pid (comm) " first: comm may contain spaces
    v=$(sed 's/^.*) //' "/proc/$p/stat" 2>/dev/null | awk '{print $12+$13}') || continue
    t=$((t + ${v:-0}))
  done
  echo "$t"
}

# pin_all PID: (re)bind every thread of every process of the session to $PIN_CPUS.
# Needed because some servers set their own thread affinity (Knot pins UDP worker i to
# CPU i % ncpus, i.e. worker 0 lands on CPU 0, the load generator's CPU).
pin_all() {
  local p
  for p in $(session_pids "$1"); do taskset -a -p -c "$PIN_CPUS" "$p" >/dev/null 2>&1 || true; done
}

# affinity_report PID -> "tid:comm:cpus ..." for every thread of the session.
affinity_report() {
  local p t out=""
  for p in $(session_pids "$1"); do
    for t in $(ls "/proc/$p/task" 2>/dev/null); do
      out+="$t:$(tr -d ' ' < "/proc/$p/task/$t/comm" 2>/dev/null):$(taskset -cp "$t" 2>/dev/null | awk -F': ' '{print $2}') "
    done
  done
  echo "$out"
}

# ensure_packages CMD:PKG ...   install the Debian packages whose command is missing
# (PKG may be "pkg1+pkg2"; CMD "dpkg:PKG" checks the package itself). Uses apt-get as
# root, with services kept from starting (they would take port 53).
ensure_packages() {
  local need=() pair cmd pkgs
  for pair in "$@"; do
    cmd="${pair%%:*}"; pkgs="${pair#*:}"
    if [ "$cmd" = dpkg ]; then
      dpkg -s "$pkgs" >/dev/null 2>&1 || need+=("$pkgs")
    else
      command -v "$cmd" >/dev/null 2>&1 || need+=(${pkgs//+/ })
    fi
  done
  [ ${#need[@]} -eq 0 ] && return 0
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    echo "missing packages: ${need[*]} (install them: apt-get install ${need[*]})" >&2; return 1
  fi
  echo "installing: ${need[*]}" >&2
  local made_policy=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; made_policy=1
  fi
  local rc=0
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}"; } >&2 || rc=$?
  [ "$made_policy" = 1 ] && rm -f /usr/sbin/policy-rc.d
  return $rc
}

# packages_for SERVER -> CMD:PKG pairs for ensure_packages
packages_for() {
  case "$1" in
    knot) echo "knotd:knot" ;;
    gdnsd) echo "gdnsd:gdnsd" ;;
    pdns) echo "pdns_server:pdns-server dpkg:pdns-backend-bind" ;;
    tierdns) ;;
  esac
}

# cpu_busy SNAP0 SNAP1 CPUS -> "busy_pct softirq_pct steal_pct" of CPUS ("1", "0", or a list
# like "0-1": then the aggregate "cpu" line) between two copies of /proc/stat. Busy counts
# everything but idle, iowait and steal, so it includes softirq time (loopback packet work)
# that is charged to no process. Steal is time the hypervisor ran something else on these
# vCPUs: a stall no process on this machine caused.
cpu_busy() {
  local name="cpu$3"; [[ "$3" == *[-,]* ]] && name=cpu
  paste <(grep "^$name " "$1") <(grep "^$name " "$2") | awk '{
    n = NF / 2; tot = 0
    for (i = 2; i <= 9; i++) { d[i] = $(i + n) - $i; tot += d[i] }
    if (tot <= 0) { print "0 0 0"; exit }
    printf "%.1f %.1f %.2f\n", 100 * (tot - d[5] - d[6] - d[9]) / tot, 100 * d[8] / tot, 100 * d[9] / tot }'
}

# steal_ms SNAP0 SNAP1 -> milliseconds of steal over all CPUs between two copies of /proc/stat.
steal_ms() {
  paste <(grep "^cpu " "$1") <(grep "^cpu " "$2") | awk -v c="$(getconf CLK_TCK)" '{ n = NF / 2; printf "%.0f\n", 1000 * ($(9 + n) - $9) / c }'
}
