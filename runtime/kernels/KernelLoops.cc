//===- runtime/kernels/KernelLoops.cc - Fused quantization element loops --===//
//
// The element loops behind runtime/kernels/Kernels.h: fake-quant forward
// (quantize, dequantize and the STE mask in one pass), quantize to codes,
// dequantize from codes and the masked backward, for fp32/fp16/bf16 values,
// integer and fp8/fp4 formats, uniform or per-element qparams. This file is
// compiled twice: as-is into `scalar::kTable` (portable code), and with
// QFX_KERNELS_AVX2 (-mavx2 -mf16c) into `avx2::kTable`, where an 8-lane
// body runs before the same scalar code finishes the tail. Both bodies
// implement one per-element formula, so results do not depend on the ISA,
// the thread split or an element's position (tests check all three).
//
// The numerics are quantization-semantics.md §5.6, written the way ATen's
// fake_quantize kernels evaluate them so integer results are bit-exact:
// inv = 1.0f / scale, q = nearbyint((x - float_offset) * inv) + quant_offset
// in float, mask = quant_min <= q <= quant_max, x' = (clamp(q) -
// quant_offset) * scale + float_offset. Float formats divide by the scale
// (as torchao's float8 path does) and round to the format's grid.
// No FMA is ever formed (-ffp-contract=off, and no -mfma): a fused
// multiply-add would round differently from ATen.
//
// The vector body uses AVX2 intrinsics directly rather than
// at::vec::Vectorized<float>: the fp8/fp4 grid rounding and encoding work on
// the float bits with integer shifts, adds and max (not offered on float
// lanes by 1.13's Vectorized), masks are packed to bytes, the NaN behaviour
// of every min/max is chosen explicitly, and the TU stays free of ATen
// headers, whose inline functions would otherwise be compiled once with and
// once without -mavx2 under the same names.
//
//===----------------------------------------------------------------------===//
#include "runtime/kernels/KernelLoops.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#if defined(QFX_KERNELS_AVX2)
#if !defined(__AVX2__) || !defined(__F16C__)
#error "QFX_KERNELS_AVX2 needs -mavx2 -mf16c"
#endif
#if defined(__FMA__)
#error "compile the kernel loops without -mfma: contracted multiply-adds break ATen parity"
#endif
#include <immintrin.h>
#define QFX_KERNELS_NS avx2
#else
#define QFX_KERNELS_NS scalar
#endif

