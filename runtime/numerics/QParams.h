//===- runtime/numerics/QParams.h - Ranges and qparams on at::Tensor ------===//
//
// The stateless numerics of reference §5.2-5.4 on at::Tensor: the min/max of
// every quantization unit (tensor, channel or block) in one fused pass over
// memory, the float_range / zero substitution, and scale / zero_point /
// minval from a range for every qscheme, including power-of-two (e8m0)
// scales. The stateful observers built on these are in Calculator.h.
//
// Qparam tensors follow the block convention of runtime/spec/Granularity.h,
// which the kernels in runtime/kernels take as is: for a tensor of shape D
// and block shape B they have shape D[d] / B[d] per dim, the tensor's rank
// (per-tensor = all ones). Dtypes (reference §5.2): scale and minval in the
// observed tensor's dtype (fp16 model -> fp16 scale, computed with ATen's own
// fp16 arithmetic exactly like the reference's torch code), zero_point int32.
// Exception: e8m0 scales are always fp32 (§5.3 keeps them fp32 during QAT;
// 2^-126 does not even exist in fp16). FP dtypes have no zero_point or minval
// (undefined tensors).
//
// Non-finite data. A range that contains NaN or +-Inf would give a NaN or
// infinite scale and silently ruin every later step, so computeMinMax fails
// with a NonFiniteInputError naming the observer, the kind (NaN or Inf) and
// the first offending element instead. Callers that want to skip such
// batches can handle that error kind and carry on; nothing is modified.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/spec/Granularity.h"
#include "runtime/spec/QuantizationSpec.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <ATen/core/Tensor.h>

#include <string>
#include <vector>

namespace qfx {

/// fp32 machine epsilon, 2^-23: the lower bound of every non-e8m0 scale. It
/// is the fp32 value for every tensor dtype (the reference passes it
/// explicitly), so fp16 / bf16 scales are not floored at their own eps.
inline constexpr double kScaleEps = 1.1920928955078125e-07;
/// Smallest normal fp32, 2^-126: the lower bound of e8m0 scales.
inline constexpr float kE8M0MinScale = 1.17549435082228750797e-38f;

/// scale / zero_point / minval of one tensor. zeroPoint and minval are
/// undefined for FP dtypes; all three are empty (numel 0) in a calculator
/// that has not observed anything yet.
struct QParams {
  at::Tensor scale;
  at::Tensor zeroPoint;
  at::Tensor minval;
};

/// Per-unit minimum and maximum (qparam-shaped, the observed tensor's dtype).
struct TensorRange {
  at::Tensor min;
  at::Tensor max;
};

/// NaN or +-Inf in data an observer was asked to measure.
class NonFiniteInputError : public llvm::ErrorInfo<NonFiniteInputError> {
public:
  static char ID;
  NonFiniteInputError(std::string observer, bool isNaN, std::vector<int64_t> shape,
                      int64_t flatIndex)
      : observer_(std::move(observer)), isNaN_(isNaN), shape_(std::move(shape)),
        flatIndex_(flatIndex) {}

  llvm::StringRef observer() const { return observer_; }
  /// NaN (true) or an infinity (false) at flatIndex().
  bool isNaN() const { return isNaN_; }
  /// -1 when unknown (a custom range calculator returned a non-finite range;
  /// reported as NaN then).
  int64_t flatIndex() const { return flatIndex_; }
  llvm::ArrayRef<int64_t> shape() const { return shape_; }

  /// "observer 'X' saw NaN in its input (tensor of shape [2, 3], first at flat
  /// index 4); clean the calibration data or exclude this tensor from
  /// quantization (spec null), since a range with NaN/Inf gives no usable
  /// scale".
  void log(llvm::raw_ostream &os) const override;
  std::error_code convertToErrorCode() const override;

private:
  std::string observer_;
  bool isNaN_;
  std::vector<int64_t> shape_;
  int64_t flatIndex_;
};

/// Min and max of every block of `x` (any float dtype, any layout; a
/// non-contiguous CPU tensor is made contiguous first) in one pass over its
/// memory, multi-threaded with at::parallel_for. `blockShape` comes from
/// computeBlockShape for x's shape. An empty tensor is a SpecError (there
/// is no range to report; calculators skip empty inputs before getting
/// here). NaN or Inf anywhere -> NonFiniteInputError naming `observer`.
/// Non-CPU tensors take the reference path below.
llvm::Expected<TensorRange> computeMinMax(const at::Tensor &x, llvm::ArrayRef<int64_t> blockShape,
                                          llvm::StringRef observer = "");
/// Same, with the block shape computed from `granularity` (its errors, e.g.
/// BlockSizeMismatchError, pass through).
llvm::Expected<TensorRange> computeMinMax(const at::Tensor &x, const Granularity &granularity,
                                          llvm::StringRef observer = "");

/// The same reduction written as one reshape and one at::amin / at::amax pair
/// (no NaN check): the oracle for tests and the path for non-CPU tensors.
TensorRange computeMinMaxWithATen(const at::Tensor &x, llvm::ArrayRef<int64_t> blockShape);

/// Reference §5.2 substitution: min_val = float_range.min if set, else
/// min(observed min, 0); max_val = float_range.max if set, else max(observed
/// max, 0). `observed` may be null when both bounds are fixed. Fixed bounds
/// become tensors of `qparamShape` in `dtype` (the reference builds them in
/// fp32 and mixes dtypes in fp16 models; using the tensor's dtype keeps every
/// qparam in one dtype).
TensorRange applyFloatRange(const TensorRange *observed, const FloatRange &floatRange,
                            at::IntArrayRef qparamShape, at::ScalarType dtype);

/// Reference §5.2 / §5.3: qparams of `spec` from a substituted range
/// (`minVal` <= 0 <= `maxVal`, same shape, float dtype). Symmetric schemes:
/// scale = max(max_abs / ((qmax - qmin) / 2), eps), zero_point =
/// trunc((qmax + qmin + 1) / 2), minval = -max_abs. Asymmetric: scale =
/// max((max - min) / (qmax - qmin), eps), zero_point = clamp(qmin -
/// round_half_even(min / scale), qmin, qmax), minval = min. e8m0 specs (and
/// fp4): power-of-two scales from computeE8M0Scale, no offsets. Errors on
/// mismatched or non-float inputs (never throws).
llvm::Expected<QParams> computeQParams(const QuantizationSpec &spec, const at::Tensor &minVal,
                                       const at::Tensor &maxVal);

/// Reference §5.3: scale = 2^clamp(e - t, -127, 128) clamped below at 2^-126,
/// e = unbiased fp32 exponent field of `maxAbs` (-127 for zero / denormals),
/// t = 2 (fp4 e2m1), 8 (fp8 e4m3), 15 (fp8 e5m2). fp32 result. Other dtypes:
/// SpecError.
llvm::Expected<at::Tensor> computeE8M0Scale(const at::Tensor &maxAbs, QuantDType dtype);

} // namespace qfx
