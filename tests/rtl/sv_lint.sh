#!/usr/bin/env bash
# rtl_lint: Verilator --lint-only -Wall on every RTL file: the packages on their own, then each
# module (top = the file's name) with every package; the modules it instantiates are found in
# the modules' directories (-y: one module per file, named like it). Any warning fails.
#
# usage: sv_lint.sh VERILATOR PACKAGE.sv... -- MODULE.sv...
set -uo pipefail
verilator=$1
shift
pkgs=()
while [[ $# -gt 0 && $1 != -- ]]; do pkgs+=("$1"); shift; done
[[ $# -gt 0 ]] && shift
mods=("$@")
libdirs=()
for d in $(for m in "${mods[@]}"; do dirname "$m"; done | sort -u); do libdirs+=(-y "$d"); done

fail=0
lint() {  # lint NAME ARGS...
  local name=$1
  shift
  if "$verilator" --lint-only -Wall "$@"; then
    echo "sv_lint: $name clean"
  else
    echo "sv_lint: $name: Verilator -Wall reports the above" >&2
    fail=1
  fi
}
[[ ${#pkgs[@]} -gt 0 ]] && lint "packages (${#pkgs[@]})" "${pkgs[@]}"
for m in "${mods[@]}"; do
  top=$(basename "$m" .sv)
  lint "$top" "${pkgs[@]}" "${libdirs[@]}" --top-module "$top" "$m"
done
echo "sv_lint: ${#pkgs[@]} packages, ${#mods[@]} modules"
exit $fail
