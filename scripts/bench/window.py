#!/usr/bin/env python3
"""Launch to first paint and idle memory of Latchkey's window against a bare
Tauri 2 window, for scripts/bench.sh window (inside scripts/session.sh --x).

    window.py --bare BIN --app BIN [--store LABEL=DIR ...] [-n RUNS] [--idle SECONDS]

Each round launches the bare window, then Latchkey once per store (an empty
data folder, and each seeded one, copied afresh so that no run sees another's
writes), one after the other. Every launch gets fresh XDG folders, so
WebKit's caches start cold for both alike.

Launch to first paint: from just before the process is started to the moment
its stderr says "first paint" (both pages send that from their first
animation frame once their content is in the DOM). Idle PSS: after --idle
seconds, the sum of Pss in /proc/PID/smaps_rollup over the process and all
its descendants (WebKitWebProcess, WebKitNetworkProcess): shared pages are
split between the processes that map them, so the sum is what the app costs.

Prints medians and min-max per variant, then, last, the ratios Latchkey /
bare (median of the round-by-round ratios).
"""

import argparse
import os
import select
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time


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


def launch(binary, data_dir, idle, timeout):
    """(first paint seconds or None, PSS KiB, RSS KiB, process names)."""
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
        if data_dir:
            shutil.copytree(data_dir, env["LATCHKEY_HOME"])
        start = time.perf_counter()
        proc = subprocess.Popen(
            [binary], env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        painted = None
        buffered = b""
        deadline = start + timeout
        try:
            while painted is None and time.perf_counter() < deadline:
                ready, _, _ = select.select([proc.stderr], [], [], 0.5)
                if not ready:
                    if proc.poll() is not None:
                        break
                    continue
                chunk = os.read(proc.stderr.fileno(), 65536)
                if not chunk:
                    break
                buffered += chunk
                if b"first paint" in buffered:
                    painted = time.perf_counter() - start
            if painted is None:
                sys.stderr.write(buffered.decode(errors="replace")[-2000:])
                return None, 0, 0, []
            time.sleep(idle)
            tree = descendants(proc.pid)
            pss = sum(smaps_kib(p, "Pss") for p in tree)
            rss = sum(smaps_kib(p, "Rss") for p in tree)
            names = sorted(comm(p) for p in tree)
            return painted, pss, rss, names
        finally:
            stop(proc)


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


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bare", required=True)
    parser.add_argument("--app", required=True)
    parser.add_argument("--store", action="append", default=[], metavar="LABEL=DIR")
    parser.add_argument("-n", "--runs", type=int, default=10)
    parser.add_argument("--idle", type=float, default=3.0)
    parser.add_argument("--timeout", type=float, default=60.0)
    args = parser.parse_args()

    variants = [("bare window", args.bare, None), ("Latchkey, empty store", args.app, None)]
    for spec in args.store:
        label, _, directory = spec.partition("=")
        variants.append((f"Latchkey, {label}", args.app, directory))
    paint = {v[0]: [] for v in variants}
    pss = {v[0]: [] for v in variants}
    rss = {v[0]: [] for v in variants}
    rounds = []
    seen_tree = {}
    # One warm-up round, not counted: the first launch after a build pays
    # for reading the binaries and libraries from disk.
    for r in range(args.runs + 1):
        this_round = {}
        for label, binary, data_dir in variants:
            painted, kib, rss_kib, names = launch(binary, data_dir, args.idle, args.timeout)
            if painted is None:
                sys.exit(f"window.py: {label} did not report its first paint")
            seen_tree[label] = names
            if r == 0:
                continue
            paint[label].append(painted)
            pss[label].append(kib)
            rss[label].append(rss_kib)
            this_round[label] = (painted, kib)
            print(
                f"run {r} {label}: first paint {painted * 1000:.0f} ms, "
                f"idle PSS {kib / 1024:.0f} MiB (RSS {rss_kib / 1024:.0f} MiB)",
                flush=True,
            )
        if r > 0:
            rounds.append(this_round)

    print()
    for label, names in seen_tree.items():
        print(f"{label}: processes measured: {', '.join(names)}")
    width = max(len(v[0]) for v in variants)
    print(f"\n{args.runs} rounds, {args.idle:g} s idle before memory is read")
    print(f"{'':{width}}  first paint median (min-max)   idle PSS median (min-max)")
    for label, _, _ in variants:
        p, m = paint[label], pss[label]
        print(
            f"{label:{width}}  {statistics.median(p) * 1000:6.0f} ms "
            f"({min(p) * 1000:.0f}-{max(p) * 1000:.0f})      "
            f"{statistics.median(m) / 1024:6.0f} MiB ({min(m) / 1024:.0f}-{max(m) / 1024:.0f})"
        )
    ratios = []
    for label, _, _ in variants[1:]:
        start = statistics.median(r[label][0] / r["bare window"][0] for r in rounds)
        memory = statistics.median(r[label][1] / r["bare window"][1] for r in rounds)
        ratios.append(f"{label}: start {start:.2f}x, PSS {memory:.2f}x")
    print("ratio to the bare window (median of round-by-round ratios): " + "; ".join(ratios))


if __name__ == "__main__":
    main()
