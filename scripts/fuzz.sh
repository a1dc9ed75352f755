#!/usr/bin/env bash
# Fuzzes every parser of untrusted input (fuzz/fuzz_targets/*.rs) with
# libFuzzer through cargo-fuzz, N executions per target (default 20000),
# starting from the committed seed corpora (fuzz/corpus/TARGET), and prints
# executions, crashes, hangs, stalls and time per target. Exit 1 on any crash
# or any input that takes more than a second (-timeout=1) again when replayed.
#
#   scripts/fuzz.sh                 # the smoke run of `make test`
#   scripts/fuzz.sh 10000000        # the long run
#   scripts/fuzz.sh 100000 jwt_lenient redirect_router
#
# cargo-fuzz asks rustc for unstable flags, and these machines have only the
# stable toolchain: RUSTC_BOOTSTRAP=1 lets that same compiler take them (for
# the fuzz crate only; the workspace build never sees it). No sanitizer by
# default (the code is safe Rust; overflow checks and debug assertions are on),
# FUZZ_SANITIZER=address for AddressSanitizer.
# New inputs the fuzzer finds go to target/fuzz-corpus/TARGET (not committed);
# crashes to fuzz/artifacts/TARGET, with the command to replay them.
set -euo pipefail
cd "$(dirname "$0")/.."

runs="${1:-20000}"
shift || true
export RUSTC_BOOTSTRAP=1
sanitizer="${FUZZ_SANITIZER:-none}"
cargo_fuzz=(cargo fuzz)
command -v cargo-fuzz >/dev/null || cargo_fuzz=("$HOME/.cargo/bin/cargo-fuzz" fuzz)

mapfile -t all < <(cd fuzz/fuzz_targets && ls ./*.rs | sed 's|^\./||; s|\.rs$||')
targets=("${@:-${all[@]}}")

mkdir -p target
build_started=$(date +%s)
"${cargo_fuzz[@]}" build --sanitizer "$sanitizer" --debug-assertions >target/fuzz-build.log 2>&1 || {
  tail -40 target/fuzz-build.log >&2
  echo "fuzz.sh: building the targets failed (log: target/fuzz-build.log)" >&2
  exit 1
}
build_seconds=$(( $(date +%s) - build_started ))

# An input over the one-second limit is replayed on its own: on these shared
# 2-core machines a niced fuzzer can be starved for a second by others' builds
# (seen: a 504-byte JWT that runs in under 1 ms). So is an input libFuzzer
# writes as a slow unit (over 10 s, while it goes on: seen when the fuzzer was
# paused with SIGSTOP for 30 s during a benchmark; it replays in 4 ms). Only a
# replay that is slow too counts as a hang; one that is not is a stall, kept
# in target/fuzz-stalls, and the target goes on from its corpus for the
# executions left.
host=$(rustc -vV | sed -n 's/^host: //p')
binary_dir="fuzz/target/$host/release"
failed=0
printf '%-18s %12s %8s %8s %8s %8s\n' target executions crashes hangs stalls seconds
for t in "${targets[@]}"; do
  work="target/fuzz-corpus/$t"
  mkdir -p "$work" "fuzz/artifacts/$t" "fuzz/corpus/$t"
  log="target/fuzz-$t.log"
  : >"$log"
  started=$(date +%s%N)
  execs=0 crashes=0 hangs=0 stalls=0 attempt=0
  while :; do
    attempt=$((attempt + 1))
    before=$(find "fuzz/artifacts/$t" -type f | sort)
    status=0
    "${cargo_fuzz[@]}" run --sanitizer "$sanitizer" --debug-assertions "$t" "$work" "fuzz/corpus/$t" -- \
      -runs=$((runs - execs)) -timeout=1 -rss_limit_mb=2048 -max_len=65536 \
      -dict=fuzz/latchkey.dict -print_final_stats=1 >"$log.run" 2>&1 || status=$?
    cat "$log.run" >>"$log"
    got=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log.run" | tail -1)
    execs=$((execs + ${got:-0}))
    only_stalls=1
    explained=0
    while IFS= read -r f; do
      [ -n "$f" ] || continue
      explained=1
      case "$(basename "$f")" in
        timeout-* | slow-unit-*)
          if "$binary_dir/$t" -timeout=1 -runs=3 "$f" >>"$log" 2>&1; then
            stalls=$((stalls + 1))
            mkdir -p "target/fuzz-stalls/$t" && mv "$f" "target/fuzz-stalls/$t/"
          else
            hangs=$((hangs + 1)) only_stalls=0
          fi ;;
        *) crashes=$((crashes + 1)) only_stalls=0 ;;
      esac
    done < <(comm -13 <(printf '%s\n' "$before") <(find "fuzz/artifacts/$t" -type f | sort))
    if [ "$status" != 0 ] && [ "$explained" = 0 ]; then crashes=$((crashes + 1)) only_stalls=0; fi
    if [ "$status" = 0 ] || [ "$only_stalls" = 0 ] || [ "$execs" -ge "$runs" ] || [ "$attempt" -ge 10 ]; then
      break
    fi
  done
  rm -f "$log.run"
  millis=$(( ($(date +%s%N) - started) / 1000000 ))
  printf '%-18s %12s %8s %8s %8s %5d.%d\n' "$t" "$execs" "$crashes" "$hangs" "$stalls" $((millis / 1000)) $((millis % 1000 / 100))
  if [ "$crashes" != 0 ] || [ "$hangs" != 0 ]; then
    failed=1
    grep -E 'panicked at|ERROR: libFuzzer|Test unit written to|SUMMARY' "$log" | head -8 | sed 's/^/    /'
  fi
done
echo "built in ${build_seconds} s; logs in target/fuzz-*.log"
if [ "$failed" != 0 ]; then
  echo "fuzz.sh: a target crashed or hung: replay with cargo fuzz run TARGET fuzz/artifacts/TARGET/FILE" >&2
  exit 1
fi
