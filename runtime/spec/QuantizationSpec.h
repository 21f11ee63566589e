//===- runtime/spec/QuantizationSpec.h - One tensor's quantization recipe -===//
//
// QuantizationSpec is the C++ form of the reference's QuantizationSpec
// (§1.1): dtype, qscheme, qformulation, granularity, the names of the
// fake-quantize / qparams-calculator / range-calculator implementations,
// float_range and scale_dtype, plus the derived n_bits, container dtype and
// quant range (§5.1). A spec is immutable and always valid: the only way to
// get one is create() (or a reader built on it), which applies every spec
// rule of reference §7 and reports each violation as a SpecError naming the
// field, the bad value and what is allowed.
//
// Specs travel as data: QuantAnnotation stores them on nodes as Attribute
// dictionaries (toAttribute / fromAttribute, which round-trip exactly), and
// users write them in JSON or YAML with the reference's keys and dict forms
// (`{"dtype": "int4", "granularity": {"type": "per_block", "axis": 1,
// "block_size": 32}}`). This header is libtorch-free so compiler passes can
// use it; the numerics live in runtime/numerics.
//
// Calculator names are keys of small registries (registerSpecClassKey) so a
// spec can name a custom implementation the runtime registers, as the
// reference's class registries allow. `averaging_constant` (the moving-average
// weight, 0.01 by default) is a first-class optional field here; the reference
// passes it as an extra field of a spec subclass.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/spec/Granularity.h"
#include "runtime/spec/QuantTypes.h"

#include "ir/Attribute.h"

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <optional>
#include <string>
#include <vector>

namespace qfx {

/// float_range: fixed lower and/or upper bound of the observed range. After
/// validation both bounds are finite, min <= 0 <= max and min < max.
struct FloatRange {
  std::optional<double> min;
  std::optional<double> max;
  bool bothSet() const { return min && max; }
  bool anySet() const { return min || max; }
  bool operator==(const FloatRange &other) const { return min == other.min && max == other.max; }
  bool operator!=(const FloatRange &other) const { return !(*this == other); }
};

/// The registries a spec names implementations from.
enum class SpecRegistry : uint8_t { FakeQuantize, QParamsCalculator, RangeCalculator };
/// Makes `key` valid in specs (the runtime registers the implementation
/// itself). Thread-safe; registering a key twice is harmless.
void registerSpecClassKey(SpecRegistry registry, llvm::StringRef key);
bool isRegisteredSpecClassKey(SpecRegistry registry, llvm::StringRef key);
/// Sorted keys, for messages.
std::vector<std::string> registeredSpecClassKeys(SpecRegistry registry);

/// Built-in registry keys.
namespace spec_keys {
inline constexpr const char *kDefault = "default";
inline constexpr const char *kStatic = "static";
inline constexpr const char *kMovingAverage = "moving_average";
inline constexpr const char *kGlobalMinMax = "global_minmax";
inline constexpr const char *kMinMax = "minmax";
} // namespace spec_keys

/// The moving-average weight when a spec does not set averaging_constant.
inline constexpr double kDefaultAveragingConstant = 0.01;

/// The user-settable fields, with the reference's defaults. Fill these in and
/// call QuantizationSpec::create().
struct QuantizationSpecFields {
  QuantDType dtype = QuantDType::Int8;
  QScheme qscheme = QScheme::Symmetric;
  QFormulation qformulation = QFormulation::ZP;
  Granularity granularity = Granularity::perTensor();
  std::string fakeQuantize = spec_keys::kDefault;
  std::string qparamsCalculator = spec_keys::kDefault;
  std::string rangeCalculator = spec_keys::kMinMax;
  FloatRange floatRange;
  /// None, or float8_e8m0fnu (power-of-two scales). Left unset for fp4, it
  /// becomes float8_e8m0fnu.
  std::optional<QuantDType> scaleDType;
  /// Moving-average weight c in running = c * current + (1 - c) * running;
  /// only meaningful with the moving_average (or default) calculator.
  std::optional<double> averagingConstant;
};

/// How toAttribute / toJSON / toYAML spell a spec.
struct SpecWriteOptions {
  /// Leave out fields equal to their default (qformulation zp, the default
  /// fake-quantize and range calculator, float_range [null, null], an unset
  /// or implied scale_dtype, an unset averaging_constant). dtype, qscheme,
  /// granularity and qparam_calculator_cls are always written.
  bool omitDefaults = false;
  /// Also write the computed n_bits, target_dtype, quant_min, quant_max
  /// (like the reference's model_dump; readers ignore them).
  bool includeComputed = false;
};

class QuantizationSpec {
public:
  /// The reference's QuantizationSpec(): int8, symmetric, zp, per-tensor,
  /// "default" calculators, minmax.
  QuantizationSpec();

