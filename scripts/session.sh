#!/usr/bin/env bash
# Runs a command in a private desktop session: its own D-Bus session bus and an
# unlocked gnome-keyring whose files live in a temporary folder, so tests never
# see the user's real keyring. With --x, also a virtual X display (Xvfb) and a
# small tray panel (trayer), for the real window.
#
#   scripts/session.sh cargo test --workspace
#   scripts/session.sh --x node --test tests/e2e/
set -euo pipefail

with_x=0
if [ "${1:-}" = "--x" ]; then with_x=1; shift; fi
[ $# -gt 0 ] || { echo "usage: $0 [--x] COMMAND..." >&2; exit 2; }

if [ -z "${LATCHKEY_SESSION_INNER:-}" ]; then
  tmp=$(mktemp -d "${TMPDIR:-/tmp}/latchkey-session.XXXXXX")
  trap 'rm -rf "$tmp"' EXIT
  export LATCHKEY_SESSION_INNER=1 LATCHKEY_SESSION_TMP="$tmp" LATCHKEY_SESSION_X="$with_x"
  if [ "$with_x" = 1 ]; then
    xvfb-run -a -s '-screen 0 1280x800x24' dbus-run-session -- "$0" "$@"
  else
    dbus-run-session -- "$0" "$@"
  fi
  exit $?
fi

# Inside the session bus. gnome-keyring keeps its keyrings under
# $XDG_DATA_HOME/keyrings: point it at the temporary folder.
tmp="$LATCHKEY_SESSION_TMP"
mkdir -p "$tmp/keyring-data" "$tmp/run"
chmod 700 "$tmp/run"
export XDG_RUNTIME_DIR="$tmp/run"
eval "$(printf 'test' | XDG_DATA_HOME="$tmp/keyring-data" gnome-keyring-daemon --unlock --components=secrets)" >/dev/null
export GNOME_KEYRING_CONTROL SSH_AUTH_SOCK 2>/dev/null || true

# The daemon claims its bus name and creates the unlocked default collection a
# moment after it returns. A call before that would make D-Bus activate a
# second, locked daemon ("no result found"): wait until ours answers, asking
# the bus (which activates nothing) before asking the keyring.
bus() { gdbus call --session "$@" 2>/dev/null || true; }
ready=0
for _ in $(seq 100); do
  if bus --dest org.freedesktop.DBus --object-path /org/freedesktop/DBus \
       --method org.freedesktop.DBus.NameHasOwner org.freedesktop.secrets | grep -q true &&
     bus --dest org.freedesktop.secrets --object-path /org/freedesktop/secrets \
       --method org.freedesktop.Secret.Service.ReadAlias default | grep -q /collection/; then
    ready=1
    break
  fi
  sleep 0.1
done
[ "$ready" = 1 ] || { echo "session.sh: gnome-keyring did not come up with an unlocked default collection" >&2; exit 1; }

tray_pid=""
if [ "$LATCHKEY_SESSION_X" = 1 ] && command -v trayer >/dev/null; then
  trayer --edge top --align right --widthtype pixel --width 200 --height 32 >/dev/null 2>&1 &
  tray_pid=$!
fi

status=0
"$@" || status=$?
[ -n "$tray_pid" ] && kill "$tray_pid" 2>/dev/null || true
# Stop our own keyring daemon only (the one that owns the name on this bus):
# other sessions, such as a CI run next to a developer's, keep theirs.
keyring_pid=$(bus --dest org.freedesktop.DBus --object-path /org/freedesktop/DBus \
  --method org.freedesktop.DBus.GetConnectionUnixProcessID org.freedesktop.secrets |
  sed -n 's/^(uint32 \([0-9]*\),)$/\1/p')
[ -n "$keyring_pid" ] && kill "$keyring_pid" 2>/dev/null || true
exit $status
