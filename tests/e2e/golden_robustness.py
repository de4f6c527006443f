#!/usr/bin/env python3
"""golden_robustness.py XTU BUNDLE WORKDIR

Bad input must give gaps or clear errors, never a crash, a hang or silent loss:
  - trace.pt truncated at many points: exit 0, and the decoded records are a prefix of the
    ground truth (nothing invented before the cut);
  - random bit flips, overwritten chunks, pure garbage, empty and PSB-only files: exit 0 within
    the time limit, valid guest trace text, a gap whenever records were lost;
  - a truncated or corrupted event stream / manifest: exit 1 with a message naming the file.
"""
import os, random, shutil, subprocess, sys, time

xtu, bundle, work = sys.argv[1], sys.argv[2], sys.argv[3]
TIME_LIMIT = 120
shutil.rmtree(work, ignore_errors=True)
os.makedirs(work)

def records(path):
    with open(path) as f:
        lines = f.read().split("\n")
    assert lines[0] == "# xtu guest trace v1", lines[0]
    out = []
    for l in lines[1:]:
        if not l or l.startswith("#"):
            continue
        assert l == "gap" or (l.startswith("0x") and int(l, 16) >= 0), l
        out.append(l)
    return out

truth = records(os.path.join(bundle, "guest.txt"))
pt = open(os.path.join(bundle, "trace.pt"), "rb").read()

def variant(name, data=None, events=None, manifest=None):
    d = os.path.join(work, name)
    shutil.copytree(bundle, d, ignore=shutil.ignore_patterns("qemu", "*.txt"))
    if data is not None:
        open(os.path.join(d, "trace.pt"), "wb").write(data)
    if events is not None:
        open(os.path.join(d, "events.xtev"), "wb").write(events)
    if manifest is not None:
        open(os.path.join(d, "bundle.json"), "w").write(manifest)
    return d

def golden(d):
    out = os.path.join(d, "golden.txt")
    t0 = time.time()
    p = subprocess.run([xtu, "golden", d, "-o", out], capture_output=True, text=True, timeout=TIME_LIMIT)
    return p, out, time.time() - t0

failures = 0
def check(cond, msg):
    global failures
    if not cond:
        failures += 1
        print("FAIL:", msg)

rng = random.Random(1234)
# 1. Truncations: a prefix of the truth, then at most a gap.
cuts = sorted(set([1, 15, 16, 17, 100, len(pt) // 3, len(pt) // 2, len(pt) - 1] +
                  [rng.randrange(1, len(pt)) for _ in range(12)]))
for cut in cuts:
    d = variant("cut%d" % cut, pt[:cut])
    p, out, secs = golden(d)
    check(p.returncode == 0, "truncated at %d: exit %d %s" % (cut, p.returncode, p.stderr))
    if p.returncode != 0:
        continue
    got = records(out)
    before_gap = got[:got.index("gap")] if "gap" in got else got
    check(before_gap == truth[:len(before_gap)], "truncated at %d: records are not a prefix of the truth" % cut)
    body = [r for r in got if r != "gap"]
    if cut >= len(pt) // 2:
        check(len(body) > 0, "truncated at %d: nothing decoded" % cut)
print("truncations: %d cases" % len(cuts))

# 2. Corruptions: bounded time, valid text, and a gap (or identical output) when records change.
cases = []
for i in range(20):
    b = bytearray(pt)
    for _ in range(rng.choice([1, 3, 20])):
        k = rng.randrange(len(b))
        b[k] ^= 1 << rng.randrange(8)
    cases.append(("flip%d" % i, bytes(b)))
for i in range(8):
    b = bytearray(pt)
    k = rng.randrange(len(b) - 4096)
    b[k:k + 4096] = bytes(rng.randrange(256) for _ in range(4096))
    cases.append(("chunk%d" % i, bytes(b)))
cases.append(("garbage", bytes(rng.randrange(256) for _ in range(1 << 16))))
cases.append(("empty", b""))
cases.append(("psb_only", bytes([0x02, 0x82] * 8) * 64))
cases.append(("zeros", bytes(1 << 16)))
cases.append(("doubled", pt + pt))
for name, data in cases:
    d = variant(name, data)
    p, out, secs = golden(d)
    check(p.returncode == 0, "%s: exit %d %s" % (name, p.returncode, p.stderr.strip()))
    if p.returncode == 0:
        records(out)  # valid guest trace text
        check(secs < TIME_LIMIT, "%s: took %.1f s" % (name, secs))
print("corruptions: %d cases" % len(cases))

# 3. Broken side files: clear errors naming the file.
ev = open(os.path.join(bundle, "events.xtev"), "rb").read()
for name, kw, needle in [
        ("events_trunc", {"events": ev[:len(ev) // 2 + 3]}, "events.xtev"),
        ("events_magic", {"events": b"NOTXTEV!" + ev[8:]}, "events.xtev:0"),
        ("events_empty", {"events": b""}, "events.xtev"),
        ("manifest_bad", {"manifest": "{ not json"}, "bundle.json"),
        ("manifest_other", {"manifest": '{"format": "something-else", "version": 1}'}, "bundle.json")]:
    d = variant(name, **kw)
    p, out, secs = golden(d)
    check(p.returncode == 1 and needle in p.stderr, "%s: exit %d, stderr %r" % (name, p.returncode, p.stderr))
print("broken side files: 5 cases")
if failures:
    sys.exit(1)
print("golden robustness: all cases passed")
