#!/usr/bin/env bash
# Checks that every workload executes the same sequence of guest PCs under qemu-aarch64
# (-d exec,nochain: one "Trace" line per TB execution) across:
#   repeat    the same run again
#   jitdump   with -jitdump -perfmap (QEMU maps a file: guest mmap addresses move by a page)
#   reserve   with -R 0x100000000 (guest address-space reservation)
#   pipe      stdout is a pipe instead of a regular file
#   devnull   stdout is /dev/null
#   notbsize  (workloads with tb_size_mib only) without -tb-size: no code-cache flushes
# and, reported but not failing, "relocated": the binary copied to a longer path, compared from
# the first TB of main on (glibc's static start-up reads /proc/self/exe, so the part before main
# depends on where the binary lives).
# Every run gets a fresh empty working directory and the same fixed environment (env -i).
#
# usage: check_determinism.sh [-d WORKLOAD_DIR] [-q QEMU] [NAME...]
#   WORKLOAD_DIR defaults to ../build/workloads next to this script (it must hold the
#   binaries and workloads.json); NAMEs default to every workload in workloads.json.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
dir=$here/../build/workloads
qemu=${XTU_QEMU_AARCH64:-qemu-aarch64}
while getopts "d:q:h" o; do
  case $o in
    d) dir=$OPTARG ;;
    q) qemu=$OPTARG ;;
    *) sed -n '2,17p' "$0"; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
dir=$(cd "$dir" && pwd)
[[ -f $dir/workloads.json ]] || { echo "no workloads.json in $dir" >&2; exit 2; }

work=$(mktemp -d "${TMPDIR:-/tmp}/xtu-determinism.XXXXXX")
trap 'rm -rf "$work"' EXIT

# name \x1e tb_size \x1e args separated by \x1f (not tabs: read would merge empty fields)
mapfile -t entries < <(python3 - "$dir/workloads.json" "$@" <<'PY'
import json, sys
wl = json.load(open(sys.argv[1]))
want = sys.argv[2:]
names = [w["name"] for w in wl]
for n in want:
    if n not in names:
        sys.exit(f"unknown workload {n}")
for w in wl:
    if want and w["name"] not in want:
        continue
    tb = "" if w.get("tb_size_mib") is None else str(w["tb_size_mib"])
    print(w["name"] + "\x1e" + tb + "\x1e" + "\x1f".join(w.get("args", [])))
PY
)

