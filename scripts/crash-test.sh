#!/usr/bin/env bash
# Kills `latchkey token` and the app with SIGKILL at random points of renewals
# whose refresh tokens rotate, KILLS times in all (half each), and reports what
# every kill left: survived, needs-login or broken (which must be 0). See
# scripts/crash-test.mjs for how kills are placed and judged.
#
#   scripts/crash-test.sh [KILLS]     (default 200; `make test` runs 20)
#
# Needs the debug builds of the app, the CLI and the sandbox (make crash-test
# builds them); runs in a private session (D-Bus, keyring, Xvfb for the app).
set -euo pipefail
cd "$(dirname "$0")/.."
kills=${1:-200}
exec scripts/session.sh --x node scripts/crash-test.mjs "$kills"
