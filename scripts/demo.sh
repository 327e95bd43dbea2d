#!/usr/bin/env bash
# The README's first command: install, build, and run a small real job on ../shared:
# inspect a task model, tokenize a task prompt, quantize the model to Q4_K_M (and check the file
# is byte-identical to llama.cpp's), then measure its speed.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)" --target quorum
Q=build/release/apps/quorum/quorum
SHARED=${QUORUM_SHARED_DIR:-../shared}
OUT=${QUORUM_DEMO_DIR:-build/demo}
mkdir -p "$OUT"
echo "== quorum info"
$Q info "$SHARED/taskmodels/qt-base.gguf"
echo "== quorum tokenize (an SST-2 prompt in the task models' format)"
printf 'Task: sentiment\nText: a gorgeous, witty, seductive movie.\nAnswer:' |
  $Q tokenize -m "$SHARED/taskmodels/qt-base.gguf" --ids
echo "== quorum quantize Q4_K_M"
$Q quantize "$SHARED/taskmodels/qt-base.gguf" "$OUT/qt-base.Q4_K_M.gguf" Q4_K_M
if cmp -s "$OUT/qt-base.Q4_K_M.gguf" "$SHARED/golden/quant/qt-base.Q4_K_M.gguf"; then
  echo "byte-identical to llama.cpp's llama-quantize output"
else
  echo "differs from llama.cpp's llama-quantize output" >&2
  exit 1
fi
echo "== quorum bench"
$Q bench -m "$OUT/qt-base.Q4_K_M.gguf" -p 128 -n 32 -r 3 --bandwidth-mib 256
