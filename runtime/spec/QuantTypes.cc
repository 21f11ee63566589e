//===- runtime/spec/QuantTypes.cc - Quantized dtypes, schemes, ranges -----===//
//
// Name tables and the derived numbers (bit widths, containers, quant ranges)
// for the quantized element types of runtime/spec/QuantTypes.h.
//
//===----------------------------------------------------------------------===//
#include "runtime/spec/QuantTypes.h"

#include "llvm/ADT/STLExtras.h"

#include <algorithm>
#include <atomic>
#include <cmath>

namespace qfx {

namespace {

struct DTypeInfo {
  QuantDType dtype;
  const char *name;
  unsigned bits;
  bool isFloat;
  bool isSigned;
};

// One row per QuantDType, in enum order (checked by lookups below).
constexpr DTypeInfo kDTypes[] = {
    {QuantDType::Int1, "int1", 1, false, true},
    {QuantDType::Int2, "int2", 2, false, true},
    {QuantDType::Int3, "int3", 3, false, true},
    {QuantDType::Int4, "int4", 4, false, true},
    {QuantDType::Int5, "int5", 5, false, true},
    {QuantDType::Int6, "int6", 6, false, true},
    {QuantDType::Int7, "int7", 7, false, true},
    {QuantDType::Int8, "int8", 8, false, true},
    {QuantDType::Int16, "int16", 16, false, true},
    {QuantDType::Int32, "int32", 32, false, true},
    {QuantDType::Int64, "int64", 64, false, true},
    {QuantDType::UInt1, "uint1", 1, false, false},
    {QuantDType::UInt2, "uint2", 2, false, false},
    {QuantDType::UInt3, "uint3", 3, false, false},
    {QuantDType::UInt4, "uint4", 4, false, false},
    {QuantDType::UInt5, "uint5", 5, false, false},
    {QuantDType::UInt6, "uint6", 6, false, false},
    {QuantDType::UInt7, "uint7", 7, false, false},
    {QuantDType::UInt8, "uint8", 8, false, false},
    {QuantDType::UInt16, "uint16", 16, false, false},
    {QuantDType::UInt32, "uint32", 32, false, false},
    {QuantDType::UInt64, "uint64", 64, false, false},
    {QuantDType::Bool, "bool", 8, false, false},
    {QuantDType::Float16, "float16", 16, true, true},
    {QuantDType::BFloat16, "bfloat16", 16, true, true},
    {QuantDType::Float32, "float32", 32, true, true},
    {QuantDType::Float64, "float64", 64, true, true},
    {QuantDType::Float8E4M3FN, "float8_e4m3fn", 8, true, true},
    {QuantDType::Float8E5M2, "float8_e5m2", 8, true, true},
    {QuantDType::Float8E4M3FNUZ, "float8_e4m3fnuz", 8, true, true},
    {QuantDType::Float8E5M2FNUZ, "float8_e5m2fnuz", 8, true, true},
    {QuantDType::Float8E8M0FNU, "float8_e8m0fnu", 8, true, false},
    {QuantDType::Float4E2M1FNx2, "float4_e2m1fn_x2", 4, true, true},
};

const DTypeInfo &info(QuantDType dtype) { return kDTypes[static_cast<unsigned>(dtype)]; }

struct Alias {
  const char *name;
  QuantDType dtype;
};

// The reference's _DTYPE_ALIASES plus the attribute aliases torch itself has
// (`torch.half is torch.float16`), which the reference reaches through
// getattr(torch, name).
constexpr Alias kAliases[] = {
    {"float4_e2m1fn", QuantDType::Float4E2M1FNx2},
    {"float8_e4m3", QuantDType::Float8E4M3FN},
    {"float8_e8m0", QuantDType::Float8E8M0FNU},
    {"half", QuantDType::Float16},
    {"float", QuantDType::Float32},
    {"double", QuantDType::Float64},
    {"short", QuantDType::Int16},
    {"int", QuantDType::Int32},
    {"long", QuantDType::Int64},
};

constexpr QuantDType kBuiltinSupported[] = {
    QuantDType::Int2,         QuantDType::Int4,       QuantDType::Int8,
    QuantDType::UInt2,        QuantDType::UInt4,      QuantDType::UInt8,
    QuantDType::Float8E4M3FN, QuantDType::Float8E5M2, QuantDType::Float4E2M1FNx2,
};

// Exactly the widths the reference's tests add to SUPPORTED_DTYPES.
constexpr QuantDType kExtraSupported[] = {
    QuantDType::Int1,  QuantDType::Int3,  QuantDType::Int5,  QuantDType::Int6,
    QuantDType::Int7,  QuantDType::Int16, QuantDType::Int32, QuantDType::UInt1,
    QuantDType::UInt3, QuantDType::UInt5, QuantDType::UInt6, QuantDType::UInt7,
};

std::atomic<bool> extraIntegerDTypes{false};

} // namespace

llvm::StringRef quantDTypeName(QuantDType dtype) { return info(dtype).name; }

std::optional<QuantDType> lookupQuantDType(llvm::StringRef name) {
  name.consume_front("torch.");
  for (const DTypeInfo &row : kDTypes)
    if (name == row.name)
      return row.dtype;
  for (const Alias &alias : kAliases)
    if (name == alias.name)
      return alias.dtype;
  return std::nullopt;
}

bool isSupportedQuantDType(QuantDType dtype) {
  if (llvm::is_contained(kBuiltinSupported, dtype))
    return true;
  return extraIntegerDTypes.load(std::memory_order_relaxed) &&
         llvm::is_contained(kExtraSupported, dtype);
}

std::vector<QuantDType> supportedQuantDTypes() {
  std::vector<QuantDType> result;
  for (const DTypeInfo &row : kDTypes)
    if (isSupportedQuantDType(row.dtype))
      result.push_back(row.dtype);
  std::sort(result.begin(), result.end(),
            [](QuantDType a, QuantDType b) { return quantDTypeName(a) < quantDTypeName(b); });
  return result;
}

std::string supportedQuantDTypeNames() {
  std::string text;
  for (QuantDType dtype : supportedQuantDTypes()) {
    if (!text.empty())
      text += ", ";
    text += quantDTypeName(dtype).str();
  }
  return text;
}

void setExtraIntegerDTypesEnabled(bool enabled) {
  extraIntegerDTypes.store(enabled, std::memory_order_relaxed);
}

bool extraIntegerDTypesEnabled() { return extraIntegerDTypes.load(std::memory_order_relaxed); }

bool isFloatQuantDType(QuantDType dtype) { return info(dtype).isFloat; }

bool isIntegerQuantDType(QuantDType dtype) {
  return !info(dtype).isFloat && dtype != QuantDType::Bool;
}

bool isSignedQuantDType(QuantDType dtype) { return info(dtype).isSigned; }

bool isFloat8QuantDType(QuantDType dtype) {
  switch (dtype) {
  case QuantDType::Float8E4M3FN:
  case QuantDType::Float8E5M2:
  case QuantDType::Float8E4M3FNUZ:
  case QuantDType::Float8E5M2FNUZ:
  case QuantDType::Float8E8M0FNU:
    return true;
  default:
    return false;
  }
}

bool isFloat4QuantDType(QuantDType dtype) { return dtype == QuantDType::Float4E2M1FNx2; }

unsigned quantDTypeBits(QuantDType dtype) { return info(dtype).bits; }

QuantDType containerDType(QuantDType dtype) {
  if (isIntegerQuantDType(dtype) && quantDTypeBits(dtype) <= 8)
    return isSignedQuantDType(dtype) ? QuantDType::Int8 : QuantDType::UInt8;
  if (dtype == QuantDType::Float4E2M1FNx2)
    return QuantDType::Float8E4M3FN;
  return dtype;
}

std::optional<DType> toIRDType(QuantDType dtype) {
  switch (dtype) {
  case QuantDType::Int8:
    return DType::I8;
  case QuantDType::UInt8:
    return DType::U8;
  case QuantDType::Int16:
    return DType::I16;
  case QuantDType::Int32:
    return DType::I32;
  case QuantDType::Int64:
    return DType::I64;
  case QuantDType::Bool:
    return DType::I1;
  case QuantDType::Float16:
    return DType::F16;
  case QuantDType::BFloat16:
    return DType::BF16;
  case QuantDType::Float32:
    return DType::F32;
  case QuantDType::Float64:
    return DType::F64;
  case QuantDType::Float8E4M3FN:
    return DType::F8E4M3FN;
  case QuantDType::Float8E5M2:
    return DType::F8E5M2;
  case QuantDType::Float8E8M0FNU:
    return DType::F8E8M0FNU;
  case QuantDType::Float4E2M1FNx2:
    return DType::F4E2M1FN;
  default:
    return std::nullopt;
  }
}

llvm::StringRef qschemeName(QScheme scheme) {
  switch (scheme) {
  case QScheme::Symmetric:
    return "symmetric";
  case QScheme::SymmetricWithClipping:
    return "symmetric_with_clipping";
  case QScheme::Asymmetric:
    return "asymmetric";
  }
  return "symmetric";
}

std::optional<QScheme> lookupQScheme(llvm::StringRef name) {
  for (QScheme scheme : {QScheme::Symmetric, QScheme::SymmetricWithClipping, QScheme::Asymmetric})
    if (name == qschemeName(scheme))
      return scheme;
  return std::nullopt;
}

std::string allQSchemeNames() { return "'symmetric', 'symmetric_with_clipping', 'asymmetric'"; }

llvm::StringRef qformulationName(QFormulation formulation) {
  return formulation == QFormulation::ZP ? "zp" : "minval";
}

std::optional<QFormulation> lookupQFormulation(llvm::StringRef name) {
  if (name == "zp")
    return QFormulation::ZP;
  if (name == "minval")
    return QFormulation::MinVal;
  return std::nullopt;
}

std::string allQFormulationNames() { return "'zp', 'minval'"; }

QuantRange quantRange(QuantDType dtype, QScheme scheme) {
  QuantRange range;
  if (isFloatQuantDType(dtype)) {
    range.isFloat = true;
    double max = 0;
    switch (dtype) {
    case QuantDType::Float4E2M1FNx2:
      max = 6.0; // 1.5 * 2^2
      break;
    case QuantDType::Float8E4M3FN:
      max = 448.0;
      break;
    case QuantDType::Float8E5M2:
      max = 57344.0;
      break;
    case QuantDType::Float8E4M3FNUZ:
      max = 240.0;
      break;
    case QuantDType::Float8E5M2FNUZ:
      max = 57344.0;
      break;
    case QuantDType::Float8E8M0FNU:
      max = std::ldexp(1.0, 127);
      break;
    case QuantDType::Float16:
      max = 65504.0;
      break;
    case QuantDType::BFloat16:
      max = 3.3895313892515355e38;
      break;
    case QuantDType::Float32:
      max = 3.4028234663852886e38;
      break;
    default:
      max = 1.7976931348623157e308;
      break;
    }
    // e8m0 has no sign; finfo.min is its smallest value, 2^-127.
    range.min = dtype == QuantDType::Float8E8M0FNU ? std::ldexp(1.0, -127) : -max;
    range.max = max;
    return range;
  }
  unsigned bits = quantDTypeBits(dtype);
  if (dtype == QuantDType::Bool)
    bits = 1;
  double codes = std::ldexp(1.0, bits);
  if (isSignedQuantDType(dtype)) {
    range.min = -codes / 2;
    range.max = codes / 2 - 1;
    // Clipping makes the signed range symmetric (int8: [-127, 127]); the
    // unsigned ranges are left alone, as in the reference.
    if (scheme == QScheme::SymmetricWithClipping)
      range.min = 0.0 - range.max; // not -max: int1 would give -0

  } else {
    range.min = 0;
    range.max = codes - 1;
  }
  return range;
}

} // namespace qfx
