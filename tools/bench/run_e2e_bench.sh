#!/usr/bin/env bash
# End-to-end benchmark: qfx's whole post-training quantization (tools/bench/e2e_bench.cpp) side by
# side with PyTorch 1.13's quantize_jit and FX on torchvision's resnet18/resnet50/mobilenet_v2 and
# the 400-block residual MLP (tools/bench/e2e_bench.py, Debian's /usr/bin/python3 with
# python3-torchvision). Prints times, ratios and SQNR. Not a test; FX takes minutes on the MLP.
#
#   bash tools/bench/run_e2e_bench.sh                          # everything
#   bash tools/bench/run_e2e_bench.sh --models resnet18 --skip-fx
set -euo pipefail
cd "$(dirname "$0")/../.."
bazel build -c opt //tools/bench:e2e_bench >&2
exec /usr/bin/python3 tools/bench/e2e_bench.py --qfx bazel-bin/tools/bench/e2e_bench "$@"
