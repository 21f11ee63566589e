//===- runtime/spec/QuantizationSpec.cc - One tensor's quantization recipe -===//
//
// Validation (reference §7), the dict form and its JSON/YAML spellings, and
// the implementation-name registries of QuantizationSpec.
//
//===----------------------------------------------------------------------===//
#include "runtime/spec/QuantizationSpec.h"

#include "runtime/spec/SpecError.h"
#include "runtime/spec/TreeIO.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringSet.h"

#include <algorithm>
#include <cmath>
#include <mutex>

namespace qfx {

//===----------------------------------------------------------------------===//
// Registries
//===----------------------------------------------------------------------===//

namespace {

struct Registries {
  std::mutex mutex;
  llvm::StringSet<> sets[3];
  Registries() {
    sets[static_cast<unsigned>(SpecRegistry::FakeQuantize)].insert(spec_keys::kDefault);
    llvm::StringSet<> &qparams = sets[static_cast<unsigned>(SpecRegistry::QParamsCalculator)];
    for (const char *key : {spec_keys::kDefault, spec_keys::kStatic, spec_keys::kMovingAverage,
                            spec_keys::kGlobalMinMax})
      qparams.insert(key);
    sets[static_cast<unsigned>(SpecRegistry::RangeCalculator)].insert(spec_keys::kMinMax);
  }
};

Registries &registries() {
  static Registries instance;
  return instance;
}

llvm::StringRef registryName(SpecRegistry registry) {
  switch (registry) {
  case SpecRegistry::FakeQuantize:
    return "fake-quantize";
  case SpecRegistry::QParamsCalculator:
    return "qparams-calculator";
  case SpecRegistry::RangeCalculator:
    return "range-calculator";
  }
  return "";
}

std::string quotedList(const std::vector<std::string> &items) {
  std::string text;
  for (const std::string &item : items)
    text += (text.empty() ? "'" : ", '") + item + "'";
  return text;
}

} // namespace

void registerSpecClassKey(SpecRegistry registry, llvm::StringRef key) {
  Registries &r = registries();
  std::lock_guard<std::mutex> lock(r.mutex);
  r.sets[static_cast<unsigned>(registry)].insert(key);
}

bool isRegisteredSpecClassKey(SpecRegistry registry, llvm::StringRef key) {
  Registries &r = registries();
  std::lock_guard<std::mutex> lock(r.mutex);
  return r.sets[static_cast<unsigned>(registry)].contains(key);
}

std::vector<std::string> registeredSpecClassKeys(SpecRegistry registry) {
  Registries &r = registries();
  std::vector<std::string> keys;
  {
    std::lock_guard<std::mutex> lock(r.mutex);
    for (const auto &entry : r.sets[static_cast<unsigned>(registry)])
      keys.push_back(entry.getKey().str());
  }
  std::sort(keys.begin(), keys.end());
  return keys;
}

//===----------------------------------------------------------------------===//
// Validation
//===----------------------------------------------------------------------===//

namespace {

llvm::Error unsupportedDTypeError(llvm::StringRef field, QuantDType dtype) {
  return makeSpecError(field, "Unsupported dtype: " + quantDTypeName(dtype) +
                                  ". Allowed dtypes: " + supportedQuantDTypeNames());
}

llvm::Error checkRegistryKey(SpecRegistry registry, llvm::StringRef field, llvm::StringRef key) {
  if (isRegisteredSpecClassKey(registry, key))
    return llvm::Error::success();
  return makeSpecError(
      field, "No class is registered with key: '" + key + "' in the " + registryName(registry) +
                 " registry. Available keys: " + quotedList(registeredSpecClassKeys(registry)));
}

llvm::Error validate(const QuantizationSpecFields &fields) {
  llvm::Error error = llvm::Error::success();
  auto add = [&](llvm::Error next) { error = llvm::joinErrors(std::move(error), std::move(next)); };

  if (!isSupportedQuantDType(fields.dtype))
    add(unsupportedDTypeError("dtype", fields.dtype));
  bool isFloat = isFloatQuantDType(fields.dtype);
  std::string dtypeName = quantDTypeName(fields.dtype).str();
  if (isFloat && fields.qscheme != QScheme::Symmetric)
    add(makeSpecError("qscheme", "FP quantization (dtype=" + dtypeName +
                                     ") requires symmetric quantization scheme, got qscheme=" +
                                     qschemeName(fields.qscheme) + ". Valid option: 'symmetric'"));
  if (isFloat && fields.qformulation != QFormulation::ZP)
    add(makeSpecError("qformulation", "FP quantization (dtype=" + dtypeName +
                                          ") requires zero-point quantization formulation, got "
                                          "qformulation=" +
                                          qformulationName(fields.qformulation) +
                                          ". Valid option: 'zp'"));
  if (fields.scaleDType) {
    if (*fields.scaleDType != QuantDType::Float8E8M0FNU)
      add(makeSpecError("scale_dtype",
                        "Unsupported scale_dtype: " + quantDTypeName(*fields.scaleDType) +
                            ". Only null or float8_e8m0fnu are supported."));
    else if (!isFloat)
      add(makeSpecError("scale_dtype", "scale_dtype must be null for integer dtypes, got "
                                       "scale_dtype=" +
                                           quantDTypeName(*fields.scaleDType) +
                                           " with dtype=" + dtypeName + "."));
  }

  const FloatRange &range = fields.floatRange;
  for (const std::optional<double> &bound : {range.min, range.max})
    if (bound && !std::isfinite(*bound))
      add(makeSpecError("float_range", "Float range entries must be finite numbers or null, got " +
                                           formatFloat(*bound) + "."));
  if (range.bothSet() && !(*range.min < *range.max))
    add(makeSpecError("float_range",
                      "Float range [float_min, float_max] expects float_min < float_max, got [" +
                          formatFloat(*range.min) + ", " + formatFloat(*range.max) + "]."));
  if (range.min && *range.min > 0.0)
    add(makeSpecError("float_range", "Float range min value must be less than or equal to 0, got " +
                                         formatFloat(*range.min) + "."));
  if (range.max && *range.max < 0.0)
    add(makeSpecError("float_range",
                      "Float range max value must be greater than or equal to 0, got " +
                          formatFloat(*range.max) + "."));

  add(checkRegistryKey(SpecRegistry::FakeQuantize, "fake_quantize_cls", fields.fakeQuantize));
  add(checkRegistryKey(SpecRegistry::QParamsCalculator, "qparam_calculator_cls",
                       fields.qparamsCalculator));
  add(checkRegistryKey(SpecRegistry::RangeCalculator, "range_calculator_cls",
                       fields.rangeCalculator));
  add(fields.granularity.verify("granularity"));

  if (fields.averagingConstant) {
    double c = *fields.averagingConstant;
    if (!(c > 0.0 && c <= 1.0))
      add(makeSpecError("averaging_constant",
                        "averaging_constant must be in (0, 1], got " + formatFloat(c) + "."));
    llvm::StringRef key = fields.qparamsCalculator;
    if (key != spec_keys::kMovingAverage && key != spec_keys::kDefault)
      add(makeSpecError("averaging_constant",
                        "averaging_constant is only used by qparam_calculator_cls "
                        "'moving_average' (or 'default' on activations), got '" +
                            key + "'."));
  }
  return error;
}

} // namespace

QuantizationSpec::QuantizationSpec() : QuantizationSpec(QuantizationSpecFields()) {}

QuantizationSpec::QuantizationSpec(QuantizationSpecFields fields) : fields_(std::move(fields)) {
  range_ = qfx::quantRange(fields_.dtype, fields_.qscheme);
}

llvm::Expected<QuantizationSpec> QuantizationSpec::create(QuantizationSpecFields fields) {
  // FP4 has no scale without e8m0 (its grid cannot be scaled arbitrarily in
  // the MX formats): an unset scale_dtype means e8m0, as in the reference.
  if (isFloat4QuantDType(fields.dtype) && !fields.scaleDType)
    fields.scaleDType = QuantDType::Float8E8M0FNU;
  if (llvm::Error error = validate(fields))
    return std::move(error);
  return QuantizationSpec(std::move(fields));
}

llvm::StringRef QuantizationSpec::resolvedQParamsCalculator(QuantTarget target) const {
  if (fields_.qparamsCalculator != spec_keys::kDefault)
    return fields_.qparamsCalculator;
  return target == QuantTarget::Weight ? spec_keys::kStatic : spec_keys::kMovingAverage;
}

llvm::Expected<QuantizationSpec> QuantizationSpec::withGranularity(Granularity granularity) const {
  QuantizationSpecFields fields = fields_;
  fields.granularity = std::move(granularity);
  return create(std::move(fields));
}

bool QuantizationSpec::operator==(const QuantizationSpec &other) const {
  const QuantizationSpecFields &a = fields_;
  const QuantizationSpecFields &b = other.fields_;
  return a.dtype == b.dtype && a.qscheme == b.qscheme && a.qformulation == b.qformulation &&
         a.granularity == b.granularity && a.fakeQuantize == b.fakeQuantize &&
         a.qparamsCalculator == b.qparamsCalculator && a.rangeCalculator == b.rangeCalculator &&
         a.floatRange == b.floatRange && a.scaleDType == b.scaleDType &&
         a.averagingConstant == b.averagingConstant;
}

//===----------------------------------------------------------------------===//
// Dict form
//===----------------------------------------------------------------------===//

namespace {

Attribute optionalFloat(const std::optional<double> &value) {
  return value ? Attribute::floating(*value) : Attribute::none();
}

Attribute quantBound(double value, bool isFloat) {
  return isFloat ? Attribute::floating(value) : Attribute::integer(static_cast<int64_t>(value));
}

std::string describe(const Attribute &attr) {
  return kindName(attr.kind()).str() + " " + attr.str();
}

constexpr llvm::StringRef kFieldKeys[] = {"dtype",
                                          "qscheme",
                                          "qformulation",
                                          "granularity",
                                          "fake_quantize_cls",
                                          "qparam_calculator_cls",
                                          "range_calculator_cls",
                                          "float_range",
                                          "scale_dtype",
                                          "averaging_constant"};
constexpr llvm::StringRef kComputedKeys[] = {"n_bits", "target_dtype", "quant_min", "quant_max"};

/// Resolves a dtype name for `field`; the reference's "Unsupported dtype:
/// '<name>'" when the name is no dtype at all.
llvm::Expected<QuantDType> readDTypeName(const Attribute &attr, llvm::StringRef field) {
  if (!attr.isString())
    return makeSpecError(field, "expected a dtype name string, got " + describe(attr) +
                                    "; allowed: " + supportedQuantDTypeNames());
  std::optional<QuantDType> dtype = lookupQuantDType(attr.getString());
  if (!dtype)
    return makeSpecError(
        field, "Unsupported dtype: '" + attr.getString() +
                   "' is not a dtype name. Allowed dtypes: " + supportedQuantDTypeNames() +
                   " (aliases: float4_e2m1fn, float8_e4m3)");
  return *dtype;
}

llvm::Expected<std::string> readRegistryKey(const Attribute &attr, llvm::StringRef field) {
  if (!attr.isString())
    return makeSpecError(field, "expected a registry key string, got " + describe(attr));
  return attr.getString();
}

} // namespace

Attribute QuantizationSpec::toAttribute(const SpecWriteOptions &options) const {
  const QuantizationSpecFields &f = fields_;
  AttributeDict entries;
  bool omit = options.omitDefaults;
  entries.emplace_back("dtype", Attribute::string(quantDTypeName(f.dtype).str()));
  entries.emplace_back("qscheme", Attribute::string(qschemeName(f.qscheme).str()));
  if (!omit || f.qformulation != QFormulation::ZP)
    entries.emplace_back("qformulation", Attribute::string(qformulationName(f.qformulation).str()));
  entries.emplace_back("granularity", f.granularity.toAttribute());
  if (!omit || f.fakeQuantize != spec_keys::kDefault)
    entries.emplace_back("fake_quantize_cls", Attribute::string(f.fakeQuantize));
  entries.emplace_back("qparam_calculator_cls", Attribute::string(f.qparamsCalculator));
  if (!omit || f.rangeCalculator != spec_keys::kMinMax)
    entries.emplace_back("range_calculator_cls", Attribute::string(f.rangeCalculator));
  if (!omit || f.floatRange.anySet())
    entries.emplace_back("float_range", Attribute::list({optionalFloat(f.floatRange.min),
                                                         optionalFloat(f.floatRange.max)}));
  // FP4's e8m0 is implied by the dtype, so the compact form leaves it out.
  bool impliedScale = isFloat4QuantDType(f.dtype) && usesE8M0Scale();
  if (!omit || (f.scaleDType && !impliedScale))
    entries.emplace_back("scale_dtype", f.scaleDType
                                            ? Attribute::string(quantDTypeName(*f.scaleDType).str())
                                            : Attribute::none());
  if (f.averagingConstant)
    entries.emplace_back("averaging_constant", Attribute::floating(*f.averagingConstant));
  if (options.includeComputed) {
    entries.emplace_back("n_bits", Attribute::integer(nBits()));
    entries.emplace_back("target_dtype", Attribute::string(quantDTypeName(targetDType()).str()));
    entries.emplace_back("quant_min", quantBound(range_.min, range_.isFloat));
    entries.emplace_back("quant_max", quantBound(range_.max, range_.isFloat));
  }
  return Attribute::dict(std::move(entries));
}

llvm::Expected<QuantizationSpec> QuantizationSpec::fromAttribute(const Attribute &attr,
                                                                 llvm::StringRef path) {
  if (!attr.isDict())
    return makeSpecError(path, "a quantization spec must be a dict (or null for \"not "
                               "quantized\" where the context allows it), got " +
                                   describe(attr));
  QuantizationSpecFields fields;
  llvm::Error error = llvm::Error::success();
  auto add = [&](llvm::Error next) { error = llvm::joinErrors(std::move(error), std::move(next)); };

  for (const NamedAttribute &entry : attr.getDict()) {
    llvm::StringRef key = entry.first;
    const Attribute &value = entry.second;
    if (llvm::is_contained(kComputedKeys, key))
      continue;
    if (key == "dtype") {
      llvm::Expected<QuantDType> dtype = readDTypeName(value, key);
      if (dtype)
        fields.dtype = *dtype;
      else
        add(dtype.takeError());
    } else if (key == "qscheme") {
      std::optional<QScheme> scheme =
          value.isString() ? lookupQScheme(value.getString()) : std::nullopt;
      if (scheme)
        fields.qscheme = *scheme;
      else
        add(makeSpecError(key, "invalid qscheme " + describe(value) +
                                   "; allowed: " + allQSchemeNames()));
    } else if (key == "qformulation") {
      std::optional<QFormulation> formulation =
          value.isString() ? lookupQFormulation(value.getString()) : std::nullopt;
      if (formulation)
        fields.qformulation = *formulation;
      else
        add(makeSpecError(key, "invalid qformulation " + describe(value) +
                                   "; allowed: " + allQFormulationNames()));
    } else if (key == "granularity") {
      llvm::Expected<Granularity> granularity = Granularity::fromAttribute(value, key);
      if (granularity)
        fields.granularity = *granularity;
      else
        add(granularity.takeError());
    } else if (key == "fake_quantize_cls" || key == "qparam_calculator_cls" ||
               key == "range_calculator_cls") {
      llvm::Expected<std::string> name = readRegistryKey(value, key);
      if (!name) {
        add(name.takeError());
        continue;
      }
      if (key == "fake_quantize_cls")
        fields.fakeQuantize = *name;
      else if (key == "qparam_calculator_cls")
        fields.qparamsCalculator = *name;
      else
        fields.rangeCalculator = *name;
    } else if (key == "float_range") {
      if (!value.isList()) {
        add(makeSpecError(key, "Float range must be a list or tuple, got " + describe(value) +
                                   "; allowed: [min or null, max or null]"));
        continue;
      }
      const AttributeList &bounds = value.getList();
      if (bounds.size() != 2) {
        add(makeSpecError(key, "Float range must have length 2, got " +
                                   std::to_string(bounds.size()) + " entries in " + value.str()));
        continue;
      }
      bool ok = true;
      std::optional<double> parsed[2];
      for (unsigned i = 0; i < 2; ++i) {
        // Bools are rejected explicitly in the reference (bool is an int in
        // Python); here they are simply not numbers.
        if (bounds[i].isNone())
          continue;
        if (std::optional<double> number = bounds[i].asNumber())
          parsed[i] = *number;
        else
          ok = false;
      }
      if (!ok) {
        add(makeSpecError(key, "Float range entries must be ints, floats or None (null), got " +
                                   value.str()));
        continue;
      }
      fields.floatRange.min = parsed[0];
      fields.floatRange.max = parsed[1];
    } else if (key == "scale_dtype") {
      if (value.isNone()) {
        fields.scaleDType.reset();
        continue;
      }
      llvm::Expected<QuantDType> dtype = readDTypeName(value, key);
      if (dtype)
        fields.scaleDType = *dtype;
      else
        add(dtype.takeError());
    } else if (key == "averaging_constant") {
      if (value.isNone())
        continue;
      if (std::optional<double> number = value.asNumber())
        fields.averagingConstant = *number;
      else
        add(makeSpecError(key, "expected a number in (0, 1], got " + describe(value)));
    } else {
      std::string allowed;
      for (llvm::StringRef known : kFieldKeys)
        allowed += (allowed.empty() ? "" : ", ") + known.str();
      add(makeSpecError(key, "Extra inputs are not permitted in a quantization spec; allowed "
                             "keys: " +
                                 allowed));
    }
  }
  if (error)
    return prefixSpecErrorPath(std::move(error), path);
  llvm::Expected<QuantizationSpec> spec = create(std::move(fields));
  if (!spec)
    return prefixSpecErrorPath(spec.takeError(), path);
  return spec;
}

std::string QuantizationSpec::toJSON(const SpecWriteOptions &options, unsigned indent) const {
  return toJSONString(toAttribute(options), indent);
}

llvm::Expected<QuantizationSpec> QuantizationSpec::fromJSON(llvm::StringRef text) {
  llvm::Expected<Attribute> tree = parseJSONTree(text);
  if (!tree)
    return tree.takeError();
  return fromAttribute(*tree);
}

std::string QuantizationSpec::toYAML(const SpecWriteOptions &options) const {
  return toYAMLString(toAttribute(options));
}

llvm::Expected<QuantizationSpec> QuantizationSpec::fromYAML(llvm::StringRef text) {
  llvm::Expected<Attribute> tree = parseYAMLTree(text);
  if (!tree)
    return tree.takeError();
  return fromAttribute(*tree);
}

std::string QuantizationSpec::str() const {
  SpecWriteOptions options;
  options.omitDefaults = true;
  return toAttribute(options).str();
}

//===----------------------------------------------------------------------===//
// Factories
//===----------------------------------------------------------------------===//

QuantizationSpec defaultWeightQuantizationSpec() {
  QuantizationSpecFields fields;
  fields.granularity = Granularity::perChannel(0);
  fields.qparamsCalculator = spec_keys::kStatic;
  return llvm::cantFail(QuantizationSpec::create(std::move(fields)));
}

QuantizationSpec defaultActivationQuantizationSpec() {
  QuantizationSpecFields fields;
  fields.qparamsCalculator = spec_keys::kMovingAverage;
  return llvm::cantFail(QuantizationSpec::create(std::move(fields)));
}

} // namespace qfx
