#!/usr/bin/env bash
# Yosys reads the generated SystemVerilog package for real: regtool writes a module that compares
# every constant, enum value and struct member of the package with the value it computed (fully
# qualified xtu_reg_pkg::NAME references, so Yosys must elaborate them), and Yosys proves that
# module's all_ok_o is 1.
#
# usage: yosys_check.sh PYTHON REGTOOL PACKAGE.sv WORKDIR
set -euo pipefail
python=$1 regtool=$2 pkg=$3 work=$4

mkdir -p "$work"
check="$work/reg_pkg_check.sv"
"$python" "$regtool" --sv-check "$check"
top=$(sed -n 's/^module \([A-Za-z0-9_]*\).*/\1/p' "$check")
if ! yosys -q -l "$work/yosys.log" -p "read_verilog -sv $pkg $check; hierarchy -check -top $top; proc; opt; sat -prove all_ok_o 1 -verify -show-ports" >/dev/null; then
  echo "yosys_check: Yosys rejected $pkg or a constant differs (log: $work/yosys.log):" >&2
  grep -E "ERROR|Warning" "$work/yosys.log" | head -20 >&2 || true
  # The failing checks: the 0 bits of ok_o in Yosys's counterexample.
  "$python" - "$work/yosys.log" "$check" >&2 <<'PY' || true
import re, sys
log, check = open(sys.argv[1]).read(), open(sys.argv[2]).read()
m = re.search(r"\\ok_o\s+--\s+--\s+([01]+)", log)
if m:
    bits = m.group(1)[::-1]  # printed MSB first
    lines = {int(i): line.strip() for i, line in re.findall(r"assign ok_o\[(\d+)\] = (.*)", check)}
    for i, b in enumerate(bits):
        if b == "0":
            print("failed:", lines.get(i, f"ok_o[{i}]"))
PY
  exit 1
fi
grep -q "SUCCESS" "$work/yosys.log"
echo "yosys_check: $(grep -c 'assign ok_o' "$check") checks of $pkg proved by Yosys"
