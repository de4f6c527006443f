#!/usr/bin/env bash
# unit_equals_golden.sh XTU CASE_DIR [xtu run options]: the cycle-accurate model, driven through
# the driver and the AXI memory model, must produce exactly the golden model's guest trace for a
# captured bundle (CASE_DIR/bundle, CASE_DIR/golden.txt from capture_and_check.sh).
set -euo pipefail
xtu=$1; case_dir=$2; shift 2
"$xtu" run --backend systemc --stats "$@" "$case_dir/bundle" -o "$case_dir/unit.txt"
"$xtu" compare "$case_dir/golden.txt" "$case_dir/unit.txt"
