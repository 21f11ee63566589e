# Loads a .pt exported by qfx (optionally after torch.ops.load_library of qfx's op library), runs
# it on the input saved next to it and compares with the output our interpreter produced: exit 0
# when they are bit-identical, 1 with the largest difference otherwise. Run by quantize_e2e_test
# with Debian's /usr/bin/python3 (torch 1.13).
import sys

import torch


def main():
    model_path, data_path = sys.argv[1], sys.argv[2]
    if len(sys.argv) > 3:
        torch.ops.load_library(sys.argv[3])
    model = torch.jit.load(model_path)
    model.eval()
    x, expected = torch.load(data_path)
    with torch.no_grad():
        actual = model(x)
    if isinstance(actual, (tuple, list)):
        actual = actual[0]
    if actual.shape != expected.shape or not torch.equal(actual, expected):
        diff = (actual - expected).abs().max().item() if actual.shape == expected.shape else None
        print("%s: PyTorch output differs from qfx's (shape %s vs %s, max |diff| %s)"
              % (model_path, tuple(actual.shape), tuple(expected.shape), diff))
        return 1
    print("%s: PyTorch output equals qfx's bit for bit" % model_path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
