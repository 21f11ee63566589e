#!/usr/bin/python3
"""Times PyTorch's own graph-mode quantization on the residual MLP of quant_bench.

The peers of qfx's pipeline (tools/bench/quant_bench.cpp): FX graph mode (prepare_fx then
convert_fx) and TorchScript graph mode (prepare_jit then convert_jit), both with the default
fbgemm int8 qconfig (per-channel weights, like qfx's default W8A8), on a chain of N residual
blocks -- Linear(64, 64), ReLU, Linear(64, 64), add -- the model quant_bench times qfx on. One
calibration forward runs between prepare and convert (untimed: it is model execution, not the
compiler work being compared). Run with Debian's /usr/bin/python3, which has torch 1.13.

FX takes minutes at 400 blocks (its passes grow quadratically), so the default is a quicker 100
blocks; pass --blocks 400 for the comparison point of the benchmark. Prints one `RESULT` line
per measurement for tools/bench/run_quant_bench.sh to read.
"""
import argparse
import sys
import time
import warnings

import torch
import torch.nn as nn
from torch.ao.quantization import get_default_qconfig, get_default_qconfig_mapping
from torch.ao.quantization.quantize_fx import convert_fx, prepare_fx
from torch.ao.quantization.quantize_jit import convert_jit, prepare_jit

HIDDEN = 64


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(HIDDEN, HIDDEN)
        self.relu = nn.ReLU()
        self.fc2 = nn.Linear(HIDDEN, HIDDEN)

    def forward(self, x):
        return self.fc2(self.relu(self.fc1(x))) + x


class ResidualMLP(nn.Module):
    def __init__(self, blocks):
        super().__init__()
        self.blocks = nn.Sequential(*[Block() for _ in range(blocks)])

    def forward(self, x):
        return self.blocks(x)


def timed(label, function, results):
    start = time.perf_counter()
    value = function()
    seconds = time.perf_counter() - start
    results[label] = seconds
    print(f"    {label:<14} {seconds:10.3f} s", flush=True)
    return value


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--blocks", type=int, default=100, help="residual blocks (default 100)")
    parser.add_argument("--skip-fx", action="store_true", help="time only quantize_jit")
    parser.add_argument("--skip-jit", action="store_true", help="time only FX")
    args = parser.parse_args()

    warnings.filterwarnings("ignore")
    torch.manual_seed(0)
    example = (torch.randn(1, HIDDEN),)
    print(f"PyTorch {torch.__version__}, residual MLP with {args.blocks} blocks (hidden {HIDDEN})")
    results = {}

    if not args.skip_fx:
        print("  FX graph mode (prepare_fx + convert_fx):")
        model = ResidualMLP(args.blocks).eval()
        prepared = timed("prepare_fx", lambda: prepare_fx(
            model, get_default_qconfig_mapping("fbgemm"), example), results)
        with torch.no_grad():
            prepared(*example)
        timed("convert_fx", lambda: convert_fx(prepared), results)

    if not args.skip_jit:
        print("  TorchScript graph mode (prepare_jit + convert_jit):")
        model = ResidualMLP(args.blocks).eval()
        scripted = torch.jit.script(model)
        prepared = timed("prepare_jit", lambda: prepare_jit(
            scripted, {"": get_default_qconfig("fbgemm")}), results)
        with torch.no_grad():
            prepared(*example)
        timed("convert_jit", lambda: convert_jit(prepared), results)

    for label, seconds in results.items():
        print(f"RESULT blocks={args.blocks} {label}_s={seconds:.6f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
