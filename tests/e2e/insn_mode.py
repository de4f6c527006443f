#!/usr/bin/env python3
"""insn_mode.py XTU BUNDLE: `xtu golden --insn` must list, for every executed guest block of the
ground truth, the guest instructions of that TB in order (a TB runs to its end in these runs).

The TB contents are read from events.xtev by this script's own reader, written from
docs/formats.md, so the test also checks the documented layout.
"""
import os, struct, subprocess, sys

xtu, bundle = sys.argv[1], sys.argv[2]
data = open(os.path.join(bundle, "events.xtev"), "rb").read()
assert data[:8] == b"XTUEVT\r\n", data[:8]
major, minor, hsize, count = struct.unpack_from("<HHIQ", data, 8)
assert major == 1 and hsize == 32
pos, n, tbs = hsize, 0, {}
while pos < len(data):
    rtype, flags, size, offset, time = struct.unpack_from("<HHIQQ", data, pos)
    assert size >= 24 and size % 8 == 0 and pos + size <= len(data)
    if rtype == 3:  # tb
        host, pc, cs_base, tflags, cflags, code_size, ninsn = struct.unpack_from("<QQQIIII", data, pos + 24)
        insns = [struct.unpack_from("<QII", data, pos + 24 + 40 + 16 * i)[0] for i in range(ninsn)]
        assert insns[0] == pc
        assert 24 + 40 + 16 * ninsn + code_size <= size
        if pc in tbs:
            assert tbs[pc] == insns, "pc %#x translated with different instructions" % pc
        tbs[pc] = insns
    pos += size
    n += 1
assert count in (0, n), (count, n)

def records(text):
    lines = text.split("\n")
    assert lines[0] == "# xtu guest trace v1"
    return [l for l in lines[1:] if l and not l.startswith("#")]

truth = records(open(os.path.join(bundle, "guest.txt")).read())
expected = []
for r in truth:
    expected += ["gap"] if r == "gap" else ["%#x" % i for i in tbs[int(r, 16)]]
got = records(subprocess.run([xtu, "golden", "--insn", bundle], check=True, capture_output=True, text=True).stdout)
for i, (e, g) in enumerate(zip(expected, got)):
    if e != g:
        sys.exit("first difference at instruction %d: expected %s, got %s" % (i, e, g))
if len(expected) != len(got):
    sys.exit("expected %d instructions, got %d" % (len(expected), len(got)))
print("golden --insn: %d guest instructions in %d blocks, %d TBs, as expected" % (len(got), len(truth), len(tbs)))
