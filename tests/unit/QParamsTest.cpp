//===- tests/unit/QParamsTest.cpp - Ranges and qparams on at::Tensor ------===//
//
// Unit tests of the stateless numerics in //runtime/numerics (QParams.h):
// the worked qparam table of reference §5.8 (per tensor, per channel on every
// axis, per block on axis 1 with B in {3, 6}), e8m0 scales (§5.3), all-zero
// units, qparam shapes and dtypes, agreement with PyTorch's own observers
// (torch.ao MinMaxObserver / PerChannelMinMaxObserver), the fused min/max
// reduction against a reshape + amin/amax oracle for many layouts and
// dtypes, and the NaN/Inf and empty-input policies.
//
//===----------------------------------------------------------------------===//
#include "runtime/numerics/QParams.h"
#include "runtime/spec/QuantizationSpec.h"
#include "runtime/spec/SpecError.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include "llvm/Support/Error.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>

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

std::vector<int64_t> sizesOf(const at::Tensor &t) {
  return std::vector<int64_t>(t.sizes().begin(), t.sizes().end());
}

/// Static per-observation qparams: measure, substitute, compute.
QParams qparamsOf(const QuantizationSpec &spec, const at::Tensor &x) {
  llvm::Expected<TensorRange> range = computeMinMax(x, spec.granularity(), "test");
  if (!range) {
    ADD_FAILURE() << llvm::toString(range.takeError());
    return {};
  }
  llvm::Expected<std::vector<int64_t>> qshape = computeQParamShape(spec.granularity(), sizesOf(x));
  TensorRange substituted = applyFloatRange(&*range, spec.floatRange(), *qshape, x.scalar_type());
  llvm::Expected<QParams> qparams = computeQParams(spec, substituted.min, substituted.max);
  if (!qparams) {
    ADD_FAILURE() << llvm::toString(qparams.takeError());
    return {};
  }
  return *qparams;
}

at::Tensor tensor1d(std::vector<float> values) { return at::tensor(values, at::kFloat); }

//===----------------------------------------------------------------------===//
// Reference §5.8 worked numbers
//===----------------------------------------------------------------------===//

struct TableRow {
  const char *spec; // YAML without granularity
  float lo, hi;     // x = [lo, 0, hi]
  float scale;
  std::optional<int> zeroPoint;
  std::optional<float> minval;
};

// The expected scales are the fp32 quotients the formulas give.
const TableRow kTable[] = {
    {"{qscheme: asymmetric, dtype: int8}", -1, 7, 8.0f / 255.0f, -96, -1.0f},
    // -1 / (6/255) = -42.5 rounds half to even to -42.
    {"{qscheme: asymmetric, dtype: uint8}", -1, 5, 6.0f / 255.0f, 42, -1.0f},
    {"{qscheme: symmetric, dtype: int8}", -1, 3, 3.0f / 127.5f, 0, -3.0f},
    {"{qscheme: symmetric, dtype: uint8}", -3, 1, 3.0f / 127.5f, 128, -3.0f},
    {"{qscheme: symmetric, dtype: float8_e4m3fn}", -3, 3, 3.0f / 448.0f, {}, {}},
    {"{qscheme: symmetric, dtype: float8_e5m2}", -3, 3, 3.0f / 57344.0f, {}, {}},
    {"{qscheme: symmetric_with_clipping, dtype: int8}", -3, 3, 3.0f / 127.0f, 0, -3.0f},
    {"{qscheme: symmetric_with_clipping, dtype: int4}", -1.5, 1.5, 1.5f / 7.0f, 0, -1.5f},
    {"{qscheme: symmetric_with_clipping, dtype: uint8}", -3, 3, 3.0f / 127.5f, 128, -3.0f},
    {"{qscheme: symmetric, dtype: float4_e2m1fn_x2}", -3, 3, 0.5f, {}, {}},
};

