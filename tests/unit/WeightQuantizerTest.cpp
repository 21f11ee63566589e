//===- tests/unit/WeightQuantizerTest.cpp - Built-in weight codes ---------===//
//
// The branch-free round half to even against std::nearbyint on its edge
// values, and quantizeWithQParams against the kernels' scalar formula
// (nearbyint per element) on ties, negatives, huge values, infinities and
// NaN, for int8 / uint8 / int4 / uint4 / int2 / uint2, zero point and minval.
//
//===----------------------------------------------------------------------===//
#include "passes/quant/WeightQuantizer.h"

#include "runtime/spec/QuantizationSpec.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

using namespace qfx;

namespace {

std::vector<float> edgeValues() {
  std::vector<float> values = {
      0.0f,   -0.0f,   0.5f,       -0.5f,       1.5f,         -1.5f,       2.5f,
      -2.5f,  3.5f,    -3.5f,      0.49999997f, -0.49999997f, 0.50000006f, 1.0f,
      -1.0f,  126.5f,  127.5f,     -127.5f,     -128.5f,      254.5f,      255.5f,
      1e-30f, -1e-30f, 4194303.5f, -4194303.5f, 4194304.0f,   -4194304.0f, 4194302.5f};
  for (int i = -300; i <= 300; ++i)
    values.push_back(i * 0.25f);
  std::mt19937 random(3);
  std::uniform_real_distribution<float> uniform(-5000.0f, 5000.0f);
  for (int i = 0; i < 2000; ++i)
    values.push_back(uniform(random));
  return values;
}

TEST(RoundHalfEvenTest, MatchesNearbyintWithinItsRange) {
  for (float x : edgeValues()) {
    ASSERT_LE(std::abs(x), 4194304.0f);
    // == also equates -0.0 and 0.0, which give the same code once offset.
    EXPECT_EQ(roundHalfEvenSmall(x), std::nearbyint(x)) << x;
  }
  EXPECT_TRUE(std::isnan(roundHalfEvenSmall(std::numeric_limits<float>::quiet_NaN())));
}

/// The kernels' scalar formula, per element with libm.
std::vector<uint8_t> reference(const std::vector<float> &values, const QuantizationSpec &spec,
                               const QParamValues &qparams, size_t perBlock) {
  bool zp = spec.qformulation() == QFormulation::ZP;
  float quantMin = static_cast<float>(spec.quantMin()),
        quantMax = static_cast<float>(spec.quantMax());
  std::vector<uint8_t> out(values.size());
  for (size_t i = 0; i < values.size(); ++i) {
    size_t b = i / perBlock;
    float inv = 1.0f / static_cast<float>(qparams.scale[b]);
    float qo = zp ? static_cast<float>(qparams.zeroPoint[b]) : quantMin;
    float fo = zp ? 0.0f : static_cast<float>(qparams.minval[b]);
    float v = std::isnan(values[i]) ? 0.0f : values[i];
    float q = std::nearbyint((v - fo) * inv) + qo;
    q = std::min(std::max(q, quantMin), quantMax);
    out[i] = spec.quantMin() < 0 ? static_cast<uint8_t>(static_cast<int8_t>(q))
                                 : static_cast<uint8_t>(q);
  }
  return out;
}

void expectCodesMatch(QuantDType dtype, QScheme qscheme, QFormulation formulation) {
  QuantizationSpecFields fields;
  fields.dtype = dtype;
  fields.qscheme = qscheme;
  fields.qformulation = formulation;
  fields.granularity = Granularity::perChannel(0);
  llvm::Expected<QuantizationSpec> spec = QuantizationSpec::create(fields);
  ASSERT_TRUE(static_cast<bool>(spec)) << llvm::toString(spec.takeError());
  std::vector<float> values = edgeValues();
  float specials[] = {std::numeric_limits<float>::quiet_NaN(),
                      -std::numeric_limits<float>::quiet_NaN(),
                      std::numeric_limits<float>::infinity(),
                      -std::numeric_limits<float>::infinity(),
                      3e38f,
                      -3e38f,
                      1e10f,
                      -1e10f,
                      8388609.0f,
                      -8388609.0f,
                      6291456.5f};
  values.insert(values.end(), std::begin(specials), std::end(specials));
  // Three channels with different scales and offsets (ties land on .5 for
  // scales 1 and 0.5).
  values.resize((values.size() + 2) / 3 * 3, 0.75f);
  size_t perBlock = values.size() / 3;
  QParamValues qparams;
  qparams.scale = {1.0, 0.5, 0.0123};
  bool zp = formulation == QFormulation::ZP;
  double mid = std::floor((spec->quantMin() + spec->quantMax()) / 2);
  for (int b = 0; b < 3; ++b) {
    if (zp)
      qparams.zeroPoint.push_back(static_cast<int64_t>(b == 0   ? spec->quantMin()
                                                       : b == 1 ? mid
                                                                : spec->quantMax()));
    else
      qparams.minval.push_back(b == 0 ? -1.0 : b == 1 ? 0.25 : -7.5);
  }
  auto weight = std::make_shared<TensorData>();
  weight->shape = {3, static_cast<int64_t>(perBlock)};
  weight->mutableBytes().resize(values.size() * sizeof(float));
  std::memcpy(weight->mutableBytes().data(), values.data(), weight->bytes().size());
  llvm::Expected<TensorData> codes = quantizeWithQParams(*weight, *spec, qparams, {3, 1});
  ASSERT_TRUE(static_cast<bool>(codes)) << llvm::toString(codes.takeError());
  std::vector<uint8_t> expected = reference(values, *spec, qparams, perBlock);
  ASSERT_EQ(codes->bytes().size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i)
    ASSERT_EQ(codes->bytes()[i], expected[i]) << "element " << i << " = " << values[i];
}

TEST(QuantizeWithQParamsTest, Int8ZeroPointMatchesNearbyint) {
  expectCodesMatch(QuantDType::Int8, QScheme::Asymmetric, QFormulation::ZP);
}
TEST(QuantizeWithQParamsTest, Int8SymmetricMatchesNearbyint) {
  expectCodesMatch(QuantDType::Int8, QScheme::Symmetric, QFormulation::ZP);
}
TEST(QuantizeWithQParamsTest, UInt8ZeroPointMatchesNearbyint) {
  expectCodesMatch(QuantDType::UInt8, QScheme::Asymmetric, QFormulation::ZP);
}
TEST(QuantizeWithQParamsTest, Int4MinvalMatchesNearbyint) {
  expectCodesMatch(QuantDType::Int4, QScheme::Asymmetric, QFormulation::MinVal);
}
TEST(QuantizeWithQParamsTest, UInt4MinvalMatchesNearbyint) {
  expectCodesMatch(QuantDType::UInt4, QScheme::Asymmetric, QFormulation::MinVal);
}
TEST(QuantizeWithQParamsTest, Int2AndUInt2MatchNearbyint) {
  expectCodesMatch(QuantDType::Int2, QScheme::Asymmetric, QFormulation::ZP);
  expectCodesMatch(QuantDType::UInt2, QScheme::Asymmetric, QFormulation::MinVal);
}

} // namespace
