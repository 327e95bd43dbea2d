#!/usr/bin/env bash
# The README's first command: install, build, and run a small real job on the shared models.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)" --target quorum
Q=build/release/apps/quorum/quorum
SHARED=${QUORUM_SHARED_DIR:-../shared}
$Q info "$SHARED/taskmodels/qt-base.gguf"
