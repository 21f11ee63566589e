//===- tests/unit/KernelsTest.cpp - Tests of the fused quantization kernels ===//
//
// Checks runtime/kernels against independent references: ATen's
// fake_quantize_per_{tensor,channel}_affine (forward, mask and autograd
// gradient, bit for bit, every integer range of quantization-semantics.md
// §5.1 plus odd ones), ATen's quantize_per_{tensor,channel} + dequantize for
// int8/uint8, bit-field fp8 decoders and brute-force nearest-value searches
// written here for fp8/fp4, and the worked numbers of §5.8. Per-block
// qparams are checked against ATen's per-channel op on a flattened view with
// per-element qparams. Everything that depends on the element loops runs for
// every instruction set the CPU supports and for 1 and 2 threads.
//
//===----------------------------------------------------------------------===//
#include "runtime/kernels/Kernels.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <string>
#include <vector>

using namespace qfx;

namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr float kInf = std::numeric_limits<float>::infinity();

// Runs `body` once per supported instruction set, and once more with AVX2
// and streaming stores forced on (threshold 0), restoring the defaults.
void forEachIsa(const std::function<void()> &body) {
  const KernelIsa savedIsa = activeKernelIsa();
  const int64_t savedThreshold = streamingStoreThreshold();
  struct Variant {
    KernelIsa isa;
    bool stream;
    const char *name;
  };
  for (const Variant &v : {Variant{KernelIsa::Scalar, false, "isa=scalar"},
                           Variant{KernelIsa::Avx2, false, "isa=avx2"},
                           Variant{KernelIsa::Avx2, true, "isa=avx2 streaming"}}) {
    if (!isKernelIsaSupported(v.isa))
      continue;
    setKernelIsa(v.isa);
    setStreamingStoreThreshold(v.stream ? 0 : savedThreshold);
    SCOPED_TRACE(v.name);
    body();
  }
  setKernelIsa(savedIsa);
  setStreamingStoreThreshold(savedThreshold);
}

// Byte equality (so -0 vs +0 and NaN payloads count), with a readable first
// difference on failure.
::testing::AssertionResult bitEqual(const at::Tensor &actual, const at::Tensor &expected) {
  if (actual.scalar_type() != expected.scalar_type())
    return ::testing::AssertionFailure()
           << "dtype " << actual.scalar_type() << " vs " << expected.scalar_type();
  if (actual.sizes() != expected.sizes())
    return ::testing::AssertionFailure()
           << "shape " << actual.sizes() << " vs " << expected.sizes();
  const at::Tensor a = actual.contiguous(), e = expected.contiguous();
  const size_t width = a.element_size();
  const auto *pa = static_cast<const uint8_t *>(a.data_ptr());
  const auto *pe = static_cast<const uint8_t *>(e.data_ptr());
  for (int64_t i = 0; i < a.numel(); ++i) {
    if (std::memcmp(pa + i * width, pe + i * width, width) != 0) {
      const at::Tensor fa = a.reshape(-1), fe = e.reshape(-1);
      return ::testing::AssertionFailure()
             << "first difference at flat index " << i << " of " << a.numel() << ": "
             << fa[i].item().toDouble() << " vs " << fe[i].item().toDouble();
    }
  }
  return ::testing::AssertionSuccess();
}

// at::tensor has no bool overload in 1.13.
at::Tensor boolTensor(std::initializer_list<int> values) {
  return at::tensor(std::vector<int>(values)).to(at::kBool);
}

QuantKernelParams zpParams(at::Tensor scale, at::Tensor zeroPoint, int64_t qmin, int64_t qmax) {
  QuantKernelParams p;
  p.quantMin = qmin;
  p.quantMax = qmax;
  p.scale = std::move(scale);
  p.zeroPoint = std::move(zeroPoint);
  return p;
}

QuantKernelParams floatParams(ElementFormat format, at::Tensor scale) {
  QuantKernelParams p;
  p.format = format;
  p.scale = std::move(scale);
  return p;
}

at::Tensor scalarScale(float s, int64_t rank) {
  return at::full(std::vector<int64_t>(rank, 1), s, at::kFloat);
}
at::Tensor scalarZp(int64_t z, int64_t rank) {
  return at::full(std::vector<int64_t>(rank, 1), z, at::kInt);
}

struct IntRange {
  const char *name;
  int64_t qmin, qmax;
};
// §5.1, every integer dtype with and without clipping, plus ranges the spec
// allows through monkey-patched dtypes (int3, int5, uint1, int16-ish).
const IntRange kIntRanges[] = {
    {"int2", -2, 1},          {"int2_clip", -1, 1},     {"int4", -8, 7},   {"int4_clip", -7, 7},
    {"int8", -128, 127},      {"int8_clip", -127, 127}, {"uint2", 0, 3},   {"uint4", 0, 15},
    {"uint8", 0, 255},        {"int3", -4, 3},          {"int5", -16, 15}, {"uint1", 0, 1},
    {"int16", -32768, 32767},
};

// Random values spread over and beyond the quantized range, exact ties,
// huge (but |x/scale| < 2^63, where ATen is defined), tiny, denormal, ±0.
at::Tensor interestingValues(float scale, int64_t zp, const IntRange &r, int64_t n) {
  const double span = double(r.qmax - r.qmin + 1) * scale;
  std::vector<float> v;
  const at::Tensor rnd =
      at::randn({n}, at::kFloat) * span + float((zp - (r.qmin + r.qmax) / 2.0) * -scale);
  const float *pr = rnd.data_ptr<float>();
  v.assign(pr, pr + n);
  for (int64_t k = r.qmin - zp - 3; k <= r.qmax - zp + 3 && v.size() < size_t(n) + 600; ++k) {
    v.push_back((float(k) + 0.5f) * scale);
    v.push_back((float(k) - 0.5f) * scale);
    v.push_back(float(k) * scale);
  }
  for (float big : {1e6f, 1e12f, 4e18f})
    for (float sign : {1.0f, -1.0f})
      v.push_back(sign * big * scale);
  for (float tiny : {1e-30f, 1e-40f, 1e-45f, 0.0f, -0.0f, -1e-30f, -1e-40f})
    v.push_back(tiny);
  return at::from_blob(v.data(), {int64_t(v.size())}, at::kFloat).clone();
}

// Reference gradient through ATen's autograd.
at::Tensor atenGradPerTensor(const at::Tensor &x, const at::Tensor &grad, float scale, int64_t zp,
                             int64_t qmin, int64_t qmax) {
  at::Tensor xr = x.detach().clone().requires_grad_(true);
  at::fake_quantize_per_tensor_affine(xr, scale, zp, qmin, qmax).backward(grad);
  return xr.grad();
}

at::Tensor ourGrad(const at::Tensor &x, const at::Tensor &grad, const QuantKernelParams &p) {
  at::Tensor xr = x.detach().clone().requires_grad_(true);
  fakeQuantize(xr, p).backward(grad);
  return xr.grad();
}

//===----------------------------------------------------------------------===//
// Integer parity with ATen
//===----------------------------------------------------------------------===//

