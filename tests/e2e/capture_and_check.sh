#!/usr/bin/env bash
# capture_and_check.sh XTU OUTDIR [capture options...] -- PROGRAM [ARGS...]
# Captures a real QEMU run into OUTDIR (the guest runs in OUTDIR/run), decodes it with the golden
# model and requires the result to equal QEMU's own ground truth (guest.txt) record for record.
set -euo pipefail
xtu=$1; out=$2; shift 2
rm -rf "$out"; mkdir -p "$out/run"
cd "$out/run"
"$xtu" capture -q --out "$out/bundle" "$@" </dev/null
"$xtu" golden --stats "$out/bundle" -o "$out/golden.txt"
"$xtu" compare "$out/bundle/guest.txt" "$out/golden.txt"
# The ground truth must hold real blocks, and the replay must have reproduced QEMU's log
# (the capture fails otherwise): check the manifest says so in figures.
python3 - "$out/bundle/bundle.json" <<'PY'
import json, sys
b = json.load(open(sys.argv[1]))
s = b["stats"]
assert s["guest_blocks"] > 1000, s["guest_blocks"]
assert s["pt_bytes"] > 0
print("blocks %d  pt bytes %d  bits/block %.2f  translations %d  links %d  flushes %d" % (
    s["guest_blocks"], s["pt_bytes"], s["pt_bits_per_block"], s["replay"]["translations"],
    s["replay"]["links"], s["replay"]["flushes"]))
PY
