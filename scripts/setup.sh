#!/usr/bin/env bash
# Installs every Debian package Quorum needs to build, test and run (Debian 12).
# Safe to run again: apt-get skips what is installed.
set -euo pipefail
PACKAGES=(
  cmake ninja-build g++ pkg-config git
  libgtest-dev libgmock-dev libbenchmark-dev
  nlohmann-json3-dev libcpp-httplib-dev libcli11-dev libyaml-cpp-dev libpcre2-dev
  libsqlite3-dev libeigen3-dev libfmt-dev libcurl4-openssl-dev libssl-dev zlib1g-dev
  python3 python3-jinja2
)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  echo "setup: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}"
fi