void expectRow(const TableRow &row, const QParams &qparams) {
  at::Tensor scale = qparams.scale;
  ASSERT_TRUE(scale.defined());
  ASSERT_GT(scale.numel(), 0);
  EXPECT_EQ(scale.scalar_type(), at::kFloat);
  EXPECT_TRUE(at::all(scale == row.scale).item<bool>())
      << "scale " << scale.flatten()[0].item<float>() << " expected " << row.scale;
  if (row.zeroPoint) {
    ASSERT_TRUE(qparams.zeroPoint.defined());
    EXPECT_EQ(qparams.zeroPoint.scalar_type(), at::kInt);
    EXPECT_EQ(qparams.zeroPoint.sizes(), scale.sizes());
    EXPECT_TRUE(at::all(qparams.zeroPoint == *row.zeroPoint).item<bool>())
        << "zero_point " << qparams.zeroPoint.flatten()[0].item<int>();
  } else {
    EXPECT_FALSE(qparams.zeroPoint.defined());
  }
  if (row.minval) {
    ASSERT_TRUE(qparams.minval.defined());
    EXPECT_EQ(qparams.minval.scalar_type(), at::kFloat);
    EXPECT_EQ(qparams.minval.sizes(), scale.sizes());
    EXPECT_TRUE(at::all(qparams.minval == *row.minval).item<bool>())
        << "minval " << qparams.minval.flatten()[0].item<float>();
  } else {
    EXPECT_FALSE(qparams.minval.defined());
  }
}

TEST(QParamsTable, PerTensor) {
  for (const TableRow &row : kTable) {
    SCOPED_TRACE(row.spec);
    QParams qparams = qparamsOf(specFromYAML(row.spec), tensor1d({row.lo, 0, row.hi}));
    EXPECT_EQ(sizesOf(qparams.scale), (std::vector<int64_t>{1}));
    expectRow(row, qparams);
  }
}

/// [6, 6, 6] with x[i][j][k] = pattern[(i + j + k) % 3], pattern = [lo, 0, hi]:
/// every channel on every axis and every block along axis 1 of size 3 or 6
/// contains all three values, so every unit has the per-tensor range.
at::Tensor everyUnitSpansTheRange(float lo, float hi) {
  at::Tensor x = at::empty({6, 6, 6}, at::kFloat);
  float pattern[3] = {lo, 0, hi};
  auto acc = x.accessor<float, 3>();
  for (int i = 0; i < 6; ++i)
    for (int j = 0; j < 6; ++j)
      for (int k = 0; k < 6; ++k)
        acc[i][j][k] = pattern[(i + j + k) % 3];
  return x;
}

TEST(QParamsTable, PerChannelEveryAxis) {
  for (const TableRow &row : kTable) {
    for (int axis : {0, 1, 2, -1}) {
      SCOPED_TRACE(std::string(row.spec) + " axis " + std::to_string(axis));
      QuantizationSpec spec = specFromYAML(row.spec);
      spec = llvm::cantFail(spec.withGranularity(Granularity::perChannel(axis)));
      QParams qparams = qparamsOf(spec, everyUnitSpansTheRange(row.lo, row.hi));
      std::vector<int64_t> expected = {1, 1, 1};
      expected[(axis + 3) % 3] = 6;
      EXPECT_EQ(sizesOf(qparams.scale), expected);
      expectRow(row, qparams);
    }
  }
}

TEST(QParamsTable, PerBlockAxis1) {
  for (const TableRow &row : kTable) {
    for (int64_t blockSize : {3, 6}) {
      SCOPED_TRACE(std::string(row.spec) + " B=" + std::to_string(blockSize));
      QuantizationSpec spec = specFromYAML(row.spec);
      spec = llvm::cantFail(spec.withGranularity(Granularity::perBlock(1, blockSize)));
      QParams qparams = qparamsOf(spec, everyUnitSpansTheRange(row.lo, row.hi));
      EXPECT_EQ(sizesOf(qparams.scale), (std::vector<int64_t>{6, 6 / blockSize, 1}));
      expectRow(row, qparams);
    }
  }
}

