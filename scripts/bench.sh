#!/usr/bin/env bash
# Figures, not tests, each in a private X/D-Bus session with its own keyring:
#
#   scripts/bench.sh startup [--release] [--runs N]   launch to first paint, idle RSS
#   scripts/bench.sh token [--runs N]                 `latchkey token` for a stored, valid token
#   scripts/bench.sh scheduler                        10,000 tokens over a simulated day
set -euo pipefail
cd "$(dirname "$0")/.."

what=${1:-startup}; [ $# -gt 0 ] && shift
profile=debug runs=5
while [ $# -gt 0 ]; do
  case "$1" in
    --release) profile=release ;;
    --runs) runs=$2; shift ;;
    --inner) inner=1 ;;
    *) echo "usage: $0 startup|token|scheduler [--release] [--runs N]" >&2; exit 2 ;;
  esac
  shift
done

median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

case "$what" in
  scheduler)
    exec cargo bench -p latchkey-core --bench scheduler ;;
  token)
    if [ -z "${inner:-}" ]; then
      cargo build --release -p latchkey-cli
      exec scripts/session.sh "$0" token --inner --runs "${runs/5/100}"
    fi
    home=$(mktemp -d); trap 'rm -rf "$home"' EXIT
    export LATCHKEY_HOME="$home" LATCHKEY_KEYRING_SERVICE="latchkey-bench-$$"
    cli=target/release/latchkey
    $cli server add api --kind oidc --url https://api.example 2>/dev/null
    printf 'bench-token-value' | $cli profile add p --server api --login manual-token --secret-stdin --token-expires 30d 2>/dev/null
    times=()
    for _ in $(seq 1 "$runs"); do
      t0=$(date +%s%N); $cli token p >/dev/null; t1=$(date +%s%N)
      times+=($(( (t1 - t0) / 1000 )))
    done
    m=$(median "${times[@]}")
    echo "latchkey token (release, stored valid token, keyring via Secret Service): median of $runs runs: $((m / 1000)).$(( (m % 1000) / 100 )) ms"
    exit 0 ;;
  startup) ;;
  *) echo "usage: $0 startup|token|scheduler [--release] [--runs N]" >&2; exit 2 ;;
esac

if [ -z "${inner:-}" ]; then
  if [ "$profile" = release ]; then cargo build --release -p latchkey-app; else cargo build -p latchkey-app; fi
  args=(startup --inner --runs "$runs"); [ "$profile" = release ] && args+=(--release)
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
echo "$profile: launch to first paint, median of $runs: $(median "${paints[@]}") ms (first run is cold)"
echo "$profile: idle RSS, median of $runs: $(( $(median "${rss[@]}") / 1024 )) MiB"
