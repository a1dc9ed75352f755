#!/usr/bin/env python3
"""Wake-ups of Latchkey's idle window against a bare Tauri 2 window, for
scripts/bench.sh idle (inside scripts/session.sh --x).

    idle.py --bare BIN --app BIN [--seconds S] [--settle S]

Each app is launched on an empty data folder (no profile, so no deadline),
left --settle seconds after its first paint, then watched for --seconds:
every thread of the process and of its children (WebKitWebProcess,
WebKitNetworkProcess) is read from /proc/PID/task/TID/status before and
after, and the growth of voluntary_ctxt_switches is its wake-ups (a thread
switches out voluntarily each time it goes back to sleep).

Prints the wake-ups per minute of each thread that woke, per process, then,
last, Latchkey's own (its tokio runtime's threads, where its scheduler and
timers run) and the whole tree's against the bare window's.
"""

import argparse
import collections
import os
import select
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
from window import descendants, comm, stop  # noqa: E402


def switches(pids):
    """{(process name, pid, thread name, tid): voluntary context switches}."""
    counts = {}
    for pid in pids:
        process = comm(pid)
        try:
            tids = os.listdir(f"/proc/{pid}/task")
        except OSError:
            continue
        for tid in tids:
            try:
                with open(f"/proc/{pid}/task/{tid}/status") as f:
                    fields = dict(line.split(":", 1) for line in f if ":" in line)
            except OSError:
                continue
            counts[(process, pid, fields["Name"].strip(), tid)] = int(
                fields["voluntary_ctxt_switches"]
            )
    return counts


def watch(binary, settle, seconds):
    with tempfile.TemporaryDirectory(prefix="latchkey-idle-bench-") as tmp:
        env = dict(os.environ)
        env.update(
            XDG_DATA_HOME=f"{tmp}/data",
            XDG_CONFIG_HOME=f"{tmp}/config",
            XDG_CACHE_HOME=f"{tmp}/cache",
            LATCHKEY_HOME=f"{tmp}/latchkey",
            LATCHKEY_KEYRING_SERVICE=f"latchkey-idle-bench-{os.getpid()}",
            LATCHKEY_TRACE_STARTUP="1",
        )
        proc = subprocess.Popen(
            [binary], env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            seen = b""
            deadline = time.time() + 60
            while b"first paint" not in seen and time.time() < deadline:
                if select.select([proc.stderr], [], [], 0.5)[0]:
                    chunk = os.read(proc.stderr.fileno(), 65536)
                    if not chunk:
                        break
                    seen += chunk
            if b"first paint" not in seen:
                sys.exit(f"idle.py: {binary} did not report its first paint")
            time.sleep(settle)
            pids = descendants(proc.pid)
            before = switches(pids)
            time.sleep(seconds)
            after = switches(pids)
        finally:
            stop(proc)
    per_thread = {k: after[k] - before[k] for k in after if k in before}
    return per_thread


def report(label, per_thread, seconds):
    per_minute = 60.0 / seconds
    by_process = collections.Counter()
    print(f"{label}:")
    for (process, pid, thread, tid), n in sorted(per_thread.items(), key=lambda kv: -kv[1]):
        by_process[f"{process} ({pid})"] += n
        if n:
            print(f"  {process} {pid} / {thread} {tid}: {n * per_minute:.1f} wake-ups/min")
    for process, n in by_process.items():
        print(f"  total {process}: {n * per_minute:.1f} wake-ups/min")
    return sum(by_process.values()) * per_minute


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bare", required=True)
    parser.add_argument("--app", required=True)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--settle", type=float, default=5)
    args = parser.parse_args()

    bare = watch(args.bare, args.settle, args.seconds)
    app = watch(args.app, args.settle, args.seconds)
    bare_total = report("bare window", bare, args.seconds)
    app_total = report("Latchkey", app, args.seconds)
    own = sum(n for (process, _, thread, _), n in app.items()
              if thread.startswith("tokio-runtime"))
    own_per_minute = own * 60.0 / args.seconds
    print(
        f"Latchkey's own runtime threads: {own_per_minute:.1f} wake-ups/min; "
        f"whole tree: Latchkey {app_total:.1f} against the bare window's {bare_total:.1f} "
        f"wake-ups/min (difference {app_total - bare_total:+.1f})"
    )


if __name__ == "__main__":
    main()
