#!/usr/bin/env bash
# unit_equals_golden.sh XTU CASE_DIR [xtu run options]: the cycle-accurate model, driven through
# the driver and the AXI memory model, must produce exactly the golden model's guest trace for a
# captured bundle (CASE_DIR/bundle, CASE_DIR/golden.txt from capture_and_check.sh).
# XTU_BACKEND=tlm runs the same model through its TLM-2.0 wrapper instead (output unit_tlm.txt).
set -euo pipefail
xtu=$1; case_dir=$2; shift 2
backend=${XTU_BACKEND:-systemc}
out=$case_dir/unit.txt
[[ $backend == systemc ]] || out=$case_dir/unit_$backend.txt
"$xtu" run --backend "$backend" --stats "$@" "$case_dir/bundle" -o "$out"
"$xtu" compare "$case_dir/golden.txt" "$out"
