//===- runtime/spec/QuantTypes.h - Quantized dtypes, schemes, ranges ------===//
//
// The vocabulary of a quantization spec that does not depend on a tensor
// library: the quantized element types (QuantDType) with their names and
// aliases as the reference spells them, the quantization scheme and
// formulation enums, and the derived numbers every later stage needs (bit
// width, container dtype, quant_min/quant_max of reference §5.1). Compiler
// passes, config readers and the runtime all use these, so this header stays
// free of libtorch.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Type.h"

#include "llvm/ADT/StringRef.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace qfx {

/// Every element type a spec may *name*. Only a subset is supported for
/// quantization (isSupportedQuantDType); the rest exist so that a config
/// naming e.g. `float16` gets "Unsupported dtype: float16. Allowed dtypes: ..."
/// rather than "unknown name", exactly like the reference, which resolves
/// names through `torch.<name>` first and checks membership second.
enum class QuantDType : uint8_t {
  // Signed integers. Int1..Int7 are sub-byte "logical" widths stored in int8.
  Int1,
  Int2,
  Int3,
  Int4,
  Int5,
  Int6,
  Int7,
  Int8,
  Int16,
  Int32,
  Int64,
  // Unsigned integers.
  UInt1,
  UInt2,
  UInt3,
  UInt4,
  UInt5,
  UInt6,
  UInt7,
  UInt8,
  UInt16,
  UInt32,
  UInt64,
  Bool,
  // Floating point.
  Float16,
  BFloat16,
  Float32,
  Float64,
  Float8E4M3FN,
  Float8E5M2,
  Float8E4M3FNUZ,
  Float8E5M2FNUZ,
  Float8E8M0FNU,
  Float4E2M1FNx2,
};

/// Canonical spelling (`int8`, `float8_e4m3fn`, `float4_e2m1fn_x2`).
llvm::StringRef quantDTypeName(QuantDType dtype);

/// Resolves a dtype name: canonical names, the reference's aliases
/// (`float4_e2m1fn`, `float8_e4m3`, `float8_e8m0`), torch's attribute aliases
/// (`half`, `float`, `double`, `short`, `int`, `long`) and, as a convenience
/// the reference lacks, a `torch.` prefix (`torch.int8`, as torch prints it).
/// std::nullopt when the name denotes no dtype at all.
std::optional<QuantDType> lookupQuantDType(llvm::StringRef name);

/// True for the dtypes a QuantizationSpec accepts: int2, int4, int8, uint2,
/// uint4, uint8, float8_e4m3fn, float8_e5m2, float4_e2m1fn_x2 -- plus the
/// extra integer widths while setExtraIntegerDTypesEnabled(true) is in force.
bool isSupportedQuantDType(QuantDType dtype);

/// The supported dtypes in the order error messages list them (sorted by name).
std::vector<QuantDType> supportedQuantDTypes();

/// Comma-separated supported names for "allowed ..." messages.
std::string supportedQuantDTypeNames();

/// The reference's tests monkey-patch `QuantizationSpec.SUPPORTED_DTYPES` to
/// add int1/3/5/6/7/16/32 and uint1/3/5/6/7. This switch does the same for
/// the whole process (it is meant for tests; the flag is atomic but flipping
/// it while specs are being built elsewhere is a race in meaning).
void setExtraIntegerDTypesEnabled(bool enabled);
bool extraIntegerDTypesEnabled();

/// RAII form of setExtraIntegerDTypesEnabled for tests.
class ScopedExtraIntegerDTypes {
public:
  ScopedExtraIntegerDTypes() : previous_(extraIntegerDTypesEnabled()) {
    setExtraIntegerDTypesEnabled(true);
  }
  ~ScopedExtraIntegerDTypes() { setExtraIntegerDTypesEnabled(previous_); }
  ScopedExtraIntegerDTypes(const ScopedExtraIntegerDTypes &) = delete;
  ScopedExtraIntegerDTypes &operator=(const ScopedExtraIntegerDTypes &) = delete;

private:
  bool previous_;
};

bool isFloatQuantDType(QuantDType dtype);
bool isIntegerQuantDType(QuantDType dtype);
bool isSignedQuantDType(QuantDType dtype);
bool isFloat8QuantDType(QuantDType dtype);
bool isFloat4QuantDType(QuantDType dtype);

/// n_bits: 4 for fp4 (one element, not the packed pair), the format width
/// otherwise, the digits of the name for the sub-byte integers.
unsigned quantDTypeBits(QuantDType dtype);

/// target_dtype, the container the quantized values are stored in: signed
/// integers of at most 8 bits -> int8, unsigned -> uint8, float4_e2m1fn_x2 ->
/// float8_e4m3fn (every e2m1 value is exact in e4m3), others unchanged.
QuantDType containerDType(QuantDType dtype);

/// The IR element type for a container dtype (int8 -> i8, fp8 -> f8E4M3FN,
/// ...); std::nullopt when the IR has no such element type (int4, uint16...).
std::optional<DType> toIRDType(QuantDType dtype);

enum class QScheme : uint8_t { Symmetric, SymmetricWithClipping, Asymmetric };
/// `symmetric`, `symmetric_with_clipping`, `asymmetric`.
llvm::StringRef qschemeName(QScheme scheme);
std::optional<QScheme> lookupQScheme(llvm::StringRef name);
/// "'symmetric', 'symmetric_with_clipping', 'asymmetric'" for messages.
std::string allQSchemeNames();

enum class QFormulation : uint8_t {
  /// q = clamp(round(x / scale) + zero_point); x' = (q - zero_point) * scale.
  ZP,
  /// q = clamp(round((x - minval) / scale) + qmin); x' = (q - qmin) * scale + minval.
  MinVal,
};
/// `zp`, `minval`.
llvm::StringRef qformulationName(QFormulation formulation);
std::optional<QFormulation> lookupQFormulation(llvm::StringRef name);
std::string allQFormulationNames();

/// [quant_min, quant_max] of reference §5.1. Integer bounds are exact in a
/// double (widths up to 32 bits are supported); `isFloat` tells which.
struct QuantRange {
  double min = 0;
  double max = 0;
  bool isFloat = false;
  bool operator==(const QuantRange &other) const {
    return min == other.min && max == other.max && isFloat == other.isFloat;
  }
};

/// Signed n-bit: [-2^(n-1), 2^(n-1)-1]; unsigned: [0, 2^n-1];
/// symmetric_with_clipping on signed types drops the most negative code.
/// Floats: +-finfo.max (fp4: +-6).
QuantRange quantRange(QuantDType dtype, QScheme scheme);

/// Which side of an op a spec is for; decides what the "default" qparams
/// calculator means (static for weights, moving_average for activations).
enum class QuantTarget : uint8_t { Weight, Activation };

} // namespace qfx