namespace qfx::kernels::QFX_KERNELS_NS {
namespace {

//===----------------------------------------------------------------------===//
// Scalar helpers
//===----------------------------------------------------------------------===//

inline uint32_t bitsOf(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof(u));
  return u;
}

inline float floatOf(uint32_t u) {
  float f;
  std::memcpy(&f, &u, sizeof(f));
  return f;
}

// IEEE binary16 <-> binary32, round to nearest even, as c10::Half converts
// (so fp16 results match ATen's bit for bit; NaN stays NaN).
inline float halfToFloat(uint16_t h) {
#if defined(QFX_KERNELS_AVX2)
  return _cvtsh_ss(h);
#else
  const uint32_t sign = uint32_t(h & 0x8000u) << 16;
  const uint32_t exponent = (h >> 10) & 0x1Fu, mantissa = h & 0x3FFu;
  if (exponent == 0x1F) // Inf or NaN (a NaN payload stays non-zero).
    return floatOf(sign | 0x7F800000u | (mantissa << 13));
  if (exponent == 0) // Zero or subnormal: mantissa * 2^-24, exact in float.
    return floatOf(bitsOf(float(mantissa) * 0x1p-24f) | sign);
  return floatOf(sign | ((exponent + 112) << 23) | (mantissa << 13));
#endif
}

inline uint16_t floatToHalf(float f) {
#if defined(QFX_KERNELS_AVX2)
  return _cvtss_sh(f, _MM_FROUND_TO_NEAREST_INT);
#else
  const uint32_t b = bitsOf(f);
  const uint16_t sign = uint16_t((b >> 16) & 0x8000u);
  const uint32_t a = b & 0x7FFFFFFFu;
  if (a > 0x7F800000u)
    return sign | 0x7E00u;
  if (a >= 0x477FF000u) // >= 65520, the tie above the largest half: Inf.
    return sign | 0x7C00u;
  if (a < 0x38800000u) // Below 2^-14: half subnormal, unit 2^-24 (exact scaling).
    return sign | uint16_t(std::nearbyint(floatOf(a) * 0x1p24f));
  // Rebias the exponent and round the 23-bit mantissa to 10 bits; a carry
  // out of the mantissa correctly bumps the exponent.
  const uint32_t rounded = a + 0xFFFu + ((a >> 13) & 1u);
  return sign | uint16_t((rounded - (112u << 23)) >> 13);
#endif
}

inline float bf16ToFloat(uint16_t b) { return floatOf(uint32_t(b) << 16); }

// Same rounding as c10::BFloat16 (nearest even; every NaN becomes 0x7FC0).
inline uint16_t floatToBf16(float f) {
  const uint32_t b = bitsOf(f);
  if ((b & 0x7FFFFFFFu) > 0x7F800000u)
    return 0x7FC0u;
  return uint16_t((b + 0x7FFFu + ((b >> 16) & 1u)) >> 16);
}

// Clamp that lets NaN through (both comparisons are false for NaN), the
// scalar twin of _mm256_max_ps(lo, x) / _mm256_min_ps(hi, x), which return
// their second operand when either is NaN.
inline float clampKeepNaN(float x, float lo, float hi) {
  x = x < lo ? lo : x;
  return x > hi ? hi : x;
}

//===----------------------------------------------------------------------===//
// Float grids (fp8 e4m3fn / e5m2, fp4 e2m1)
//===----------------------------------------------------------------------===//

// Rounding constants of a grid: values with |y| in [2^e, 2^(e+1)) are
// multiples of step = 2^(max(e, minExponent) - mantissaBits). Working on the
// exponent field gives step and 1/step as exact powers of two without a
// division, and one formula covers normals and subnormals alike.
struct GridConsts {
  float maxValue;
  uint32_t minNormalBits; // bits of 2^minExponent
  uint32_t mantissaShift; // mantissaBits << 23
};

GridConsts makeGrid(ElementFormat format) {
  const FloatGrid g = floatGrid(format);
  return {g.maxValue, uint32_t(g.minExponent + 127) << 23, uint32_t(g.mantissaBits) << 23};
}

// Rounds y (already clamped to ±maxValue, or NaN) to the grid, ties to even.
// y * inv and r * step are exact (scaling by powers of two within range), so
// the only rounding is nearbyint's, which is RNE on the grid's last bit.
inline float roundToGrid(float y, const GridConsts &g) {
  const uint32_t p = std::max(bitsOf(y) & 0x7F800000u, g.minNormalBits);
  const uint32_t step = p - g.mantissaShift;
  const uint32_t inv = (254u << 23) - step;
  return std::nearbyint(y * floatOf(inv)) * floatOf(step);
}

// Encoding of grid values as fp8 bit patterns (the container format: fp4
// values are stored as e4m3fn). Normals are the float's own exponent and top
// mantissa bits rebiased; subnormals are value / 2^(minExponent - m).
struct CodeConsts {
  uint32_t minNormalBits;
  int shift;          // 23 - mantissaBits
  uint32_t rebias;    // (127 - bias) << mantissaBits
  float subnormalMul; // 2^(mantissaBits - minExponent)
  // Decoding only:
  uint32_t mantissaLimit; // 1 << mantissaBits: smaller magnitudes are subnormal
  uint32_t infCode;       // magnitude code of Inf (0x100 = none)
  uint32_t nanFrom;       // magnitude codes >= this are NaN
  uint32_t rebiasBits;    // (127 - bias) << 23
  float subnormalUnit;    // 2^(minExponent - mantissaBits)
};

CodeConsts makeCode(ElementFormat format) {
  const ElementFormat container =
      format == ElementFormat::Float4E2M1 ? ElementFormat::Float8E4M3FN : format;
  const FloatGrid g = floatGrid(container);
  const bool fn = container == ElementFormat::Float8E4M3FN;
  CodeConsts c;
  c.minNormalBits = uint32_t(g.minExponent + 127) << 23;
  c.shift = 23 - g.mantissaBits;
  c.rebias = uint32_t(127 - g.exponentBias) << g.mantissaBits;
  c.subnormalMul = std::ldexp(1.0f, g.mantissaBits - g.minExponent);
  c.mantissaLimit = 1u << g.mantissaBits;
  c.infCode = fn ? 0x100u : 0x7Cu;
  c.nanFrom = fn ? 0x7Fu : 0x7Du;
  c.rebiasBits = uint32_t(127 - g.exponentBias) << 23;
  c.subnormalUnit = std::ldexp(1.0f, g.minExponent - g.mantissaBits);
  return c;
}

// r must be on the grid (output of roundToGrid) or NaN. NaN encodes as 0x7F,
// a NaN in both e4m3fn and e5m2.
inline uint8_t encodeGrid(float r, const CodeConsts &c) {
  const uint32_t b = bitsOf(r);
  const uint32_t a = b & 0x7FFFFFFFu;
  if (a > 0x7F800000u)
    return 0x7F;
  const uint32_t code =
      a < c.minNormalBits ? uint32_t(floatOf(a) * c.subnormalMul) : (a >> c.shift) - c.rebias;
  return uint8_t(code | ((b >> 24) & 0x80u));
}

inline float decodeGrid(uint8_t code, const CodeConsts &c) {
  const uint32_t mag = code & 0x7Fu;
  float v;
  if (mag >= c.nanFrom)
    v = std::numeric_limits<float>::quiet_NaN();
  else if (mag == c.infCode)
    v = std::numeric_limits<float>::infinity();
  else if (mag < c.mantissaLimit)
    v = float(mag) * c.subnormalUnit;
  else
    v = floatOf((mag << c.shift) + c.rebiasBits);
  return floatOf(bitsOf(v) | (uint32_t(code & 0x80u) << 24));
}

//===----------------------------------------------------------------------===//
// AVX2 helpers
//===----------------------------------------------------------------------===//

#if defined(QFX_KERNELS_AVX2)
inline __m256 round8(__m256 v) {
  return _mm256_round_ps(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
}

// kMaskBytes.v[m] has byte i = bit i of m: one table load turns the 8-bit
// movemask of a compare into 8 bool bytes (cheaper than pack chains, and
// avoids pdep, which is microcoded on older AMD cores).
struct MaskBytes {
  uint64_t v[256];
  constexpr MaskBytes() : v() {
    for (int m = 0; m < 256; ++m)
      for (int i = 0; i < 8; ++i)
        if ((m >> i) & 1)
          v[m] |= uint64_t(1) << (8 * i);
  }
};
constexpr MaskBytes kMaskBytes;

// Low byte of each 32-bit lane → 8 consecutive bytes.
inline void storeBytes8(uint8_t *p, __m256i v) {
  const __m256i pick =
      _mm256_setr_epi8(0, 4, 8, 12, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 0, 4, 8, 12, -1,
                       -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1);
  const __m256i s = _mm256_shuffle_epi8(v, pick);
  const uint64_t lo = uint32_t(_mm_cvtsi128_si32(_mm256_castsi256_si128(s)));
  const uint64_t hi = uint32_t(_mm_cvtsi128_si32(_mm256_extracti128_si256(s, 1)));
  const uint64_t bytes = lo | (hi << 32);
  std::memcpy(p, &bytes, sizeof(bytes));
}

inline __m128i loadBytes8(const uint8_t *p) {
  return _mm_loadl_epi64(reinterpret_cast<const __m128i *>(p));
}

inline __m256 roundToGrid8(__m256 y, const GridConsts &g) {
  __m256i p = _mm256_and_si256(_mm256_castps_si256(y), _mm256_set1_epi32(0x7F800000));
  p = _mm256_max_epi32(p, _mm256_set1_epi32(int32_t(g.minNormalBits)));
  const __m256i step = _mm256_sub_epi32(p, _mm256_set1_epi32(int32_t(g.mantissaShift)));
  const __m256i inv = _mm256_sub_epi32(_mm256_set1_epi32(254 << 23), step);
  const __m256 r = round8(_mm256_mul_ps(y, _mm256_castsi256_ps(inv)));
  return _mm256_mul_ps(r, _mm256_castsi256_ps(step));
}

inline __m256i encodeGrid8(__m256 r, const CodeConsts &c) {
  const __m256i b = _mm256_castps_si256(r);
  const __m256i a = _mm256_and_si256(b, _mm256_set1_epi32(0x7FFFFFFF));
  const __m256i sign = _mm256_and_si256(_mm256_srli_epi32(b, 24), _mm256_set1_epi32(0x80));
  const __m256i normal = _mm256_sub_epi32(_mm256_srl_epi32(a, _mm_cvtsi32_si128(c.shift)),
                                          _mm256_set1_epi32(int32_t(c.rebias)));
  const __m256i sub =
      _mm256_cvttps_epi32(_mm256_mul_ps(_mm256_castsi256_ps(a), _mm256_set1_ps(c.subnormalMul)));
  const __m256i isSub = _mm256_cmpgt_epi32(_mm256_set1_epi32(int32_t(c.minNormalBits)), a);
  const __m256i code = _mm256_or_si256(_mm256_blendv_epi8(normal, sub, isSub), sign);
  const __m256i isNaN = _mm256_cmpgt_epi32(a, _mm256_set1_epi32(0x7F800000));
  return _mm256_blendv_epi8(code, _mm256_set1_epi32(0x7F), isNaN);
}

inline __m256 decodeGrid8(__m256i code, const CodeConsts &c) {
  const __m256i mag = _mm256_and_si256(code, _mm256_set1_epi32(0x7F));
  const __m256i sign = _mm256_slli_epi32(_mm256_and_si256(code, _mm256_set1_epi32(0x80)), 24);
  const __m256 normal = _mm256_castsi256_ps(_mm256_add_epi32(
      _mm256_sll_epi32(mag, _mm_cvtsi32_si128(c.shift)), _mm256_set1_epi32(int32_t(c.rebiasBits))));
  const __m256 sub = _mm256_mul_ps(_mm256_cvtepi32_ps(mag), _mm256_set1_ps(c.subnormalUnit));
  const __m256i isSub = _mm256_cmpgt_epi32(_mm256_set1_epi32(int32_t(c.mantissaLimit)), mag);
  __m256 v = _mm256_blendv_ps(normal, sub, _mm256_castsi256_ps(isSub));
  const __m256i isInf = _mm256_cmpeq_epi32(mag, _mm256_set1_epi32(int32_t(c.infCode)));
  v = _mm256_blendv_ps(v, _mm256_set1_ps(std::numeric_limits<float>::infinity()),
                       _mm256_castsi256_ps(isInf));
  const __m256i isNaN = _mm256_cmpgt_epi32(mag, _mm256_set1_epi32(int32_t(c.nanFrom) - 1));
  v = _mm256_blendv_ps(v, _mm256_set1_ps(std::numeric_limits<float>::quiet_NaN()),
                       _mm256_castsi256_ps(isNaN));
  return _mm256_or_ps(v, _mm256_castsi256_ps(sign));
}
#endif

//===----------------------------------------------------------------------===//
// Value storage types
//===----------------------------------------------------------------------===//

struct F32 {
  using Storage = float;
  static float load(const float *p) { return *p; }
  static void store(float *p, float v) { *p = v; }
#if defined(QFX_KERNELS_AVX2)
  static __m256 load8(const float *p) { return _mm256_loadu_ps(p); }
  static void store8(float *p, __m256 v) { _mm256_storeu_ps(p, v); }
  static void stream8(float *p, __m256 v) { _mm256_stream_ps(p, v); }
#endif
};

struct F16 {
  using Storage = uint16_t;
  static float load(const uint16_t *p) { return halfToFloat(*p); }
  static void store(uint16_t *p, float v) { *p = floatToHalf(v); }
#if defined(QFX_KERNELS_AVX2)
  static __m256 load8(const uint16_t *p) {
    return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i *>(p)));
  }
  static __m128i pack8(__m256 v) { return _mm256_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT); }
  static void store8(uint16_t *p, __m256 v) {
    _mm_storeu_si128(reinterpret_cast<__m128i *>(p), pack8(v));
  }
  static void stream8(uint16_t *p, __m256 v) {
    _mm_stream_si128(reinterpret_cast<__m128i *>(p), pack8(v));
  }