# run_case NAME CASE STDOUT(file|pipe|null) PROG -- QEMU_OPTS... -- ARGS...
# Writes $work/NAME.CASE.pcs (one guest PC per TB execution) and $work/NAME.CASE.sym.
run_case() {
  local name=$1 case=$2 mode=$3 prog=$4
  shift 4
  local opts=() args=()
  [[ $1 == -- ]] && shift
  while [[ $# -gt 0 && $1 != -- ]]; do opts+=("$1"); shift; done
  [[ $# -gt 0 ]] && shift
  args=("$@")
  local cwd log pid rc=0
  cwd=$(mktemp -d "$work/cwd.XXXXXX")
  log=$work/$name.$case.log
  case $mode in
    file) (cd "$cwd" && exec env -i PATH=/usr/bin:/bin LC_ALL=C "$qemu" "${opts[@]}" \
            -d exec,nochain -D "$log" "$prog" "${args[@]}" > "$work/$name.$case.out") & ;;
    pipe) (cd "$cwd" && exec env -i PATH=/usr/bin:/bin LC_ALL=C "$qemu" "${opts[@]}" \
            -d exec,nochain -D "$log" "$prog" "${args[@]}" | cat > "$work/$name.$case.out") & ;;
    null) (cd "$cwd" && exec env -i PATH=/usr/bin:/bin LC_ALL=C "$qemu" "${opts[@]}" \
            -d exec,nochain -D "$log" "$prog" "${args[@]}" > /dev/null) & ;;
  esac
  pid=$!
  wait "$pid" || rc=$?
  # -jitdump writes jit-<qemu pid>.dump into the working directory and -perfmap writes
  # /tmp/perf-<qemu pid>.map, which QEMU leaves behind: remove exactly that one.
  local dump
  for dump in "$cwd"/jit-*.dump; do
    [[ -e $dump ]] || continue
    dump=${dump##*/jit-}
    rm -f "/tmp/perf-${dump%.dump}.map"
  done
  if [[ $rc -ne 0 ]]; then
    echo "  $case: exit status $rc" >&2
    return 1
  fi
  local leftover
  leftover=$(ls -A "$cwd" | grep -v '^jit-[0-9]*\.dump$' || true)
  [[ -z $leftover ]] || echo "  $case: left files behind: $leftover" >&2
  rm -rf "$cwd"
  # "Trace 0: 0x7f.. [81009331/00000000004005c0/00000001/00000000] _start": pc is field 3.
  awk -F'[][/]' -v pcs="$work/$name.$case.pcs" -v sym="$work/$name.$case.sym" \
    '/^Trace/ { print $3 > pcs; s = $NF; sub(/^ +/, "", s); print s > sym }' "$log"
  rm -f "$log"
}

fail=0
for e in "${entries[@]}"; do
  IFS=$'\x1e' read -r name tb argstr <<< "$e"
  args=()
  [[ -n $argstr ]] && IFS=$'\x1f' read -r -a args <<< "$argstr"
  prog=$dir/$name
  tbopt=()
  [[ -n $tb ]] && tbopt=(-tb-size "$tb")
  echo "== $name ${tbopt[*]} ${args[*]}"
  run_case "$name" base file "$prog" -- "${tbopt[@]}" -- "${args[@]}" || { fail=1; continue; }
  n=$(wc -l < "$work/$name.base.pcs")
  cases=("repeat file" "jitdump file -jitdump -perfmap" "reserve file -R 0x100000000"
         "pipe pipe" "devnull null")
  [[ -n $tb ]] && cases+=("notbsize file NOTB")
  for c in "${cases[@]}"; do
    read -r cname mode extra <<< "$c"
    opts=("${tbopt[@]}")
    if [[ $extra == NOTB ]]; then
      opts=()
    elif [[ -n $extra ]]; then
      read -r -a more <<< "$extra"
      opts+=("${more[@]}")
    fi
    if ! run_case "$name" "$cname" "$mode" "$prog" -- "${opts[@]}" -- "${args[@]}"; then
      fail=1
      continue
    fi
    if cmp -s "$work/$name.base.pcs" "$work/$name.$cname.pcs"; then
      echo "  $cname: identical ($n TB executions)"
    else
      m=$(wc -l < "$work/$name.$cname.pcs")
      first=$(cmp "$work/$name.base.pcs" "$work/$name.$cname.pcs" 2>&1 | sed -n 's/.*line \([0-9]*\).*/\1/p' || true)
      echo "  $cname: DIFFERENT ($n vs $m TB executions, first difference at TB execution ${first:-?})"
      fail=1
    fi
    rm -f "$work/$name.$cname".*
  done
  # Informational: same binary at a different path, compared from main's first TB on.
  reldir=$work/a/considerably/longer/directory/name/for/the/relocated/copy
  mkdir -p "$reldir"
  cp "$prog" "$reldir/$name"
  if run_case "$name" relocated file "$reldir/$name" -- "${tbopt[@]}" -- "${args[@]}"; then
    from_main() { awk -v f="$1.sym" 'BEGIN{while((getline s < f)>0){n++; if(s=="main"){print n; exit}}}'; }
    b=$(from_main "$work/$name.base"); r=$(from_main "$work/$name.relocated")
    if [[ -n $b && -n $r ]] && cmp -s <(tail -n +"$b" "$work/$name.base.pcs") <(tail -n +"$r" "$work/$name.relocated.pcs"); then
      same_all=$(cmp -s "$work/$name.base.pcs" "$work/$name.relocated.pcs" && echo "also before main" || echo "start-up before main differs")
      echo "  relocated (info): identical from main on ($same_all)"
    else
      echo "  relocated (info): differs even after main"
    fi
  fi
  rm -rf "$work/a" "$work/$name".*
done
if [[ $fail -eq 0 ]]; then echo "all deterministic"; else echo "NOT deterministic"; fi
exit $fail
