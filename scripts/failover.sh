#!/usr/bin/env bash
# Failover timing over 20 kills (PRODUCT.md §5): time for a killed balancer to leave the
# answers of both instances, and to return once restarted; min/median/max against the bounds.
# Flags go to scripts/failover.js (--kills N --interval 2s --fast-interval 500ms --rise 2
# --fall 3 --timeout 1s --store redis|file). Exits non-zero if any run exceeded a bound.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f dist/cli.js ] || npm run build >/dev/null
exec node scripts/failover.js "$@"
