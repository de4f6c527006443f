#!/usr/bin/env python3
"""packets_corpus.py XTU CORPUS_DIR TIME_CONFIG_TSV

`xtu packets --backend systemc` (what the cycle-accurate model's packet decoder block sees) must
equal libipt's expected ptdump listing for every stream of libipt's own corpus and every
expectation file (per-CPU ones with --cpu F/M). Options: the MANIFEST's, plus the tracing
configuration it leaves out for the timing tests (TIME_CONFIG_TSV, from libipt's .ptt sources).

Comparison: line by line, whitespace-insensitive (each line split on runs of whitespace): the
.exp files were written by hand in libipt's test sources with varying column spacing, and
libipt's own harness compares them the same way.
"""
import concurrent.futures as cf, os, subprocess, sys

xtu, corpus, tcfg = sys.argv[1], sys.argv[2], sys.argv[3]
extra = {}
for line in open(tcfg):
    if line.strip() and not line.startswith("#"):
        name, opts = line.rstrip("\n").split("\t", 1)
        extra[name] = opts.split()

cases = []
streams = 0
for line in open(os.path.join(corpus, "MANIFEST.tsv")):
    if not line.strip():
        continue
    f = line.rstrip("\n").split("\t")
    name = f[0]
    streams += 1
    args = (f[1].split() if len(f) > 1 else []) + extra.get(name, [])
    cpus = f[2].split() if len(f) > 2 else []
    if not cpus:
        cases.append((name, name + "-ptdump.exp", args))
    for fm in cpus:
        cases.append((name, name + "-ptdump-cpu_" + fm.replace("/", "_") + ".exp", args + ["--cpu", fm]))

def run(case):
    name, exp, args = case
    p = subprocess.run([xtu, "packets", "--backend", "systemc", os.path.join(corpus, name + ".pt")] + args,
                       capture_output=True, text=True, timeout=120)
    if p.returncode != 0:
        return exp, "exit %d: %s" % (p.returncode, p.stderr.strip())
    want = [l.split() for l in open(os.path.join(corpus, exp)).read().split("\n") if l.strip()]
    got = [l.split() for l in p.stdout.split("\n") if l.strip()]
    for i, (w, g) in enumerate(zip(want, got)):
        if w != g:
            return exp, "line %d: expected %r, got %r" % (i + 1, " ".join(w), " ".join(g))
    if len(want) != len(got):
        return exp, "expected %d lines, got %d" % (len(want), len(got))
    return exp, None

with cf.ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as ex:
    results = list(ex.map(run, cases))
failed = [(e, m) for e, m in results if m]
for e, m in failed:
    print("FAIL %s: %s" % (e, m))
print("xtu packets --backend systemc: %d of %d expectation files of %d corpus streams equal libipt's listing"
      % (len(cases) - len(failed), len(cases), streams))
sys.exit(1 if failed or streams != 173 else 0)
