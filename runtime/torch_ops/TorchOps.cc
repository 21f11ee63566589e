//===- runtime/torch_ops/TorchOps.cc - TORCH_LIBRARY(qfx) registration ----===//
//
// Registers the qfx TorchScript operators (schemas in TorchOps.h) on top of
// runtime/kernels. Each op turns its flat arguments into QuantKernelParams
// (formulation from which of zero_point / minval is given, format from its
// name) and calls the kernel. The ops are registered without a dispatch key
// (CompositeImplicitAutograd): fake_quantize reaches autograd through the
// kernels' own autograd function, so eager, TorchScript and autograd callers
// all get the straight-through gradient.
//
//===----------------------------------------------------------------------===//
#include "runtime/torch_ops/TorchOps.h"

#include "runtime/kernels/Kernels.h"

#include <torch/library.h>

#include <string>

namespace qfx::torch_ops {
namespace {

QuantKernelParams makeParams(const char *op, const at::Tensor &scale,
                             const c10::optional<at::Tensor> &zeroPoint,
                             const c10::optional<at::Tensor> &minVal, int64_t quantMin,
                             int64_t quantMax, c10::string_view format) {
  QuantKernelParams p;
  const std::optional<ElementFormat> parsed =
      parseElementFormat(std::string_view(format.data(), format.size()));
  TORCH_CHECK(parsed, op, ": format '", std::string(format.data(), format.size()),
              "' is not supported; expected one of ", allElementFormatNames());
  p.format = *parsed;
  p.quantMin = quantMin;
  p.quantMax = quantMax;
  p.scale = scale;
  const bool hasZeroPoint = zeroPoint.has_value() && zeroPoint->defined();
  const bool hasMinVal = minVal.has_value() && minVal->defined();
  if (p.format == ElementFormat::Int) {
    TORCH_CHECK(hasZeroPoint != hasMinVal, op,
                ": format 'int' needs exactly one of zero_point (formulation zp) or minval "
                "(formulation minval), got ",
                hasZeroPoint ? "both" : "neither");
    p.formulation = hasZeroPoint ? Formulation::ZeroPoint : Formulation::MinVal;
    if (hasZeroPoint)
      p.zeroPoint = *zeroPoint;
    else
      p.minVal = *minVal;
  } else {
    TORCH_CHECK(!hasZeroPoint && !hasMinVal, op, ": format '", elementFormatName(p.format),
                "' takes no zero_point or minval (float formats are symmetric)");
  }
  return p;
}

at::Tensor fakeQuantizeOp(const at::Tensor &x, const at::Tensor &scale,
                          const c10::optional<at::Tensor> &zeroPoint,
                          const c10::optional<at::Tensor> &minVal, int64_t quantMin,
                          int64_t quantMax, c10::string_view format) {
  return fakeQuantize(
      x, makeParams("qfx::fake_quantize", scale, zeroPoint, minVal, quantMin, quantMax, format));
}

std::tuple<at::Tensor, at::Tensor>
fakeQuantizeWithMaskOp(const at::Tensor &x, const at::Tensor &scale,
                       const c10::optional<at::Tensor> &zeroPoint,
                       const c10::optional<at::Tensor> &minVal, int64_t quantMin, int64_t quantMax,
                       c10::string_view format) {
  FakeQuantizeResult r =
      fakeQuantizeForward(x,
                          makeParams("qfx::fake_quantize_with_mask", scale, zeroPoint, minVal,
                                     quantMin, quantMax, format),
                          /*computeMask=*/true);
  return {r.output, r.mask};
}

at::Tensor quantizeOp(const at::Tensor &x, const at::Tensor &scale,
                      const c10::optional<at::Tensor> &zeroPoint,
                      const c10::optional<at::Tensor> &minVal, int64_t quantMin, int64_t quantMax,
                      c10::string_view format) {
  return quantize(
      x, makeParams("qfx::quantize", scale, zeroPoint, minVal, quantMin, quantMax, format));
}

at::Tensor dequantizeOp(const at::Tensor &q, const at::Tensor &scale,
                        const c10::optional<at::Tensor> &zeroPoint,
                        const c10::optional<at::Tensor> &minVal, int64_t quantMin, int64_t quantMax,
                        c10::string_view format, c10::optional<at::ScalarType> outDtype) {
  return dequantize(
      q, makeParams("qfx::dequantize", scale, zeroPoint, minVal, quantMin, quantMax, format),
      outDtype.value_or(at::kFloat));
}

} // namespace
} // namespace qfx::torch_ops

TORCH_LIBRARY(qfx, m) {
  using namespace qfx::torch_ops;
  m.def(kFakeQuantizeSchema, &fakeQuantizeOp);
  m.def(kFakeQuantizeWithMaskSchema, &fakeQuantizeWithMaskOp);
  m.def(kQuantizeSchema, &quantizeOp);
  m.def(kDequantizeSchema, &dequantizeOp);
}