TEST(KernelsTest, PerTensorParityEveryIntegerRange) {
  at::manual_seed(1);
  const float scales[] = {0.25f, 0.1f, 1.0f / 3.0f, 7.77f, 1e-3f, 0x1p-20f};
  forEachIsa([&] {
    for (const IntRange &r : kIntRanges) {
      const int64_t zps[] = {r.qmin, (r.qmin + r.qmax) / 2, r.qmax};
      for (float scale : scales) {
        for (int64_t zp : zps) {
          SCOPED_TRACE(std::string(r.name) + " scale=" + std::to_string(scale) +
                       " zp=" + std::to_string(zp));
          const at::Tensor x = interestingValues(scale, zp, r, 997);
          const auto [refOut, refMask] =
              at::fake_quantize_per_tensor_affine_cachemask(x, scale, zp, r.qmin, r.qmax);
          const QuantKernelParams p =
              zpParams(scalarScale(scale, 1), scalarZp(zp, 1), r.qmin, r.qmax);
          const FakeQuantizeResult ours = fakeQuantizeForward(x, p, /*computeMask=*/true);
          ASSERT_TRUE(bitEqual(ours.output, refOut));
          ASSERT_TRUE(bitEqual(ours.mask, refMask));
          // Without a mask the output is the same.
          ASSERT_TRUE(bitEqual(fakeQuantizeForward(x, p, false).output, refOut));
          const at::Tensor grad = at::randn_like(x);
          ASSERT_TRUE(
              bitEqual(ourGrad(x, grad, p), atenGradPerTensor(x, grad, scale, zp, r.qmin, r.qmax)));
        }
      }
    }
  });
}

TEST(KernelsTest, PerTensorParityLargeThreaded) {
  at::manual_seed(2);
  const at::Tensor x = at::randn({300001}) * 40.0f;
  const float scale = 0.3f;
  const auto ref = at::fake_quantize_per_tensor_affine_cachemask(x, scale, 3, -128, 127);
  const QuantKernelParams p = zpParams(scalarScale(scale, 1), scalarZp(3, 1), -128, 127);
  const int savedThreads = at::get_num_threads();
  for (int threads : {1, 2}) {
    at::set_num_threads(threads);
    forEachIsa([&] {
      const FakeQuantizeResult ours = fakeQuantizeForward(x, p, true);
      EXPECT_TRUE(bitEqual(ours.output, std::get<0>(ref)));
      EXPECT_TRUE(bitEqual(ours.mask, std::get<1>(ref)));
    });
  }
  at::set_num_threads(savedThreads);
}

struct ChannelCase {
  std::vector<int64_t> shape;
  int64_t axis;
};

TEST(KernelsTest, PerChannelParity) {
  at::manual_seed(3);
  const ChannelCase cases[] = {
      {{16, 37}, 0},      // channel = outer dim (weights of a linear)
      {{37, 16}, 1},      // channel = inner dim (activations [N, C])
      {{3, 8, 5, 7}, 1},  // conv activations
      {{8, 3, 3, 3}, 0},  // conv weights
      {{4, 5, 6}, 2},     // last axis of 3-d
      {{2, 64, 3}, 1},    // middle
      {{1, 9, 1, 11}, 3}, // size-1 dims around
      {{301, 129}, 1},    // inner channels, > one grain with several threads
      {{37, 256}, 1},     // inner channels in groups of 4 rows (+ a leftover row)
      {{301, 264}, 1},    // the same over several grains (chunks start mid-row)
  };
  forEachIsa([&] {
    for (const ChannelCase &c : cases) {
      for (const IntRange &r : kIntRanges) {
        SCOPED_TRACE(std::string(r.name) + " shape=" + c10::str(at::IntArrayRef(c.shape)) +
                     " axis=" + std::to_string(c.axis));
        const int64_t channels = c.shape[c.axis];
        const at::Tensor scale1d = at::rand({channels}) * 0.2f + 0.01f;
        const at::Tensor zp1d = at::randint(r.qmin, r.qmax + 1, {channels}, at::kInt);
        const float spread = float(r.qmax - r.qmin) * 0.15f;
        const at::Tensor x = at::randn(c.shape) * spread;
        const auto [refOut, refMask] = at::fake_quantize_per_channel_affine_cachemask(
            x, scale1d, zp1d, c.axis, r.qmin, r.qmax);
        std::vector<int64_t> qshape(c.shape.size(), 1);
        qshape[c.axis] = channels;
        QuantKernelParams p =
            zpParams(scale1d.reshape(qshape), zp1d.reshape(qshape), r.qmin, r.qmax);
        const FakeQuantizeResult ours = fakeQuantizeForward(x, p, true);
        ASSERT_TRUE(bitEqual(ours.output, refOut));
        ASSERT_TRUE(bitEqual(ours.mask, refMask));
        const at::Tensor grad = at::randn_like(x);
        at::Tensor xr = x.clone().requires_grad_(true);
        at::fake_quantize_per_channel_affine(xr, scale1d, zp1d, c.axis, r.qmin, r.qmax)
            .backward(grad);
        ASSERT_TRUE(bitEqual(ourGrad(x, grad, p), xr.grad()));
      }
    }
  });
}

TEST(KernelsTest, Fp16ParityAndBf16MathInFp32) {
  at::manual_seed(4);
  forEachIsa([&] {
    const at::Tensor x32 = at::randn({5, 203}) * 3.0f;
    const at::Tensor xh = x32.to(at::kHalf);
    // Per tensor and per channel, fp16: ATen computes in fp32 and rounds back.
    QuantKernelParams p = zpParams(scalarScale(0.05f, 2), scalarZp(-3, 2), -8, 7);
    const auto ref = at::fake_quantize_per_tensor_affine_cachemask(xh, 0.05f, -3, -8, 7);
    FakeQuantizeResult ours = fakeQuantizeForward(xh, p, true);
    EXPECT_TRUE(bitEqual(ours.output, std::get<0>(ref)));
    EXPECT_TRUE(bitEqual(ours.mask, std::get<1>(ref)));
    const at::Tensor gh = at::randn_like(xh);
    EXPECT_TRUE(bitEqual(ourGrad(xh, gh, p), atenGradPerTensor(xh, gh, 0.05f, -3, -8, 7)));

    const at::Tensor s1 = at::rand({5}) * 0.1f + 0.01f, z1 = at::randint(0, 256, {5}, at::kInt);
    const auto refc = at::fake_quantize_per_channel_affine_cachemask(xh, s1, z1, 0, 0, 255);
    ours = fakeQuantizeForward(xh, zpParams(s1.reshape({5, 1}), z1.reshape({5, 1}), 0, 255), true);
    EXPECT_TRUE(bitEqual(ours.output, std::get<0>(refc)));
    EXPECT_TRUE(bitEqual(ours.mask, std::get<1>(refc)));

    // bf16: ATen 1.13 has no bf16 fake-quant; the defined semantics is fp32
    // math on the widened input, rounded back to bf16.
    const at::Tensor xb = x32.to(at::kBFloat16);
    const auto refb =
        at::fake_quantize_per_tensor_affine_cachemask(xb.to(at::kFloat), 0.05f, -3, -8, 7);
    ours = fakeQuantizeForward(xb, p, true);
    EXPECT_TRUE(bitEqual(ours.output, std::get<0>(refb).to(at::kBFloat16)));
    EXPECT_TRUE(bitEqual(ours.mask, std::get<1>(refb)));
    const at::Tensor gb = at::randn_like(xb);
    EXPECT_TRUE(bitEqual(ourGrad(xb, gb, p), gb * std::get<1>(refb)));

    // Float formats on fp16/bf16 inputs: fp32 math, rounded back.
    for (ElementFormat f :
         {ElementFormat::Float8E4M3FN, ElementFormat::Float8E5M2, ElementFormat::Float4E2M1}) {
      const QuantKernelParams fp = floatParams(f, scalarScale(0.01f, 2));
      for (at::ScalarType t : {at::kHalf, at::kBFloat16}) {
        const at::Tensor xt = x32.to(t);
        EXPECT_TRUE(bitEqual(fakeQuantizeForward(xt, fp, false).output,
                             fakeQuantizeForward(xt.to(at::kFloat), fp, false).output.to(t)));
        EXPECT_TRUE(bitEqual(dequantize(quantize(xt, fp), fp, t),
                             fakeQuantizeForward(xt, fp, false).output));
      }
    }
  });
}

