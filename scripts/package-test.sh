#!/usr/bin/env bash
# Installs the .deb that `make deb` built with dpkg on this machine and checks
# it as a user meets it: both commands on the PATH, the latchkey:// handler
# registered, and a deep link opened with xdg-open that cold-starts the app
# (tests/package/deb.test.mjs). Prints the package's sizes. Runs inside
# scripts/session.sh --x (Xvfb, D-Bus, a keyring); `make package-test`.
set -euo pipefail
cd "$(dirname "$0")/.."

deb=$(ls -t target/release/bundle/deb/*.deb | head -1)
sudo=""
[ "$(id -u)" = 0 ] || sudo="sudo"
# dpkg -i leaves missing dependencies unconfigured; apt-get -f brings them.
$sudo dpkg -i "$deb" >/dev/null || $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -f -y -qq >/dev/null

fail() { echo "package-test: $*" >&2; exit 1; }
[ "$(command -v latchkey)" = /usr/bin/latchkey ] || fail "latchkey is not /usr/bin/latchkey"
[ "$(command -v docker-credential-latchkey)" = /usr/bin/docker-credential-latchkey ] ||
  fail "docker-credential-latchkey is not on the PATH"
version=$(dpkg-deb -f "$deb" Version)
latchkey --version | grep -qx "latchkey $version" || fail "latchkey --version: $(latchkey --version)"
docker-credential-latchkey version | grep -q "$version" || fail "docker-credential-latchkey version"
handler=$(xdg-mime query default x-scheme-handler/latchkey)
[ "$handler" = Latchkey.desktop ] || fail "xdg-mime says the latchkey:// handler is '$handler'"
grep -qx 'Exec=latchkey-app %u' /usr/share/applications/Latchkey.desktop ||
  fail "the desktop entry does not pass the link to the app"

LATCHKEY_E2E_APP=/usr/bin/latchkey-app LATCHKEY_E2E_CLI=/usr/bin/latchkey \
  node --test --test-concurrency=1 tests/package/

size=$(stat -c %s "$deb")
installed_kib=$(dpkg-deb -f "$deb" Installed-Size)
awk -v deb="$(basename "$deb")" -v size="$size" -v inst="$installed_kib" 'BEGIN {
  printf "package-test: %s passed; .deb %.1f MiB, installed %.1f MiB\n", deb, size / 1048576, inst / 1024 }'
