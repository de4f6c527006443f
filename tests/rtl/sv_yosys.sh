#!/usr/bin/env bash
# rtl_yosys: Yosys (0.23, what the FPGA flow will use) reads every package and synthesizes every
# module on its own (top = the file's name, with the modules it instantiates: the module files
# of its directory are read, `synth -top` keeps the top's hierarchy): generic synthesis,
# `check -assert` (no multiple drivers, undriven or combinational-loop wires), no latch, and no
# Yosys warning. Prints each module's cell count (with its submodules).
#
# usage: sv_yosys.sh YOSYS WORKDIR PACKAGE.sv... -- MODULE.sv...
set -uo pipefail
yosys=$1 work=$2
shift 2
pkgs=()
while [[ $# -gt 0 && $1 != -- ]]; do pkgs+=("$1"); shift; done
[[ $# -gt 0 ]] && shift
mods=("$@")
mkdir -p "$work"

fail=0
for m in "${mods[@]}"; do
  top=$(basename "$m" .sv)
  log="$work/$top.log"
  same=()
  for x in "${mods[@]}"; do [[ $(dirname "$x") == $(dirname "$m") ]] && same+=("$x"); done
  script="read_verilog -sv ${pkgs[*]} ${same[*]}; synth -top $top; check -assert;"
  script+=" select -assert-none t:\$_DLATCH* t:\$_SR_* t:\$dlatch* t:\$sr; stat"
  if ! "$yosys" -q -l "$log" -p "$script" >/dev/null 2>&1; then
    echo "sv_yosys: $top: Yosys failed (log: $log):" >&2
    grep -E "ERROR|Error|Assertion" "$log" | head -20 >&2
    fail=1
    continue
  fi
  if grep -q "Warning:" "$log"; then
    echo "sv_yosys: $top: Yosys warnings (log: $log):" >&2
    grep "Warning:" "$log" | head -20 >&2
    fail=1
    continue
  fi
  cells=$(sed -n 's/^ *Number of cells: *\([0-9]*\)$/\1/p' "$log" | tail -1)
  echo "sv_yosys: $top synthesized: $cells cells"
done
echo "sv_yosys: ${#mods[@]} modules"
exit $fail
