#!/usr/bin/env python3
"""Launch to first paint and idle memory of Latchkey's window against a bare
Tauri 2 window, for scripts/bench.sh window (inside scripts/session.sh --x).

    window.py --bare BIN --app BIN [--store LABEL=DIR ...] [--also LABEL=BIN ...]
              [-n RUNS] [--idle SECONDS]

(--also: another build of the app, measured on the same stores in the same
rounds, for an A/B of a change: e.g. --also before=/tmp/old/latchkey-app.)

Each round launches the bare window twice, once with WebKit's default
renderer and once with the CPU renderer Latchkey picks for itself
(WEBKIT_SKIA_ENABLE_CPU_RENDERING=1, src-tauri/main.rs), then Latchkey once
per store (an empty data folder, and each seeded one, copied afresh so that
no run sees another's writes), one after the other. Every launch gets fresh
XDG folders, so WebKit's caches start cold for all alike.

Launch to first paint, two signals, both from just before the process starts:
- pixels (the figure to quote): when the window, seen from outside through
  the X server's DAMAGE reports and read back at each (xpaint.py), first
  looks like it does after --idle seconds (97 % of its 32x32 tiles the same):
  the first frame that shows the finished first screen, for any program alike.
- rAF (the old signal): when stderr says "first paint", which both pages send
  from an animation frame once their content is in the DOM. Under Xvfb WebKit
  runs animation frames late and rarely (about once a second), and the frame
  reaches the window later still, so this signal comes before the pixels do,
  by a different amount in each window.

Idle PSS: after --idle seconds past the rAF signal, the sum of Pss in
/proc/PID/smaps_rollup over the process and all its descendants
(WebKitWebProcess, WebKitNetworkProcess): shared pages are split between the
processes that map them, so the sum is what the app costs. Other programs
mapping the same libraries (another WebKit app, another engineer's tests)
take their share of those pages too, so PSS falls as the machine gets busier:
RSS (shared pages counted in full) and private memory (Private_Clean +
Private_Dirty: what only this tree holds) are printed beside it, as they do
not depend on what else runs.

Prints medians and min-max per variant, then, last, the ratios Latchkey /
bare window (the median of the round-by-round ratios), against each bare
window.
"""

import argparse
import os
import re
import select
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

import xpaint


def descendants(pid):
    """pid and every process below it."""
    children = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        found.append(p)
        todo.extend(children.get(p, []))
    return found


def smaps_kib(pid, field):
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def comm(pid):
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip()
    except OSError:
        return "?"


class Launch:
    """What one launch measured; a signal is None if it never came."""

    def __init__(self):
        self.pixels = None
        self.raf = None
        self.pss = 0
        self.rss = 0
        self.private = 0
        self.names = []
        self.frames = 0
        # The app's start-up stages (LATCHKEY_TRACE_STARTUP), first
        # occurrence of each: stage -> seconds after launch by its own clock.
        self.stages = {}
        # Per process name (the app, WebKitWebProcess, WebKitNetworkProcess):
        # (PSS, private) in KiB.
        self.per_process = {}


def launch(binary, data_dir, extra_env, idle, timeout):
    with tempfile.TemporaryDirectory(prefix="latchkey-window-bench-") as tmp:
        env = dict(os.environ)
        env.update(
            XDG_DATA_HOME=f"{tmp}/data",
            XDG_CONFIG_HOME=f"{tmp}/config",
            XDG_CACHE_HOME=f"{tmp}/cache",
            LATCHKEY_HOME=f"{tmp}/latchkey",
            LATCHKEY_KEYRING_SERVICE=f"latchkey-window-bench-{os.getpid()}",
            LATCHKEY_TRACE_STARTUP="1",
        )
        env.update(extra_env)
        if data_dir:
            shutil.copytree(data_dir, env["LATCHKEY_HOME"])
        result = Launch()
        stderr_tail = []
        start = time.perf_counter()
        proc = subprocess.Popen(
            [binary], env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )

        def read_stderr():
            for line in proc.stderr:
                if result.raf is None and b"first paint" in line:
                    result.raf = time.perf_counter() - start
                stage = STAGE.match(line.decode(errors="replace"))
                if stage:
                    result.stages.setdefault(stage[1], int(stage[2]) / 1000)
                stderr_tail.append(line)
                del stderr_tail[:-40]

        reader = threading.Thread(target=read_stderr, daemon=True)
        reader.start()
        watch = xpaint.PaintWatch(proc.pid, start)
        try:
            # Frames until the page has said it painted and then stayed idle;
            # the last frame read is the settled window the others are
            # compared with.
            watch.watch(
                start + timeout,
                stop=lambda: proc.poll() is not None
                or (result.raf is not None and time.perf_counter() - start > result.raf + idle),
            )
            settled = watch.grab() if watch.window else None
            if result.raf is None or settled is None:
                sys.stderr.write(b"".join(stderr_tail).decode(errors="replace")[-2000:])
                return None
            result.pixels = watch.first_settled(settled)
            result.frames = len(watch.frames)
            tree = descendants(proc.pid)
            result.pss = sum(smaps_kib(p, "Pss") for p in tree)
            result.rss = sum(smaps_kib(p, "Rss") for p in tree)
            result.private = sum(
                smaps_kib(p, "Private_Clean") + smaps_kib(p, "Private_Dirty") for p in tree
            )
            result.names = sorted(comm(p) for p in tree)
            for p in tree:
                pss, private = result.per_process.get(comm(p), (0, 0))
                result.per_process[comm(p)] = (
                    pss + smaps_kib(p, "Pss"),
                    private + smaps_kib(p, "Private_Clean") + smaps_kib(p, "Private_Dirty"),
                )
            return result
        finally:
            watch.close()
            stop(proc)
            reader.join(timeout=5)


