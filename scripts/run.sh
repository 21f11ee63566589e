#!/usr/bin/env bash
# Demo run of qfx: installs what is missing (setup.sh), builds the qfx-opt driver and runs the
# generic cleanup pipeline on the example ResNet block, printing the resulting IR. Arguments
# replace the default example file.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
bazel build //tools:qfx-opt
input=("${@:-examples/resnet_block.qfx}")
exec bazel-bin/tools/qfx-opt --pass-pipeline=canonicalize,cse,dce "${input[@]}"
