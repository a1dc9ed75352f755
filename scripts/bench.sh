#!/usr/bin/env bash
# Benchmarks: figures, not tests. Each compares Latchkey with what it is
# measured against in the same run, alternating the two, and prints its ratio
# last. Each runs in a private D-Bus session with its own keyring (and Xvfb
# for the window), with temporary data folders: never the user's.
#
#   scripts/bench.sh window    [--runs N]   launch to first paint and idle PSS: Latchkey (empty
#                                           store, 1,000 and 10,000 profiles) / a bare Tauri window
#                                           (WebKit's default renderer, and Latchkey's CPU one)
#   scripts/bench.sh token     [--runs N]   `latchkey token` / `gh auth token` / `oidc-token`
#                                           / `/bin/true` (starting a process that does nothing)
#   scripts/bench.sh store     [--runs N]   `latchkey profile list --json`: 10,000 profiles - empty
#   scripts/bench.sh login     [--runs N]   Avassa password and OIDC loopback logins / curl, and
#                                           / curl then `secret-tool store` (a script keeping its token)
#   scripts/bench.sh idle      [--seconds S] wake-ups of the idle app with no deadlines / bare window
#   scripts/bench.sh scheduler              wake-ups over a simulated day with 10,000 tokens
#   scripts/bench.sh list                   the window's list of 10,000 profiles: render, scroll, search
#   scripts/bench.sh all                    all of the above (`make bench`)
#
# Release builds, made here in one cargo run so they share the workspace's
# target/. `make bench` first installs the bench-only tools (gh, oidc-agent,
# GNU time) through scripts/install-deps.sh --bench.
#
# Reading the figures: on a shared machine absolute times drift by 2-5x from
# minute to minute (other builds run on the same cores), so every part runs
# Latchkey and its baseline alternately in one run and prints the median of
# the round-by-round ratios: quote that, not a single wall time. The CPU
# medians (kernel accounting of each run) drift far less than wall times.
# A part alone: `scripts/bench.sh token` (builds first); to skip the build
# when target/release is current: `scripts/session.sh scripts/bench.sh
# token --inner --runs 100` (window and idle: `scripts/session.sh --x`).
# An A/B of a change to the command line: `--also LABEL=PATH` (token,
# store and login, repeatable) times another build's `latchkey` in the same rounds,
# on the same store, e.g. `--also before=/tmp/main/latchkey`.
# The figures and their goals are in the README, "Performance".
set -euo pipefail
cd "$(dirname "$0")/.."

usage() {
  sed -n '2,35p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

what=${1:-}; [ $# -gt 0 ] && shift
runs="" seconds=60 inner="" also=()
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs=$2; shift ;;
    --also) [[ $2 == *=* ]] || usage; also+=("$2"); shift ;;
    --seconds) seconds=$2; shift ;;
    --inner) inner=1 ;;
    *) usage ;;
  esac
  shift
done

bin=target/release
bench_py=scripts/bench
also_args=()
for a in "${also[@]}"; do also_args+=(--also "$a"); done

# Every benchmark builds the same set, in one cargo run: a different set of
# packages unifies dependency features differently and would rebuild the
# workspace crates each time.
build() {
  (cd ui && npm run build >/dev/null)
  cargo build --release --locked -p latchkey-app -p latchkey-bare-window -p latchkey-cli \
    -p latchkey-sandbox -p latchkey-core --bins --example seed_profiles
}

fresh_dir() { # VAR: a temporary folder, removed on exit, into $VAR
  # No local of its own: a `local dir` here would hide a caller's `dir`.
  printf -v "$1" '%s' "$(mktemp -d "${TMPDIR:-/tmp}/latchkey-bench.XXXXXX")"
  cleanup+=("${!1}")
}
cleanup=()
on_exit() {
  for pid in "${stop_pids[@]:-}"; do [ -n "$pid" ] && kill "$pid" 2>/dev/null || true; done
  for dir in "${cleanup[@]:-}"; do [ -n "$dir" ] && rm -rf "$dir"; done
}
stop_pids=()
trap on_exit EXIT

