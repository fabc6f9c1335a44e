#!/usr/bin/env bash
# The README demo: three fake WebSocket balancers on 127.0.0.11-13, a private redis-server
# (or the file store when redis-server is missing), two tierdns instances sharing it. Kills
# one balancer and shows with dig that it leaves the answers of both instances, then comes
# back when restarted. Everything it starts is stopped on exit (by PID), Ctrl-C included.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f dist/cli.js ] || npm run build >/dev/null

POOL=ws.lb.example.com
BALANCERS=(127.0.0.11 127.0.0.12 127.0.0.13)
VICTIM=127.0.0.12
WORK=$(mktemp -d "${TMPDIR:-/tmp}/tierdns-demo.XXXXXX")
PIDS=()
declare -A BALANCER_PID

cleanup() {
  for pid in "${PIDS[@]}" "${BALANCER_PID[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  node -e 'const s=require("net").createServer().listen(0,process.argv[1],()=>{console.log(s.address().port);s.close()})' "${1:-127.0.0.1}"
}
now_ms() { date +%s%3N; }
say() { printf '\n\033[1m%s\033[0m\n' "$*"; }

# wait_for FILE PATTERN: until PATTERN shows up in FILE (a child's log), at most 10 s.
wait_for() {
  for _ in $(seq 200); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.05; done
  echo "demo: '$2' never appeared in $1:" >&2; tail -5 "$1" >&2; exit 1
}

# answers PORT: the pool's A records from one instance, sorted, on one line.
answers() {
  if command -v dig >/dev/null; then
    dig +short +time=1 +tries=1 @127.0.0.1 -p "$1" "$POOL" A | sort | tr '\n' ' '
  else
    node -e 'const r=new (require("dns").promises.Resolver)();r.setServers(["127.0.0.1:"+process.argv[1]]);r.resolve4(process.argv[2]).then(a=>console.log(a.sort().join(" ")),()=>console.log(""))' "$1" "$POOL"
  fi
}

# until_both CONDITION: poll both instances every 50 ms until CONDITION (present|absent) holds for VICTIM.
until_both() {
  local start; start=$(now_ms)
  for _ in $(seq 400); do
    local ok=1
    for port in "$NS1" "$NS2"; do
      case "$1:$(answers "$port")" in
        present:*"$VICTIM "*) ;;
        absent:*"$VICTIM "*) ok=0 ;;
        absent:*) ;;
        *) ok=0 ;;
      esac
    done
    if [ "$ok" = 1 ]; then echo $(( $(now_ms) - start )); return 0; fi
    sleep 0.05
  done
  echo "demo: $VICTIM never became $1 in both instances' answers" >&2; exit 1
}

start_balancer() {
  node scripts/fake-balancer.js --host "$1" --port "$BPORT" >"$WORK/balancer-$1.log" 2>&1 &
  BALANCER_PID[$1]=$!
  wait_for "$WORK/balancer-$1.log" ready
}

say "Store"
if command -v redis-server >/dev/null; then
  RPORT=$(free_port)
  redis-server --port "$RPORT" --bind 127.0.0.1 --save '' --appendonly no --dir "$WORK" >"$WORK/redis.log" 2>&1 &
  PIDS+=($!)
  wait_for "$WORK/redis.log" "Ready to accept"
  STORE="redis://127.0.0.1:$RPORT/0"
else
  STORE="file:$WORK/store.json"
fi
echo "$STORE"

say "Fake WebSocket balancers"
BPORT=$(free_port "${BALANCERS[0]}")
for ip in "${BALANCERS[@]}"; do start_balancer "$ip"; echo "$ip:$BPORT (pid ${BALANCER_PID[$ip]})"; done

say "Two tierdns instances sharing the store"
NS1=$(free_port); NS2=$(free_port)
for pair in "ns1:$NS1" "ns2:$NS2"; do
  name=${pair%%:*}; port=${pair##*:}
  node dist/cli.js serve --zones zones --listen "127.0.0.1:$port" --store "$STORE" \
    --state-dir "$WORK/$name" --instance "$name" >"$WORK/$name.log" 2>&1 &
  PIDS+=($!)
  wait_for "$WORK/$name.log" "serve: ready"
  echo "$name answers on 127.0.0.1:$port (pid $!)"
done

say "Registering the balancers"
set -x
node dist/cli.js pool set "$POOL" --store "$STORE" --check ws --port "$BPORT" --path / --ttl 5s \
  --interval 1s --fast-interval 250ms --timeout 500ms --rise 2 --fall 3
for ip in "${BALANCERS[@]}"; do node dist/cli.js member add "$POOL" "$ip" --store "$STORE"; done
{ set +x; } 2>/dev/null
# Wait until each balancer had its first probe on both instances.
for ip in "${BALANCERS[@]}"; do VICTIM=$ip until_both present >/dev/null; done
for port in "$NS1" "$NS2"; do echo "dig @127.0.0.1 -p $port $POOL A  →  $(answers "$port")"; done

say "Killing the balancer on $VICTIM (pid ${BALANCER_PID[$VICTIM]})"
kill "${BALANCER_PID[$VICTIM]}"
unset "BALANCER_PID[$VICTIM]"
ms=$(until_both absent)
echo "gone from both instances' answers after $ms ms (bound: 1s + 2 × 250ms + 1s = 2500 ms)"
for port in "$NS1" "$NS2"; do echo "dig @127.0.0.1 -p $port $POOL A  →  $(answers "$port")"; done
node dist/cli.js status "$POOL" --store "$STORE"

say "Restarting it"
start_balancer "$VICTIM"
ms=$(until_both present)
echo "back in both instances' answers after $ms ms (bound: 1s + 1 × 250ms + 1s = 2250 ms)"
for port in "$NS1" "$NS2"; do echo "dig @127.0.0.1 -p $port $POOL A  →  $(answers "$port")"; done
