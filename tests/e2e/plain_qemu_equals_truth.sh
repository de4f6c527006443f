#!/usr/bin/env bash
# plain_qemu_equals_truth.sh XTU QEMU OUTDIR PROGRAM [ARGS...]
# guest.txt must equal the Trace lines of a plain `qemu-aarch64 -d exec,nochain` run of the same
# program with the same arguments, environment and kind of stdout: checked for stdout as a
# regular file, a pipe and /dev/null. Both sides run under one fixed environment (env -i).
set -euo pipefail
xtu=$1; qemu=$2; out=$3; shift 3
rm -rf "$out"; mkdir -p "$out"
cd "$out"
ENV=(env -i PATH=/usr/bin:/bin HOME=/nonexistent LC_ALL=C XTU_TEST=1)
pcs() { sed -n 's/^Trace [0-9]*: 0x[0-9a-f]* \[[0-9a-f]*\/\([0-9a-f]*\)\/.*/\1/p' "$1" | sed 's/^0*/0x/; s/^0x$/0x0/'; }
records() { grep -v '^#' "$1"; }
for kind in file pipe null; do
  case $kind in
    file) "${ENV[@]}" "$xtu" capture -q --out "b-$kind" -- "$@" >"out-capture-$kind.txt" </dev/null
          "${ENV[@]}" "$qemu" -d exec,nochain -D "plain-$kind.log" "$@" >"out-plain-$kind.txt" </dev/null ;;
    pipe) "${ENV[@]}" "$xtu" capture -q --out "b-$kind" -- "$@" </dev/null | cat >"out-capture-$kind.txt"
          "${ENV[@]}" "$qemu" -d exec,nochain -D "plain-$kind.log" "$@" </dev/null | cat >"out-plain-$kind.txt" ;;
    null) "${ENV[@]}" "$xtu" capture -q --out "b-$kind" -- "$@" >/dev/null </dev/null
          "${ENV[@]}" "$qemu" -d exec,nochain -D "plain-$kind.log" "$@" >/dev/null </dev/null ;;
  esac
  records "b-$kind/guest.txt" >truth.txt
  pcs "plain-$kind.log" >plain.txt
  if ! cmp -s truth.txt plain.txt; then
    echo "stdout=$kind: guest.txt differs from a plain QEMU run:"; diff truth.txt plain.txt | head -5; exit 1
  fi
  echo "stdout=$kind: guest.txt == plain qemu -d exec,nochain ($(wc -l <truth.txt) blocks)"
done
for kind in file pipe; do
  cmp "out-capture-$kind.txt" "out-plain-$kind.txt"
done
echo "guest output identical under capture and plain QEMU"