TEST(QParamsTable, AllZeroUnits) {
  at::Tensor zeros = at::zeros({4, 8});
  const float eps = std::ldexp(1.0f, -23);
  for (const char *yaml : {"{qscheme: symmetric, dtype: int8}",
                           "{qscheme: asymmetric, dtype: "
                           "int8}",
                           "{qscheme: asymmetric, dtype: uint4}",
                           "{qscheme: symmetric, dtype: uint8, granularity: {type: per_channel, "
                           "axis: 0}}",
                           "{dtype: float8_e4m3fn}"}) {
    SCOPED_TRACE(yaml);
    QuantizationSpec spec = specFromYAML(yaml);
    QParams qparams = qparamsOf(spec, zeros);
    EXPECT_TRUE(at::all(qparams.scale == eps).item<bool>());
    if (!spec.hasOffsets())
      continue;
    // Symmetric zero points as in the table; asymmetric: quant_min - 0.
    int expectedZero =
        spec.qscheme() == QScheme::Asymmetric
            ? static_cast<int>(spec.quantMin())
            : static_cast<int>(std::trunc((spec.quantMin() + spec.quantMax() + 1) / 2));
    EXPECT_TRUE(at::all(qparams.zeroPoint == expectedZero).item<bool>());
    EXPECT_TRUE(at::all(qparams.minval == 0).item<bool>());
    // Zeros fake-quantize to exact zeros, under ZP (ATen's own kernel) and
    // under MINVAL (q = round((x - minval) / scale) + qmin).
    int64_t qmin = static_cast<int64_t>(spec.quantMin()),
            qmax = static_cast<int64_t>(spec.quantMax());
    at::Tensor viaZP = at::fake_quantize_per_tensor_affine(
        zeros, qparams.scale.flatten()[0].item<double>(),
        qparams.zeroPoint.flatten()[0].item<int64_t>(), qmin, qmax);
    EXPECT_TRUE(at::all(viaZP == 0).item<bool>());
    at::Tensor q =
        at::clamp(at::round((zeros - qparams.minval) / qparams.scale) + qmin, qmin, qmax);
    at::Tensor viaMinval = (q - qmin) * qparams.scale + qparams.minval;
    EXPECT_TRUE(at::all(viaMinval == 0).item<bool>());
  }
}

//===----------------------------------------------------------------------===//
// e8m0 scales (§5.3)
//===----------------------------------------------------------------------===//

float e8m0(float maxAbs, QuantDType dtype) {
  llvm::Expected<at::Tensor> scale = computeE8M0Scale(at::full({1}, maxAbs), dtype);
  if (!scale) {
    ADD_FAILURE() << llvm::toString(scale.takeError());
    return 0;
  }
  EXPECT_EQ(scale->scalar_type(), at::kFloat);
  return scale->item<float>();
}

TEST(E8M0, PowerOfTwoScales) {
  const QuantDType fp4 = QuantDType::Float4E2M1FNx2;
  EXPECT_EQ(e8m0(3.0f, fp4), 0.5f); // floor(log2 3) = 1; 1 - 2
  EXPECT_EQ(e8m0(7.9f, fp4), 1.0f); // 7.9 / 1 later clamps to 6
  EXPECT_EQ(e8m0(6.0f, fp4), 1.0f);
  EXPECT_EQ(e8m0(500.0f, fp4), 64.0f);                  // §5.8 FP table: e8m0 scale 64
  EXPECT_EQ(e8m0(0.0f, fp4), std::ldexp(1.0f, -126));   // 2^-127 clamps to 2^-126
  EXPECT_EQ(e8m0(1e-40f, fp4), std::ldexp(1.0f, -126)); // denormal: exponent field 0
  EXPECT_EQ(e8m0(3e38f, fp4), std::ldexp(1.0f, 125));
  EXPECT_EQ(e8m0(448.0f, QuantDType::Float8E4M3FN), 1.0f);
  EXPECT_EQ(e8m0(447.0f, QuantDType::Float8E4M3FN), 1.0f);
  EXPECT_EQ(e8m0(255.0f, QuantDType::Float8E4M3FN), 0.5f);
  EXPECT_EQ(e8m0(1.0f, QuantDType::Float8E5M2), std::ldexp(1.0f, -15));
  EXPECT_EQ(e8m0(57344.0f, QuantDType::Float8E5M2), 1.0f);
  llvm::Expected<at::Tensor> bad = computeE8M0Scale(at::ones({1}), QuantDType::Int8);
  ASSERT_FALSE(bool(bad));
  EXPECT_THAT(llvm::toString(bad.takeError()),
              HasSubstr("Unsupported dtype for e8m0 scale computation: int8"));
}

TEST(E8M0, SpecPathAndAllZero) {
  QuantizationSpec fp4 = specFromYAML("dtype: float4_e2m1fn");
  QParams qparams = qparamsOf(fp4, tensor1d({-3, 0, 3}));
  EXPECT_EQ(qparams.scale.item<float>(), 0.5f);
  EXPECT_FALSE(qparams.zeroPoint.defined());
  EXPECT_FALSE(qparams.minval.defined());
  qparams = qparamsOf(fp4, at::zeros({2, 64}));
  EXPECT_EQ(qparams.scale.item<float>(), std::ldexp(1.0f, -126));
  // fp8 with an explicit e8m0 scale_dtype; fp16 data still gets fp32 scales.
  QuantizationSpec fp8 = specFromYAML("{dtype: float8_e4m3fn, scale_dtype: float8_e8m0fnu}");
  qparams = qparamsOf(fp8, tensor1d({-500, 0, 3}).to(at::kHalf));
  EXPECT_EQ(qparams.scale.scalar_type(), at::kFloat);
  EXPECT_EQ(qparams.scale.item<float>(), 1.0f); // floor(log2 500) = 8; 8 - 8
}

