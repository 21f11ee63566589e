"""Tests of libqfx_torch_ops.so from Debian's python3-torch (1.13).

Loads the library with torch.ops.load_library and checks that
- the registered schemas are the ones documented in TorchOps.h;
- torch.ops.qfx.{fake_quantize, fake_quantize_with_mask, quantize, dequantize}
  reproduce, bit for bit, the results of the C++ kernel API written by
  torch_ops_golden (inputs included), and so does the autograd gradient;
- fake_quantize matches torch.fake_quantize_per_tensor_affine and
  torch.fake_quantize_per_channel_affine, forward and gradient, for every
  integer range of quantization-semantics.md §5.1;
- the ops work from TorchScript (torch.jit.script), gradients included;
- bad arguments raise errors that name the argument.

Run by the Bazel sh_test torch_ops_test with /usr/bin/python3:
  torch_ops_test.py --library libqfx_torch_ops.so --golden golden.pt
"""

import argparse
import os
import sys
import unittest

import torch

ARGS = None

INT_RANGES = [
    ("int2", -2, 1), ("int2_clip", -1, 1), ("int4", -8, 7), ("int4_clip", -7, 7),
    ("int8", -128, 127), ("int8_clip", -127, 127), ("uint2", 0, 3), ("uint4", 0, 15),
    ("uint8", 0, 255),
]

EXPECTED_SCHEMAS = {
    "fake_quantize": "qfx::fake_quantize(Tensor x, Tensor scale, Tensor? zero_point=None, "
                     "Tensor? minval=None, int quant_min=-128, int quant_max=127, "
                     "str format=\"int\") -> Tensor",
    "fake_quantize_with_mask": "qfx::fake_quantize_with_mask(Tensor x, Tensor scale, "
                               "Tensor? zero_point=None, Tensor? minval=None, "
                               "int quant_min=-128, int quant_max=127, str format=\"int\") "
                               "-> (Tensor output, Tensor mask)",
    "quantize": "qfx::quantize(Tensor x, Tensor scale, Tensor? zero_point=None, "
                "Tensor? minval=None, int quant_min=-128, int quant_max=127, "
                "str format=\"int\") -> Tensor",
    "dequantize": "qfx::dequantize(Tensor q, Tensor scale, Tensor? zero_point=None, "
                  "Tensor? minval=None, int quant_min=-128, int quant_max=127, "
                  "str format=\"int\", ScalarType? out_dtype=None) -> Tensor",
}


def bits(t):
    """A view whose equality is bit equality (so -0.0 != 0.0)."""
    t = t.contiguous()
    if t.dtype == torch.float32:
        return t.view(torch.int32)
    if t.dtype in (torch.float16, torch.bfloat16):
        return t.view(torch.int16)
    return t


