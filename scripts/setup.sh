#!/usr/bin/env bash
# Installs what the tests and the load comparison need, then restores the solution.
# Idempotent: apt-get runs only when a package is missing.
#   scripts/setup.sh          everything (test + load)
#   scripts/setup.sh test     what `scripts/test.sh` and .ci/run need
#   scripts/setup.sh load     what `scripts/load.sh` needs (wrk, h2load, nginx, haproxy)
set -euo pipefail

cd "$(dirname "$0")/.."

mode="${1:-all}"
test_pkgs=(curl openssl python3 python3-h2 nghttp2-client redis-server)
load_pkgs=(wrk nginx-light haproxy util-linux procps)
case "$mode" in
  test) pkgs=("${test_pkgs[@]}") ;;
  load) pkgs=("${test_pkgs[@]}" "${load_pkgs[@]}") ;;
  all)  pkgs=("${test_pkgs[@]}" "${load_pkgs[@]}") ;;
  *) echo "usage: $0 [test|load|all]" >&2; exit 2 ;;
esac

missing=()
for p in "${pkgs[@]}"; do
  # nginx-light is enough, but any installed nginx flavour serves the comparison.
  if [[ "$p" == nginx-light ]] && command -v nginx >/dev/null 2>&1; then continue; fi
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "setup: missing packages ${missing[*]}; run as root or install them" >&2
    exit 1
  fi
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # The Debian nginx, haproxy and redis-server packages start system services on install; the load harness runs its
  # own instances on its own ports, so keep the packaged ones from starting (policy-rc.d, exit 101).
  policy=/usr/sbin/policy-rc.d
  own_policy=0
  if [[ ! -e $policy ]]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy"
    chmod +x "$policy"
    own_policy=1
  fi
  trap 'if [[ $own_policy -eq 1 ]]; then rm -f "$policy"; fi' EXIT
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "setup: packages present (${pkgs[*]})"
fi

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
dotnet restore FastGate.sln
