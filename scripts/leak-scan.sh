#!/usr/bin/env bash
# The leak scan: searches everything Latchkey wrote, during the e2e run and
# while the CLI logs in to every sandbox kind, for every secret the sandbox
# issued or knows (tokens, refresh and ID tokens, codes, cookies, passwords,
# client secrets, robot, app and DCI keys), as they are and in base64 and
# base64url. Prints how many places it searched and what it found; exit 1 if
# it found anything. Run inside scripts/session.sh (the CLI needs a keyring):
#
#   scripts/session.sh scripts/leak-scan.sh [DIR]      # `make leak-scan`
#
# DIR (default target/leak-scan) may hold what `make e2e` leaves for it:
#   e2e-tmp/       the e2e run's TMPDIR: each test's installation, whose
#                  LATCHKEY_HOME, XDG config, cache and data folders (WebKit's
#                  local storage, IndexedDB and cache included) are searched
#   e2e.log        the e2e run's stdout and stderr, the app's output included
#   issued-*.txt   what the sandboxes recorded (LATCHKEY_SANDBOX_RECORD)
# The script adds cli/, a fresh installation logged in with the CLI. Secrets
# belong in the keyring only; the CLI's `token` output (stdout, which is its
# job) is the one place they may appear, and is not searched.
set -euo pipefail
cd "$(dirname "$0")/.."

dir="$(realpath -m "${1:-target/leak-scan}")"
mkdir -p "$dir"
bin="${CARGO_TARGET_DIR:-target}/debug"
for b in latchkey latchkey-sandbox; do
  [ -x "$bin/$b" ] || { echo "leak-scan: $bin/$b is missing: cargo build -p latchkey-cli -p latchkey-sandbox" >&2; exit 2; }
done
[ -n "${DBUS_SESSION_BUS_ADDRESS:-}" ] || { echo "leak-scan: run it inside scripts/session.sh (the CLI needs a keyring)" >&2; exit 2; }

# ---------------------------------------------------------------------------
# The CLI logs in to every sandbox kind, with a recording sandbox.
cli="$dir/cli"
rm -rf "$cli" "$dir/issued-cli.txt"
mkdir -p "$cli/home" "$cli/config" "$cli/cache" "$cli/data" "$cli/tools"
export LATCHKEY_HOME="$cli/home" XDG_CONFIG_HOME="$cli/config" XDG_CACHE_HOME="$cli/cache" XDG_DATA_HOME="$cli/data"
export LATCHKEY_KEYRING_SERVICE="latchkey-leak-scan-$$"
export LATCHKEY_BROWSER="$PWD/tests/e2e/fake-browser.mjs"
LATCHKEY_SANDBOX_RECORD="$dir/issued-cli.txt" "$bin/latchkey-sandbox" --port 0 --seed \
  >"$cli/tools/sandbox.out" 2>"$cli/tools/sandbox.err" &
sandbox_pid=$!
trap 'kill "$sandbox_pid" 2>/dev/null || true' EXIT
for _ in $(seq 100); do grep -q serving "$cli/tools/sandbox.err" 2>/dev/null && break; sleep 0.1; done
base="$(head -1 "$cli/tools/sandbox.out")"
[ -n "$base" ] || { cat "$cli/tools/sandbox.err" >&2; exit 1; }

logged_in=()
latchkey() {
  # Messages to stderr.log and results to stdout.log, both searched below.
  timeout 60 "$bin/latchkey" "$@" >>"$cli/stdout.log" 2>>"$cli/stderr.log"
}
login() {
  local profile=$1 input=${2:-}; shift 2 || shift 1
  if printf '%s' "$input" | latchkey login "$profile" "$@"; then
    logged_in+=("$profile")
  else
    echo "leak-scan: the CLI could not log $profile in:" >&2
    tail -3 "$cli/stderr.log" >&2
    exit 1
  fi
}
pw_avassa_alice=alice-sandbox-password pw_avassa_bob=bob-sandbox-password pw_quay=alice-quay-password
login sandbox-avassa "$pw_avassa_alice" --password-stdin
login sandbox-avassa-otp "$pw_avassa_bob" --password-stdin --otp "$("$bin/latchkey-sandbox" --otp)"
login sandbox-avassa-k8s
login sandbox-quay "$pw_quay" --password-stdin
login sandbox-quay-session "$pw_quay" --password-stdin
login sandbox-quay-registry
login sandbox-oidc
login sandbox-github-device
# The seeded Kontinuous profile points at github.com; this one at the sandbox's
# GitHub. The Auth0 tenant takes exact redirect URIs only, so the CLI comes in
# by device code there.
latchkey profile add leak-kontinuous --server sandbox-kontinuous --login github-kontinuous \
  --client-id sandbox-github-client --issuer "$base/github"
login leak-kontinuous
latchkey profile add leak-auth0 --server sandbox-auth0 --login auth0 --client-id sandbox-auth0-client \
  --scope openid --scope offline_access --redirect device
