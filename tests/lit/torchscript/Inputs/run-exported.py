# Loads a .pt exported by ts2qfx in Debian's PyTorch (/usr/bin/python3) and runs it on a fixed
# input, printing what FileCheck checks. Usage:
#   run-exported.py <model.pt> <reference> [libqfx_torch_ops.so]
# reference: "qdq" compares with torch.fake_quantize_per_tensor_affine(x, 0.05, 3, -128, 127),
# "stock" with torch.quantize_per_tensor(x, 0.05, 3, torch.quint8).dequantize().
import sys

import torch

model, reference = sys.argv[1], sys.argv[2]
if len(sys.argv) > 3:
    torch.ops.load_library(sys.argv[3])
module = torch.jit.load(model)
x = torch.linspace(-4.0, 4.0, 24).reshape(2, 3, 4)
y = module(x)
if reference == "qdq":
    expected = torch.fake_quantize_per_tensor_affine(x, 0.05, 3, -128, 127)
else:
    expected = torch.quantize_per_tensor(x, 0.05, 3, torch.quint8).dequantize()
print("ops:", sorted({n.kind() for n in module.graph.nodes() if not n.kind().startswith("prim::")}))
print("output:", tuple(y.shape), y.dtype)
print("equal to the reference:", torch.equal(y, expected))
