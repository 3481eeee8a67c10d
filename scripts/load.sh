#!/usr/bin/env bash
# The side-by-side load comparison (bench/load/README.md): publishes FastGate and the YARP peer,
# runs every scenario against the backend directly, FastGate, nginx, HAProxy and YARP, and writes
# perf-results/<date>_<machine>_<commit>.{md,json,svg}.
#   scripts/load.sh [--duration 10s] [--rounds 1] [--targets direct,fastgate,nginx,haproxy,yarp]
#                   [--scenarios h1-keepalive-get,...] [--rate N] [--out DIR] [--list]
# Needs the tools from `scripts/setup.sh load` (wrk, h2load, nginx, haproxy); best run as root
# (raising the descriptor limit for 10,000 idle connections, resetting peak RSS through /proc).
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
for tool in wrk h2load nginx haproxy taskset; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "load: $tool is missing; run scripts/setup.sh load" >&2
    exit 1
  fi
done
exec python3 bench/load/compare.py "$@"
