#!/usr/bin/env bash
# The main job of qfx: installs what is missing (setup.sh), builds the qfx-opt driver and runs the
# quantization preparation pipeline on the bundled ResNet basic block + classifier head
# (examples/resnet_block.qfx): clean-up (canonicalize, cse, dce), then annotate with the default
# W8A8 config, share observers, insert and deduplicate fake-quants; prints the resulting IR.
# Arguments replace the default example file.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
bazel build //tools:qfx-opt
input=("${@:-examples/resnet_block.qfx}")
exec bazel-bin/tools/qfx-opt \
  --pass-pipeline='canonicalize,cse,dce,annotate{config=w8a8},share-observers,insert-fake-quant,dedup-fake-quant' \
  "${input[@]}"
