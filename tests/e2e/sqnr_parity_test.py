#!/usr/bin/python3
"""W8A8 accuracy parity with PyTorch 1.13's quantize_jit (issue 5, item 6).

For a small ResNet-like CNN, a MobileNetV2-like CNN and a transformer encoder block (defined below,
random weights from fixed seeds, batch norms given the statistics of the data by a few
training-mode forwards, as a trained model has them), this test
  - traces the model and saves it with calibration batches (torch.save), all from fixed seeds;
  - runs qfx-quantize on it (default W8A8 config, the calibration batches) and loads the
    quantized .pt it writes in PyTorch (with qfx's op library);
  - quantizes the same traced model with quantize_jit (prepare_jit / calibration on the same
    batches / convert_jit) using the observers qfx's W8A8 uses: per-tensor moving-average min/max
    for activations (quint8 with reduce_range, what fbgemm needs), per-channel symmetric min/max
    for weights;
  - evaluates both on held-out batches and asserts qfx's output SQNR against the float model is
    at least quantize_jit's.
For information it also prints the SQNR of quantize_jit with PyTorch's default fbgemm qconfig
(HistogramObserver), which is not asserted (see docs/Benchmarks.md).

Usage: sqnr_parity_test.py <qfx-quantize> <libqfx_torch_ops.so>   (Debian's /usr/bin/python3)
Deterministic: fixed seeds, one intra-op thread.
"""
import math
import os
import subprocess
import sys
import tempfile
import warnings

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.ao.quantization import QConfig, get_default_qconfig
from torch.ao.quantization.observer import (MovingAverageMinMaxObserver,
                                            default_per_channel_weight_observer)
from torch.ao.quantization.quantize_jit import convert_jit, prepare_jit

MINMAX_QCONFIG = QConfig(
    activation=MovingAverageMinMaxObserver.with_args(dtype=torch.quint8, reduce_range=True),
    weight=default_per_channel_weight_observer)


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU()
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False),
                                            nn.BatchNorm2d(cout))

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)