TEST(KernelsTest, QuantizeDequantizeParityWithAten) {
  at::manual_seed(5);
  forEachIsa([&] {
    const at::Tensor x =
        at::cat({at::randn({1003}) * 10.0f, interestingValues(0.125f, 0, {"", -128, 127}, 10)});
    for (auto [qtype, qmin, qmax, zp] :
         {std::tuple{at::kQInt8, -128, 127, -5}, std::tuple{at::kQUInt8, 0, 255, 131}}) {
      const float scale = 0.0625f * 1.7f;
      const QuantKernelParams p = zpParams(scalarScale(scale, 1), scalarZp(zp, 1), qmin, qmax);
      const at::Tensor q = at::quantize_per_tensor(x, scale, zp, qtype);
      const at::Tensor codes = quantize(x, p);
      EXPECT_EQ(codes.scalar_type(), qmin < 0 ? at::kChar : at::kByte);
      EXPECT_TRUE(bitEqual(codes, q.int_repr()));
      EXPECT_TRUE(bitEqual(dequantize(codes, p), q.dequantize()));
      // fake-quant == dequantize(quantize()) for finite inputs.
      EXPECT_TRUE(bitEqual(fakeQuantizeForward(x, p, false).output, dequantize(codes, p)));
    }
    // Per channel, axis 1 of [N, C, L] and axis 0 of [C, K], qint8 and quint8.
    for (auto [shape, axis] : {std::pair{std::vector<int64_t>{4, 6, 33}, int64_t(1)},
                               std::pair{std::vector<int64_t>{6, 50}, int64_t(0)}}) {
      for (auto [qtype, qmin, qmax] :
           {std::tuple{at::kQInt8, -128, 127}, std::tuple{at::kQUInt8, 0, 255}}) {
        const at::Tensor xc = at::randn(shape) * 5.0f;
        // ATen takes double scales; use float-exact ones.
        const at::Tensor s1 = (at::rand({6}) * 0.1f + 0.01f).to(at::kDouble);
        const at::Tensor z1 = at::randint(qmin + 20, qmax - 20, {6}, at::kLong);
        const at::Tensor q = at::quantize_per_channel(xc, s1, z1, axis, qtype);
        std::vector<int64_t> qshape(shape.size(), 1);
        qshape[axis] = 6;
        const QuantKernelParams p =
            zpParams(s1.to(at::kFloat).reshape(qshape), z1.reshape(qshape), qmin, qmax);
        const at::Tensor codes = quantize(xc, p);
        EXPECT_TRUE(bitEqual(codes, q.int_repr()));
        EXPECT_TRUE(bitEqual(dequantize(codes, p), q.dequantize()));
        // quantizeOut writes the same codes into a buffer the caller owns.
        at::Tensor out = at::full(xc.sizes(), 1, codes.options());
        quantizeOut(xc, p, out);
        EXPECT_TRUE(bitEqual(out, codes));
      }
    }
  });
}

TEST(KernelsTest, QuantizeOutChecksTheBuffer) {
  const at::Tensor x = at::randn({4, 5});
  const QuantKernelParams p = zpParams(scalarScale(0.1f, 1), scalarZp(0, 1), -128, 127);
  EXPECT_THROW(quantizeOut(x, p, at::empty({4, 4}, at::kChar)), c10::Error);
  EXPECT_THROW(quantizeOut(x, p, at::empty({4, 5}, at::kByte)), c10::Error);
  EXPECT_THROW(quantizeOut(x, p, at::empty({5, 4}, at::kChar).t()), c10::Error);
}

//===----------------------------------------------------------------------===//
// MINVAL formulation
//===----------------------------------------------------------------------===//

TEST(KernelsTest, MinValAgreesWithZeroPointWithinOneScale) {
  at::manual_seed(6);
  forEachIsa([&] {
    for (const IntRange &r : kIntRanges) {
      if (r.qmax - r.qmin > 255)
        continue;
      SCOPED_TRACE(r.name);
      // Asymmetric qparams of §5.2 for a range [lo, hi] containing 0.
      const float lo = -1.3f, hi = 2.9f;
      const float scale = std::max((hi - lo) / float(r.qmax - r.qmin), 0x1p-23f);
      const int64_t zp =
          std::clamp<int64_t>(r.qmin - int64_t(std::nearbyint(lo / scale)), r.qmin, r.qmax);
      const at::Tensor x = at::rand({4001}) * (hi - lo) + lo;
      const QuantKernelParams pz = zpParams(scalarScale(scale, 1), scalarZp(zp, 1), r.qmin, r.qmax);
      QuantKernelParams pm = pz;
      pm.formulation = Formulation::MinVal;
      pm.zeroPoint = at::Tensor();
      pm.minVal = scalarScale(lo, 1);
      const at::Tensor yz = fakeQuantizeForward(x, pz, false).output;
      const at::Tensor ym = fakeQuantizeForward(x, pm, false).output;
      EXPECT_LE((yz - ym).abs().max().item<float>(), scale * (1 + 1e-5f));
      // Both round trips are within half a step (plus float slack) in range.
      EXPECT_LE((ym - x).abs().max().item<float>(), scale * 0.5f * (1 + 1e-4f));
      // MINVAL codes dequantize to the same values the fake-quant produced.
      EXPECT_TRUE(bitEqual(dequantize(quantize(x, pm), pm), ym));
      // MINVAL with minval = 0 and quant_min = zp is the ZP formulation.
      QuantKernelParams pm0 = pm;
      pm0.minVal = scalarScale(0.0f, 1);
      QuantKernelParams pz0 = zpParams(scalarScale(scale, 1), scalarZp(r.qmin, 1), r.qmin, r.qmax);
      EXPECT_TRUE(bitEqual(fakeQuantizeForward(x, pm0, false).output,
                           fakeQuantizeForward(x, pz0, false).output));
    }
  });
}

//===----------------------------------------------------------------------===//
// FP8 / FP4
//===----------------------------------------------------------------------===//