class TorchOpsTest(unittest.TestCase):
    def assertBitEqual(self, actual, expected, what=""):
        self.assertEqual(actual.dtype, expected.dtype, what)
        self.assertEqual(actual.shape, expected.shape, what)
        if not torch.equal(bits(actual), bits(expected)):
            diff = (bits(actual) != bits(expected)).nonzero()
            first = tuple(diff[0].tolist())
            self.fail(f"{what}: {diff.shape[0]} elements differ, first at {first}: "
                      f"{actual[first].item()} vs {expected[first].item()}")

    def test_schemas(self):
        for name, expected in EXPECTED_SCHEMAS.items():
            op = getattr(torch.ops.qfx, name).default
            self.assertEqual(str(op._schema), expected)

    def test_matches_cpp_results(self):
        cases = torch.load(ARGS.golden)
        self.assertGreaterEqual(len(cases), 7)
        for c in cases:
            with self.subTest(case=c["name"]):
                args = (c["scale"], c["zero_point"], c["minval"], c["quant_min"], c["quant_max"],
                        c["format"])
                x = c["x"]
                self.assertBitEqual(torch.ops.qfx.fake_quantize(x, *args), c["fake"], "fake")
                out, mask = torch.ops.qfx.fake_quantize_with_mask(x, *args)
                self.assertBitEqual(out, c["fake"], "fake_quantize_with_mask output")
                self.assertBitEqual(mask, c["mask"], "mask")
                codes = torch.ops.qfx.quantize(x, *args)
                self.assertBitEqual(codes, c["codes"], "codes")
                self.assertBitEqual(torch.ops.qfx.dequantize(codes, *args, x.dtype), c["dequant"],
                                    "dequant")
                xr = x.clone().requires_grad_(True)
                torch.ops.qfx.fake_quantize(xr, *args).backward(c["grad_out"])
                self.assertBitEqual(xr.grad, c["grad_in"], "grad")
                # grad_in is grad_out where the mask is set, 0 elsewhere.
                self.assertBitEqual(c["grad_in"], c["grad_out"] * c["mask"], "grad vs mask")

    def test_per_tensor_parity_with_aten(self):
        torch.manual_seed(0)
        for name, qmin, qmax in INT_RANGES:
            for scale in (0.25, 0.1, 1.0 / 3.0, 7.5):
                for zp in (qmin, (qmin + qmax) // 2, qmax):
                    with self.subTest(range=name, scale=scale, zp=zp):
                        s = torch.tensor([[scale]], dtype=torch.float32)
                        span = (qmax - qmin + 1) * s.item()
                        x = torch.randn(40, 25) * span
                        # exact ties of x / scale for the power-of-two scale
                        x[0, :] = (torch.arange(25) - 12 + 0.5) * s.item()
                        xa = x.clone().requires_grad_(True)
                        xq = x.clone().requires_grad_(True)
                        ref = torch.fake_quantize_per_tensor_affine(xa, s.item(), zp, qmin, qmax)
                        ours = torch.ops.qfx.fake_quantize(
                            xq, s, torch.tensor([[zp]], dtype=torch.int32), None, qmin, qmax,
                            "int")
                        self.assertBitEqual(ours, ref, "forward")
                        g = torch.randn_like(x)
                        ref.backward(g)
                        ours.backward(g)
                        self.assertBitEqual(xq.grad, xa.grad, "gradient")

    def test_per_channel_parity_with_aten(self):
        torch.manual_seed(1)
        for name, qmin, qmax in INT_RANGES:
            for shape, axis in (((6, 20), 0), ((20, 6), 1), ((2, 6, 5, 3), 1)):
                with self.subTest(range=name, shape=shape, axis=axis):
                    c = shape[axis]
                    scale = torch.rand(c) * 0.2 + 0.01
                    zp = torch.randint(qmin, qmax + 1, (c,), dtype=torch.int32)
                    qshape = [1] * len(shape)
                    qshape[axis] = c
                    x = torch.randn(shape) * (qmax - qmin) * 0.1
                    xa = x.clone().requires_grad_(True)
                    xq = x.clone().requires_grad_(True)
                    ref = torch.fake_quantize_per_channel_affine(xa, scale, zp, axis, qmin, qmax)
                    ours = torch.ops.qfx.fake_quantize(xq, scale.reshape(qshape),
                                                       zp.reshape(qshape), None, qmin, qmax, "int")
                    self.assertBitEqual(ours, ref, "forward")
                    g = torch.randn_like(x)
                    ref.backward(g)
                    ours.backward(g)
                    self.assertBitEqual(xq.grad, xa.grad, "gradient")

    def test_quantize_dequantize_parity_with_aten(self):
        torch.manual_seed(2)
        x = torch.randn(333) * 4
        for dtype, qmin, qmax, zp in ((torch.qint8, -128, 127, 3), (torch.quint8, 0, 255, 120)):
            q = torch.quantize_per_tensor(x, 0.05, zp, dtype)
            s, z = torch.tensor([0.05]), torch.tensor([zp])
            codes = torch.ops.qfx.quantize(x, s, z, None, qmin, qmax, "int")
            self.assertBitEqual(codes, q.int_repr(), "codes")
            self.assertBitEqual(torch.ops.qfx.dequantize(codes, s, z, None, qmin, qmax, "int"),
                                q.dequantize(), "dequantize")

    def test_torchscript(self):
        @torch.jit.script
        def qat_step(x: torch.Tensor, scale: torch.Tensor, zp: torch.Tensor) -> torch.Tensor:
            return torch.ops.qfx.fake_quantize(x, scale, zp, None, -8, 7, "int") * 2.0

        @torch.jit.script
        def fp8_roundtrip(x: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
            codes = torch.ops.qfx.quantize(x, scale, None, None, 0, 0, "float8_e4m3fn")
            return torch.ops.qfx.dequantize(codes, scale, None, None, 0, 0, "float8_e4m3fn",
                                            torch.float16)

        self.assertIn("qfx::fake_quantize", str(qat_step.graph))
        torch.manual_seed(3)
        x = torch.randn(4, 9)
        s, z = torch.tensor([[0.1]]), torch.tensor([[0]], dtype=torch.int32)
        xs = x.clone().requires_grad_(True)
        xe = x.clone().requires_grad_(True)
        ys = qat_step(xs, s, z)
        ye = torch.ops.qfx.fake_quantize(xe, s, z, None, -8, 7, "int") * 2.0
        self.assertBitEqual(ys, ye, "scripted forward")
        ys.sum().backward()
        ye.sum().backward()
        self.assertBitEqual(xs.grad, xe.grad, "scripted gradient")
        s8 = torch.tensor([[0.01]])
        self.assertBitEqual(
            fp8_roundtrip(x, s8),
            torch.ops.qfx.fake_quantize(x, s8, None, None, 0, 0, "float8_e4m3fn").half(),
            "fp8 round trip")

    def test_errors_name_the_argument(self):
        x = torch.randn(4, 6)
        s, z = torch.tensor([[0.1]]), torch.tensor([[0]], dtype=torch.int32)
        with self.assertRaisesRegex(RuntimeError, "format 'int9' is not supported; expected one of"):
            torch.ops.qfx.fake_quantize(x, s, z, None, -8, 7, "int9")
        with self.assertRaisesRegex(RuntimeError, "exactly one of zero_point .* or minval"):
            torch.ops.qfx.fake_quantize(x, s, None, None, -8, 7, "int")
        with self.assertRaisesRegex(RuntimeError, "got both"):
            torch.ops.qfx.fake_quantize(x, s, z, s, -8, 7, "int")
        with self.assertRaisesRegex(RuntimeError, "takes no zero_point or minval"):
            torch.ops.qfx.fake_quantize(x, s, z, None, -8, 7, "float8_e5m2")
        with self.assertRaisesRegex(RuntimeError, "scale has shape"):
            torch.ops.qfx.fake_quantize(x, torch.ones(3, 1), torch.zeros(3, 1, dtype=torch.int32),
                                        None, -8, 7, "int")


class RecordingResult(unittest.TextTestResult):
    """Remembers each test's outcome (subtest failures included) for the XML report."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.records = {}

    def startTest(self, test):
        super().startTest(test)
        self.records.setdefault(test.id(), None)

    def _record(self, test, kind, err):
        if self.records.get(test.id()) is None:
            self.records[test.id()] = (kind, self._exc_info_to_string(err, test))

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self._record(test, "failure", err)

    def addError(self, test, err):
        super().addError(test, err)
        self._record(test, "error", err)

    def addSubTest(self, test, subtest, err):
        super().addSubTest(test, subtest, err)
        if err is not None:
            kind = "failure" if issubclass(err[0], test.failureException) else "error"
            self._record(test, kind, err)

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        self.records[test.id()] = ("skipped", reason)


def write_junit_xml(path, records):
    """One <testcase> per test, so scripts/test.sh counts the Python cases."""
    import xml.etree.ElementTree as ET
    suite = ET.Element("testsuite", name="torch_ops_test", tests=str(len(records)))
    for test_id, outcome in sorted(records.items()):
        case = ET.SubElement(suite, "testcase", name=test_id.rsplit(".", 1)[-1],
                             classname=test_id.rsplit(".", 1)[0])
        if outcome is not None:
            kind, text = outcome
            ET.SubElement(case, kind, message=text.splitlines()[-1] if text else "").text = text
    ET.ElementTree(suite).write(path, encoding="unicode")


def main():
    global ARGS
    parser = argparse.ArgumentParser()
    parser.add_argument("--library", required=True)
    parser.add_argument("--golden", required=True)
    ARGS, rest = parser.parse_known_args()
    torch.ops.load_library(ARGS.library)
    runner = unittest.TextTestRunner(resultclass=RecordingResult, verbosity=2)
    program = unittest.main(argv=[sys.argv[0]] + rest, testRunner=runner, exit=False)
    xml_path = os.environ.get("XML_OUTPUT_FILE")
    if xml_path:
        write_junit_xml(xml_path, program.result.records)
    sys.exit(0 if program.result.wasSuccessful() else 1)


if __name__ == "__main__":
    main()
