"""Writes N calibration batches as .npy files (float32, C order) without numpy.

usage: write-npy-batches.py OUT_DIR N D0xD1x... [nan]   (values: a deterministic ramp in [0, 1);
with `nan`, the last batch's second value is NaN, for the error paths)
"""
import os
import struct
import sys

out, count, shape = sys.argv[1], int(sys.argv[2]), [int(d) for d in sys.argv[3].split("x")]
os.makedirs(out, exist_ok=True)
size = 1
for d in shape:
    size *= d
for b in range(count):
    header = "{'descr': '<f4', 'fortran_order': False, 'shape': (%s), }" % "".join(
        "%d, " % d for d in shape)
    header += " " * (127 - 10 - len(header)) + "\n"  # 128-byte aligned preamble
    values = [((i * 37 + b * 11) % 101) / 101.0 for i in range(size)]
    if len(sys.argv) > 4 and sys.argv[4] == "nan" and b == count - 1:
        values[min(1, size - 1)] = float("nan")
    with open(os.path.join(out, "batch%03d.npy" % b), "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode("latin1"))
        f.write(struct.pack("<%df" % size, *values))
