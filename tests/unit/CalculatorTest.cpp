//===- tests/unit/CalculatorTest.cpp - Stateful qparams calculators -------===//
//
// Unit tests of the observers in //runtime/numerics (Calculator.h), reference
// §5.5: static, moving_average (ratio 1.9 with c = 0.9), global_minmax
// (expand, never shrink), float_range substitution and freezing, the empty
// state before the first observation, granularity fixed after first use, the
// "default" resolution, and the edge-case policies (empty input, NaN/Inf,
// block mismatch, all-zero data, changing unit counts), plus registration of
// custom algorithms.
//
//===----------------------------------------------------------------------===//
#include "runtime/numerics/Calculator.h"
#include "runtime/spec/SpecError.h"

#include <ATen/ATen.h>

#include "llvm/Support/Error.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

using namespace qfx;
using ::testing::HasSubstr;

namespace {

QuantizationSpec specFromYAML(llvm::StringRef yaml) {
  llvm::Expected<QuantizationSpec> spec = QuantizationSpec::fromYAML(yaml);
  if (!spec) {
    ADD_FAILURE() << llvm::toString(spec.takeError());
    return QuantizationSpec();
  }
  return *spec;
}

std::unique_ptr<QParamsCalculator>
make(llvm::StringRef yaml, QuantTarget target = QuantTarget::Activation, std::string name = "obs") {
  llvm::Expected<std::unique_ptr<QParamsCalculator>> calculator =
      QParamsCalculator::create(specFromYAML(yaml), target, std::move(name));
  if (!calculator) {
    ADD_FAILURE() << llvm::toString(calculator.takeError());
    return nullptr;
  }
  return std::move(*calculator);
}

QParams observe(QParamsCalculator &calculator, const at::Tensor &x) {
  llvm::Expected<QParams> qparams = calculator.observe(x);
  if (!qparams) {
    ADD_FAILURE() << llvm::toString(qparams.takeError());
    return {};
  }
  return *qparams;
}

at::Tensor values(std::vector<float> v) { return at::tensor(v, at::kFloat); }

float scalar(const at::Tensor &t) { return t.flatten()[0].item<float>(); }

//===----------------------------------------------------------------------===//
// Construction and the "default" marker
//===----------------------------------------------------------------------===//

TEST(Calculator, DefaultResolvesByTarget) {
  auto weight = make("{}", QuantTarget::Weight);
  auto activation = make("{}", QuantTarget::Activation);
  EXPECT_EQ(weight->key(), "static");
  EXPECT_EQ(activation->key(), "moving_average");
  EXPECT_EQ(make("qparam_calculator_cls: global_minmax")->key(), "global_minmax");
  EXPECT_EQ(weight->rangeCalculator().key(), "minmax");
  EXPECT_EQ(weight->name(), "obs");
  auto *movingAverage = dynamic_cast<MovingAverageQParamsCalculator *>(activation.get());
  ASSERT_NE(movingAverage, nullptr);
  EXPECT_EQ(movingAverage->averagingConstant(), 0.01);
}

TEST(Calculator, EmptyStateBeforeFirstObservation) {
  auto calculator = make("{qscheme: asymmetric}", QuantTarget::Weight);
  EXPECT_FALSE(calculator->isInitialized());
  EXPECT_EQ(calculator->computeDType(), std::nullopt);
  const QParams &qparams = calculator->qparams();
  EXPECT_EQ(qparams.scale.numel(), 0);
  EXPECT_EQ(qparams.scale.scalar_type(), at::kFloat);
  EXPECT_EQ(qparams.zeroPoint.numel(), 0);
  EXPECT_EQ(qparams.zeroPoint.scalar_type(), at::kInt);
  EXPECT_EQ(qparams.minval.numel(), 0);
  // FP dtypes have neither zero_point nor minval.
  auto fp8 = make("dtype: float8_e4m3fn");
  EXPECT_EQ(fp8->qparams().scale.numel(), 0);
  EXPECT_FALSE(fp8->qparams().zeroPoint.defined());
  EXPECT_FALSE(fp8->qparams().minval.defined());
  auto *running = dynamic_cast<RunningRangeQParamsCalculator *>(fp8.get());
  ASSERT_NE(running, nullptr);
  EXPECT_FALSE(running->runningMin().defined());
}

//===----------------------------------------------------------------------===//
// static
//===----------------------------------------------------------------------===//

TEST(Calculator, StaticUsesTheCurrentTensorOnly) {
  auto calculator = make("{qscheme: asymmetric, dtype: int8, qparam_calculator_cls: static}");
  QParams first = observe(*calculator, values({-1, 0, 7}));
  EXPECT_EQ(scalar(first.scale), 8.0f / 255.0f);
  EXPECT_EQ(scalar(first.zeroPoint), -96);
  EXPECT_EQ(scalar(first.minval), -1.0f);
  EXPECT_TRUE(calculator->isInitialized());
  EXPECT_EQ(calculator->computeDType(), at::kFloat);
  QParams second = observe(*calculator, values({-3, 0, 1}));
  EXPECT_EQ(scalar(second.scale), 4.0f / 255.0f);
  EXPECT_EQ(scalar(calculator->qparams().scale), 4.0f / 255.0f);
  EXPECT_EQ(scalar(calculator->qparams().minval), -3.0f);
}

//===----------------------------------------------------------------------===//
// moving_average
//===----------------------------------------------------------------------===//

TEST(Calculator, MovingAverageRatioIsOnePlusC) {
  // x then 2x with c = 0.9: running = 0.9 * 2r + 0.1 * r = 1.9 r.
  auto calculator = make("{qscheme: asymmetric, dtype: uint8, qparam_calculator_cls: "
                         "moving_average, averaging_constant: 0.9}");
  at::Tensor x = values({-1, 0.5, 3});
  QParams first = observe(*calculator, x);
  QParams second = observe(*calculator, x * 2);
  EXPECT_NEAR(scalar(second.scale) / scalar(first.scale), 1.9, 1e-6);
  EXPECT_EQ(scalar(second.zeroPoint), scalar(first.zeroPoint));
  EXPECT_NEAR(scalar(second.minval) / scalar(first.minval), 1.9, 1e-6);
  auto &running = dynamic_cast<RunningRangeQParamsCalculator &>(*calculator);
  // The same arithmetic as the reference: c * x + (1 - c) * running in fp32.
  float expectedMin = 0.9f * -2.0f + static_cast<float>(1.0 - 0.9) * -1.0f;
  EXPECT_EQ(scalar(running.runningMin()), expectedMin);
}

TEST(Calculator, MovingAverageDefaultConstantAndPerChannelState) {
  auto calculator = make("{granularity: {type: per_channel, axis: 0}}");
  at::Tensor x = at::tensor({1.0f, -2.0f, 4.0f, 8.0f}).reshape({2, 2});
  observe(*calculator, x);
  auto &running = dynamic_cast<RunningRangeQParamsCalculator &>(*calculator);
  EXPECT_EQ(running.runningMax().sizes(), (at::IntArrayRef{2, 1}));
  observe(*calculator, x * 3);
  // running_max of channel 1: 0.01 * 24 + 0.99 * 8.
  EXPECT_FLOAT_EQ(running.runningMax()[1][0].item<float>(), 0.01f * 24 + 0.99f * 8);
  EXPECT_FLOAT_EQ(running.runningMin()[0][0].item<float>(), 0.01f * -6 + 0.99f * -2);
}

//===----------------------------------------------------------------------===//
// global_minmax
//===----------------------------------------------------------------------===//

TEST(Calculator, GlobalMinMaxExpandsAndNeverShrinks) {
  auto calculator = make("{qscheme: asymmetric, dtype: uint8, qparam_calculator_cls: "
                         "global_minmax}");
  auto &running = dynamic_cast<RunningRangeQParamsCalculator &>(*calculator);
  observe(*calculator, values({-1, 2}));
  EXPECT_EQ(scalar(running.runningMin()), -1.0f);
  EXPECT_EQ(scalar(running.runningMax()), 2.0f);
  observe(*calculator, values({-0.5, 3}));
  EXPECT_EQ(scalar(running.runningMin()), -1.0f);
  EXPECT_EQ(scalar(running.runningMax()), 3.0f);
  QParams shrunk = observe(*calculator, values({-0.1, 0.1}));
  EXPECT_EQ(scalar(running.runningMin()), -1.0f);
  EXPECT_EQ(scalar(running.runningMax()), 3.0f);
  EXPECT_EQ(scalar(shrunk.scale), 4.0f / 255.0f);
  observe(*calculator, values({-4, 0}));
  EXPECT_EQ(scalar(running.runningMin()), -4.0f);
  EXPECT_EQ(scalar(calculator->qparams().scale), 7.0f / 255.0f);
}

//===----------------------------------------------------------------------===//
// float_range
//===----------------------------------------------------------------------===//

TEST(Calculator, FloatRangeBothBoundsFreezesQParams) {
  auto calculator = make("{qscheme: asymmetric, dtype: uint8, qparam_calculator_cls: "
                         "moving_average, float_range: [0, 5]}");
  QParams first = observe(*calculator, values({-3, 1, 9}));
  EXPECT_EQ(scalar(first.minval), 0.0f);
  EXPECT_EQ(scalar(first.scale), 5.0f / 255.0f);
  EXPECT_EQ(scalar(first.zeroPoint), 0);
  QParams second = observe(*calculator, values({-100, 40, 200}));
  EXPECT_TRUE(at::equal(second.scale, first.scale));
  EXPECT_TRUE(at::equal(second.zeroPoint, first.zeroPoint));
  EXPECT_TRUE(at::equal(second.minval, first.minval));
  // Frozen even for a tensor whose range is NaN (the data is never read).
  const float nan = std::numeric_limits<float>::quiet_NaN();
  QParams third = observe(*calculator, values({nan, 1}));
  EXPECT_TRUE(at::equal(third.scale, first.scale));
}

TEST(Calculator, FloatRangeSymmetricUsesTheLargerBound) {
  for (const char *range : {"[0, 5]", "[-5, 0]"}) {
    SCOPED_TRACE(range);
    auto calculator =
        make(std::string("{qscheme: symmetric, dtype: int8, float_range: ") + range + "}");
    QParams qparams = observe(*calculator, values({-1, 0.5}));
    EXPECT_EQ(scalar(qparams.scale), 5.0f / 127.5f);
    EXPECT_EQ(scalar(qparams.zeroPoint), 0);
    EXPECT_EQ(scalar(qparams.minval), -5.0f);
  }
}

TEST(Calculator, FloatRangeOneBoundKeepsObserving) {
  auto calculator = make("{qscheme: asymmetric, dtype: uint8, qparam_calculator_cls: static, "
                         "float_range: [-2, null]}");
  EXPECT_EQ(scalar(observe(*calculator, values({-1, 3})).scale), 5.0f / 255.0f);
  EXPECT_EQ(scalar(observe(*calculator, values({-1, 6})).scale), 8.0f / 255.0f);
  EXPECT_EQ(scalar(calculator->qparams().minval), -2.0f);
}

//===----------------------------------------------------------------------===//
// Granularity, shapes, dtypes
//===----------------------------------------------------------------------===//

TEST(Calculator, GranularityFixedAfterFirstUse) {
  auto calculator = make("{}", QuantTarget::Weight);
  EXPECT_FALSE(bool(calculator->setGranularity(Granularity::perChannel(0))));
  EXPECT_EQ(calculator->granularity(), Granularity::perChannel(0));
  EXPECT_EQ(calculator->spec().granularity(), Granularity::perChannel(0));
  llvm::Error invalid = calculator->setGranularity(Granularity::perBlock(5, 2));
  EXPECT_THAT(llvm::toString(std::move(invalid)), HasSubstr("per_block axis must be 0, 1"));
  QParams qparams = observe(*calculator, at::randn({4, 3}));
  EXPECT_EQ(qparams.scale.sizes(), (at::IntArrayRef{4, 1}));
  llvm::Error late = calculator->setGranularity(Granularity::perTensor());
  EXPECT_THAT(llvm::toString(std::move(late)),
              HasSubstr("Cannot change granularity after observer 'obs' has been initialized. "
                        "Granularity must be set before the first forward pass."));
  EXPECT_EQ(calculator->granularity(), Granularity::perChannel(0));
}

TEST(Calculator, UnitCountMayNotChangeAfterInitialization) {
  auto calculator = make("granularity: {type: per_channel, axis: 1}");
  observe(*calculator, at::randn({2, 8}));
  // A different batch size is fine for per-channel on axis 1...
  observe(*calculator, at::randn({5, 8}));
  // ...a different channel count is not.
  llvm::Expected<QParams> bad = calculator->observe(at::randn({2, 4}));
  ASSERT_FALSE(bool(bad));
  EXPECT_THAT(llvm::toString(bad.takeError()),
              HasSubstr("observer 'obs' was initialized with qparams of shape [1, 8] but a "
                        "tensor of shape [2, 4] gives [1, 4] under per_channel(axis=1)"));
}

TEST(Calculator, QParamDTypesFollowTheFirstObservedTensor) {
  auto calculator = make("{qscheme: asymmetric}", QuantTarget::Weight);
  QParams qparams = observe(*calculator, at::randn({3, 3}).to(at::kBFloat16));
  EXPECT_EQ(calculator->computeDType(), at::kBFloat16);
  EXPECT_EQ(qparams.scale.scalar_type(), at::kBFloat16);
  EXPECT_EQ(qparams.minval.scalar_type(), at::kBFloat16);
  EXPECT_EQ(qparams.zeroPoint.scalar_type(), at::kInt);
  auto fp16 = make("{}", QuantTarget::Activation);
  QParams half = observe(*fp16, at::randn({3, 3}).to(at::kHalf));
  EXPECT_EQ(half.scale.scalar_type(), at::kHalf);
  half = observe(*fp16, at::randn({3, 3}).to(at::kHalf));
  EXPECT_EQ(half.scale.scalar_type(), at::kHalf);
}

TEST(Calculator, ExportModeFreezes) {
  auto calculator = make("{}", QuantTarget::Weight);
  QParams first = observe(*calculator, values({-1, 1}));
  calculator->setExportMode(true);
  QParams frozen = observe(*calculator, values({-8, 8}));
  EXPECT_TRUE(at::equal(frozen.scale, first.scale));
  calculator->setExportMode(false);
  EXPECT_EQ(scalar(observe(*calculator, values({-8, 8})).scale), 8.0f / 127.5f);
}

//===----------------------------------------------------------------------===//
// Edge cases (issue item 6)
//===----------------------------------------------------------------------===//

TEST(Calculator, EmptyInputChangesNothing) {
  auto calculator = make("{}", QuantTarget::Activation);
  QParams before = observe(*calculator, at::empty({0, 4}));
  EXPECT_FALSE(calculator->isInitialized());
  EXPECT_EQ(before.scale.numel(), 0);
  QParams first = observe(*calculator, values({-2, 2}));
  QParams after = observe(*calculator, at::empty({0}));
  EXPECT_TRUE(at::equal(after.scale, first.scale));
  EXPECT_EQ(scalar(dynamic_cast<RunningRangeQParamsCalculator &>(*calculator).runningMax()), 2.0f);
}

TEST(Calculator, NaNAndInfFailWithTheObserverNameAndKeepTheState) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  auto calculator = make("{}", QuantTarget::Activation, "layer1.0.conv1:input0");
  QParams good = observe(*calculator, values({-2, 2}));
  llvm::Expected<QParams> bad = calculator->observe(values({1, nan, 3}));
  ASSERT_FALSE(bool(bad));
  llvm::Error error = bad.takeError();
  EXPECT_TRUE(error.isA<NonFiniteInputError>());
  EXPECT_THAT(llvm::toString(std::move(error)),
              HasSubstr("observer 'layer1.0.conv1:input0' saw NaN in its input (tensor of shape "
                        "[3], first at flat index 1); clean the calibration data or exclude this "
                        "tensor from quantization"));
  bad = calculator->observe(values({1, 3, -inf}));
  ASSERT_FALSE(bool(bad));
  EXPECT_THAT(llvm::toString(bad.takeError()), HasSubstr("saw Inf in its input"));
  // No NaN scale, no state change.
  EXPECT_TRUE(at::equal(calculator->qparams().scale, good.scale));
  auto &running = dynamic_cast<RunningRangeQParamsCalculator &>(*calculator);
  EXPECT_EQ(scalar(running.runningMax()), 2.0f);
  // A first observation with NaN leaves the calculator uninitialized.
  auto fresh = make("{}", QuantTarget::Weight);
  llvm::Expected<QParams> failed = fresh->observe(values({nan}));
  ASSERT_FALSE(bool(failed));
  llvm::consumeError(failed.takeError());
  EXPECT_FALSE(fresh->isInitialized());
}

