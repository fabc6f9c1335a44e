#!/usr/bin/env bash
# Steering by load, end to end (docs/steering.md, "The demo"): three fake tiers counting their
# WebSocket connections and reporting them through agent and json feeds, one tierdns, a client
# load of long-lived WebSocket connections behind TTL-honouring resolver caches, one tier
# killed and restarted. Prints the connections per tier over time for plain round-robin and
# for steering by the json and the agent feed (about 8 minutes; name policies to run fewer):
#
#   scripts/demo-steering.sh [none] [json] [agent]
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f dist/cli.js ] || npm run build >/dev/null
exec node scripts/demo/steering-demo.js "$@"
