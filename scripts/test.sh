#!/usr/bin/env bash
# The whole test suite: install what is missing, build (release preset), run ctest.
# Usage: scripts/test.sh [extra ctest args], e.g. scripts/test.sh -LE slow
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)"
ctest --preset release "$@"