  /// Validates `fields` (every spec rule of reference §7; all violations are
  /// reported, joined) and derives the computed fields.
  static llvm::Expected<QuantizationSpec> create(QuantizationSpecFields fields);

  const QuantizationSpecFields &fields() const { return fields_; }
  QuantDType dtype() const { return fields_.dtype; }
  QScheme qscheme() const { return fields_.qscheme; }
  QFormulation qformulation() const { return fields_.qformulation; }
  const Granularity &granularity() const { return fields_.granularity; }
  llvm::StringRef fakeQuantize() const { return fields_.fakeQuantize; }
  llvm::StringRef qparamsCalculator() const { return fields_.qparamsCalculator; }
  llvm::StringRef rangeCalculator() const { return fields_.rangeCalculator; }
  const FloatRange &floatRange() const { return fields_.floatRange; }
  std::optional<QuantDType> scaleDType() const { return fields_.scaleDType; }
  double averagingConstant() const {
    return fields_.averagingConstant.value_or(kDefaultAveragingConstant);
  }

  // Computed (reference §1.1 / §5.1).
  unsigned nBits() const { return quantDTypeBits(fields_.dtype); }
  QuantDType targetDType() const { return containerDType(fields_.dtype); }
  const QuantRange &quantRange() const { return range_; }
  double quantMin() const { return range_.min; }
  double quantMax() const { return range_.max; }
  bool isFloatingPoint() const { return isFloatQuantDType(fields_.dtype); }
  /// Power-of-two scales (scale_dtype float8_e8m0fnu; always for fp4).
  bool usesE8M0Scale() const { return fields_.scaleDType == QuantDType::Float8E8M0FNU; }
  /// Integer specs carry zero_point and minval; FP specs neither.
  bool hasOffsets() const { return !isFloatingPoint(); }

  /// The calculator key after resolving "default": static for weights,
  /// moving_average for activations. Other keys are returned unchanged.
  llvm::StringRef resolvedQParamsCalculator(QuantTarget target) const;

  /// The same spec with another granularity (e.g. a resolved axis, or the
  /// per-tensor forcing around channel-altering ops); validated.
  llvm::Expected<QuantizationSpec> withGranularity(Granularity granularity) const;

  /// The dict form. With default options every field is written (like the
  /// reference's model_dump without computed fields); the node-annotation
  /// form is `toAttribute({/*omitDefaults=*/true})`, e.g.
  /// `{dtype = "int8", qscheme = "symmetric", granularity = {type =
  /// "per_channel", axis = 0}, qparam_calculator_cls = "static"}`.
  Attribute toAttribute(const SpecWriteOptions &options = {}) const;
  /// Reads the dict form. Accepts exactly the reference's keys (dtype,
  /// qscheme, qformulation, granularity, fake_quantize_cls,
  /// qparam_calculator_cls, range_calculator_cls, float_range, scale_dtype)
  /// plus averaging_constant; the computed keys (n_bits, target_dtype,
  /// quant_min, quant_max) are ignored, as the reference strips them; any
  /// other key is an error. Missing keys take their defaults. Error paths are
  /// prefixed with `path` (e.g. the config location of this spec).
  static llvm::Expected<QuantizationSpec> fromAttribute(const Attribute &attr,
                                                        llvm::StringRef path = "");

  /// JSON / YAML text of toAttribute(options) / read via fromAttribute.
  std::string toJSON(const SpecWriteOptions &options = {}, unsigned indent = 2) const;
  static llvm::Expected<QuantizationSpec> fromJSON(llvm::StringRef text);
  std::string toYAML(const SpecWriteOptions &options = {}) const;
  static llvm::Expected<QuantizationSpec> fromYAML(llvm::StringRef text);

  /// One line for messages and debugging: the compact attribute form.
  std::string str() const;

  /// Field-wise equality (the computed fields follow from the fields).
  bool operator==(const QuantizationSpec &other) const;
  bool operator!=(const QuantizationSpec &other) const { return !(*this == other); }

private:
  explicit QuantizationSpec(QuantizationSpecFields fields);

  QuantizationSpecFields fields_;
  QuantRange range_;
};

/// int8, symmetric, per_channel(axis=0) (explicit axis, as in the reference),
/// fake "default", qparams "static", range "minmax", zp.
QuantizationSpec defaultWeightQuantizationSpec();
/// int8, symmetric, per_tensor, fake "default", qparams "moving_average",
/// range "minmax", zp.
QuantizationSpec defaultActivationQuantizationSpec();

} // namespace qfx