TEST(Calculator, BlockSizeMismatchIsReportedAsSuch) {
  auto calculator =
      make("granularity: {type: per_block, axis: 0, block_size: 32}", QuantTarget::Weight);
  llvm::Expected<QParams> result = calculator->observe(at::randn({1000, 768}));
  ASSERT_FALSE(bool(result));
  llvm::Error error = result.takeError();
  EXPECT_TRUE(error.isA<BlockSizeMismatchError>());
  EXPECT_THAT(llvm::toString(std::move(error)),
              HasSubstr("tensor of shape [1000, 768] is incompatible with block size "
                        "configuration per_block(axis=0, block_size=32)"));
  EXPECT_FALSE(calculator->isInitialized());
  EXPECT_EQ(observe(*calculator, at::randn({1024, 768})).scale.sizes(), (at::IntArrayRef{32, 768}));
}

TEST(Calculator, AllZeroDataGivesEpsAndExactZeros) {
  const float eps = std::ldexp(1.0f, -23);
  auto symmetric = make("{}", QuantTarget::Activation);
  QParams qparams = observe(*symmetric, at::zeros({2, 3}));
  EXPECT_EQ(scalar(qparams.scale), eps);
  EXPECT_EQ(scalar(qparams.zeroPoint), 0);
  at::Tensor back =
      at::fake_quantize_per_tensor_affine(at::zeros({2, 3}), scalar(qparams.scale), 0, -128, 127);
  EXPECT_TRUE(at::all(back == 0).item<bool>());
  auto asymmetric = make("{qscheme: asymmetric, dtype: uint8}", QuantTarget::Weight);
  qparams = observe(*asymmetric, at::zeros({4}));
  EXPECT_EQ(scalar(qparams.scale), eps);
  EXPECT_EQ(scalar(qparams.zeroPoint), 0);
  EXPECT_EQ(scalar(qparams.minval), 0.0f);
  auto fp4 = make("{dtype: float4_e2m1fn_x2, granularity: {type: per_block, axis: 1, "
                  "block_size: 32}}",
                  QuantTarget::Weight);
  qparams = observe(*fp4, at::zeros({2, 64}));
  EXPECT_EQ(qparams.scale.sizes(), (at::IntArrayRef{2, 2}));
  EXPECT_TRUE(at::all(qparams.scale == std::ldexp(1.0f, -126)).item<bool>());
}

