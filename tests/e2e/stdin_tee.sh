#!/usr/bin/env bash
# stdin_tee.sh XTU OUTDIR PROGRAM: piped input must reach every QEMU run of a capture. The guest
# program's control flow depends on what it reads, so a run that saw other input would diverge
# and the capture would fail its replay check; the golden trace must equal the ground truth.
set -euo pipefail
xtu=$1; out=$2; prog=$3
rm -rf "$out"; mkdir -p "$out"; cd "$out"
printf 'alpha\nbeta beta\n%s\n' "$(seq 1 200 | tr '\n' ' ')" | "$xtu" capture -q --out b -- "$prog" >stdout.txt
"$xtu" golden b -o golden.txt
"$xtu" compare b/guest.txt golden.txt
grep -q 'lines=3' stdout.txt || { echo "guest did not see the piped input:"; cat stdout.txt; exit 1; }
# Same program, stdin from a regular file, captured with --nochain.
printf 'one\ntwo\n' >input.txt
"$xtu" capture -q --nochain --out b2 -- "$prog" <input.txt >stdout2.txt
"$xtu" golden b2 -o golden2.txt
"$xtu" compare b2/guest.txt golden2.txt
grep -q 'lines=2' stdout2.txt