//===----------------------------------------------------------------------===//
// Shapes, dtypes, float_range substitution
//===----------------------------------------------------------------------===//

TEST(QParams, ShapesFollowTheBlockConvention) {
  at::Tensor w = at::randn({8, 16, 3, 3});
  auto shapeFor = [&](const Granularity &g) {
    QuantizationSpec spec = llvm::cantFail(QuantizationSpec().withGranularity(g));
    return sizesOf(qparamsOf(spec, w).scale);
  };
  using Shape = std::vector<int64_t>;
  EXPECT_EQ(shapeFor(Granularity::perTensor()), (Shape{1, 1, 1, 1}));
  EXPECT_EQ(shapeFor(Granularity::perChannel(0)), (Shape{8, 1, 1, 1}));
  EXPECT_EQ(shapeFor(Granularity::perChannel(1)), (Shape{1, 16, 1, 1}));
  EXPECT_EQ(shapeFor(Granularity::perBlock(1, 8)), (Shape{8, 2, 1, 1}));
  EXPECT_EQ(shapeFor(Granularity::perBlock(0, 4)), (Shape{2, 16, 1, 1}));
  EXPECT_EQ(shapeFor(Granularity::perBlock({4, 2, -1, 1})), (Shape{2, 8, 1, 3}));
}

/// The reference's asymmetric uint4 formulas as ATen evaluates them for a
/// dtype T: each op in the op-math type A (fp32 for fp16/bf16), rounded to T.
template <typename T, typename A> std::pair<double, int> uint4Reference(A lo, A hi) {
  T minNeg = T(std::min<A>(lo, 0)), maxPos = T(std::max<A>(hi, 0));
  T range = T(A(maxPos) - A(minNeg));
  T scale = T(A(range) / A(15));
  if (A(scale) < A(T(kScaleEps)))
    scale = T(kScaleEps);
  T ratio = T(A(minNeg) / A(scale));
  A rounded = std::nearbyint(A(ratio)); // half to even in the default FP mode
  A zeroPoint = std::min<A>(std::max<A>(A(0) - rounded, 0), 15);
  return {static_cast<double>(A(scale)), static_cast<int>(zeroPoint)};
}

TEST(QParams, LowPrecisionModelsGetQParamsInTheirDType) {
  QuantizationSpec spec = specFromYAML("{qscheme: asymmetric, dtype: uint4}");
  for (at::ScalarType dtype : {at::kHalf, at::kBFloat16, at::kDouble}) {
    SCOPED_TRACE(c10::toString(dtype));
    at::Tensor w = (at::randn({4, 32}) * 3).to(dtype);
    QParams qparams = qparamsOf(spec, w);
    EXPECT_EQ(qparams.scale.scalar_type(), dtype);
    EXPECT_EQ(qparams.minval.scalar_type(), dtype);
    EXPECT_EQ(qparams.zeroPoint.scalar_type(), at::kInt);
    double lo = w.min().item<double>(), hi = w.max().item<double>();
    std::pair<double, int> expected;
    if (dtype == at::kHalf)
      expected = uint4Reference<c10::Half, float>(lo, hi);
    else if (dtype == at::kBFloat16)
      expected = uint4Reference<c10::BFloat16, float>(lo, hi);
    else
      expected = uint4Reference<double, double>(lo, hi);
    EXPECT_EQ(qparams.scale.item<double>(), expected.first);
    EXPECT_EQ(qparams.zeroPoint.item<int>(), expected.second);
    EXPECT_EQ(qparams.minval.item<double>(), std::min(lo, 0.0));
  }
}

