#!/usr/bin/env bash
# Out-of-context build of one harness for an iCE40 with the open flow (Yosys synth_ice40 ->
# nextpnr-ice40 -> icepack): synthesizes TOP from the given SystemVerilog files, places and routes
# it on DEVICE, packs a bitstream, and prints one summary line: logic cells used / available and
# the Fmax nextpnr reports for the clock (best of the given seeds).
#
# usage: ooc.sh YOSYS NEXTPNR ICEPACK OUTDIR TOP DEVICE SEEDS FILE.sv...
#   DEVICE: up5k (sg48) or hx8k (ct256); SEEDS: comma-separated nextpnr seeds, e.g. 1,2,3
# Exit status: non-zero if synthesis, placement, routing or packing fails (the design does not
# fit or the flow broke). Fmax is a measurement, not a pass/fail criterion.
set -euo pipefail
yosys=$1 nextpnr=$2 icepack=$3 out=$4 top=$5 dev=$6 seeds=$7
shift 7
case $dev in
  up5k) pkg=sg48 ;;
  hx8k) pkg=ct256 ;;
  *) echo "ooc.sh: unknown device $dev (up5k, hx8k)" >&2; exit 2 ;;
esac
mkdir -p "$out"
json=$out/$top.json
if ! "$yosys" -q -l "$out/$top.yosys.log" -p "read_verilog -sv $*; synth_ice40 -top $top -json $json" >/dev/null 2>&1; then
  echo "ooc.sh: $top: synthesis failed (log: $out/$top.yosys.log)" >&2
  grep -E "ERROR" "$out/$top.yosys.log" | head >&2
  exit 1
fi
best="" best_seed="" lcs=""
IFS=, read -ra seed_list <<< "$seeds"
for s in "${seed_list[@]}"; do
  log=$out/$top.$dev.seed$s.pnr.log
  if ! "$nextpnr" --"$dev" --package "$pkg" --json "$json" --asc "$out/$top.$dev.seed$s.asc" --freq 12 --seed "$s" \
       >"$log" 2>&1; then
    echo "ooc.sh: $top on $dev: place and route failed (log: $log)" >&2
    grep -E "ERROR" "$log" | head >&2
    exit 1
  fi
  lcs=$(sed -n 's/.*ICESTORM_LC: *\([0-9]* *\/ *[0-9]*\).*/\1/p' "$log" | tail -1 | tr -d ' ')
  f=$(sed -n "s/.*Max frequency for clock '[^']*': \([0-9.]*\) MHz.*/\1/p" "$log" | tail -1)
  if [[ -z $best ]] || awk -v a="$f" -v b="$best" 'BEGIN { exit !(a > b) }'; then best=$f best_seed=$s; fi
done
"$icepack" "$out/$top.$dev.seed$best_seed.asc" "$out/$top.$dev.bin"
echo "ooc $top $dev: logic cells $lcs, Fmax $best MHz (best of seeds $seeds: seed $best_seed), bitstream $out/$top.$dev.bin"