start_sandbox() { # starts the release sandbox; sets $sandbox_url
  local dir out
  fresh_dir dir
  out=$dir/sandbox.out
  "$bin/latchkey-sandbox" >"$out" 2>/dev/null &
  stop_pids+=($!)
  for _ in $(seq 100); do [ -s "$out" ] && break; sleep 0.1; done
  sandbox_url=$(head -1 "$out")
  [ -n "$sandbox_url" ] || { echo "bench: the sandbox did not start" >&2; exit 1; }
}

# A refresh and an access token of the sandbox's OIDC provider for its
# confidential client, through the authorization code flow with PKCE, done
# with curl (the provider's "browser" approves at once).
sandbox_oidc_tokens() { # URL -> JSON token response on stdout
  local url=$1 verifier challenge location code
  verifier=$(python3 -c 'import secrets; print(secrets.token_urlsafe(48))')
  challenge=$(python3 -c 'import base64, hashlib, sys; print(base64.urlsafe_b64encode(hashlib.sha256(sys.argv[1].encode()).digest()).rstrip(b"=").decode())' "$verifier")
  location=$(curl -sS -o /dev/null -w '%{redirect_url}' \
    "$url/oidc/authorize?response_type=code&client_id=sandbox-oidc-confidential&redirect_uri=http://127.0.0.1:9/callback&scope=openid%20offline_access&state=bench&code_challenge=$challenge&code_challenge_method=S256")
  code=$(python3 -c 'import sys, urllib.parse as u; print(u.parse_qs(u.urlparse(sys.argv[1]).query)["code"][0])' "$location")
  curl -sS -u sandbox-oidc-confidential:sandbox-oidc-confidential-secret-not-real \
    -d grant_type=authorization_code -d "code=$code" -d redirect_uri=http://127.0.0.1:9/callback \
    -d "code_verifier=$verifier" "$url/oidc/token"
}