TEST(QParams, FloatRangeSubstitution) {
  // One fixed bound: the other still comes from the data (clamped at 0).
  QuantizationSpec spec = specFromYAML("{qscheme: asymmetric, dtype: uint8, float_range: [null, "
                                       "2]}");
  QParams qparams = qparamsOf(spec, tensor1d({-1, 0, 7}));
  EXPECT_EQ(qparams.scale.item<float>(), 3.0f / 255.0f);
  EXPECT_EQ(qparams.minval.item<float>(), -1.0f);
  // Positive data: min_val is clamped to 0, so asymmetric zero_point = qmin.
  spec = specFromYAML("{qscheme: asymmetric, dtype: int8}");
  qparams = qparamsOf(spec, tensor1d({1, 2, 4}));
  EXPECT_EQ(qparams.scale.item<float>(), 4.0f / 255.0f);
  EXPECT_EQ(qparams.zeroPoint.item<int>(), -128);
  EXPECT_EQ(qparams.minval.item<float>(), 0.0f);
  // Both bounds: no observation needed at all.
  TensorRange fixed = applyFloatRange(nullptr, FloatRange{-5.0, 0.0}, {1, 1}, at::kFloat);
  EXPECT_TRUE(at::equal(fixed.min, at::full({1, 1}, -5.0f)));
  EXPECT_TRUE(at::equal(fixed.max, at::zeros({1, 1})));
  llvm::Expected<QParams> symmetric =
      computeQParams(specFromYAML("qscheme: symmetric"), fixed.min, fixed.max);
  ASSERT_TRUE(bool(symmetric));
  EXPECT_EQ(symmetric->scale.item<float>(), 5.0f / 127.5f);
  EXPECT_EQ(symmetric->minval.item<float>(), -5.0f);
}

TEST(QParams, BadInputsAreErrorsNotExceptions) {
  QuantizationSpec spec;
  llvm::Expected<QParams> result = computeQParams(spec, at::zeros({2}), at::zeros({3}));
  ASSERT_FALSE(bool(result));
  EXPECT_THAT(llvm::toString(result.takeError()),
              HasSubstr("min_val and max_val must have the same shape and dtype"));
  result = computeQParams(spec, at::zeros({2}, at::kInt), at::zeros({2}, at::kInt));
  ASSERT_FALSE(bool(result));
  EXPECT_THAT(llvm::toString(result.takeError()), HasSubstr("must be a floating-point tensor"));
  llvm::Expected<TensorRange> range = computeMinMax(at::ones({2}, at::kLong), {2}, "obs");
  ASSERT_FALSE(bool(range));
  EXPECT_THAT(llvm::toString(range.takeError()),
              HasSubstr("observer 'obs': the observed tensor must be a floating-point tensor, got "
                        "Long"));
}

//===----------------------------------------------------------------------===//
// Agreement with PyTorch's own observers
//===----------------------------------------------------------------------===//

// Golden values from Debian's python3-torch 1.13 (torch.ao.quantization), for
// x = ((arange(60) * 37 % 101) - 40) / 16 reshaped to [6, 10] (exact in fp32):
//   MinMaxObserver(dtype, qscheme)(x); PerChannelMinMaxObserver(ch_axis, ...)(x);
//   scale, zero_point = observer.calculate_qparams()
// The formulas (eps = fp32 eps, round half to even) are the reference's.
at::Tensor observerInput() {
  at::Tensor i = at::arange(60, at::kLong);
  return ((i * 37).remainder(101) - 40).to(at::kFloat).div(16).reshape({6, 10});
}

void expectQParams(const QParams &qparams, std::vector<float> scales, std::vector<int> zeros) {
  at::Tensor scale = qparams.scale.flatten(), zeroPoint = qparams.zeroPoint.flatten();
  ASSERT_EQ(scale.numel(), static_cast<int64_t>(scales.size()));
  for (size_t u = 0; u < scales.size(); ++u) {
    EXPECT_EQ(scale[u].item<float>(), scales[u]) << "unit " << u;
    EXPECT_EQ(zeroPoint[u].item<int>(), zeros[u]) << "unit " << u;
  }
}

TEST(QParamsVsTorchObservers, PerTensor) {
  at::Tensor x = observerInput();
  expectQParams(qparamsOf(specFromYAML("{qscheme: asymmetric, dtype: uint8}"), x), {0x1.919192p-6f},
                {102});
  expectQParams(qparamsOf(specFromYAML("{qscheme: asymmetric, dtype: int8}"), x), {0x1.919192p-6f},
                {-26});
  expectQParams(qparamsOf(specFromYAML("{qscheme: symmetric, dtype: int8}"), x), {0x1.e1e1e2p-6f},
                {0});
  expectQParams(qparamsOf(specFromYAML("{qscheme: symmetric, dtype: uint8}"), x), {0x1.e1e1e2p-6f},
                {128});
}

