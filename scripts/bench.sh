#!/usr/bin/env bash
# Figures, not tests: launch-to-first-paint and idle memory of the app (debug,
# and release with --release), measured in a private X/D-Bus session.
#
#   scripts/bench.sh [--release] [--runs N]
set -euo pipefail
cd "$(dirname "$0")/.."

profile=debug runs=5
while [ $# -gt 0 ]; do
  case "$1" in
    --release) profile=release ;;
    --runs) runs=$2; shift ;;
    --inner) inner=1 ;;
    *) echo "usage: $0 [--release] [--runs N]" >&2; exit 2 ;;
  esac
  shift
done

if [ -z "${inner:-}" ]; then
  if [ "$profile" = release ]; then cargo build --release -p latchkey-app; else cargo build -p latchkey-app; fi
  args=(--inner --runs "$runs"); [ "$profile" = release ] && args+=(--release)
  exec scripts/session.sh --x "$0" "${args[@]}"
fi

app="target/$profile/latchkey-app"
tree_rss_kb() { # RSS of a process and all its descendants, in KiB
  local pid=$1 total kids
  total=$(ps -o rss= -p "$pid" 2>/dev/null | tr -d ' ' || echo 0)
  for kid in $(ps -o pid= --ppid "$pid" 2>/dev/null); do
    kids=$(tree_rss_kb "$kid"); total=$(( ${total:-0} + kids ))
  done
  echo "${total:-0}"
}

paints=() rss=()
for i in $(seq 1 "$runs"); do
  home=$(mktemp -d)
  log="$home/stderr"
  LATCHKEY_HOME="$home/data" LATCHKEY_KEYRING_SERVICE="latchkey-bench-$$" XDG_DATA_HOME="$home/xdg" \
    XDG_CONFIG_HOME="$home/cfg" XDG_CACHE_HOME="$home/cache" LATCHKEY_TRACE_STARTUP=1 \
    "$app" 2>"$log" &
  pid=$!
  for _ in $(seq 1 300); do grep -q 'first paint' "$log" && break; sleep 0.1; done
  ms=$(sed -n 's/.*first paint \([0-9]*\) ms.*/\1/p' "$log" | head -1)
  sleep 3 # idle
  kb=$(tree_rss_kb "$pid")
  kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true
  rm -rf "$home"
  paints+=("${ms:-NA}"); rss+=("$kb")
  echo "run $i: first paint ${ms:-NA} ms, idle RSS $((kb / 1024)) MiB (app + WebKit processes)"
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
echo "$profile: launch to first paint, median of $runs: $(median "${paints[@]}") ms (first run is cold)"
echo "$profile: idle RSS, median of $runs: $(( $(median "${rss[@]}") / 1024 )) MiB"
