#!/usr/bin/env bash
# Install every build and test dependency of xtu from Debian (bookworm + bookworm-backports).
# Idempotent: safe to run again. Needs root (or sudo).
#
# QEMU 10 (qemu-user with -jitdump/-perfmap) is only in bookworm-backports. The backports suite is
# added to the machine's existing Debian source: the mirror URI and signing key are read from the
# source that already serves "bookworm", never written out here by host name.
set -euo pipefail

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

BACKPORTS_FILE=/etc/apt/sources.list.d/xtu-bookworm-backports.sources

have_backports() {
  grep -rqsE '(^|[[:space:]])bookworm-backports([[:space:]]|$)' /etc/apt/sources.list /etc/apt/sources.list.d/
}

add_backports() {
  local uri="" keyring=""
  # deb822 sources: find the stanza whose Suites include "bookworm".
  if ls /etc/apt/sources.list.d/*.sources >/dev/null 2>&1; then
    read -r uri keyring < <(awk '
      BEGIN { RS=""; FS="\n" }
      {
        u=""; s=""; k="";
        for (i = 1; i <= NF; i++) {
          if ($i ~ /^URIs:/)      { sub(/^URIs:[ \t]*/, "", $i); split($i, a, /[ \t]+/); u=a[1] }
          if ($i ~ /^Suites:/)    { s=" " $i " " }
          if ($i ~ /^Signed-By:/) { sub(/^Signed-By:[ \t]*/, "", $i); k=$i }
        }
        if (u != "" && s ~ /[ \t]bookworm[ \t]/) { print u, (k == "" ? "-" : k); exit }
      }' /etc/apt/sources.list.d/*.sources)
  fi
  # one-line sources.list form: "deb [opts] URI bookworm main"
  if [ -z "$uri" ] && [ -f /etc/apt/sources.list ]; then
    uri=$(awk '$1=="deb" { for (i=2;i<=NF;i++) if ($i !~ /^\[/ && $i !~ /\]$/) { if ($(i+1)=="bookworm") { print $i; exit } } }' /etc/apt/sources.list)
    keyring="-"
  fi
  if [ -z "$uri" ]; then
    echo "install-deps: no Debian source serving 'bookworm' found; cannot add bookworm-backports" >&2
    exit 1
  fi
  echo "install-deps: adding bookworm-backports from $uri"
  {
    echo "Types: deb"
    echo "URIs: $uri"
    echo "Suites: bookworm-backports"
    echo "Components: main"
    if [ "$keyring" != "-" ]; then echo "Signed-By: $keyring"; fi
  } | $SUDO tee "$BACKPORTS_FILE" >/dev/null
}

PKGS=(
  build-essential cmake ninja-build pkg-config git ca-certificates file
  libipt-dev libzydis-dev libsystemc-dev verilator yosys nextpnr-ice40 fpga-icestorm
  libboost-dev libboost-program-options-dev nlohmann-json3-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  pybind11-dev python3 python3-dev python3-numpy python3-pytest python3-yaml python3-jinja2
  python3-matplotlib
  gcc-aarch64-linux-gnu libc6-dev-arm64-cross
)

missing() {
  local p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || echo "$p"
  done
}

qemu_ok() {
  command -v qemu-aarch64 >/dev/null 2>&1 &&
    qemu-aarch64 --version 2>/dev/null | grep -qE 'version (1[0-9]|[2-9][0-9])\.'
}

need=$(missing "${PKGS[@]}")
if [ -z "$need" ] && qemu_ok; then
  echo "install-deps: all dependencies present"
  exit 0
fi

have_backports || add_backports
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
if [ -n "$need" ]; then
  # shellcheck disable=SC2086
  $SUDO apt-get install -y -qq --no-install-recommends $need
fi
if ! qemu_ok; then
  $SUDO apt-get install -y -qq --no-install-recommends -t bookworm-backports qemu-user
fi
qemu_ok || { echo "install-deps: qemu-aarch64 10 not available after install" >&2; exit 1; }
echo "install-deps: done ($(qemu-aarch64 --version | head -1))"