// Independent bit-field decoders (double precision, ldexp).
double decodeE4M3FN(uint8_t code) {
  const int sign = code >> 7, exponent = (code >> 3) & 0xF, mantissa = code & 7;
  double v;
  if (exponent == 0xF && mantissa == 7)
    return std::nan("");
  if (exponent == 0)
    v = std::ldexp(mantissa / 8.0, -6);
  else
    v = std::ldexp(1.0 + mantissa / 8.0, exponent - 7);
  return sign ? -v : v;
}

double decodeE5M2(uint8_t code) {
  const int sign = code >> 7, exponent = (code >> 2) & 0x1F, mantissa = code & 3;
  double v;
  if (exponent == 0x1F)
    v = mantissa == 0 ? INFINITY : std::nan("");
  else if (exponent == 0)
    v = std::ldexp(mantissa / 4.0, -14);
  else
    v = std::ldexp(1.0 + mantissa / 4.0, exponent - 15);
  return sign ? -v : v;
}

using Decoder = double (*)(uint8_t);

struct Fp8Case {
  ElementFormat format;
  Decoder decode;
  double maxValue;
};
const Fp8Case kFp8Cases[] = {{ElementFormat::Float8E4M3FN, decodeE4M3FN, 448.0},
                             {ElementFormat::Float8E5M2, decodeE5M2, 57344.0}};

at::Tensor allCodes() { return at::arange(256, at::kInt).to(at::kByte); }

TEST(KernelsTest, Fp8DecodesAll256Codes) {
  forEachIsa([&] {
    for (const Fp8Case &c : kFp8Cases) {
      const QuantKernelParams p = floatParams(c.format, scalarScale(1.0f, 1));
      const at::Tensor values = dequantize(allCodes(), p);
      const float *v = values.data_ptr<float>();
      for (int code = 0; code < 256; ++code) {
        const double expected = c.decode(uint8_t(code));
        if (std::isnan(expected))
          EXPECT_TRUE(std::isnan(v[code])) << "code " << code;
        else
          EXPECT_EQ(double(v[code]), expected) << "code " << code;
        if (expected == 0)
          EXPECT_EQ(std::signbit(v[code]), code >= 128) << "code " << code;
      }
    }
  });
}

TEST(KernelsTest, Fp8EncodesEveryValueAndMidpointsTiesToEven) {
  forEachIsa([&] {
    for (const Fp8Case &c : kFp8Cases) {
      SCOPED_TRACE(elementFormatName(c.format));
      const QuantKernelParams p = floatParams(c.format, scalarScale(1.0f, 1));
      // Every finite code encodes back to itself (±0 included).
      std::vector<float> values;
      std::vector<int> codes;
      for (int code = 0; code < 256; ++code) {
        const double v = c.decode(uint8_t(code));
        if (std::isfinite(v)) {
          values.push_back(float(v));
          codes.push_back(code);
        }
      }
      const at::Tensor enc =
          quantize(at::from_blob(values.data(), {int64_t(values.size())}, at::kFloat), p);
      for (size_t i = 0; i < values.size(); ++i)
        EXPECT_EQ(int(enc.data_ptr<uint8_t>()[i]), codes[i]) << "value " << values[i];
      // Midpoints between neighbours (positive codes 0..max, mirrored) go to
      // the even code; one ulp either side goes to the nearer value.
      std::vector<float> xs;
      std::vector<int> expect;
      for (int code = 0; code < 127; ++code) {
        const double a = c.decode(uint8_t(code)), b = c.decode(uint8_t(code + 1));
        if (!std::isfinite(a) || !std::isfinite(b) || b > c.maxValue)
          continue;
        const float mid = float((a + b) / 2); // exact: few significant bits
        ASSERT_EQ(double(mid), (a + b) / 2);
        const int even = code % 2 == 0 ? code : code + 1;
        for (float sign : {1.0f, -1.0f}) {
          const int signBit = sign < 0 ? 0x80 : 0;
          xs.push_back(sign * mid);
          expect.push_back(even | signBit);
          xs.push_back(sign * std::nextafter(mid, 0.0f));
          expect.push_back(code | signBit);
          xs.push_back(sign * std::nextafter(mid, kInf));
          expect.push_back((code + 1) | signBit);
        }
      }
      const at::Tensor q = quantize(at::from_blob(xs.data(), {int64_t(xs.size())}, at::kFloat), p);
      for (size_t i = 0; i < xs.size(); ++i)
        EXPECT_EQ(int(q.data_ptr<uint8_t>()[i]), expect[i]) << "x = " << xs[i];
    }
  });
}

// Nearest grid value by exhaustive search; ties to the even code.
int nearestCode(double x, Decoder decode, double maxValue) {
  x = std::min(std::max(x, -maxValue), maxValue);
  int best = -1;
  double bestDist = INFINITY;
  for (int code = 0; code < 256; ++code) {
    const double v = decode(uint8_t(code));
    if (!std::isfinite(v) || std::fabs(v) > maxValue ||
        (v == 0 && std::signbit(v) != std::signbit(x)))
      continue;
    const double d = std::fabs(v - x);
    if (d < bestDist || (d == bestDist && (code & 1) == 0 && (best & 1) == 1)) {
      best = code;
      bestDist = d;
    }
  }
  return best;
}

TEST(KernelsTest, Fp8RandomValuesMatchExhaustiveSearch) {
  at::manual_seed(7);
  forEachIsa([&] {
    for (const Fp8Case &c : kFp8Cases) {
      SCOPED_TRACE(elementFormatName(c.format));
      const float scale = 0.37f;
      // Log-uniform magnitudes from far below the smallest subnormal to above the max.
      const at::Tensor mag = at::exp2(at::rand({3001}) * 60.0f - 30.0f);
      const at::Tensor x = mag * at::sign(at::randn({3001})) * scale;
      const QuantKernelParams p = floatParams(c.format, scalarScale(scale, 1));
      const FakeQuantizeResult fq = fakeQuantizeForward(x, p, true);
      const at::Tensor codes = quantize(x, p);
      for (int64_t i = 0; i < x.numel(); ++i) {
        const float xi = x.data_ptr<float>()[i];
        const float t = xi / scale; // the division the kernel performs, in fp32
        const int code = nearestCode(t, c.decode, c.maxValue);
        ASSERT_EQ(int(codes.data_ptr<uint8_t>()[i]), code) << "x = " << xi;
        ASSERT_EQ(fq.output.data_ptr<float>()[i], float(c.decode(uint8_t(code))) * scale)
            << "x = " << xi;
        ASSERT_EQ(bool(fq.mask.data_ptr<bool>()[i]), std::fabs(t) <= c.maxValue);
      }
    }
  });
}