TEST(Calculator, RejectsNonFloatInput) {
  auto calculator = make("{}", QuantTarget::Weight);
  llvm::Expected<QParams> result = calculator->observe(at::ones({3}, at::kLong));
  ASSERT_FALSE(bool(result));
  EXPECT_THAT(llvm::toString(result.takeError()),
              HasSubstr("observer 'obs' expects a floating-point tensor, got Long"));
}

//===----------------------------------------------------------------------===//
// Registration of custom algorithms
//===----------------------------------------------------------------------===//

/// A toy range calculator: half of the min/max range.
class HalfRange final : public RangeCalculator {
public:
  llvm::StringRef key() const override { return "half_range_for_test"; }
  llvm::Expected<TensorRange> compute(const at::Tensor &x, llvm::ArrayRef<int64_t> blockShape,
                                      llvm::StringRef observer) override {
    llvm::Expected<TensorRange> range = computeMinMax(x, blockShape, observer);
    if (!range)
      return range.takeError();
    return TensorRange{range->min / 2, range->max / 2};
  }
};

/// A toy qparams calculator: static, under another key.
class Renamed final : public QParamsCalculator {
public:
  Renamed(QuantizationSpec spec, std::string name, std::unique_ptr<RangeCalculator> range)
      : QParamsCalculator(std::move(spec), std::move(name), std::move(range)) {}
  llvm::StringRef key() const override { return "renamed_for_test"; }
};

