#!/usr/bin/env bash
# cli.sh XTU BUNDLE CRASHING_GUEST: the command line behaves: help everywhere, clear errors, exit codes.
set -uo pipefail
xtu=$1; bundle=$2; crash=$3
fail=0
expect() {  # expect CODE PATTERN CMD...
  local code=$1 pat=$2; shift 2
  local out; out=$("$@" 2>&1); local rc=$?
  if [ $rc -ne "$code" ] || ! grep -qE -- "$pat" <<<"$out"; then
    echo "FAIL: '$*' exited $rc (want $code), output does not match /$pat/:"; echo "$out" | head -5; fail=1
  fi
}
expect 0 'subcommands' "$xtu" --help
expect 2 'usage' "$xtu"
expect 2 "unknown subcommand 'frobnicate'" "$xtu" frobnicate
for sub in demo capture golden events compare; do expect 0 'usage: xtu '"$sub" "$xtu" "$sub" --help; done
expect 0 'tb-size' "$xtu" capture --help
expect 2 "after '--'" "$xtu" capture --out /tmp/xtu-cli-none
expect 1 'out|required' "$xtu" capture -- /bin/true
expect 1 'no such guest program: /nonexistent/program' "$xtu" capture -q --out /tmp/xtu-cli-missing -- /nonexistent/program
expect 1 'killed by signal 11' "$xtu" capture -q --out /tmp/xtu-cli-crash -- "$crash"
rm -rf /tmp/xtu-cli-missing /tmp/xtu-cli-crash
expect 1 'bundle.json' "$xtu" golden /nonexistent-bundle
expect 0 'process +cr3=' "$xtu" events "$bundle"
expect 0 '^@[0-9]+ +t=[0-9]+ +tb +0x' "$xtu" events "$bundle/events.xtev"
expect 0 'equal' "$xtu" compare "$bundle/guest.txt" "$bundle/guest.txt"
tmp=$(mktemp); printf '# xtu guest trace v1\n0x1\n' >"$tmp"
expect 1 'DIFFERENT: first difference at record 0' "$xtu" compare "$bundle/guest.txt" "$tmp"
printf 'not a trace\n' >"$tmp"
expect 1 'line 1' "$xtu" compare "$tmp" "$bundle/guest.txt"
rm -f "$tmp"
exit $fail
