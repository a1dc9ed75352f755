# make run   — install what is missing, build the UI, launch the app
# make test  — the same set-up, then every check and test (what CI runs)
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
CARGO ?= cargo

.PHONY: run test deps test-deps ui lint rust-test ui-test e2e leak-scan fuzz-smoke fuzz crash-smoke crash-test core-has-no-tauri bindings sandbox bench clean-e2e clean-test-builds deb package-test

# With the offline sandbox built in, for the first-run screen (src-tauri/sandbox.rs).
run: deps ui
	$(CARGO) run -p latchkey-app --features sandbox

deps:
	scripts/install-deps.sh

test-deps:
	scripts/install-deps.sh --test

ui:
	cd ui && npm run build

test: test-deps ui lint core-has-no-tauri ui-test rust-test e2e leak-scan fuzz-smoke crash-smoke
	@echo "make test: all checks passed"

lint:
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets --all-features --locked -- -D warnings
	cd ui && npm run lint && npm run check

# The core must build and test without a window (STYLE.md point 1).
core-has-no-tauri:
	@if $(CARGO) tree -p latchkey-core -e normal --prefix none | grep -qE '^tauri( |-)'; then \
	  echo "latchkey-core depends on tauri" >&2; exit 1; fi
	@echo "latchkey-core has no tauri dependency"

ui-test:
	cd ui && npm test

# Unit and integration tests, including the real keyring and the bindings check.
rust-test:
	scripts/session.sh $(CARGO) test --workspace --all-features --locked

# The real window under Xvfb, driven through tauri-driver and WebKitWebDriver.
# Its installations (TMPDIR), output and what its sandboxes issued are kept in
# target/leak-scan for the leak scan.
LEAK_SCAN := $(CURDIR)/target/leak-scan
e2e:
	$(CARGO) build --locked -p latchkey-app -p latchkey-cli -p latchkey-sandbox --features latchkey-app/sandbox
	$(CARGO) build --locked -p latchkey-core --example seed_profiles
	rm -rf $(LEAK_SCAN) && mkdir -p $(LEAK_SCAN)/e2e-tmp
	TMPDIR=$(LEAK_SCAN)/e2e-tmp LATCHKEY_SANDBOX_RECORD=$(LEAK_SCAN)/issued-e2e.txt \
	  scripts/session.sh --x sh -c 'node --test --test-concurrency=1 tests/e2e/ && \
	    scripts/keyring-recorded.py $(LEAK_SCAN)/issued-e2e.txt' 2>&1 | tee $(LEAK_SCAN)/e2e.log

# After the e2e: the CLI logs in to every sandbox kind, then every file
# Latchkey wrote is searched for every secret the sandboxes issued.
leak-scan:
	$(CARGO) build --locked -p latchkey-app -p latchkey-cli -p latchkey-sandbox --features latchkey-app/sandbox
	scripts/session.sh scripts/leak-scan.sh $(LEAK_SCAN)

# Every fuzz target for 20,000 executions (they keep building, and nothing
# obvious crashes); `make fuzz` for the long run (FUZZ_RUNS, default 10 M).
fuzz-smoke:
	scripts/fuzz.sh 20000

FUZZ_RUNS ?= 10000000
fuzz:
	scripts/fuzz.sh $(FUZZ_RUNS)

# kill -9 of `latchkey token` and of the app at random points of renewals with
# rotating refresh tokens; broken must be 0 (scripts/crash-test.sh). make test
# runs 20 kills (~1 min); crash-test runs 200 (~13 min).
crash-smoke:
	$(CARGO) build --locked -p latchkey-app -p latchkey-cli -p latchkey-sandbox --features latchkey-app/sandbox
	scripts/crash-test.sh 20

crash-test:
	$(CARGO) build --locked -p latchkey-app -p latchkey-cli -p latchkey-sandbox --features latchkey-app/sandbox
	scripts/crash-test.sh 200

# The .deb, through the Tauri bundler from npm (packaging/package.json): the
# app, and the `latchkey` and `docker-credential-latchkey` binaries it installs
# on the PATH (tauri.conf.json, bundle > linux > deb > files).
deb: deps ui
	cd packaging && { [ -d node_modules ] && [ node_modules/.package-lock.json -nt package-lock.json ] || npm ci --no-audit --no-fund --loglevel=error; }
	$(CARGO) build --release --locked -p latchkey-cli
	packaging/node_modules/.bin/tauri build --bundles deb -- --locked
	@ls -l target/release/bundle/deb/*.deb

# Builds the .deb, installs it with dpkg on this machine, and checks it as a
# user would meet it: the commands on the PATH, the latchkey:// handler, and a
# deep link that cold-starts the app (scripts/package-test.sh).
package-test: test-deps deb
	scripts/session.sh --x scripts/package-test.sh

# Frees the disk the test builds take (debug and fuzzer builds; the next
# `make test` rebuilds them). .ci/run calls it before the release build.
clean-test-builds:
	rm -rf target/debug fuzz/target

# Regenerates ui/src/ipc/bindings.ts from the Rust command signatures.
bindings:
	LATCHKEY_WRITE_BINDINGS=1 $(CARGO) test -p latchkey-app --lib committed_bindings_match_the_rust_signatures

sandbox:
	$(CARGO) run -p latchkey-sandbox -- --seed

# Figures, not tests: Latchkey against a bare Tauri window, gh, oidc-agent and
# curl, each printing its ratio last (README, "Performance").
bench:
	scripts/install-deps.sh --bench
	scripts/bench.sh all
