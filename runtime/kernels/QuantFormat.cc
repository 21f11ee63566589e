//===- runtime/kernels/QuantFormat.cc - Element format names --------------===//
//
// Spellings of the kernels' element formats (QuantFormat.h). Kept out of the
// libtorch TU so that torch-free code (passes, tools, the spec model) can
// name formats by linking //runtime/kernels:format alone.
//
//===----------------------------------------------------------------------===//
#include "runtime/kernels/QuantFormat.h"

namespace qfx {

namespace {
struct FormatSpelling {
  ElementFormat format;
  const char *name;
};
// Canonical spellings first; one list so the three functions cannot drift.
constexpr FormatSpelling kFormatSpellings[] = {
    {ElementFormat::Int, "int"},
    {ElementFormat::Float8E4M3FN, "float8_e4m3fn"},
    {ElementFormat::Float8E5M2, "float8_e5m2"},
    {ElementFormat::Float4E2M1, "float4_e2m1fn_x2"},
    {ElementFormat::Float8E4M3FN, "float8_e4m3"},
    {ElementFormat::Float4E2M1, "float4_e2m1fn"},
};
} // namespace

const char *elementFormatName(ElementFormat format) {
  for (const auto &s : kFormatSpellings)
    if (s.format == format)
      return s.name;
  return "?";
}

std::optional<ElementFormat> parseElementFormat(std::string_view name) {
  for (const auto &s : kFormatSpellings)
    if (name == s.name)
      return s.format;
  return std::nullopt;
}

std::string allElementFormatNames() {
  std::string out;
  for (const auto &s : kFormatSpellings) {
    if (!out.empty())
      out += ", ";
    out += s.name;
  }
  return out;
}

} // namespace qfx
