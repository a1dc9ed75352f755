#!/usr/bin/env bash
# Installs what building, running and testing Latchkey needs on Debian/Ubuntu,
# skipping what is already there: system packages (apt, with sudo when not root),
# the UI's npm packages, and, with --test, tauri-driver for the end-to-end tests
# and cargo-fuzz for the fuzz targets.
# With --bench: what `make bench` needs (the display and keyring tools of the
# tests, and the programs Latchkey is compared with), none of it for `make test`.
set -euo pipefail
cd "$(dirname "$0")/.."

want_test=0 want_bench=0
for arg in "$@"; do
  case "$arg" in
    --test) want_test=1 ;;
    --bench) want_bench=1 ;;
    *) echo "usage: $0 [--test] [--bench]" >&2; exit 2 ;;
  esac
done

packages=(
  libwebkit2gtk-4.1-dev libgtk-3-dev libayatana-appindicator3-dev librsvg2-dev
  libssl-dev libsoup-3.0-dev libjavascriptcoregtk-4.1-dev libxdo-dev libdbus-1-dev
  build-essential pkg-config file curl xdg-utils
  dbus dbus-x11 gnome-keyring libsecret-tools libglib2.0-bin
)
test_packages=(xvfb xauth webkit2gtk-driver xclip xdotool trayer imagemagick keyutils procps python3 python3-venv dunst git)
# The clients the credential helpers are tested with: Debian's docker.io
# (only its client is used, no daemon is started) and kubernetes-client,
# unless a docker and a kubectl are already on PATH.
command -v docker >/dev/null || test_packages+=(docker.io)
command -v kubectl >/dev/null || test_packages+=(kubernetes-client)
# gh and oidc-agent are what `latchkey token` is compared with; GNU time
# reads a process's peak memory.
# docker-credential-secretservice is what docker-credential-latchkey is
# compared with.
bench_packages=(gh oidc-agent-cli time golang-docker-credential-helpers)
if [ "$want_test" = 1 ] || [ "$want_bench" = 1 ]; then packages+=("${test_packages[@]}"); fi
if [ "$want_bench" = 1 ]; then packages+=("${bench_packages[@]}"); fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  echo "installing system packages: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

command -v node >/dev/null || { echo "Node.js 20+ with npm is needed for the UI: install it (e.g. apt-get install nodejs npm)" >&2; exit 1; }
if [ ! -d ui/node_modules ] || [ ui/package-lock.json -nt ui/node_modules/.package-lock.json ]; then
  (cd ui && npm ci --no-audit --no-fund --loglevel=error)
fi

if [ "$want_test" = 1 ] && ! command -v tauri-driver >/dev/null && [ ! -x "$HOME/.cargo/bin/tauri-driver" ]; then
  cargo install tauri-driver --locked --version 2.1.0
fi

# cargo-fuzz runs the fuzz targets (scripts/fuzz.sh), on the stable toolchain
# with RUSTC_BOOTSTRAP=1; about a minute of compiling, once.
if [ "$want_test" = 1 ] && ! command -v cargo-fuzz >/dev/null && [ ! -x "$HOME/.cargo/bin/cargo-fuzz" ]; then
  cargo install cargo-fuzz --locked --version 0.13.2
fi

# The certified OpenID provider the OIDC integration test starts on loopback.
oidc_dir=tests/oidc-provider
if [ "$want_test" = 1 ] && { [ ! -d "$oidc_dir/node_modules" ] || [ "$oidc_dir/package-lock.json" -nt "$oidc_dir/node_modules/.package-lock.json" ]; }; then
  (cd "$oidc_dir" && npm ci --no-audit --no-fund --loglevel=error)
fi

# dciauth from PyPI, which checks Latchkey's DCI signatures the way the DCI
# server does (crates/core/tests/dci.rs runs crates/core/tests/dci/validate.py
# with this Python). Recreated when missing or at another version.
dciauth_version=4.0.1.post202603121510
pyenv=target/pyenv
if [ "$want_test" = 1 ] && ! "$pyenv/bin/python" -c \
    "import importlib.metadata as m, sys; sys.exit(m.version('dciauth') != '$dciauth_version')" 2>/dev/null; then
  rm -rf "$pyenv"
  python3 -m venv "$pyenv"
  "$pyenv/bin/pip" install --quiet --disable-pip-version-check "dciauth==$dciauth_version"
fi
