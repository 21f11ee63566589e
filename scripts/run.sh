#!/usr/bin/env bash
# The main job of qfx: installs what is missing (setup.sh), builds, then
#  1. qfx-quantize with no argument: post-training W8A8 quantization of the embedded default model
#     (a small CNN feeding a transformer encoder block, TorchScript source, random weights, fixed
#     seed) on synthetic data -- import, prepare, calibrate, finalize, export to a .pt in the temp
#     directory -- with its report (fake-quants, time per phase, SQNR per output and layer);
#  2. qfx-opt with the quantization preparation pipeline (canonicalize, cse, dce, annotate with the
#     default W8A8 config, share observers, insert and deduplicate fake-quants) on the bundled
#     ResNet basic block + classifier head (examples/resnet_block.qfx), printing the IR.
# Arguments go to qfx-quantize (`bash scripts/run.sh model.pt -o model_q.pt --data batches.pt`);
# a .qfx file as first argument runs step 2 on that file instead.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
bazel build //tools:qfx-quantize //tools:qfx-opt
pipeline='canonicalize,cse,dce,annotate{config=w8a8},share-observers,insert-fake-quant,dedup-fake-quant'
if [[ $# -gt 0 && "$1" == *.qfx ]]; then
  exec bazel-bin/tools/qfx-opt --pass-pipeline="$pipeline" "$@"
fi

echo "== 1. qfx-quantize $*"
bazel-bin/tools/qfx-quantize "$@"
echo
echo "== 2. qfx-opt --pass-pipeline='$pipeline' examples/resnet_block.qfx"
exec bazel-bin/tools/qfx-opt --pass-pipeline="$pipeline" examples/resnet_block.qfx