#endif
};

struct BF16 {
  using Storage = uint16_t;
  static float load(const uint16_t *p) { return bf16ToFloat(*p); }
  static void store(uint16_t *p, float v) { *p = floatToBf16(v); }
#if defined(QFX_KERNELS_AVX2)
  static __m256 load8(const uint16_t *p) {
    const __m256i h = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i *>(p)));
    return _mm256_castsi256_ps(_mm256_slli_epi32(h, 16));
  }
  static __m128i pack8(__m256 v) {
    const __m256i b = _mm256_castps_si256(v);
    const __m256i lsb = _mm256_and_si256(_mm256_srli_epi32(b, 16), _mm256_set1_epi32(1));
    __m256i r = _mm256_add_epi32(_mm256_add_epi32(b, _mm256_set1_epi32(0x7FFF)), lsb);
    r = _mm256_srli_epi32(r, 16);
    const __m256 isNaN = _mm256_cmp_ps(v, v, _CMP_UNORD_Q);
    r = _mm256_blendv_epi8(r, _mm256_set1_epi32(0x7FC0), _mm256_castps_si256(isNaN));
    return _mm_packus_epi32(_mm256_castsi256_si128(r), _mm256_extracti128_si256(r, 1));
  }
  static void store8(uint16_t *p, __m256 v) {
    _mm_storeu_si128(reinterpret_cast<__m128i *>(p), pack8(v));
  }
  static void stream8(uint16_t *p, __m256 v) {
    _mm_stream_si128(reinterpret_cast<__m128i *>(p), pack8(v));
  }