// With a scale that is not a power of two, x / scale and x * (1 / scale)
// differ in the last bit for some x; float formats divide (as torchao does),
// so an x whose quotient is exactly a grid midpoint must round to the even
// code even where the reciprocal product would not be a tie.
TEST(KernelsTest, FloatFormatsDivideByTheScale) {
  // 1.1 gives such ties in both fp8 formats (searched offline).
  const float scale = 1.1f, inv = 1.0f / scale;
  forEachIsa([&] {
    for (const Fp8Case &c : kFp8Cases) {
      SCOPED_TRACE(elementFormatName(c.format));
      std::vector<float> xs;
      std::vector<int> expect;
      int detecting = 0; // ties where x * inv would round to the odd code
      for (int code = 0; code < 126; ++code) {
        const double a = c.decode(uint8_t(code)), b = c.decode(uint8_t(code + 1));
        if (!std::isfinite(b) || b > c.maxValue)
          continue;
        const float mid = float((a + b) / 2);
        float x = mid * scale;
        for (int step = 0; step < 8; ++step, x = std::nextafter(x, 0.0f)) {
          if (x / scale != mid)
            continue;
          const bool evenIsUpper = code % 2 == 1;
          xs.push_back(x);
          expect.push_back(evenIsUpper ? code + 1 : code);
          detecting += evenIsUpper ? x * inv < mid : x * inv > mid;
        }
      }
      ASSERT_GT(detecting, 0) << "no x tells division from reciprocal multiplication";
      const QuantKernelParams p = floatParams(c.format, scalarScale(scale, 1));
      const at::Tensor x = at::from_blob(xs.data(), {int64_t(xs.size())}, at::kFloat).clone();
      const at::Tensor q = quantize(x, p);
      const at::Tensor y = fakeQuantizeForward(x, p, false).output;
      for (size_t i = 0; i < xs.size(); ++i) {
        ASSERT_EQ(int(q.data_ptr<uint8_t>()[i]), expect[i]) << "x = " << xs[i];
        ASSERT_EQ(y.data_ptr<float>()[i], float(c.decode(uint8_t(expect[i]))) * scale);
      }
    }
  });
}

TEST(KernelsTest, Fp8SaturatesAndKeepsNaN) {
  forEachIsa([&] {
    for (const Fp8Case &c : kFp8Cases) {
      const QuantKernelParams p = floatParams(c.format, scalarScale(2.0f, 1));
      const at::Tensor x = at::tensor({1e9f, -1e9f, kInf, -kInf, kNaN, 0.0f, -0.0f});
      const FakeQuantizeResult r = fakeQuantizeForward(x, p, true);
      const float *y = r.output.data_ptr<float>();
      const float top = float(c.maxValue * 2.0);
      EXPECT_EQ(y[0], top);
      EXPECT_EQ(y[1], -top);
      EXPECT_EQ(y[2], top);
      EXPECT_EQ(y[3], -top);
      EXPECT_TRUE(std::isnan(y[4]));
      EXPECT_EQ(std::signbit(y[5]), false);
      EXPECT_EQ(std::signbit(y[6]), true);
      EXPECT_TRUE(bitEqual(r.mask, boolTensor({0, 0, 0, 0, 0, 1, 1})));
      const at::Tensor codes = quantize(x, p);
      const uint8_t maxCode = c.format == ElementFormat::Float8E4M3FN ? 0x7E : 0x7B;
      EXPECT_TRUE(bitEqual(
          codes, at::tensor({maxCode, uint8_t(maxCode | 0x80), maxCode, uint8_t(maxCode | 0x80),
                             uint8_t(0x7F), uint8_t(0), uint8_t(0x80)},
                            at::kByte)));
    }
  });
}

const double kFp4Grid[] = {0, 0.5, 1, 1.5, 2, 3, 4, 6};

TEST(KernelsTest, Fp4GridRoundsToNearestEven) {
  at::manual_seed(8);
  forEachIsa([&] {
    const float scale = 0.5f;
    std::vector<float> ts;
    for (int i = 0; i < 8; ++i) {
      ts.push_back(float(kFp4Grid[i]));
      if (i < 7) {
        const float mid = float((kFp4Grid[i] + kFp4Grid[i + 1]) / 2);
        ts.push_back(mid);
        ts.push_back(std::nextafter(mid, 0.0f));
        ts.push_back(std::nextafter(mid, kInf));
      }
    }
    for (float extra : {6.5f, 7.0f, 100.0f, 1e-7f})
      ts.push_back(extra);
    const at::Tensor randT = at::rand({2000}) * 8.0f;
    for (int64_t i = 0; i < randT.numel(); ++i)
      ts.push_back(randT.data_ptr<float>()[i]);
    std::vector<float> xs;
    for (float t : ts) {
      xs.push_back(t * scale);
      xs.push_back(-t * scale);
    }
    const at::Tensor x = at::from_blob(xs.data(), {int64_t(xs.size())}, at::kFloat).clone();
    const QuantKernelParams p = floatParams(ElementFormat::Float4E2M1, scalarScale(scale, 1));
    const at::Tensor y = fakeQuantizeForward(x, p, false).output;
    const at::Tensor codes = quantize(x, p);
    for (int64_t i = 0; i < x.numel(); ++i) {
      const double t = std::min(std::fabs(double(xs[i]) / scale), 6.0);
      int best = 0;
      for (int k = 1; k < 8; ++k) {
        const double d = std::fabs(kFp4Grid[k] - t), bd = std::fabs(kFp4Grid[best] - t);
        if (d < bd || (d == bd && k % 2 == 0))
          best = k;
      }
      const double expected = std::copysign(kFp4Grid[best], xs[i]);
      ASSERT_EQ(double(y.data_ptr<float>()[i]), expected * scale) << "x = " << xs[i];
      // The container is e4m3fn: the code decodes to the same grid value.
      ASSERT_EQ(decodeE4M3FN(codes.data_ptr<uint8_t>()[i]), expected) << "x = " << xs[i];
    }
    EXPECT_TRUE(bitEqual(dequantize(codes, p), y));
  });
}

// The FP tables of §5.8 (per-tensor static, max_abs 500).
TEST(KernelsTest, WorkedNumbersOfSection58) {
  const std::vector<std::vector<float>> rows = {{1, 2, 0, 4, 5},
                                                {10, 20, -30, 40, 50},
                                                {100, 200, 300, 400, 500},
                                                {-0.1f, 0.2f, 0.3f, -0.4f, 0.5f}};
  const std::vector<std::vector<float>> e5m2Row4 = {{-0.001f, 0.002f, 0.003f, -0.004f, 0.005f}};
  const std::vector<std::vector<double>> e4m3 = {{0.875, 1.75, 0, 3.5, 4.5},
                                                 {9, 18, -26, 36, 44},
                                                 {88, 176, 256, 352, 448},
                                                 {-0.0859375, 0.171875, 0.28125, -0.34375, 0.4375}};
  const std::vector<std::vector<double>> e5m2 = {{112, 224, 0, 448, 512},
                                                 {1024, 2048, -3584, 4096, 6144},
                                                 {12288, 24576, 32768, 49152, 57344},
                                                 {-0.109375, 0.21875, 0.375, -0.4375, 0.625}};
  const std::vector<std::vector<double>> fp4 = {
      {0, 0, 0, 0, 0}, {0, 0.5, -0.5, 0.5, 1}, {1.5, 3, 4, 6, 6}, {0, 0, 0, 0, 0}};
  auto check = [](ElementFormat f, float scale, const std::vector<float> &in,
                  const std::vector<double> &expected, Decoder decode) {
    SCOPED_TRACE(std::string(elementFormatName(f)) + " row starting " + std::to_string(in[0]));
    const at::Tensor x = at::tensor(in);
    const QuantKernelParams p = floatParams(f, scalarScale(scale, 1));
    const at::Tensor codes = quantize(x, p);
    const at::Tensor y = fakeQuantizeForward(x, p, false).output;
    for (size_t i = 0; i < in.size(); ++i) {
      EXPECT_EQ(decode(codes.data_ptr<uint8_t>()[i]), expected[i]) << "x = " << in[i];
      EXPECT_EQ(y.data_ptr<float>()[i], float(expected[i]) * scale) << "x = " << in[i];
    }
  };
  forEachIsa([&] {
    const float s4 = 500.0f / 448.0f, s5 = 500.0f / 57344.0f;
    for (size_t r = 0; r < 4; ++r) {
      check(ElementFormat::Float8E4M3FN, s4, rows[r], e4m3[r], decodeE4M3FN);
      check(ElementFormat::Float8E5M2, s5, r == 3 ? e5m2Row4[0] : rows[r], e5m2[r], decodeE5M2);
      check(ElementFormat::Float4E2M1, 64.0f, rows[r], fp4[r], decodeE4M3FN);
    }
  });
}

