#!/usr/bin/env python3
"""Measures the workloads under qemu-aarch64 and prints a Markdown table.

For each workload in workloads.json (default invocation, fresh empty working
directory, fixed environment):
  * TB executions: "Trace" lines under -d exec,nochain (with its -tb-size, if any);
  * distinct TBs: "OUT:" blocks under -d out_asm with QEMU's default buffer;
  * translations and flushes under its tb_size_mib (-d out_asm -tb-size N); a flush is an
    OUT: block whose host address is lower than the previous block's;
  * wall time (median of --repeat runs) without logging and with -d exec,nochain.

usage: measure.py [--dir BUILD/workloads] [--qemu qemu-aarch64] [--repeat 3] [NAME...]
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ENV = {"PATH": "/usr/bin:/bin", "LC_ALL": "C"}


def run(qemu, opts, prog, args, log=None):
    """Runs once in a fresh directory; returns wall seconds."""
    cwd = tempfile.mkdtemp(prefix="xtu-measure.")
    cmd = [qemu] + opts + (["-D", log] if log else []) + [prog] + args
    try:
        t0 = time.monotonic()
        r = subprocess.run(cmd, cwd=cwd, env=ENV, stdout=subprocess.DEVNULL)
        dt = time.monotonic() - t0
        if r.returncode != 0:
            sys.exit(f"{' '.join(cmd)}: exit status {r.returncode}")
    finally:
        shutil.rmtree(cwd, ignore_errors=True)
    return dt


def count_traces(log):
    n = 0
    with open(log, "rb") as f:
        for line in f:
            if line.startswith(b"Trace"):
                n += 1
    return n


def out_stats(log):
    """(OUT: blocks, flushes) of an -d out_asm log."""
    nout = flushes = 0
    prev = None
    want = False
    with open(log, "rb") as f:
        for line in f:
            if line.startswith(b"OUT:"):
                nout += 1
                want = True
            elif want and line.startswith(b"0x"):
                addr = int(line.split(b":", 1)[0], 16)
                if prev is not None and addr < prev:
                    flushes += 1
                prev = addr
                want = False
    return nout, flushes


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dir", default=os.path.join(here, "..", "build", "workloads"))
    ap.add_argument("--qemu", default=os.environ.get("XTU_QEMU_AARCH64", "qemu-aarch64"))
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("names", nargs="*")
    a = ap.parse_args()
    d = os.path.abspath(a.dir)
    workloads = json.load(open(os.path.join(d, "workloads.json")))
    if a.names:
        workloads = [w for w in workloads if w["name"] in a.names]

    print("| workload | kind | args | TB executions (`-d exec,nochain`) | distinct TBs "
          "(`OUT:` blocks) | tb-size | translations | flushes | wall, no logging | "
          "wall, `-d exec,nochain` |")
    print("|---|---|---|--:|--:|--:|--:|--:|--:|--:|")
    with tempfile.TemporaryDirectory(prefix="xtu-measure-logs.") as logs:
        log = os.path.join(logs, "log")
        for w in workloads:
            name, args, tb = w["name"], w.get("args", []), w.get("tb_size_mib")
            prog = os.path.join(d, name)
            tbopt = ["-tb-size", str(tb)] if tb is not None else []

            plain = statistics.median(run(a.qemu, tbopt, prog, args) for _ in range(a.repeat))
            logged = []
            for _ in range(a.repeat):
                logged.append(run(a.qemu, tbopt + ["-d", "exec,nochain"], prog, args, log))
                traces = count_traces(log)
            run(a.qemu, ["-d", "out_asm"], prog, args, log)
            distinct, _ = out_stats(log)
            if tb is not None:
                run(a.qemu, tbopt + ["-d", "out_asm"], prog, args, log)
                translations, flushes = out_stats(log)
                tbs = f"{tb} MiB"
            else:
                translations, flushes, tbs = distinct, 0, "default"
            os.remove(log)
            print(f"| {name} | {w['kind']} | {' '.join(args) or '-'} | {traces:,} | {distinct:,} | "
                  f"{tbs} | {translations:,} | {flushes} | {plain:.2f} s | "
                  f"{statistics.median(logged):.2f} s |", flush=True)


if __name__ == "__main__":
    main()