TEST(QParamsVsTorchObservers, PerChannel) {
  at::Tensor x = observerInput();
  expectQParams(qparamsOf(specFromYAML("{qscheme: symmetric, dtype: int8, granularity: {type: "
                                       "per_channel, axis: 1}}"),
                          x),
                {0x1.e1e1e2p-6f, 0x1.313132p-6f, 0x1.19191ap-6f, 0x1.29292ap-6f, 0x1.414142p-6f,
                 0x1.616162p-6f, 0x1.79797ap-6f, 0x1.919192p-6f, 0x1.b1b1b2p-6f, 0x1.c9c9cap-6f},
                std::vector<int>(10, 0));
  expectQParams(qparamsOf(specFromYAML("{qscheme: asymmetric, dtype: uint8, granularity: {type: "
                                       "per_channel, axis: 0}}"),
                          x),
                {0x1.79797ap-6f, 0x1.79797ap-6f, 0x1.515152p-6f, 0x1.6d6d6ep-6f, 0x1.79797ap-6f,
                 0x1.515152p-6f},
                {109, 100, 103, 87, 103, 106});
}

TEST(QParamsVsTorchObservers, FakeQuantWithOurQParamsMatchesATenForZPAndMinval) {
  // ZP and MINVAL share the scale; both round trips stay within scale / 2.
  at::Tensor x = at::randn({64, 33}) * 4;
  QuantizationSpec spec = specFromYAML("{qscheme: asymmetric, dtype: int8}");
  QParams qparams = qparamsOf(spec, x);
  double scale = qparams.scale.item<double>();
  at::Tensor viaZP =
      at::fake_quantize_per_tensor_affine(x, scale, qparams.zeroPoint.item<int64_t>(), -128, 127);
  at::Tensor q = at::clamp(at::round((x - qparams.minval) / qparams.scale) - 128, -128, 127);
  at::Tensor viaMinval = (q + 128) * qparams.scale + qparams.minval;
  EXPECT_LE((viaZP - x).abs().max().item<double>(), scale / 2 * (1 + 1e-6));
  EXPECT_LE((viaMinval - x).abs().max().item<double>(), scale / 2 * (1 + 1e-6));
}

//===----------------------------------------------------------------------===//
// The fused reduction
//===----------------------------------------------------------------------===//

void expectSameAsATen(const at::Tensor &x, const Granularity &g) {
  std::vector<int64_t> block = llvm::cantFail(computeBlockShape(g, sizesOf(x)));
  llvm::Expected<TensorRange> fused = computeMinMax(x, block, "fused");
  ASSERT_TRUE(bool(fused)) << llvm::toString(fused.takeError());
  TensorRange oracle = computeMinMaxWithATen(x, block);
  EXPECT_EQ(fused->min.scalar_type(), x.scalar_type());
  EXPECT_TRUE(at::equal(fused->min, oracle.min)) << g.str();
  EXPECT_TRUE(at::equal(fused->max, oracle.max)) << g.str();
}

TEST(MinMax, FusedMatchesAminAmaxOnManyLayouts) {
  struct Case {
    std::vector<int64_t> shape;
    Granularity granularity;
  };
  const std::vector<Case> cases = {
      {{1000}, Granularity::perTensor()},
      {{37}, Granularity::perChannel(0)},
      {{64, 48}, Granularity::perChannel(0)},
      {{64, 48}, Granularity::perChannel(1)},
      {{3, 5, 7, 9}, Granularity::perChannel(2)},
      {{8, 16, 3, 3}, Granularity::perChannel(1)},
      {{8, 16, 3, 3}, Granularity::perBlock(1, 8)},
      {{8, 16, 3, 3}, Granularity::perBlock(0, 2)},
      {{8, 16, 3, 3}, Granularity::perBlock({4, 2, -1, 1})},
      {{128, 96}, Granularity::perBlock(1, 32)},
      {{96, 128}, Granularity::perBlock(0, 32)},
      {{6, 10}, Granularity::perBlock({1, 1})},
      {{5}, Granularity::perBlock({-1})},
      {{}, Granularity::perTensor()},
      // Large enough for several threads and every code path.
      {{1 << 20}, Granularity::perTensor()},
      {{512, 2048}, Granularity::perChannel(0)},
      {{2048, 512}, Granularity::perChannel(1)},
      {{1024, 1024}, Granularity::perBlock(0, 32)},
      {{1024, 1024}, Granularity::perBlock(1, 32)},
      {{3, 1024, 1024}, Granularity::perChannel(1)},
  };
  for (at::ScalarType dtype : {at::kFloat, at::kDouble, at::kHalf, at::kBFloat16}) {
    for (const Case &c : cases) {
      SCOPED_TRACE(std::string(c10::toString(dtype)) + " " + formatShape(c.shape) + " " +
                   c.granularity.str());
      expectSameAsATen(at::randn(c.shape).to(dtype), c.granularity);
    }
  }
}