#endif
};

// Streaming (non-temporal) stores skip the read-for-ownership of output lines
// that will not be read again before they leave the cache (the caller enables
// them only for outputs larger than the last-level cache); they need aligned
// addresses, so streaming runs peel a scalar head first, and the range entry
// points end with an sfence so other threads see the data.
#if defined(QFX_KERNELS_AVX2)
template <bool Stream, class S> inline void put8(typename S::Storage *p, __m256 v) {
  if constexpr (Stream)
    S::stream8(p, v);
  else
    S::store8(p, v);
}

template <bool Stream> inline void putMask8(uint8_t *p, __m256 m) {
  const uint64_t bytes = kMaskBytes.v[_mm256_movemask_ps(m)];
  if constexpr (Stream)
    _mm_stream_si64(reinterpret_cast<long long *>(p), (long long)bytes);
  else
    std::memcpy(p, &bytes, sizeof(bytes));
}
#endif

// Elements before `y` reaches the alignment of an 8-lane store (0 unless
// streaming).
template <bool Stream, class S> inline int64_t headLength(const void *y, int64_t n) {
  if constexpr (!Stream)
    return 0;
  constexpr uintptr_t kBytes = 8 * sizeof(typename S::Storage);
  const uintptr_t misalign = reinterpret_cast<uintptr_t>(y) % kBytes;
  const int64_t head =
      misalign == 0 ? 0 : int64_t((kBytes - misalign) / sizeof(typename S::Storage));
  return std::min(head, n);
}

//===----------------------------------------------------------------------===//
// Qparam sources: one set for a whole run, or one set per element
//===----------------------------------------------------------------------===//

struct IntParams {
  float scale, inv, quantOffset, floatOffset;
};
#if defined(QFX_KERNELS_AVX2)
struct IntParams8 {
  __m256 scale, inv, quantOffset, floatOffset;
};
#endif

// Param sources hold scalars only and are passed to the runs by value: the
// broadcasts in at8() then stay in registers across the loop. (Keeping __m256
// members here made GCC copy them through the stack in 128-bit halves every
// iteration, and the 256-bit reloads stalled on store forwarding: 10x slower.)
struct UniformInt {
  IntParams p;
  UniformInt(const LoopJob &job, int64_t q) {
    p.scale = job.scale[q];
    p.inv = 1.0f / p.scale; // as ATen: multiply by the float reciprocal
    p.quantOffset = job.zeroPoint ? float(job.zeroPoint[q]) : job.quantMin;
    p.floatOffset = job.minVal ? job.minVal[q] : 0.0f;
  }
  IntParams at(int64_t) const { return p; }
#if defined(QFX_KERNELS_AVX2)
  IntParams8 at8(int64_t) const {
    return {_mm256_set1_ps(p.scale), _mm256_set1_ps(p.inv), _mm256_set1_ps(p.quantOffset),
            _mm256_set1_ps(p.floatOffset)};
  }
#endif
};

struct PerElementInt {
  const float *scale;
  const int32_t *zeroPoint;
  const float *minVal;
  float quantMin;
  PerElementInt(const LoopJob &job, int64_t q)
      : scale(job.scale + q), zeroPoint(job.zeroPoint ? job.zeroPoint + q : nullptr),
        minVal(job.minVal ? job.minVal + q : nullptr), quantMin(job.quantMin) {}
  IntParams at(int64_t i) const {
    const float s = scale[i];
    return {s, 1.0f / s, zeroPoint ? float(zeroPoint[i]) : quantMin, minVal ? minVal[i] : 0.0f};
  }
#if defined(QFX_KERNELS_AVX2)
  IntParams8 at8(int64_t i) const {
    const __m256 s = _mm256_loadu_ps(scale + i);
    // The vector division is IEEE-exact like the scalar 1.0f / s.
    return {s, _mm256_div_ps(_mm256_set1_ps(1.0f), s),
            zeroPoint ? _mm256_cvtepi32_ps(
                            _mm256_loadu_si256(reinterpret_cast<const __m256i *>(zeroPoint + i)))
                      : _mm256_set1_ps(quantMin),
            minVal ? _mm256_loadu_ps(minVal + i) : _mm256_setzero_ps()};
  }
#endif
};

