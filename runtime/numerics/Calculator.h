//===- runtime/numerics/Calculator.h - Observers: range and qparams state -===//
//
// The stateful side of observation (reference §5.5): a RangeCalculator
// measures each quantization unit of a tensor (the built-in "minmax"), and a
// QParamsCalculator turns the measured (or float_range-fixed) range into
// scale / zero_point / minval, keeping whatever history its algorithm needs:
//   - static: qparams of the current tensor only;
//   - moving_average: the first observation initializes running_min/max,
//     later ones do running = c * current + (1 - c) * running
//     (c = averaging_constant, 0.01 by default);
//   - global_minmax: running_min/max only ever expand.
// Every calculator substitutes float_range bounds first; with both bounds set
// the qparams are computed once and then frozen.
//
// Defined behaviour at the edges:
//   - Before the first observation the state is empty: qparams() holds
//     numel-0 tensors (scale fp32, zero_point int32 / minval fp32 for integer
//     dtypes, undefined for FP dtypes), isInitialized() is false.
//   - An empty input tensor changes nothing and returns the current qparams.
//   - NaN or Inf in the input: observe() fails with NonFiniteInputError naming
//     this observer and leaves the state untouched (no silent NaN scale).
//     Callers that prefer to skip bad batches handle that error kind.
//   - A block size that does not divide the tensor: BlockSizeMismatchError
//     (fake-quant code disables itself on it, reference §5.7); state untouched.
//   - The granularity can be changed only before the first observation; the
//     number of quantization units may not change after it.
//   - All-zero units: scale = eps (2^-23), or 2^-126 with e8m0 scales; zero
//     data then dequantizes to exact zeros.
//
// Custom algorithms register a factory under a key (registerQParamsCalculator
// / registerRangeCalculator), which also makes the key valid in specs.
// Calculators are not thread-safe; one observer is used by one thread at a
// time.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/numerics/QParams.h"
#include "runtime/spec/QuantizationSpec.h"

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <ATen/core/Tensor.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace qfx {

//===----------------------------------------------------------------------===//
// Range calculators
//===----------------------------------------------------------------------===//

class RangeCalculator {
public:
  virtual ~RangeCalculator();
  /// Registry key ("minmax").
  virtual llvm::StringRef key() const = 0;
  /// Raw per-unit minimum and maximum of `x` for `blockShape` (qparam-shaped,
  /// x's dtype). `observer` names the calling observer in errors.
  virtual llvm::Expected<TensorRange>
  compute(const at::Tensor &x, llvm::ArrayRef<int64_t> blockShape, llvm::StringRef observer) = 0;
};

/// The reference's "minmax": computeMinMax (one fused pass).
class MinMaxRangeCalculator final : public RangeCalculator {
public:
  llvm::StringRef key() const override { return spec_keys::kMinMax; }
  llvm::Expected<TensorRange> compute(const at::Tensor &x, llvm::ArrayRef<int64_t> blockShape,
                                      llvm::StringRef observer) override;
};

using RangeCalculatorFactory =
    std::function<std::unique_ptr<RangeCalculator>(const QuantizationSpec &spec)>;
/// Registers (or replaces) the factory for `key` and makes `key` valid in
/// specs' range_calculator_cls.
void registerRangeCalculator(llvm::StringRef key, RangeCalculatorFactory factory);
/// The range calculator `spec` names.
llvm::Expected<std::unique_ptr<RangeCalculator>>
createRangeCalculator(const QuantizationSpec &spec);

//===----------------------------------------------------------------------===//
// Qparams calculators
//===----------------------------------------------------------------------===//

class QParamsCalculator {
public:
  virtual ~QParamsCalculator();

  /// Builds the calculator `spec` names, resolving "default" for `target`
  /// (static for weights, moving_average for activations). `name` identifies
  /// the observer in messages (e.g. the fake-quant node or observer group).
  static llvm::Expected<std::unique_ptr<QParamsCalculator>>
  create(const QuantizationSpec &spec, QuantTarget target, std::string name);

  /// The reference's forward: observe `x` and return the qparams to use.
  /// See the file comment for empty, NaN/Inf and mismatching inputs.
  llvm::Expected<QParams> observe(const at::Tensor &x);

  /// The qparams of the last observation (empty tensors before the first).
  const QParams &qparams() const { return qparams_; }
  bool isInitialized() const { return initialized_; }

  /// The dtype of the first observed tensor (the reference's
  /// _compute_dtype_for_export); std::nullopt before the first observation.
  std::optional<at::ScalarType> computeDType() const { return computeDType_; }

  const Granularity &granularity() const { return spec_.granularity(); }
  /// Only before the first observation (the reference raises RuntimeError
  /// after it); `granularity` is validated like a spec's.
  llvm::Error setGranularity(Granularity granularity);

  /// Export mode freezes the qparams: observe() returns them unchanged.
  void setExportMode(bool enabled) { exportMode_ = enabled; }
  bool exportMode() const { return exportMode_; }

  /// The spec (with the current granularity).
  const QuantizationSpec &spec() const { return spec_; }
  llvm::StringRef name() const { return name_; }
  /// Registry key of the algorithm ("static", "moving_average", ...).
  virtual llvm::StringRef key() const = 0;
  const RangeCalculator &rangeCalculator() const { return *range_; }

protected:
  QParamsCalculator(QuantizationSpec spec, std::string name,
                    std::unique_ptr<RangeCalculator> range);

  /// The range to compute qparams from, given this observation's substituted
  /// range (`first` on the first observation). Must not modify state: the
  /// result is handed to commitRange() only once the qparams are computed.
  virtual llvm::Expected<TensorRange> nextRange(const TensorRange &current, bool first) {
    return current;
  }
  /// Stores what nextRange() returned.
  virtual void commitRange(const TensorRange &range) {}

private:
  QuantizationSpec spec_;
  std::string name_;
  std::unique_ptr<RangeCalculator> range_;
  QParams qparams_;
  std::vector<int64_t> qparamShape_;
  std::optional<at::ScalarType> computeDType_;
  bool initialized_ = false;
  bool exportMode_ = false;
};

/// "static": qparams from the current tensor only.
class StaticQParamsCalculator final : public QParamsCalculator {
public:
  StaticQParamsCalculator(QuantizationSpec spec, std::string name,
                          std::unique_ptr<RangeCalculator> range)
      : QParamsCalculator(std::move(spec), std::move(name), std::move(range)) {}
  llvm::StringRef key() const override { return spec_keys::kStatic; }
};

/// Base of calculators that keep running_min / running_max (empty until the
/// first observation, then qparam-shaped in the observed dtype).
class RunningRangeQParamsCalculator : public QParamsCalculator {
public:
  const at::Tensor &runningMin() const { return runningMin_; }
  const at::Tensor &runningMax() const { return runningMax_; }

protected:
  using QParamsCalculator::QParamsCalculator;
  /// The update rule for every observation after the first.
  virtual TensorRange updateRunningRange(const TensorRange &current) const = 0;

private:
  llvm::Expected<TensorRange> nextRange(const TensorRange &current, bool first) final;
  void commitRange(const TensorRange &range) final;

  at::Tensor runningMin_;
  at::Tensor runningMax_;
};

/// "moving_average": running = c * current + (1 - c) * running.
class MovingAverageQParamsCalculator final : public RunningRangeQParamsCalculator {
public:
  MovingAverageQParamsCalculator(QuantizationSpec spec, std::string name,
                                 std::unique_ptr<RangeCalculator> range);
  llvm::StringRef key() const override { return spec_keys::kMovingAverage; }
  double averagingConstant() const { return averagingConstant_; }

private:
  TensorRange updateRunningRange(const TensorRange &current) const override;
  double averagingConstant_;
};

/// "global_minmax": running_min = min(running_min, current), running_max =
/// max(running_max, current).
class GlobalMinMaxQParamsCalculator final : public RunningRangeQParamsCalculator {
public:
  GlobalMinMaxQParamsCalculator(QuantizationSpec spec, std::string name,
                                std::unique_ptr<RangeCalculator> range)
      : RunningRangeQParamsCalculator(std::move(spec), std::move(name), std::move(range)) {}
  llvm::StringRef key() const override { return spec_keys::kGlobalMinMax; }

private:
  TensorRange updateRunningRange(const TensorRange &current) const override;
};

using QParamsCalculatorFactory = std::function<std::unique_ptr<QParamsCalculator>(
    QuantizationSpec spec, std::string name, std::unique_ptr<RangeCalculator> range)>;
/// Registers (or replaces) the factory for `key` and makes `key` valid in
/// specs' qparam_calculator_cls. "default" cannot be registered (it is the
/// weight/activation marker).
llvm::Error registerQParamsCalculator(llvm::StringRef key, QParamsCalculatorFactory factory);

} // namespace qfx