login leak-auth0
latchkey sign sandbox-dci --check
for p in "${logged_in[@]}"; do
  # The token on stdout is what `token` is for: kept apart, not searched.
  timeout 60 "$bin/latchkey" token "$p" >>"$cli/tools/tokens.out" 2>>"$cli/stderr.log"
done
latchkey profile list --json
# The set-up a team shares: never a secret either.
latchkey export --file "$cli/home/export.toml"
kill "$sandbox_pid" 2>/dev/null || true
wait "$sandbox_pid" 2>/dev/null || true
echo "leak-scan: the CLI logged in ${#logged_in[@]} profiles of every sandbox kind (${logged_in[*]})"

# The scan looks only for what the sandboxes recorded: every secret the CLI
# put in the keyring must be in that record (scripts/keyring-recorded.py).
scripts/keyring-recorded.py "$dir/issued-cli.txt"

# ---------------------------------------------------------------------------
# What to search for.
shopt -s nullglob
records=("$dir"/issued-*.txt)
patterns="$dir/patterns.txt"
python3 - "$patterns" "${records[@]}" <<'EOF'
import base64, sys
out, records = sys.argv[1], sys.argv[2:]
secrets = set()
for path in records:
    with open(path, encoding="utf-8", errors="surrogateescape") as f:
        secrets.update(line.rstrip("\n") for line in f if len(line.rstrip("\n")) >= 8)
patterns = set()
for s in secrets:
    raw = s.encode("utf-8", "surrogateescape")
    patterns.add(raw)
    for enc in (base64.b64encode(raw), base64.urlsafe_b64encode(raw)):
        patterns.add(enc)
        patterns.add(enc.rstrip(b"="))
with open(out, "wb") as f:
    for p in sorted(patterns):
        if b"\n" not in p:
            f.write(p + b"\n")
print(f"leak-scan: {len(secrets)} secrets the sandboxes issued or know, {len(patterns)} patterns "
      f"(each as is, base64 and base64url)", file=sys.stderr)
EOF

# ---------------------------------------------------------------------------
# Where to search.
places=()   # "kind<TAB>path" of every file searched
add() {
  local kind=$1 path=$2
  [ -e "$path" ] || return 0
  while IFS= read -r -d '' f; do places+=("$kind"$'\t'"$f"); done < <(find "$path" -type f -print0)
}
for install in "$dir"/e2e-tmp/latchkey-e2e-* "$cli"; do
  add "LATCHKEY_HOME (SQLite, WAL)" "$install/latchkey"
  add "LATCHKEY_HOME (SQLite, WAL)" "$install/home"
  add "config folder" "$install/config"
  for d in "$install"/data/*; do
    case "$d" in
      */dev.latchkey.app) add "WebKit storage (local storage, IndexedDB)" "$d" ;;
      *) add "data folder" "$d" ;;
    esac
  done
  add "cache folder (WebKit cache)" "$install/cache"
done
add "stdout/stderr log" "$dir/e2e.log"
add "stdout/stderr log" "$cli/stdout.log"
add "stdout/stderr log" "$cli/stderr.log"
# The user's own folders, in case a test wrote there by mistake.
for d in "$HOME/.local/share/latchkey" "$HOME/.local/share/dev.latchkey.app" \
         "$HOME/.config/dev.latchkey.app" "$HOME/.cache/dev.latchkey.app"; do
  add "the user's folders" "$d"
done
# Core dumps: none should exist (the app and CLI forbid them), but any there is searched.
cores=0
while IFS= read -r -d '' f; do
  places+=("core dump"$'\t'"$f"); cores=$((cores + 1))
done < <(find "$PWD" "$dir" /var/crash /var/lib/systemd/coredump -maxdepth 3 -type f \
           \( -name 'core' -o -name 'core.[0-9]*' -o -name '*.crash' -o -name 'core.*.zst' \) -print0 2>/dev/null)

# ---------------------------------------------------------------------------
# The search (grep -F: all patterns at once).
found=0
report="$dir/leaks.txt"
: >"$report"
for entry in "${places[@]}"; do
  f=${entry#*$'\t'}
  if grep -qaFf "$patterns" -- "$f"; then
    found=$((found + 1))
    { echo "== ${entry%%$'\t'*}: $f"; grep -aoFf "$patterns" -- "$f" | sort -u | sed 's/^\(.\{12\}\).*/  \1…/'; } >>"$report"
  fi
done

echo "leak-scan: searched ${#places[@]} places:"
printf '%s\n' "${places[@]}" | cut -f1 | sort | uniq -c | sed 's/^/  /'
echo "leak-scan: core dumps found: $cores"
if [ "$found" -gt 0 ]; then
  echo "leak-scan: secrets found in $found places (first 12 characters shown):" >&2
  cat "$report" >&2
  exit 1
fi
echo "leak-scan: 0 secrets found"