struct UniformFloat {
  float scale;
  UniformFloat(const LoopJob &job, int64_t q) : scale(job.scale[q]) {}
  float at(int64_t) const { return scale; }
#if defined(QFX_KERNELS_AVX2)
  __m256 at8(int64_t) const { return _mm256_set1_ps(scale); }
#endif
};

struct PerElementFloat {
  const float *scale;
  PerElementFloat(const LoopJob &job, int64_t q) : scale(job.scale + q) {}
  float at(int64_t i) const { return scale[i]; }
#if defined(QFX_KERNELS_AVX2)
  __m256 at8(int64_t i) const { return _mm256_loadu_ps(scale + i); }
#endif
};

//===----------------------------------------------------------------------===//
// Runs: one loop per (operation, value type, format kind, qparam source)
//===----------------------------------------------------------------------===//

#if defined(QFX_KERNELS_AVX2)
// Eight elements of the integer fake-quant (the vector twin of `one` below).
template <class S, bool WithMask, bool Stream>
inline void fakeQuantInt8(const typename S::Storage *x, typename S::Storage *y, uint8_t *mask,
                          const IntParams8 &p, __m256 qmin, __m256 qmax) {
  __m256 q = _mm256_mul_ps(_mm256_sub_ps(S::load8(x), p.floatOffset), p.inv);
  q = _mm256_add_ps(round8(q), p.quantOffset);
  if constexpr (WithMask)
    putMask8<Stream>(mask, _mm256_and_ps(_mm256_cmp_ps(q, qmin, _CMP_GE_OQ),
                                         _mm256_cmp_ps(q, qmax, _CMP_LE_OQ)));
  q = _mm256_min_ps(qmax, _mm256_max_ps(qmin, q));
  q = _mm256_add_ps(_mm256_mul_ps(_mm256_sub_ps(q, p.quantOffset), p.scale), p.floatOffset);
  put8<Stream, S>(y, q);
}
#endif

template <class S, bool WithMask, bool Stream, class P>
void fakeQuantIntRun(const typename S::Storage *x, typename S::Storage *y, uint8_t *mask, int64_t n,
                     P params, float quantMin, float quantMax) {
  auto one = [&](int64_t i) {
    const IntParams p = params.at(i);
    float q = std::nearbyint((S::load(x + i) - p.floatOffset) * p.inv) + p.quantOffset;
    if constexpr (WithMask)
      mask[i] = (q >= quantMin) & (q <= quantMax);
    q = clampKeepNaN(q, quantMin, quantMax);
    S::store(y + i, (q - p.quantOffset) * p.scale + p.floatOffset);
  };
  int64_t i = 0;
#if defined(QFX_KERNELS_AVX2)
  for (const int64_t head = headLength<Stream, S>(y, n); i < head; ++i)
    one(i);
  const __m256 qmin = _mm256_set1_ps(quantMin), qmax = _mm256_set1_ps(quantMax);
  for (; i + 8 <= n; i += 8)
    fakeQuantInt8<S, WithMask, Stream>(x + i, y + i, WithMask ? mask + i : nullptr, params.at8(i),
                                       qmin, qmax);
#endif
  for (; i < n; ++i)
    one(i);
}

#if defined(QFX_KERNELS_AVX2)
// kRowGroup whole rows with the same per-element qparams (channels on the
// inner dim), column by column: each qparam vector is loaded once for the
// group instead of once per row. With 4096 channels the qparams of a row
// (32 KB) no longer fit in L1 next to the streaming data, and re-reading
// them per row made this layout ~2x slower than per-tensor. The rows stay
// sequential streams. Needs rowLength % 8 == 0 and, when streaming, aligned
// rows (the caller checks).
constexpr int64_t kRowGroup = 4;

template <class S, bool WithMask, bool Stream>
void fakeQuantIntRowGroup(const typename S::Storage *x, typename S::Storage *y, uint8_t *mask,
                          int64_t rowLength, PerElementInt params, float quantMin, float quantMax) {
  const __m256 qmin = _mm256_set1_ps(quantMin), qmax = _mm256_set1_ps(quantMax);
  for (int64_t i = 0; i < rowLength; i += 8) {
    const IntParams8 p = params.at8(i);
    for (int64_t r = 0; r < kRowGroup; ++r) {
      const int64_t o = r * rowLength + i;
      fakeQuantInt8<S, WithMask, Stream>(x + o, y + o, WithMask ? mask + o : nullptr, p, qmin,
                                         qmax);
    }
  }
}
#endif