json_field() { python3 -c 'import json, sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }

# ---------------------------------------------------------------- token
bench_token() {
  if [ -z "$inner" ]; then
    build
    exec scripts/session.sh "$0" token --inner --runs "${runs:-100}" "${also_args[@]}"
  fi
  for tool in gh oidc-agent oidc-gen oidc-token /usr/bin/time; do
    command -v "$tool" >/dev/null || { echo "bench: $tool is missing: run scripts/install-deps.sh --bench" >&2; exit 1; }
  done
  start_sandbox
  local home tokens access refresh
  fresh_dir home
  tokens=$(sandbox_oidc_tokens "$sandbox_url")
  access=$(json_field access_token <<<"$tokens")

  # Latchkey: the provider's access token, stored (its JWT says when it expires).
  export LATCHKEY_HOME="$home/latchkey" LATCHKEY_KEYRING_SERVICE="latchkey-bench-$$"
  "$bin/latchkey" server add sso --kind oidc --url "$sandbox_url/oidc" 2>/dev/null
  printf '%s' "$access" | "$bin/latchkey" profile add sso-token --server sso --login manual-token --secret-stdin 2>/dev/null
  # gh: a token in its own configuration file, as `gh auth login` leaves it.
  mkdir -p "$home/gh/.config/gh"
  printf 'github.com:\n    oauth_token: gho_%s\n    user: bench\n    git_protocol: https\n' \
    "$(python3 -c 'import secrets; print(secrets.token_hex(18))')" >"$home/gh/.config/gh/hosts.yml"
  # oidc-agent: an agent holding an account for the sandbox provider, made
  # from a refresh token; oidc-token then gets the cached access token.
  mkdir -p "$home/oidc"
  refresh=$(tokens=$(sandbox_oidc_tokens "$sandbox_url"); json_field refresh_token <<<"$tokens")
  local agent_env
  agent_env=$(HOME="$home/oidc" oidc-agent --no-autoload 2>/dev/null)
  eval "$(grep -v '^echo' <<<"$agent_env")"
  stop_pids+=("$OIDCD_PID")
  HOME="$home/oidc" OIDC_ENCRYPTION_PW=bench oidc-gen sandbox --iss="$sandbox_url/oidc" \
    --client-id=sandbox-oidc-confidential --client-secret=sandbox-oidc-confidential-secret-not-real \
    --rt="$refresh" --scope="openid offline_access" --redirect-uri=http://localhost:8080 \
    --pw-env --no-url-call --confirm-default --prompt=none >/dev/null 2>&1 \
    || { echo "bench: oidc-gen could not add the sandbox account to oidc-agent" >&2; exit 1; }

  # Each hands out a token before it is timed.
  [ "$("$bin/latchkey" token sso-token)" = "$access" ] || { echo "bench: latchkey token printed the wrong token" >&2; exit 1; }
  HOME="$home/gh" gh auth token | grep -q '^gho_' || { echo "bench: gh auth token failed" >&2; exit 1; }
  HOME="$home/oidc" oidc-token sandbox | grep -q '^ey' || { echo "bench: oidc-token failed" >&2; exit 1; }

  local extra=() a
  for a in "${also[@]}"; do
    [ "$("${a#*=}" token sso-token)" = "$access" ] || { echo "bench: ${a%%=*}'s latchkey token printed the wrong token" >&2; exit 1; }
    extra+=("${a%%=*} token=${a#*=} token sso-token")
  done

  echo "== latchkey token (release, valid stored token, keyring through Secret Service)"
  echo "   against gh auth token (token in its config) and oidc-token (oidc-agent's cached token);"
  echo "   /bin/true: starting a process that does nothing, the least any command can take"
  python3 "$bench_py/runs.py" -n "$runs" --base "latchkey token" \
    "latchkey token=$bin/latchkey token sso-token" \
    "${extra[@]}" \
    "gh auth token=HOME=$home/gh gh auth token" \
    "oidc-token=HOME=$home/oidc OIDC_SOCK=$OIDC_SOCK oidc-token sandbox" \
    "/bin/true=/bin/true"
  oidc-agent -k >/dev/null 2>&1 || true
}

# ---------------------------------------------------------------- store
bench_store() {
  if [ -z "$inner" ]; then
    build
    exec scripts/session.sh "$0" store --inner --runs "${runs:-30}" "${also_args[@]}"
  fi
  local home
  fresh_dir home
  export LATCHKEY_KEYRING_SERVICE="latchkey-bench-$$"
  LATCHKEY_HOME="$home/empty" "$bin/latchkey" server add api --kind oidc --url https://api.example 2>/dev/null
  echo "seeding 10,000 profiles..."
  "$bin/examples/seed_profiles" "$home/10000" 10000
  local count
  count=$(LATCHKEY_HOME="$home/10000" "$bin/latchkey" profile list --json | python3 -c 'import json, sys; print(len(json.load(sys.stdin)))')
  [ "$count" = 10000 ] || { echo "bench: the seeded store lists $count profiles" >&2; exit 1; }
  echo "== latchkey profile list --json: 10,000 profiles against an empty store"
  local extra=() a
  for a in "${also[@]}"; do
    extra+=("${a%%=*}: empty store=LATCHKEY_HOME=$home/empty ${a#*=} profile list --json"
      "${a%%=*}: 10,000 profiles=LATCHKEY_HOME=$home/10000 ${a#*=} profile list --json")
  done
  python3 "$bench_py/runs.py" -n "$runs" --base "empty store" --difference \
    "empty store=LATCHKEY_HOME=$home/empty $bin/latchkey profile list --json" \
    "10,000 profiles=LATCHKEY_HOME=$home/10000 $bin/latchkey profile list --json" \
    "${extra[@]}"
}

# ---------------------------------------------------------------- login
bench_login() {
  if [ -z "$inner" ]; then
    build
    exec scripts/session.sh "$0" login --inner --runs "${runs:-30}" "${also_args[@]}"
  fi
  start_sandbox
  local home
  fresh_dir home
  export LATCHKEY_HOME="$home/latchkey" LATCHKEY_KEYRING_SERVICE="latchkey-bench-$$"
  local cli="$bin/latchkey"
  $cli server add edge --kind avassa --url "$sandbox_url/avassa" 2>/dev/null
  $cli tenant add edge acme 2>/dev/null
  $cli profile add edge-alice --server edge --tenant acme --login avassa-password --username alice 2>/dev/null
  $cli server add sso --kind oidc --url "$sandbox_url/oidc" 2>/dev/null
  $cli profile add sso --server sso --login oidc --client-id sandbox-oidc-client --redirect loopback \
    --scope openid --scope offline_access 2>/dev/null
  echo "== logins (release CLI) against curl doing the same HTTP requests, sandbox on loopback"
  python3 "$bench_py/login.py" -n "$runs" --latchkey "$cli" --sandbox "$sandbox_url" \
    --password alice-sandbox-password "${also_args[@]}"
}

# ---------------------------------------------------------------- window
bench_window() {
  if [ -z "$inner" ]; then
    build
    exec scripts/session.sh --x "$0" window --inner --runs "${runs:-10}"
  fi
  local home
  fresh_dir home
  for n in 1000 10000; do
    "$bin/examples/seed_profiles" "$home/$n" "$n"
  done
  echo "== launch to first paint (seen in the window's pixels, and by rAF) and idle PSS:"
  echo "   Latchkey (release) against a bare Tauri 2 window, with WebKit's default renderer and with Latchkey's"
  python3 "$bench_py/window.py" -n "$runs" --bare "$bin/latchkey-bare-window" --app "$bin/latchkey-app" \
    --store "1,000 profiles=$home/1000" --store "10,000 profiles=$home/10000"
}

# ---------------------------------------------------------------- idle
bench_idle() {
  if [ -z "$inner" ]; then
    build
    exec scripts/session.sh --x "$0" idle --inner --seconds "$seconds"
  fi
  echo "== wake-ups at idle over $seconds s, no deadlines: Latchkey (release, empty store) against a bare Tauri 2 window"
  python3 "$bench_py/idle.py" --seconds "$seconds" --bare "$bin/latchkey-bare-window" --app "$bin/latchkey-app"
}

# ---------------------------------------------------------------- scheduler
bench_scheduler() {
  cargo bench --locked -p latchkey-core --bench scheduler
}

# ---------------------------------------------------------------- list
bench_list() {
  if [ -z "$inner" ]; then
    build
    exec scripts/session.sh --x "$0" list --inner
  fi
  echo "== the window's profile list at 10,000 profiles (release app; tests/e2e/scale.test.mjs, which asserts"
  echo "   what the user sees and prints these): each to laid-out rows, paint not included (Xvfb)"
  LATCHKEY_E2E_APP="$bin/latchkey-app" LATCHKEY_E2E_SEED="$bin/examples/seed_profiles" \
    node --test tests/e2e/scale.test.mjs >"${TMPDIR:-/tmp}/latchkey-bench-list.log" 2>&1 || {
    tail -40 "${TMPDIR:-/tmp}/latchkey-bench-list.log" >&2
    exit 1
  }
  sed -n 's/^# //p' "${TMPDIR:-/tmp}/latchkey-bench-list.log" | grep -A6 '^scale figures'
}

case "$what" in
  window) bench_window ;;
  token) bench_token ;;
  store) bench_store ;;
  login) bench_login ;;
  idle) bench_idle ;;
  scheduler) bench_scheduler ;;
  list) bench_list ;;
  all)
    # One build for all, then each in turn; a failing one stops the run.
    build
    for part in window token store login idle scheduler list; do
      echo
      "$0" "$part" ${runs:+--runs "$runs"}
    done ;;
  *) usage ;;
esac