//===----------------------------------------------------------------------===//
// Granularity
//===----------------------------------------------------------------------===//

// Expands per-block qparams to one value per element.
at::Tensor expandBlocks(const at::Tensor &q, at::IntArrayRef shape) {
  at::Tensor e = q;
  for (int64_t d = 0; d < int64_t(shape.size()); ++d)
    e = e.repeat_interleave(shape[d] / q.size(d), d);
  return e.contiguous();
}

struct BlockCase {
  std::vector<int64_t> shape, blocks; // blocks = qparam shape
};

TEST(KernelsTest, PerBlockMatchesPerElementReference) {
  at::manual_seed(9);
  const BlockCase cases[] = {
      {{8, 64}, {8, 2}},             // per-block axis 1, B = 32
      {{64, 8}, {2, 8}},             // per-block axis 0, B = 32
      {{7, 16, 3, 3}, {7, 2, 1, 1}}, // §5.4: axis 1, B = 8 on a conv weight
      {{8, 16, 3, 3}, {2, 8, 1, 3}}, // §5.4: tuple (4, 2, -1, 1)
      {{10, 20}, {2, 20}},           // §5.4: axis 0, B = 5
      {{6, 10}, {3, 5}},             // 2x2 blocks
      {{12, 9}, {4, 3}},             // 3x3 blocks (short inner runs)
      {{48}, {16}},                  // 1-d, B = 3
      {{2, 3, 4, 5, 6}, {2, 1, 2, 5, 3}},
      {{1, 33, 1, 40}, {1, 11, 1, 5}},
      {{256, 512}, {256, 16}}, // several grains
      {{24, 256}, {6, 256}},   // per-element columns, blocks of 4 rows
      {{20, 264}, {10, 264}},  // per-element columns, blocks of 2 rows (row groups straddle)
  };
  forEachIsa([&] {
    for (const BlockCase &c : cases) {
      SCOPED_TRACE("shape=" + c10::str(at::IntArrayRef(c.shape)) +
                   " blocks=" + c10::str(at::IntArrayRef(c.blocks)));
      const at::Tensor x = at::randn(c.shape) * 4.0f;
      const at::Tensor scale = at::rand(c.blocks) * 0.3f + 0.02f;
      const at::Tensor zp = at::randint(-8, 8, c.blocks, at::kInt);
      const at::Tensor minVal = at::rand(c.blocks) * -3.0f;
      // Integer ZP: ATen per-channel on [N, 1] with per-element qparams.
      const int64_t n = x.numel();
      const at::Tensor se = expandBlocks(scale, c.shape).reshape({n});
      const at::Tensor ze = expandBlocks(zp, c.shape).reshape({n});
      const auto ref =
          at::fake_quantize_per_channel_affine_cachemask(x.reshape({n, 1}), se, ze, 0, -8, 7);
      const FakeQuantizeResult ours = fakeQuantizeForward(x, zpParams(scale, zp, -8, 7), true);
      ASSERT_TRUE(bitEqual(ours.output, std::get<0>(ref).reshape(c.shape)));
      ASSERT_TRUE(bitEqual(ours.mask, std::get<1>(ref).reshape(c.shape)));
      // MINVAL and float formats: same kernel with per-element qparams (a
      // qparam shape equal to the input shape) is the reference.
      QuantKernelParams pm;
      pm.formulation = Formulation::MinVal;
      pm.quantMin = 0;
      pm.quantMax = 15;
      pm.scale = scale;
      pm.minVal = minVal;
      QuantKernelParams pmFull = pm;
      pmFull.scale = expandBlocks(scale, c.shape);
      pmFull.minVal = expandBlocks(minVal, c.shape);
      ASSERT_TRUE(bitEqual(fakeQuantizeForward(x, pm, false).output,
                           fakeQuantizeForward(x, pmFull, false).output));
      ASSERT_TRUE(bitEqual(quantize(x, pm), quantize(x, pmFull)));
      for (ElementFormat f : {ElementFormat::Float8E4M3FN, ElementFormat::Float4E2M1}) {
        const QuantKernelParams pf = floatParams(f, scale);
        const QuantKernelParams pfFull = floatParams(f, expandBlocks(scale, c.shape));
        ASSERT_TRUE(bitEqual(fakeQuantizeForward(x, pf, false).output,
                             fakeQuantizeForward(x, pfFull, false).output));
        const at::Tensor codes = quantize(x, pf);
        ASSERT_TRUE(bitEqual(dequantize(codes, pf), dequantize(codes, pfFull)));
      }
    }
  });
}

TEST(KernelsTest, PerElementQParamsAgreeWithPerTensorElementwise) {
  // The per-element path (qparam shape == input shape) is the reference of the
  // test above; pin it to the uniform path element by element.
  at::manual_seed(10);
  forEachIsa([&] {
    const at::Tensor x = at::randn({37}) * 3.0f;
    const at::Tensor scale = at::rand({37}) * 0.2f + 0.05f;
    const at::Tensor minVal = at::rand({37}) * -2.0f;
    for (ElementFormat f :
         {ElementFormat::Int, ElementFormat::Float8E5M2, ElementFormat::Float4E2M1}) {
      QuantKernelParams full = floatParams(f, scale);
      full.formulation = Formulation::MinVal;
      full.quantMin = -8;
      full.quantMax = 7;
      full.minVal = minVal;
      const at::Tensor y = fakeQuantizeForward(x, full, false).output;
      for (int64_t i = 0; i < 37; ++i) {
        QuantKernelParams one = full;
        one.scale = scale.slice(0, i, i + 1);
        one.minVal = minVal.slice(0, i, i + 1);
        const at::Tensor yi = fakeQuantizeForward(x.slice(0, i, i + 1), one, false).output;
        ASSERT_TRUE(bitEqual(y.slice(0, i, i + 1), yi)) << "element " << i;
      }
    }
  });
}

//===----------------------------------------------------------------------===//
// Edge cases
//===----------------------------------------------------------------------===//