template <class S, bool WithMask, bool Stream, class P>
void fakeQuantFloatRun(const typename S::Storage *x, typename S::Storage *y, uint8_t *mask,
                       int64_t n, P params, GridConsts g) {
  auto one = [&](int64_t i) {
    const float scale = params.at(i);
    const float t = S::load(x + i) / scale;
    if constexpr (WithMask)
      mask[i] = (t >= -g.maxValue) & (t <= g.maxValue);
    S::store(y + i, roundToGrid(clampKeepNaN(t, -g.maxValue, g.maxValue), g) * scale);
  };
  int64_t i = 0;
#if defined(QFX_KERNELS_AVX2)
  for (const int64_t head = headLength<Stream, S>(y, n); i < head; ++i)
    one(i);
  const __m256 hi = _mm256_set1_ps(g.maxValue), lo = _mm256_set1_ps(-g.maxValue);
  for (; i + 8 <= n; i += 8) {
    const __m256 scale = params.at8(i);
    __m256 t = _mm256_div_ps(S::load8(x + i), scale);
    if constexpr (WithMask)
      putMask8<Stream>(mask + i, _mm256_and_ps(_mm256_cmp_ps(t, lo, _CMP_GE_OQ),
                                               _mm256_cmp_ps(t, hi, _CMP_LE_OQ)));
    t = _mm256_min_ps(hi, _mm256_max_ps(lo, t));
    put8<Stream, S>(y + i, _mm256_mul_ps(roundToGrid8(t, g), scale));
  }
#endif
  for (; i < n; ++i)
    one(i);
}

// Integer quantize: NaN is quantized as 0.0 (the zero point under ZP), since
// an integer code cannot hold it; ±Inf saturate like any out-of-range value.
template <class S, class P>
void quantizeIntRun(const typename S::Storage *x, uint8_t *codes, int64_t n, P params,
                    float quantMin, float quantMax) {
  int64_t i = 0;
#if defined(QFX_KERNELS_AVX2)
  const __m256 qmin = _mm256_set1_ps(quantMin), qmax = _mm256_set1_ps(quantMax);
  for (; i + 8 <= n; i += 8) {
    const IntParams8 p = params.at8(i);
    __m256 v = S::load8(x + i);
    v = _mm256_and_ps(v, _mm256_cmp_ps(v, v, _CMP_ORD_Q));
    __m256 q =
        _mm256_add_ps(round8(_mm256_mul_ps(_mm256_sub_ps(v, p.floatOffset), p.inv)), p.quantOffset);
    q = _mm256_min_ps(qmax, _mm256_max_ps(qmin, q));
    storeBytes8(codes + i, _mm256_cvtps_epi32(q));
  }
#endif
  for (; i < n; ++i) {
    const IntParams p = params.at(i);
    float v = S::load(x + i);
    v = v == v ? v : 0.0f;
    const float q = std::nearbyint((v - p.floatOffset) * p.inv) + p.quantOffset;
    codes[i] = uint8_t(int32_t(clampKeepNaN(q, quantMin, quantMax)));
  }
}

template <class S, class P>
void quantizeFloatRun(const typename S::Storage *x, uint8_t *codes, int64_t n, P params,
                      GridConsts g, CodeConsts c) {
  int64_t i = 0;
#if defined(QFX_KERNELS_AVX2)
  const __m256 hi = _mm256_set1_ps(g.maxValue), lo = _mm256_set1_ps(-g.maxValue);
  for (; i + 8 <= n; i += 8) {
    __m256 t = _mm256_div_ps(S::load8(x + i), params.at8(i));
    t = _mm256_min_ps(hi, _mm256_max_ps(lo, t));
    storeBytes8(codes + i, encodeGrid8(roundToGrid8(t, g), c));
  }
#endif
  for (; i < n; ++i) {
    const float t = clampKeepNaN(S::load(x + i) / params.at(i), -g.maxValue, g.maxValue);
    codes[i] = encodeGrid(roundToGrid(t, g), c);
  }
}

template <class S, bool SignedCodes, class P>
void dequantizeIntRun(const uint8_t *codes, typename S::Storage *y, int64_t n, P params) {
  int64_t i = 0;
#if defined(QFX_KERNELS_AVX2)
  for (; i + 8 <= n; i += 8) {
    const IntParams8 p = params.at8(i);
    const __m128i raw = loadBytes8(codes + i);
    const __m256 q =
        _mm256_cvtepi32_ps(SignedCodes ? _mm256_cvtepi8_epi32(raw) : _mm256_cvtepu8_epi32(raw));
    S::store8(y + i, _mm256_add_ps(_mm256_mul_ps(_mm256_sub_ps(q, p.quantOffset), p.scale),
                                   p.floatOffset));
  }
#endif
  for (; i < n; ++i) {
    const IntParams p = params.at(i);
    const float q = SignedCodes ? float(int8_t(codes[i])) : float(codes[i]);
    S::store(y + i, (q - p.quantOffset) * p.scale + p.floatOffset);
  }
}

template <class S, class P>
void dequantizeFloatRun(const uint8_t *codes, typename S::Storage *y, int64_t n, P params,
                        CodeConsts c) {
  int64_t i = 0;
#if defined(QFX_KERNELS_AVX2)
  for (; i + 8 <= n; i += 8) {
    const __m256 v = decodeGrid8(_mm256_cvtepu8_epi32(loadBytes8(codes + i)), c);
    S::store8(y + i, _mm256_mul_ps(v, params.at8(i)));
  }
#endif
  for (; i < n; ++i)
    S::store(y + i, decodeGrid(codes[i], c) * params.at(i));
}