TEST(Calculator, CustomAlgorithmsRegisterTheirKeys) {
  llvm::Expected<QuantizationSpec> unknown =
      QuantizationSpec::fromYAML("range_calculator_cls: half_range_for_test");
  ASSERT_FALSE(bool(unknown));
  llvm::consumeError(unknown.takeError());
  registerRangeCalculator("half_range_for_test",
                          [](const QuantizationSpec &) { return std::make_unique<HalfRange>(); });
  llvm::Error registered =
      registerQParamsCalculator("renamed_for_test", [](QuantizationSpec spec, std::string name,
                                                       std::unique_ptr<RangeCalculator> range) {
        return std::unique_ptr<QParamsCalculator>(
            new Renamed(std::move(spec), std::move(name), std::move(range)));
      });
  ASSERT_FALSE(bool(registered));
  auto calculator = make("{range_calculator_cls: half_range_for_test, qparam_calculator_cls: "
                         "renamed_for_test}");
  EXPECT_EQ(calculator->key(), "renamed_for_test");
  EXPECT_EQ(scalar(observe(*calculator, values({-4, 2})).scale), 2.0f / 127.5f);
  llvm::Error marker = registerQParamsCalculator(
      "default", [](QuantizationSpec, std::string, std::unique_ptr<RangeCalculator>) {
        return std::unique_ptr<QParamsCalculator>();
      });
  EXPECT_THAT(llvm::toString(std::move(marker)), HasSubstr("cannot be registered"));
}

} // namespace
