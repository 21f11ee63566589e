//===- runtime/kernels/QuantFormat.h - Element formats of the kernels -----===//
//
// The element formats the fused quantization kernels understand and the two
// integer formulations, without any libtorch dependency so that passes, tools
// and the spec model can name a format without pulling in ATen. An integer
// format is described by its quantized range [quant_min, quant_max] alone (the
// reference's int2..uint8, with or without clipping, are all such ranges); the
// small floating-point formats are fixed grids described by FloatGrid. The
// spellings accepted by parseElementFormat are the reference's dtype names and
// aliases (quantization-semantics.md §1.1) for the float formats, plus "int".
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace qfx {

enum class ElementFormat : uint8_t {
  /// Integer codes in [quant_min, quant_max]; stored in int8 when quant_min
  /// is negative, uint8 otherwise.
  Int,
  /// OCP FP8 E4M3 "fn" variant: no infinities, NaN = S.1111.111, max 448.
  Float8E4M3FN,
  /// OCP FP8 E5M2: IEEE-like, infinities and NaNs, max 57344.
  Float8E5M2,
  /// OCP FP4 E2M1: grid {0, 0.5, 1, 1.5, 2, 3, 4, 6} and negatives. Its
  /// container is float8_e4m3fn (§1.1 target_dtype), every grid value being
  /// exactly representable there.
  Float4E2M1,
};

/// How an integer format maps codes to reals (§5.6). Both use one kernel with
/// two offsets: ZeroPoint has quant_offset = zero_point, float_offset = 0;
/// MinVal has quant_offset = quant_min, float_offset = minval.
enum class Formulation : uint8_t { ZeroPoint, MinVal };

/// A small binary floating-point grid: values m·2^e with `mantissaBits`
/// fraction bits, normals from 2^minExponent, saturating at maxValue.
struct FloatGrid {
  float maxValue;
  int minExponent;  // exponent of the smallest normal
  int mantissaBits; // explicit fraction bits
  int exponentBias; // bias of the encoded exponent field
};

constexpr bool isFloatFormat(ElementFormat format) { return format != ElementFormat::Int; }

/// Grid of a float format; Int has none (maxValue 0).
constexpr FloatGrid floatGrid(ElementFormat format) {
  switch (format) {
  case ElementFormat::Float8E4M3FN:
    return {448.0f, -6, 3, 7};
  case ElementFormat::Float8E5M2:
    return {57344.0f, -14, 2, 15};
  case ElementFormat::Float4E2M1:
    return {6.0f, 0, 1, 1};
  case ElementFormat::Int:
    break;
  }
  return {0.0f, 0, 0, 0};
}

/// The canonical spelling: "int", "float8_e4m3fn", "float8_e5m2",
/// "float4_e2m1fn_x2".
const char *elementFormatName(ElementFormat format);

/// Accepts the canonical spellings and the reference's aliases
/// ("float8_e4m3", "float4_e2m1fn"); std::nullopt otherwise.
std::optional<ElementFormat> parseElementFormat(std::string_view name);

/// "int, float8_e4m3fn, ..." for "expected one of" messages.
std::string allElementFormatNames();

} // namespace qfx
