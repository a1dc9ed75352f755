#!/usr/bin/env python3
"""Times whole commands side by side, for scripts/bench.sh.

    runs.py [-n RUNS] [--warmup N] [--base LABEL] LABEL='[VAR=value ...] COMMAND ARGS' ...

Each round runs every command once, in turn (the starting command rotates
from round to round), so that the machine's drift hits all of them alike.
A command is started with posix_spawn and reaped with wait4, which gives its
wall time and the kernel's account of its CPU time; its stdout goes to
/dev/null (run it once yourself first to check what it prints). Leading
VAR=value words set its environment, as in a shell, without a shell.

Peak RSS is read in a few extra runs under GNU time (/usr/bin/time): the
kernel counts the memory a process had before exec into its peak, so it must
be started by a small process, not by this Python one.

Prints, for each command, the median, p95, min and max of its wall time, its
median CPU time and its peak RSS; then, last, the ratio of each command to
the base (the first command unless --base names another): the median of the
round-by-round ratios, which holds when the machine speeds up or slows down
mid-run (with --difference, the median of the differences too).
"""

import argparse
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import time


def parse_command(spec):
    label, _, text = spec.partition("=")
    if not text:
        sys.exit(f"runs.py: '{spec}' is not LABEL=COMMAND")
    words = shlex.split(text)
    env = dict(os.environ)
    while words and "=" in words[0] and not words[0].startswith("="):
        name, _, value = words.pop(0).partition("=")
        if not name.replace("_", "").isalnum():
            words.insert(0, f"{name}={value}")
            break
        env[name] = value
    if not words:
        sys.exit(f"runs.py: '{label}' has no command")
    path = words[0] if "/" in words[0] else shutil.which(words[0], path=env.get("PATH"))
    if not path:
        sys.exit(f"runs.py: '{words[0]}' is not on PATH")
    return {"label": label, "path": path, "argv": words, "env": env}


def run_once(cmd):
    """Wall seconds, peak RSS in KiB and exit status of one run."""
    actions = [
        (os.POSIX_SPAWN_OPEN, 0, "/dev/null", os.O_RDONLY, 0),
        (os.POSIX_SPAWN_OPEN, 1, "/dev/null", os.O_WRONLY, 0),
    ]
    start = time.perf_counter_ns()
    pid = os.posix_spawn(cmd["path"], cmd["argv"], cmd["env"], file_actions=actions)
    _, status, usage = os.wait4(pid, 0)
    wall = (time.perf_counter_ns() - start) / 1e9
    cpu = usage.ru_utime + usage.ru_stime
    return wall, cpu, os.waitstatus_to_exitcode(status)


def peak_rss_kib(cmd, runs):
    """The largest peak RSS of `runs` runs, as GNU time reports it."""
    peak = 0
    for _ in range(runs):
        done = subprocess.run(
            ["/usr/bin/time", "-f", "%M", cmd["path"], *cmd["argv"][1:]],
            env=cmd["env"], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE, text=True, check=False,
        )
        peak = max(peak, int(done.stderr.strip().splitlines()[-1]))
    return peak


def percentile(values, p):
    """Nearest-rank percentile."""
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * p // 100))
    return ordered[int(rank) - 1]


def ms(seconds):
    return f"{seconds * 1000:8.2f} ms"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--runs", type=int, default=100)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--base", help="the label the others are compared with")
    parser.add_argument("--rss-runs", type=int, default=5, help="runs under GNU time")
    parser.add_argument(
        "--difference", action="store_true",
        help="also print how much longer each command takes than the base",
    )
    parser.add_argument("commands", nargs="+", metavar="LABEL=COMMAND")
    args = parser.parse_args()
    commands = [parse_command(c) for c in args.commands]
    labels = [c["label"] for c in commands]
    base = args.base or labels[0]
    if base not in labels:
        sys.exit(f"runs.py: no command is labelled {base}")

    walls = {label: [] for label in labels}
    cpus = {label: [] for label in labels}
    failed = {label: 0 for label in labels}
    rounds = []
    for r in range(args.warmup + args.runs):
        shift = r % len(commands)
        this_round = {}
        for cmd in commands[shift:] + commands[:shift]:
            wall, cpu, code = run_once(cmd)
            if r < args.warmup:
                continue
            if code != 0:
                failed[cmd["label"]] += 1
            walls[cmd["label"]].append(wall)
            cpus[cmd["label"]].append(cpu)
            this_round[cmd["label"]] = wall
        if r >= args.warmup:
            rounds.append(this_round)

    rss = {c["label"]: peak_rss_kib(c, args.rss_runs) for c in commands}
    width = max(len(label) for label in labels)
    print(f"{args.runs} runs each, interleaved, after {args.warmup} warm-up rounds")
    print(
        f"{'':{width}}  {'wall median':>11} {'p95':>11} {'min':>11} {'max':>11}"
        f"  {'CPU median':>11}  peak RSS"
    )
    for label in labels:
        w = walls[label]
        line = (
            f"{label:{width}}  {ms(statistics.median(w))} {ms(percentile(w, 95))} "
            f"{ms(min(w))} {ms(max(w))}  {ms(statistics.median(cpus[label]))}"
            f"  {rss[label] / 1024:6.1f} MiB"
        )
        if failed[label]:
            line += f"  ({failed[label]} runs exited non-zero)"
        print(line)
    others = [label for label in labels if label != base]
    ratios = []
    for label in others:
        pairwise = [r[label] / r[base] for r in rounds]
        ratios.append(f"{label} / {base} = {statistics.median(pairwise):.2f}x")
    if args.difference:
        differences = []
        for label in others:
            pairwise = [r[label] - r[base] for r in rounds]
            differences.append(f"{label} - {base} = {statistics.median(pairwise) * 1000:+.2f} ms")
        print("difference (median of round-by-round differences): " + "; ".join(differences))
    if ratios:
        print("ratio (median of round-by-round ratios): " + "; ".join(ratios))
    return 1 if any(failed.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