TEST(KernelsTest, EmptyTensors) {
  for (const std::vector<int64_t> &shape :
       {std::vector<int64_t>{0}, std::vector<int64_t>{3, 0, 4}}) {
    const at::Tensor x = at::empty(shape);
    std::vector<int64_t> qshape(shape.size(), 1);
    qshape[0] = shape[0] == 3 ? 3 : 1;
    const QuantKernelParams p = zpParams(at::ones(qshape), at::zeros(qshape, at::kInt), -128, 127);
    const FakeQuantizeResult r = fakeQuantizeForward(x, p, true);
    EXPECT_EQ(r.output.sizes(), x.sizes());
    EXPECT_EQ(r.mask.sizes(), x.sizes());
    EXPECT_EQ(fakeQuantizeBackward(x, r.mask).sizes(), x.sizes());
    EXPECT_EQ(quantize(x, p).sizes(), x.sizes());
    EXPECT_EQ(dequantize(quantize(x, p), p).sizes(), x.sizes());
    at::Tensor xr = x.clone().requires_grad_(true);
    fakeQuantize(xr, p).sum().backward();
    EXPECT_EQ(xr.grad().sizes(), x.sizes());
  }
}

// §5.7: an all-zero unit gets scale = eps (2^-23; 2^-126 with e8m0) and
// must come back as exact zeros, per tensor and per block.
TEST(KernelsTest, AllZeroUnitsStayExactlyZero) {
  forEachIsa([&] {
    at::Tensor x = at::randn({4, 64});
    x.slice(0, 1, 2).zero_();                 // row 1 is one all-zero block
    x.slice(1, 0, 32).slice(0, 3, 4).zero_(); // and the first block of row 3
    at::Tensor scale = at::full({4, 2}, 0.1f);
    scale.index_put_({1}, 0x1p-23f);
    scale.index_put_({3, 0}, 0x1p-23f);
    QuantKernelParams p = zpParams(scale, at::zeros({4, 2}, at::kInt), -8, 7);
    at::Tensor y = fakeQuantizeForward(x, p, false).output;
    EXPECT_TRUE(bitEqual(y.slice(0, 1, 2), at::zeros({1, 64})));
    EXPECT_TRUE(bitEqual(y.slice(1, 0, 32).slice(0, 3, 4), at::zeros({1, 32})));
    // Asymmetric all-zero unit: zp = quant_min; MINVAL with minval 0.
    p.zeroPoint = at::full({4, 2}, -8, at::kInt);
    y = fakeQuantizeForward(x, p, false).output;
    EXPECT_TRUE(bitEqual(y.slice(0, 1, 2), at::zeros({1, 64})));
    QuantKernelParams pm = p;
    pm.formulation = Formulation::MinVal;
    pm.minVal = at::zeros({4, 2});
    y = fakeQuantizeForward(x, pm, false).output;
    EXPECT_TRUE(bitEqual(y.slice(0, 1, 2), at::zeros({1, 64})));
    // Float formats with the e8m0 floor 2^-126.
    at::Tensor fscale = at::full({4, 2}, 0.5f);
    fscale.index_put_({1}, 0x1p-126f);
    for (ElementFormat f :
         {ElementFormat::Float8E4M3FN, ElementFormat::Float8E5M2, ElementFormat::Float4E2M1}) {
      y = fakeQuantizeForward(x, floatParams(f, fscale), false).output;
      EXPECT_TRUE(bitEqual(y.slice(0, 1, 2), at::zeros({1, 64})));
    }
  });
}

TEST(KernelsTest, BackwardAcceptsUint8Masks) {
  forEachIsa([&] {
    const at::Tensor g = at::randn({3, 37});
    const at::Tensor mask = at::rand({3, 37}) > 0.5;
    const at::Tensor expected = fakeQuantizeBackward(g, mask);
    EXPECT_TRUE(bitEqual(expected, g * mask));
    EXPECT_TRUE(bitEqual(fakeQuantizeBackward(g, mask.to(at::kByte)), expected));
    // Any non-zero byte passes the gradient.
    EXPECT_TRUE(bitEqual(fakeQuantizeBackward(g, mask.to(at::kByte) * 255), expected));
    // fp16 / bf16 gradients.
    for (at::ScalarType t : {at::kHalf, at::kBFloat16})
      EXPECT_TRUE(bitEqual(fakeQuantizeBackward(g.to(t), mask), g.to(t) * mask));
  });
}

TEST(KernelsTest, NaNAndInfPolicy) {
  forEachIsa([&] {
    for (at::ScalarType t : {at::kFloat, at::kHalf, at::kBFloat16}) {
      const at::Tensor x = at::tensor({kNaN, kInf, -kInf, 1.0f}).to(t);
      const QuantKernelParams p = zpParams(scalarScale(0.5f, 1), scalarZp(3, 1), -8, 7);
      const FakeQuantizeResult r = fakeQuantizeForward(x, p, true);
      const at::Tensor y = r.output.to(at::kFloat);
      EXPECT_TRUE(std::isnan(y[0].item<float>()));
      EXPECT_EQ(y[1].item<float>(), (7 - 3) * 0.5f); // +Inf saturates high (ATen: quant_min)
      EXPECT_EQ(y[2].item<float>(), (-8 - 3) * 0.5f);
      EXPECT_EQ(y[3].item<float>(), 1.0f);
      EXPECT_TRUE(bitEqual(r.mask, boolTensor({0, 0, 0, 1})));
      // quantize: NaN is the code of 0.0, i.e. the zero point.
      EXPECT_TRUE(bitEqual(quantize(x, p), at::tensor({3, 7, -8, 5}, at::kChar)));
      QuantKernelParams pm = p;
      pm.formulation = Formulation::MinVal;
      pm.minVal = scalarScale(-1.2f, 1);
      // MINVAL: code of 0.0 is round(1.2 / 0.5) + quant_min = 2 - 8.
      EXPECT_EQ(quantize(x, pm)[0].item<int8_t>(), -6);
      EXPECT_TRUE(std::isnan(fakeQuantizeForward(x, pm, false).output[0].item<float>()));
    }
  });
}

TEST(KernelsTest, NonContiguousInputAndInPlaceOut) {
  at::manual_seed(11);
  forEachIsa([&] {
    const at::Tensor base = at::randn({33, 17}) * 2.0f;
    const at::Tensor xt = base.t(); // [17, 33], non-contiguous
    const QuantKernelParams p =
        zpParams(at::rand({17, 1}) * 0.1f + 0.01f, at::zeros({17, 1}, at::kInt), -128, 127);
    const FakeQuantizeResult a = fakeQuantizeForward(xt, p, true);
    const FakeQuantizeResult b = fakeQuantizeForward(xt.contiguous(), p, true);
    EXPECT_TRUE(a.output.is_contiguous());
    EXPECT_TRUE(bitEqual(a.output, b.output));
    EXPECT_TRUE(bitEqual(a.mask, b.mask));
    at::Tensor inPlace = xt.contiguous();
    fakeQuantizeForwardOut(inPlace, p, inPlace, at::Tensor());
    EXPECT_TRUE(bitEqual(inPlace, b.output));
    // Outputs at odd addresses (views at an offset of 1..7 elements) take
    // the unaligned head of the streaming path.
    for (int64_t offset = 1; offset < 8; ++offset) {
      at::Tensor outBuf = at::empty({17 * 33 + offset}),
                 maskBuf = at::empty({17 * 33 + offset}, at::kBool);
      at::Tensor out = outBuf.narrow(0, offset, 17 * 33).view({17, 33});
      at::Tensor mask = maskBuf.narrow(0, offset, 17 * 33).view({17, 33});
      fakeQuantizeForwardOut(xt, p, out, mask);
      EXPECT_TRUE(bitEqual(out, b.output)) << "offset " << offset;
      EXPECT_TRUE(bitEqual(mask, b.mask)) << "offset " << offset;
    }
    // A non-contiguous gradient (expanded) is fine too.
    const at::Tensor g = at::ones({1, 1}).expand({17, 33});
    EXPECT_TRUE(bitEqual(fakeQuantizeBackward(g, a.mask), a.mask.to(at::kFloat)));
  });
}