def stop(proc):
    tree = descendants(proc.pid)
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    # WebKit's helpers leave with their parent; make sure before the next run.
    for pid in tree[1:]:
        for _ in range(50):
            if not os.path.exists(f"/proc/{pid}"):
                break
            time.sleep(0.1)
        else:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


# "latchkey: STAGE N ms after launch", from src-tauri/startup.rs.
STAGE = re.compile(r"latchkey: (.+) (\d+) ms after launch")

BARE = "bare window"
BARE_CPU = "bare window, CPU renderer"
CPU_RENDERER = {"WEBKIT_SKIA_ENABLE_CPU_RENDERING": "1"}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bare", required=True)
    parser.add_argument("--app", required=True)
    parser.add_argument("--store", action="append", default=[], metavar="LABEL=DIR")
    parser.add_argument("--also", action="append", default=[], metavar="LABEL=BIN")
    parser.add_argument("-n", "--runs", type=int, default=10)
    parser.add_argument("--idle", type=float, default=3.0)
    parser.add_argument("--timeout", type=float, default=60.0)
    parser.add_argument(
        "--phases", action="store_true",
        help="also print, per variant, the median time of each start-up stage the app "
        "traces and the idle memory of each process",
    )
    args = parser.parse_args()

    variants = [
        (BARE, args.bare, None, {}),
        (BARE_CPU, args.bare, None, CPU_RENDERER),
    ]
    builds = [("Latchkey", args.app)]
    for spec in args.also:
        name, _, binary = spec.partition("=")
        builds.append((f"Latchkey {name}", binary))
    for name, binary in builds:
        variants.append((f"{name}, empty store", binary, None, {}))
        for spec in args.store:
            label, _, directory = spec.partition("=")
            variants.append((f"{name}, {label}", binary, directory, {}))
    results = {v[0]: [] for v in variants}
    rounds = []
    seen_tree = {}
    # One warm-up round, not counted: the first launch after a build pays
    # for reading the binaries and libraries from disk.
    for r in range(args.runs + 1):
        this_round = {}
        for label, binary, data_dir, extra_env in variants:
            got = launch(binary, data_dir, extra_env, args.idle, args.timeout)
            if got is None:
                sys.exit(f"window.py: {label} did not report its first paint")
            if got.pixels is None:
                sys.exit(f"window.py: {label}: no frame read back looked like the settled window")
            seen_tree[label] = got.names
            if r == 0:
                continue
            results[label].append(got)
            this_round[label] = got
            print(
                f"run {r} {label}: first paint {got.pixels * 1000:.0f} ms by its pixels "
                f"({got.frames} frames read), {got.raf * 1000:.0f} ms by rAF; "
                f"idle PSS {got.pss / 1024:.0f} MiB (RSS {got.rss / 1024:.0f} MiB, "
                f"private {got.private / 1024:.0f} MiB)",
                flush=True,
            )
        if r > 0:
            rounds.append(this_round)

    print()
    for label, names in seen_tree.items():
        print(f"{label}: processes measured: {', '.join(names)}")
    width = max(len(v[0]) for v in variants)

    def spread(values, scale, unit):
        return (
            f"{statistics.median(values) * scale:6.0f} {unit} "
            f"({min(values) * scale:.0f}-{max(values) * scale:.0f})"
        )

    print(f"\n{args.runs} rounds, {args.idle:g} s idle before memory is read; medians (min-max)")
    print(
        f"{'':{width}}  first paint, pixels     first paint, rAF        idle PSS"
        "                idle private"
    )
    for label, *_ in variants:
        got = results[label]
        print(
            f"{label:{width}}  {spread([g.pixels for g in got], 1000, 'ms'):22}  "
            f"{spread([g.raf for g in got], 1000, 'ms'):22}  "
            f"{spread([g.pss for g in got], 1 / 1024, 'MiB'):22}  "
            f"{spread([g.private for g in got], 1 / 1024, 'MiB')}"
        )

    if args.phases:
        print_phases(variants, results)

    def ratio(label, base, field):
        return statistics.median(getattr(r[label], field) / getattr(r[base], field) for r in rounds)

    print("\nratio to the bare window (median of round-by-round ratios); start by pixels [by rAF]:")
    for base in (BARE, BARE_CPU):
        print(f"  against the {base}:")
        for label, *_ in variants[2:]:
            print(
                f"    {label}: start {ratio(label, base, 'pixels'):.2f}x "
                f"[{ratio(label, base, 'raf'):.2f}x], PSS {ratio(label, base, 'pss'):.2f}x "
                f"(RSS {ratio(label, base, 'rss'):.2f}x, private {ratio(label, base, 'private'):.2f}x)"
            )


def print_phases(variants, results):
    """Where the time and memory go: each traced stage's median (ms after
    launch, the app's own clock; the page's marks by the wall clock), and
    each process's idle PSS and private memory (medians, MiB)."""
    for label, *_ in variants:
        got = results[label]
        print(f"\n{label}:")
        stages = {}
        for g in got:
            for stage, at in g.stages.items():
                stages.setdefault(stage, []).append(at)
        for stage, times in sorted(stages.items(), key=lambda kv: statistics.median(kv[1])):
            print(f"  {statistics.median(times) * 1000:6.0f} ms  {stage}")
        for name in sorted({n for g in got for n in g.per_process}):
            pss = [g.per_process.get(name, (0, 0))[0] / 1024 for g in got]
            private = [g.per_process.get(name, (0, 0))[1] / 1024 for g in got]
            print(
                f"  {name}: PSS {statistics.median(pss):.0f} MiB, "
                f"private {statistics.median(private):.0f} MiB"
            )


if __name__ == "__main__":
    main()
