#!/usr/bin/env bash
set -euo pipefail
P="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$P/../../lib/common.sh"
stop_daemon "$RUNDIR/$(basename "$P")/server.pid"