TEST(KernelsTest, AutogradStraightThrough) {
  at::manual_seed(12);
  const at::Tensor scale = scalarScale(0.1f, 2), zp = scalarZp(0, 2);
  const QuantKernelParams p = zpParams(scale.clone().requires_grad_(true), zp, -8, 7);
  at::Tensor x = (at::randn({4, 9}) * 1.0f).requires_grad_(true);
  at::Tensor y = fakeQuantize(x, p);
  ASSERT_TRUE(y.requires_grad());
  const at::Tensor g = at::randn({4, 9});
  y.backward(g);
  const at::Tensor mask = fakeQuantizeForward(x.detach(), p, true).mask;
  EXPECT_TRUE(bitEqual(x.grad(), g * mask));
  EXPECT_FALSE(p.scale.grad().defined()); // no gradient to the qparams
  // Double backward: d/dx of sum(grad_x * w) through create_graph.
  at::Tensor x2 = x.detach().clone().requires_grad_(true);
  at::Tensor gOut = at::randn({4, 9}).requires_grad_(true);
  at::Tensor gx = torch::autograd::grad({fakeQuantize(x2, p)}, {x2}, {gOut}, true, true)[0];
  EXPECT_TRUE(bitEqual(gx.detach(), gOut.detach() * mask));
  gx.sum().backward();
  EXPECT_TRUE(bitEqual(gOut.grad(), mask.to(at::kFloat)));
  // No grad needed: no graph.
  {
    at::NoGradGuard noGrad;
    EXPECT_FALSE(fakeQuantize(x, p).requires_grad());
  }
  // QAT-style step: a few SGD steps through fake-quant reduce the loss.
  at::Tensor w = (at::randn({8, 8}) * 0.5f).requires_grad_(true);
  const at::Tensor target = at::randn({8, 8});
  const QuantKernelParams pw = zpParams(scalarScale(0.05f, 2), scalarZp(0, 2), -128, 127);
  float first = 0, last = 0;
  for (int step = 0; step < 20; ++step) {
    at::Tensor loss = (fakeQuantize(w, pw) - target).pow(2).mean();
    if (step == 0)
      first = loss.item<float>();
    last = loss.item<float>();
    loss.backward();
    {
      at::NoGradGuard noGrad;
      w -= 16.0f * w.grad(); // halves the error per step
      w.grad().zero_();
    }
  }
  EXPECT_LT(last, first * 0.5f);
}

TEST(KernelsTest, FormatNames) {
  EXPECT_EQ(parseElementFormat("float8_e4m3"), ElementFormat::Float8E4M3FN);
  EXPECT_EQ(parseElementFormat("float4_e2m1fn"), ElementFormat::Float4E2M1);
  EXPECT_EQ(parseElementFormat("float4_e2m1fn_x2"), ElementFormat::Float4E2M1);
  EXPECT_EQ(parseElementFormat("float8_e5m2"), ElementFormat::Float8E5M2);
  EXPECT_EQ(parseElementFormat("int"), ElementFormat::Int);
  EXPECT_FALSE(parseElementFormat("int8").has_value());
  EXPECT_STREQ(elementFormatName(ElementFormat::Float4E2M1), "float4_e2m1fn_x2");
  EXPECT_NE(allElementFormatNames().find("float8_e5m2"), std::string::npos);
}

void expectError(const std::function<void()> &fn, const std::string &needle) {
  try {
    fn();
    ADD_FAILURE() << "expected an error mentioning '" << needle << "'";
  } catch (const c10::Error &e) {
    EXPECT_NE(std::string(e.what_without_backtrace()).find(needle), std::string::npos)
        << e.what_without_backtrace();
  }
}

TEST(KernelsTest, ValidationErrorsNameTheField) {
  const at::Tensor x = at::randn({4, 6});
  expectError(
      [&] {
        fakeQuantizeForward(x, zpParams(at::ones({3, 1}), at::zeros({3, 1}, at::kInt), -8, 7),
                            false);
      },
      "scale has shape");
  expectError(
      [&] {
        fakeQuantizeForward(x, zpParams(at::ones({4}), at::zeros({4}, at::kInt), -8, 7), false);
      },
      "same rank");
  expectError(
      [&] {
        fakeQuantizeForward(x, zpParams(at::ones({4, 1}), at::zeros({2, 1}, at::kInt), -8, 7),
                            false);
      },
      "zero_point has shape");
  expectError(
      [&] { fakeQuantizeForward(x, zpParams(scalarScale(1, 2), scalarZp(9, 2), -8, 7), false); },
      "zero_point 9");
  expectError(
      [&] { fakeQuantizeForward(x, zpParams(scalarScale(0, 2), scalarZp(0, 2), -8, 7), false); },
      "scale must be finite and > 0");
  expectError(
      [&] { fakeQuantizeForward(x, zpParams(scalarScale(kNaN, 2), scalarZp(0, 2), -8, 7), false); },
      "scale must be finite and > 0");
  expectError(
      [&] { fakeQuantizeForward(x, zpParams(scalarScale(1, 2), scalarZp(0, 2), 7, -8), false); },
      "quant_min");
  expectError(
      [&] { fakeQuantizeForward(x, zpParams(scalarScale(1, 2), at::Tensor(), -8, 7), false); },
      "zero_point");
  expectError(
      [&] {
        fakeQuantizeForward(x.to(at::kDouble), zpParams(scalarScale(1, 2), scalarZp(0, 2), -8, 7),
                            false);
      },
      "expected one of float32, float16, bfloat16");
  expectError([&] { quantize(x, zpParams(scalarScale(1, 2), scalarZp(0, 2), -200, 7)); },
              "fits neither int8 nor uint8");
  expectError(
      [&] {
        dequantize(at::zeros({4, 6}, at::kByte),
                   zpParams(scalarScale(1, 2), scalarZp(0, 2), -8, 7));
      },
      "stores them as Char");
  expectError(
      [&] {
        fakeQuantizeBackward(at::ones({4, 6}), at::ones({4, 5}, at::kBool));
      },
      "mask has shape");
  QuantKernelParams pm = zpParams(scalarScale(1, 2), at::Tensor(), -8, 7);
  pm.formulation = Formulation::MinVal;
  pm.minVal = scalarScale(kInf, 2);
  expectError([&] { fakeQuantizeForward(x, pm, false); }, "minval must be finite");
}

} // namespace