// grad_in = grad_out * mask, as a multiplication (not a select) so that a
// NaN or Inf gradient on a masked element gives NaN exactly as ATen's
// `grad * mask` does. Any non-zero mask byte counts as 1.
template <class S, bool Stream>
void backwardRun(const typename S::Storage *g, const uint8_t *mask, typename S::Storage *out,
                 int64_t n) {
  auto one = [&](int64_t i) { S::store(out + i, S::load(g + i) * (mask[i] ? 1.0f : 0.0f)); };
  int64_t i = 0;
#if defined(QFX_KERNELS_AVX2)
  for (const int64_t head = headLength<Stream, S>(out, n); i < head; ++i)
    one(i);
  for (; i + 8 <= n; i += 8) {
    const __m256i m =
        _mm256_min_epu32(_mm256_cvtepu8_epi32(loadBytes8(mask + i)), _mm256_set1_epi32(1));
    put8<Stream, S>(out + i, _mm256_mul_ps(S::load8(g + i), _mm256_cvtepi32_ps(m)));
  }
#endif
  for (; i < n; ++i)
    one(i);
}

//===----------------------------------------------------------------------===//
// Walking a range of a job
//===----------------------------------------------------------------------===//

// Calls fn(offset, count, qIndex, perElement) for the maximal runs of the
// flat range [begin, end): either `count` elements sharing qparam set qIndex
// (perElement false), or `count` elements using sets qIndex, qIndex+1, ...
// (perElement true, the row dim has blocks of one element).
// Qparam index of the start of a row (the last dim); rows are long enough
// (the layout merges what it can) that these divisions are noise.
inline int64_t rowQBase(const LoopLayout &layout, int64_t row) {
  int64_t qRow = 0;
  for (int d = layout.numDims - 2; d >= 0; --d) {
    const int64_t index = row % layout.extent[d];
    row /= layout.extent[d];
    qRow += index / layout.blockSize[d] * layout.qStride[d];
  }
  return qRow;
}

template <class Fn> void forEachRun(const LoopLayout &layout, int64_t begin, int64_t end, Fn &&fn) {
  const int last = layout.numDims - 1;
  const int64_t rowLength = layout.extent[last], block = layout.blockSize[last];
  int64_t row = begin / rowLength, col = begin % rowLength, pos = begin;
  while (pos < end) {
    const int64_t qRow = rowQBase(layout, row);
    const int64_t stop = std::min(rowLength, col + (end - pos));
    if (block == 1) {
      fn(pos, stop - col, qRow + col, true);
    } else {
      // Block index kept incrementally: one 64-bit division per row rather
      // than per (often 32-element) block.
      for (int64_t c = col, b = col / block, blockEnd = (b + 1) * block; c < stop;
           ++b, blockEnd += block) {
        const int64_t runEnd = std::min(stop, blockEnd);
        fn(pos + (c - col), runEnd - c, qRow + b, false);
        c = runEnd;
      }
    }
    pos += stop - col;
    col = 0;
    ++row;
  }
}

#if defined(QFX_KERNELS_AVX2)
constexpr bool kCanStream = true;
inline void fenceStreams(bool streamed) {
  if (streamed)
    _mm_sfence();
}
#else
constexpr bool kCanStream = false;
inline void fenceStreams(bool) {}
#endif

template <class S, bool WithMask, bool Stream>
void fakeQuantizeRanges(const LoopJob &job, int64_t begin, int64_t end) {
  const auto *x = static_cast<const typename S::Storage *>(job.in);
  auto *y = static_cast<typename S::Storage *>(job.out);
  uint8_t *mask = job.mask;
  auto maskAt = [&](int64_t off) { return WithMask ? mask + off : nullptr; };
  if (job.format == ElementFormat::Int) {
    const float lo = job.quantMin, hi = job.quantMax;
    auto runs = [&](int64_t b, int64_t e) {
      forEachRun(job.layout, b, e, [&](int64_t off, int64_t n, int64_t q, bool perElement) {
        if (perElement)
          fakeQuantIntRun<S, WithMask, Stream>(x + off, y + off, maskAt(off), n,
                                               PerElementInt(job, q), lo, hi);
        else
          fakeQuantIntRun<S, WithMask, Stream>(x + off, y + off, maskAt(off), n, UniformInt(job, q),
                                               lo, hi);
      });
    };
#if defined(QFX_KERNELS_AVX2)
    const LoopLayout &layout = job.layout;
    const int64_t rowLength = layout.extent[layout.numDims - 1];
    const int64_t firstRow = (begin + rowLength - 1) / rowLength, endRow = end / rowLength;
    if (layout.blockSize[layout.numDims - 1] == 1 && rowLength >= 256 && rowLength % 8 == 0 &&
        endRow - firstRow >= kRowGroup && headLength<Stream, S>(y + firstRow * rowLength, 8) == 0) {
      runs(begin, firstRow * rowLength);
      int64_t row = firstRow;
      for (; row + kRowGroup <= endRow; row += kRowGroup) {
        const int64_t q = rowQBase(layout, row), off = row * rowLength;
        bool sameQParams = true; // every row of the group uses the same channels' qparams
        for (int64_t r = 1; r < kRowGroup; ++r)
          sameQParams = sameQParams && rowQBase(layout, row + r) == q;
        if (sameQParams)
          fakeQuantIntRowGroup<S, WithMask, Stream>(x + off, y + off, maskAt(off), rowLength,
                                                    PerElementInt(job, q), lo, hi);
        else
          runs(off, off + kRowGroup * rowLength);
      }
      runs(row * rowLength, end);
      return;
    }
#endif
    runs(begin, end);
    return;
  }
  const GridConsts g = makeGrid(job.format);
  forEachRun(job.layout, begin, end, [&](int64_t off, int64_t n, int64_t q, bool perElement) {
    if (perElement)
      fakeQuantFloatRun<S, WithMask, Stream>(x + off, y + off, maskAt(off), n,
                                             PerElementFloat(job, q), g);
    else
      fakeQuantFloatRun<S, WithMask, Stream>(x + off, y + off, maskAt(off), n, UniformFloat(job, q),
                                             g);
  });
}

