//===- runtime/numerics/Calculator.cc - Observers: range and qparams state ===//
//
// The observation flow of QParamsCalculator::observe (the reference's
// QParamsCalculatorBase.forward), the running-range update rules and the
// calculator registries.
//
//===----------------------------------------------------------------------===//
#include "runtime/numerics/Calculator.h"

#include "runtime/spec/SpecError.h"

#include <ATen/ATen.h>

#include "llvm/ADT/StringMap.h"

#include <mutex>

namespace qfx {

namespace {

std::vector<int64_t> toVector(at::IntArrayRef values) {
  return std::vector<int64_t>(values.begin(), values.end());
}

template <typename Factory> struct Registry {
  std::mutex mutex;
  llvm::StringMap<Factory> factories;
};

Registry<RangeCalculatorFactory> &rangeRegistry() {
  static Registry<RangeCalculatorFactory> *registry = [] {
    auto *r = new Registry<RangeCalculatorFactory>();
    r->factories[spec_keys::kMinMax] = [](const QuantizationSpec &) {
      return std::make_unique<MinMaxRangeCalculator>();
    };
    return r;
  }();
  return *registry;
}

Registry<QParamsCalculatorFactory> &qparamsRegistry() {
  static Registry<QParamsCalculatorFactory> *registry = [] {
    auto *r = new Registry<QParamsCalculatorFactory>();
    r->factories[spec_keys::kStatic] = [](QuantizationSpec spec, std::string name,
                                          std::unique_ptr<RangeCalculator> range) {
      return std::make_unique<StaticQParamsCalculator>(std::move(spec), std::move(name),
                                                       std::move(range));
    };
    r->factories[spec_keys::kMovingAverage] = [](QuantizationSpec spec, std::string name,
                                                 std::unique_ptr<RangeCalculator> range) {
      return std::make_unique<MovingAverageQParamsCalculator>(std::move(spec), std::move(name),
                                                              std::move(range));
    };
    r->factories[spec_keys::kGlobalMinMax] = [](QuantizationSpec spec, std::string name,
                                                std::unique_ptr<RangeCalculator> range) {
      return std::make_unique<GlobalMinMaxQParamsCalculator>(std::move(spec), std::move(name),
                                                             std::move(range));
    };
    return r;
  }();
  return *registry;
}

/// The qparams of a calculator that has observed nothing yet.
QParams emptyQParams(const QuantizationSpec &spec) {
  QParams qparams;
  qparams.scale = at::empty({0}, at::kFloat);
  if (spec.hasOffsets()) {
    qparams.zeroPoint = at::empty({0}, at::kInt);
    qparams.minval = at::empty({0}, at::kFloat);
  }
  return qparams;
}

} // namespace

//===----------------------------------------------------------------------===//
// Range calculators
//===----------------------------------------------------------------------===//

RangeCalculator::~RangeCalculator() = default;

llvm::Expected<TensorRange> MinMaxRangeCalculator::compute(const at::Tensor &x,
                                                           llvm::ArrayRef<int64_t> blockShape,
                                                           llvm::StringRef observer) {
  return computeMinMax(x, blockShape, observer);
}

void registerRangeCalculator(llvm::StringRef key, RangeCalculatorFactory factory) {
  Registry<RangeCalculatorFactory> &registry = rangeRegistry();
  {
    std::lock_guard<std::mutex> lock(registry.mutex);
    registry.factories[key] = std::move(factory);
  }
  registerSpecClassKey(SpecRegistry::RangeCalculator, key);
}

llvm::Expected<std::unique_ptr<RangeCalculator>>
createRangeCalculator(const QuantizationSpec &spec) {
  Registry<RangeCalculatorFactory> &registry = rangeRegistry();
  RangeCalculatorFactory factory;
  {
    std::lock_guard<std::mutex> lock(registry.mutex);
    auto it = registry.factories.find(spec.rangeCalculator());
    if (it != registry.factories.end())
      factory = it->second;
  }
  if (!factory)
    return makeSpecError("range_calculator_cls",
                         "no range calculator implementation is registered for key '" +
                             spec.rangeCalculator() + "'");
  return factory(spec);
}

//===----------------------------------------------------------------------===//
// QParamsCalculator
//===----------------------------------------------------------------------===//

QParamsCalculator::QParamsCalculator(QuantizationSpec spec, std::string name,
                                     std::unique_ptr<RangeCalculator> range)
    : spec_(std::move(spec)), name_(std::move(name)), range_(std::move(range)),
      qparams_(emptyQParams(spec_)) {}

QParamsCalculator::~QParamsCalculator() = default;

llvm::Error registerQParamsCalculator(llvm::StringRef key, QParamsCalculatorFactory factory) {
  if (key == spec_keys::kDefault)
    return makeSpecError("qparam_calculator_cls",
                         "'default' is the weight/activation marker and cannot be registered");
  Registry<QParamsCalculatorFactory> &registry = qparamsRegistry();
  {
    std::lock_guard<std::mutex> lock(registry.mutex);
    registry.factories[key] = std::move(factory);
  }
  registerSpecClassKey(SpecRegistry::QParamsCalculator, key);
  return llvm::Error::success();
}

llvm::Expected<std::unique_ptr<QParamsCalculator>>
QParamsCalculator::create(const QuantizationSpec &spec, QuantTarget target, std::string name) {
  llvm::StringRef key = spec.resolvedQParamsCalculator(target);
  Registry<QParamsCalculatorFactory> &registry = qparamsRegistry();
  QParamsCalculatorFactory factory;
  {
    std::lock_guard<std::mutex> lock(registry.mutex);
    auto it = registry.factories.find(key);
    if (it != registry.factories.end())
      factory = it->second;
  }
  if (!factory)
    return makeSpecError("qparam_calculator_cls",
                         "no qparams calculator implementation is registered for key '" + key +
                             "'");
  llvm::Expected<std::unique_ptr<RangeCalculator>> range = createRangeCalculator(spec);
  if (!range)
    return range.takeError();
  return factory(spec, std::move(name), std::move(*range));
}

llvm::Error QParamsCalculator::setGranularity(Granularity granularity) {
  if (initialized_)
    return makeSpecError("granularity",
                         "Cannot change granularity after observer '" + name_ +
                             "' has been initialized. Granularity must be set before the first "
                             "forward pass.");
  llvm::Expected<QuantizationSpec> spec = spec_.withGranularity(std::move(granularity));
  if (!spec)
    return spec.takeError();
  spec_ = std::move(*spec);
  return llvm::Error::success();
}

llvm::Expected<QParams> QParamsCalculator::observe(const at::Tensor &x) {
  if (!x.defined() || !at::isFloatingType(x.scalar_type()))
    return makeSpecError("", "observer '" + name_ + "' expects a floating-point tensor, got " +
                                 (x.defined() ? std::string(c10::toString(x.scalar_type()))
                                              : std::string("an undefined tensor")));
  // Nothing to measure: keep the state (documented in the header).
  if (x.numel() == 0)
    return qparams_;
  const FloatRange &floatRange = spec_.floatRange();
  // Both bounds fixed: the first observation decided everything.
  if (initialized_ && floatRange.bothSet())
    return qparams_;
  if (exportMode_)
    return qparams_;

  std::vector<int64_t> shape = toVector(x.sizes());
  llvm::Expected<std::vector<int64_t>> block = computeBlockShape(spec_.granularity(), shape);
  if (!block)
    return block.takeError();
  std::vector<int64_t> qshape = numBlocksPerDim(shape, *block);
  if (initialized_ && qshape != qparamShape_)
    return makeSpecError("granularity", "observer '" + name_ +
                                            "' was initialized with qparams of shape " +
                                            formatShape(qparamShape_) + " but a tensor of shape " +
                                            formatShape(shape) + " gives " + formatShape(qshape) +
                                            " under " + spec_.granularity().str());

  TensorRange observed;
  if (!floatRange.bothSet()) {
    llvm::Expected<TensorRange> measured = range_->compute(x, *block, name_);
    if (!measured)
      return measured.takeError();
    observed = std::move(*measured);
    // Custom range calculators are held to the same contract as minmax.
    if (!observed.min.defined() || !observed.max.defined() ||
        toVector(observed.min.sizes()) != qshape || toVector(observed.max.sizes()) != qshape)
      return makeSpecError("range_calculator_cls",
                           "range calculator '" + range_->key() + "' of observer '" + name_ +
                               "' returned ranges of the wrong shape (expected " +
                               formatShape(qshape) + ")");
    if (!at::isfinite(observed.min).all().item<bool>() ||
        !at::isfinite(observed.max).all().item<bool>())
      return llvm::make_error<NonFiniteInputError>(name_, /*isNaN=*/true, shape, -1);
  }
  TensorRange substituted = applyFloatRange(floatRange.bothSet() ? nullptr : &observed, floatRange,
                                            qshape, x.scalar_type());

  llvm::Expected<TensorRange> range = nextRange(substituted, !initialized_);
  if (!range)
    return range.takeError();
  llvm::Expected<QParams> qparams = computeQParams(spec_, range->min, range->max);
  if (!qparams)
    return qparams.takeError();

  commitRange(*range);
  if (!initialized_) {
    computeDType_ = x.scalar_type();
    qparamShape_ = qshape;
    initialized_ = true;
  }
  qparams_ = *qparams;
  return qparams_;
}

//===----------------------------------------------------------------------===//
// Running ranges
//===----------------------------------------------------------------------===//

llvm::Expected<TensorRange> RunningRangeQParamsCalculator::nextRange(const TensorRange &current,
                                                                     bool first) {
  if (first)
    return current;
  return updateRunningRange(current);
}

void RunningRangeQParamsCalculator::commitRange(const TensorRange &range) {
  runningMin_ = range.min;
  runningMax_ = range.max;
}

MovingAverageQParamsCalculator::MovingAverageQParamsCalculator(
    QuantizationSpec spec, std::string name, std::unique_ptr<RangeCalculator> range)
    : RunningRangeQParamsCalculator(std::move(spec), std::move(name), std::move(range)) {
  averagingConstant_ = this->spec().averagingConstant();
}

TensorRange MovingAverageQParamsCalculator::updateRunningRange(const TensorRange &current) const {
  // c * x + (1 - c) * running, op for op as the reference writes it (a tensor
  // times a Python float on each side), so the rounding is the same.
  const double c = averagingConstant_;
  TensorRange next;
  next.min = at::add(at::mul(current.min, c), at::mul(runningMin(), 1.0 - c));
  next.max = at::add(at::mul(current.max, c), at::mul(runningMax(), 1.0 - c));
  return next;
}

TensorRange GlobalMinMaxQParamsCalculator::updateRunningRange(const TensorRange &current) const {
  return {at::minimum(runningMin(), current.min), at::maximum(runningMax(), current.max)};
}

} // namespace qfx
