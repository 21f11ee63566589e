//===- passes/quant/WeightQuantizer.h - Weight numerics lower-to-qdq needs -===//
//
// lower-to-qdq turns a weight fake-quant into integer (or fp8) storage plus a
// dequantize. That takes numerics: the static qparams calculator of the
// weight's spec (reference §5.2-5.3) and quantization to codes (§5.6). Those
// live in runtime/ on at::Tensor, which the pass libraries must not link, so
// the pass asks for this interface through PassContext::getService; the
// runtime implements it and registers it as the process-wide default when it
// is linked. Without an implementation lower-to-qdq still lowers weights
// whose fake-quant carries qparams: integer codes then come from
// quantizeWithQParams below (the kernels' formula, bit for bit), and
// parameters without data (hand-written IR) get storage of the right type and
// no data. What it cannot do without the runtime is compute qparams; it then
// fails naming the fake-quant and the fix.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Graph.h"
#include "passes/quant/QuantSupport.h"
#include "runtime/spec/QuantizationSpec.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/Support/Error.h"

namespace qfx {

class WeightQuantizer {
public:
  /// Service key for PassContext::getService<WeightQuantizer>().
  static char ID;

  virtual ~WeightQuantizer();

  /// The qparams the spec's static calculator derives from `weight`, one
  /// entry per block of `qparamShape` (row-major).
  virtual llvm::Expected<QParamValues> computeQParams(const TensorData &weight,
                                                      const QuantizationSpec &spec,
                                                      llvm::ArrayRef<int64_t> qparamShape) = 0;

  /// The codes of `weight` in the spec's container dtype (int8 / uint8 for
  /// integers, fp8 bit patterns for float formats), shaped like `weight`.
  virtual llvm::Expected<TensorData> quantize(const TensorData &weight,
                                              const QuantizationSpec &spec,
                                              const QParamValues &qparams,
                                              llvm::ArrayRef<int64_t> qparamShape) = 0;
};

/// std::nearbyint(x) in the default rounding mode (round half to even),
/// without a libm call and without branches, so loops over weights
/// vectorize: adding and subtracting 1.5 * 2^23 leaves no fraction bits and
/// the FPU rounds half to even. Valid for |x| <= 2^22 and for NaN (NaN
/// stays NaN); callers clamp larger values first.
inline float roundHalfEvenSmall(float x) {
  constexpr float kMagic = 12582912.0f; // 1.5 * 2^23 (qfx builds without -ffast-math)
  return (x + kMagic) - kMagic;
}

/// Integer codes of f32 `weight` with given qparams, computed as the runtime
/// kernels do: inv = 1.0f / scale, q = nearbyint((x - float_offset) * inv) +
/// quant_offset clamped to [quant_min, quant_max] in float (ZP: offsets
/// zero_point and 0; MINVAL: quant_min and minval). Integer specs and f32
/// data only (the error says so otherwise). `qparams` must have passed
/// checkQParams.
llvm::Expected<TensorData> quantizeWithQParams(const TensorData &weight,
                                               const QuantizationSpec &spec,
                                               const QParamValues &qparams,
                                               llvm::ArrayRef<int64_t> qparamShape);

} // namespace qfx