template <class S> void fakeQuantizeTyped(const LoopJob &job, int64_t begin, int64_t end) {
  const bool stream = kCanStream && job.streamStores;
  if (job.mask)
    stream ? fakeQuantizeRanges<S, true, kCanStream>(job, begin, end)
           : fakeQuantizeRanges<S, true, false>(job, begin, end);
  else
    stream ? fakeQuantizeRanges<S, false, kCanStream>(job, begin, end)
           : fakeQuantizeRanges<S, false, false>(job, begin, end);
  fenceStreams(stream);
}

template <class S> void quantizeTyped(const LoopJob &job, int64_t begin, int64_t end) {
  const auto *x = static_cast<const typename S::Storage *>(job.in);
  auto *codes = static_cast<uint8_t *>(job.out);
  if (job.format == ElementFormat::Int) {
    forEachRun(job.layout, begin, end, [&](int64_t off, int64_t n, int64_t q, bool perElement) {
      if (perElement)
        quantizeIntRun<S>(x + off, codes + off, n, PerElementInt(job, q), job.quantMin,
                          job.quantMax);
      else
        quantizeIntRun<S>(x + off, codes + off, n, UniformInt(job, q), job.quantMin, job.quantMax);
    });
    return;
  }
  const GridConsts g = makeGrid(job.format);
  const CodeConsts c = makeCode(job.format);
  forEachRun(job.layout, begin, end, [&](int64_t off, int64_t n, int64_t q, bool perElement) {
    if (perElement)
      quantizeFloatRun<S>(x + off, codes + off, n, PerElementFloat(job, q), g, c);
    else
      quantizeFloatRun<S>(x + off, codes + off, n, UniformFloat(job, q), g, c);
  });
}

template <class S> void dequantizeTyped(const LoopJob &job, int64_t begin, int64_t end) {
  const auto *codes = static_cast<const uint8_t *>(job.in);
  auto *y = static_cast<typename S::Storage *>(job.out);
  if (job.format == ElementFormat::Int) {
    forEachRun(job.layout, begin, end, [&](int64_t off, int64_t n, int64_t q, bool perElement) {
      if (perElement) {
        const PerElementInt p(job, q);
        job.signedCodes ? dequantizeIntRun<S, true>(codes + off, y + off, n, p)
                        : dequantizeIntRun<S, false>(codes + off, y + off, n, p);
      } else {
        const UniformInt p(job, q);
        job.signedCodes ? dequantizeIntRun<S, true>(codes + off, y + off, n, p)
                        : dequantizeIntRun<S, false>(codes + off, y + off, n, p);
      }
    });
    return;
  }
  const CodeConsts c = makeCode(job.format);
  forEachRun(job.layout, begin, end, [&](int64_t off, int64_t n, int64_t q, bool perElement) {
    if (perElement)
      dequantizeFloatRun<S>(codes + off, y + off, n, PerElementFloat(job, q), c);
    else
      dequantizeFloatRun<S>(codes + off, y + off, n, UniformFloat(job, q), c);
  });
}

template <class S> void backwardTyped(const LoopJob &job, int64_t begin, int64_t end) {
  const auto *g = static_cast<const typename S::Storage *>(job.in);
  auto *out = static_cast<typename S::Storage *>(job.out);
  const bool stream = kCanStream && job.streamStores;
  stream ? backwardRun<S, kCanStream>(g + begin, job.mask + begin, out + begin, end - begin)
         : backwardRun<S, false>(g + begin, job.mask + begin, out + begin, end - begin);
  fenceStreams(stream);
}

template <template <class> class Op>
void byValueType(const LoopJob &job, int64_t begin, int64_t end) {
  switch (job.valueType) {
  case ValueType::F32:
    return Op<F32>::run(job, begin, end);
  case ValueType::F16:
    return Op<F16>::run(job, begin, end);
  case ValueType::BF16:
    return Op<BF16>::run(job, begin, end);
  }
}

template <class S> struct FakeQuantizeOp {
  static void run(const LoopJob &j, int64_t b, int64_t e) { fakeQuantizeTyped<S>(j, b, e); }
};
template <class S> struct QuantizeOp {
  static void run(const LoopJob &j, int64_t b, int64_t e) { quantizeTyped<S>(j, b, e); }
};
template <class S> struct DequantizeOp {
  static void run(const LoopJob &j, int64_t b, int64_t e) { dequantizeTyped<S>(j, b, e); }
};
template <class S> struct BackwardOp {
  static void run(const LoopJob &j, int64_t b, int64_t e) { backwardTyped<S>(j, b, e); }
};

} // namespace

#if defined(QFX_KERNELS_AVX2)
#define QFX_KERNELS_NAME "avx2"
#else
#define QFX_KERNELS_NAME "scalar"
#endif

extern const KernelTable kTable = {
    QFX_KERNELS_NAME,          byValueType<FakeQuantizeOp>, byValueType<QuantizeOp>,
    byValueType<DequantizeOp>, byValueType<BackwardOp>,
};

} // namespace qfx::kernels::QFX_KERNELS_NS