class ResNetLike(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        self.relu = nn.ReLU()
        self.layer1 = nn.Sequential(BasicBlock(16, 16, 1), BasicBlock(16, 16, 1))
        self.layer2 = nn.Sequential(BasicBlock(16, 32, 2), BasicBlock(32, 32, 1))
        self.layer3 = nn.Sequential(BasicBlock(32, 64, 2), BasicBlock(64, 64, 1))
        self.fc = nn.Linear(64, 10)

    def forward(self, x):
        x = self.relu(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        x = torch.flatten(F.adaptive_avg_pool2d(x, 1), 1)
        return self.fc(x)


class InvertedResidual(nn.Module):
    def __init__(self, cin, cout, stride, expand):
        super().__init__()
        hidden = cin * expand
        self.use_residual = stride == 1 and cin == cout
        self.conv = nn.Sequential(
            nn.Conv2d(cin, hidden, 1, bias=False), nn.BatchNorm2d(hidden), nn.ReLU6(),
            nn.Conv2d(hidden, hidden, 3, stride, 1, groups=hidden, bias=False),
            nn.BatchNorm2d(hidden), nn.ReLU6(),
            nn.Conv2d(hidden, cout, 1, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        return x + self.conv(x) if self.use_residual else self.conv(x)


class MobileNetV2Like(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 16, 3, 2, 1, bias=False), nn.BatchNorm2d(16),
                                  nn.ReLU6())
        self.blocks = nn.Sequential(
            InvertedResidual(16, 16, 1, 4), InvertedResidual(16, 24, 2, 4),
            InvertedResidual(24, 24, 1, 4), InvertedResidual(24, 32, 2, 4),
            InvertedResidual(32, 32, 1, 4))
        self.last = nn.Sequential(nn.Conv2d(32, 128, 1, bias=False), nn.BatchNorm2d(128),
                                  nn.ReLU6())
        self.classifier = nn.Linear(128, 10)

    def forward(self, x):
        x = self.last(self.blocks(self.stem(x)))
        return self.classifier(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


class EncoderBlock(nn.Module):
    """Post-norm transformer encoder block written out (no fused fast path), d_model 64, 4 heads."""

    def __init__(self, d_model=64, heads=4, ffn=128):
        super().__init__()
        self.heads = heads
        self.head_dim = d_model // heads
        self.scale = float(self.head_dim) ** -0.5  # constants: no shape arithmetic in the trace
        self.q = nn.Linear(d_model, d_model)
        self.k = nn.Linear(d_model, d_model)
        self.v = nn.Linear(d_model, d_model)
        self.out = nn.Linear(d_model, d_model)
        self.norm1 = nn.LayerNorm(d_model)
        self.fc1 = nn.Linear(d_model, ffn)
        self.fc2 = nn.Linear(ffn, d_model)
        self.norm2 = nn.LayerNorm(d_model)

    def forward(self, x):
        b, s, d = x.shape
        h, hd = self.heads, self.head_dim
        q = self.q(x).reshape(b, s, h, hd).transpose(1, 2)
        k = self.k(x).reshape(b, s, h, hd).transpose(1, 2)
        v = self.v(x).reshape(b, s, h, hd).transpose(1, 2)
        attention = torch.softmax(torch.matmul(q, k.transpose(-2, -1)) * self.scale, dim=-1)
        context = torch.matmul(attention, v).transpose(1, 2).reshape(b, s, d)
        x = self.norm1(x + self.out(context))
        return self.norm2(x + self.fc2(F.gelu(self.fc1(x))))


MODELS = [
    ("resnet_like", ResNetLike, (2, 3, 32, 32)),
    ("mobilenet_v2_like", MobileNetV2Like, (2, 3, 32, 32)),
    ("transformer_block", EncoderBlock, (2, 16, 64)),
]


def sqnr(reference, outputs):
    signal = sum(float(r.double().pow(2).sum()) for r in reference)
    noise = sum(float((r.double() - o.double()).pow(2).sum()) for r, o in zip(reference, outputs))
    return math.inf if noise == 0 else 10 * math.log10(signal / noise)


def run(model, batches):
    with torch.no_grad():
        return [model(*batch) for batch in batches]


def quantize_jit(traced, qconfig, calibration):
    prepared = prepare_jit(traced, {"": qconfig}, inplace=False)
    run(prepared, calibration)
    return convert_jit(prepared, inplace=False)


def main():
    qfx_quantize, library = sys.argv[1], sys.argv[2]
    warnings.filterwarnings("ignore")
    torch.set_num_threads(1)
    torch.ops.load_library(library)
    failures = []
    with tempfile.TemporaryDirectory(dir=os.environ.get("TEST_TMPDIR")) as tmp:
        for name, cls, shape in MODELS:
            torch.manual_seed(0)
            model = cls()
            model.train()
            with torch.no_grad():  # batch-norm statistics of the data
                for _ in range(4):
                    model(torch.randn(8, *shape[1:]))
            model.eval()
            torch.manual_seed(1)
            calibration = [(torch.randn(shape),) for _ in range(4)]
            evaluation = [(torch.randn(shape),) for _ in range(4)]
            traced = torch.jit.trace(model, calibration[0])
            model_path = os.path.join(tmp, name + ".pt")
            data_path = os.path.join(tmp, name + "_data.pt")
            output_path = os.path.join(tmp, name + "_q.pt")
            traced.save(model_path)
            torch.save(calibration, data_path)
            subprocess.run([qfx_quantize, model_path, "-o", output_path, "--data", data_path,
                            "--no-progress"], check=True, stdout=subprocess.DEVNULL,
                           env=dict(os.environ, OMP_NUM_THREADS="1"))
            floats = run(model, evaluation)
            ours = sqnr(floats, run(torch.jit.load(output_path), evaluation))
            jit = sqnr(floats, run(quantize_jit(traced, MINMAX_QCONFIG, calibration), evaluation))
            histogram = sqnr(floats, run(quantize_jit(traced, get_default_qconfig("fbgemm"),
                                                      calibration), evaluation))
            verdict = "ok" if ours >= jit else "FAIL"
            print("%-18s qfx %6.2f dB   quantize_jit (min/max observers) %6.2f dB   "
                  "quantize_jit (default fbgemm qconfig, histogram) %6.2f dB   %s"
                  % (name, ours, jit, histogram, verdict), flush=True)
            if ours < jit:
                failures.append(name)
    if failures:
        print("qfx's W8A8 SQNR is below quantize_jit's on: " + ", ".join(failures))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