TEST(MinMax, NonContiguousInputs) {
  at::Tensor base = at::randn({64, 96});
  expectSameAsATen(base.t(), Granularity::perChannel(0));
  expectSameAsATen(base.t(), Granularity::perBlock(1, 16));
  expectSameAsATen(base.index({at::indexing::Slice(), at::indexing::Slice(0, 96, 3)}),
                   Granularity::perChannel(1));
}

TEST(MinMax, SingleThreadGivesTheSameResult) {
  at::Tensor x = at::randn({1024, 1024});
  int threads = at::get_num_threads();
  at::set_num_threads(1);
  expectSameAsATen(x, Granularity::perTensor());
  expectSameAsATen(x, Granularity::perBlock(0, 32));
  at::set_num_threads(threads);
}

//===----------------------------------------------------------------------===//
// NaN / Inf / empty policies
//===----------------------------------------------------------------------===//

void expectNonFinite(const at::Tensor &x, const Granularity &g, bool isNaN, int64_t index) {
  llvm::Expected<TensorRange> range = computeMinMax(x, g, "conv1.input");
  ASSERT_FALSE(bool(range));
  bool seen = false;
  llvm::handleAllErrors(
      range.takeError(),
      [&](const NonFiniteInputError &error) {
        seen = true;
        EXPECT_EQ(error.observer(), "conv1.input");
        EXPECT_EQ(error.isNaN(), isNaN);
        EXPECT_EQ(error.flatIndex(), index);
        EXPECT_THAT(error.message(),
                    HasSubstr(std::string("observer 'conv1.input' saw ") + (isNaN ? "NaN" : "Inf") +
                              " in its input (tensor of shape " + formatShape(sizesOf(x)) +
                              ", first at flat index " + std::to_string(index) +
                              "); clean the calibration data or exclude this tensor"));
      },
      [&](const llvm::ErrorInfoBase &other) { ADD_FAILURE() << other.message(); });
  EXPECT_TRUE(seen);
}

TEST(MinMax, NaNAndInfAreReportedNotHidden) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  at::Tensor small = tensor1d({1, 2, nan, 4, 5, 6});
  expectNonFinite(small, Granularity::perTensor(), true, 2);
  expectNonFinite(tensor1d({1, -inf, 3}), Granularity::perTensor(), false, 1);
  expectNonFinite(tensor1d({1, 3, inf}), Granularity::perChannel(0), false, 2);
  // Deep inside a large tensor, through the vector loops and thread chunks.
  at::Tensor big = at::randn({1 << 20});
  big[777777] = nan;
  expectNonFinite(big, Granularity::perTensor(), true, 777777);
  at::Tensor rows = at::randn({4096, 64});
  rows[4000][63] = -inf;
  expectNonFinite(rows, Granularity::perChannel(1), false, 4000 * 64 + 63);
  expectNonFinite(rows.to(at::kHalf), Granularity::perBlock(1, 32), false, 4000 * 64 + 63);
}

TEST(MinMax, EmptyAndMismatchedInputs) {
  llvm::Expected<TensorRange> range = computeMinMax(at::empty({0, 4}), {0, 4}, "obs");
  ASSERT_FALSE(bool(range));
  EXPECT_THAT(llvm::toString(range.takeError()),
              HasSubstr("cannot measure the range of an empty tensor of shape [0, 4]"));
  range = computeMinMax(at::ones({10, 4}), Granularity::perBlock(0, 3), "obs");
  ASSERT_FALSE(bool(range));
  llvm::Error error = range.takeError();
  EXPECT_TRUE(error.isA<BlockSizeMismatchError>());
  llvm::consumeError(std::move(error));
}

} // namespace
