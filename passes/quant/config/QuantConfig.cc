//===- passes/quant/config/QuantConfig.cc - The quantizer config model ----===//
//
// Spec dict lookup, None normalization, presets, the reference's mutators
// (only_for, without, set_execution_mode), validation of every config rule of
// reference §7, and the tree form of a config.
//
//===----------------------------------------------------------------------===//
#include "passes/quant/config/QuantConfig.h"

#include "passes/quant/config/FullMatchRegex.h"
#include "runtime/spec/SpecError.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/raw_ostream.h"

namespace qfx {

//===----------------------------------------------------------------------===//
// Errors
//===----------------------------------------------------------------------===//

char ConfigError::ID = 0;

void ConfigError::log(llvm::raw_ostream &os) const {
  if (!path_.empty())
    os << path_ << ": ";
  os << message_;
}

std::error_code ConfigError::convertToErrorCode() const {
  return std::make_error_code(std::errc::invalid_argument);
}

llvm::Error makeConfigError(const llvm::Twine &path, const llvm::Twine &message) {
  return llvm::make_error<ConfigError>(path.str(), message.str());
}

std::vector<std::string> errorMessages(llvm::Error error) {
  std::vector<std::string> messages;
  llvm::handleAllErrors(std::move(error), [&](const llvm::ErrorInfoBase &info) {
    messages.push_back(info.message());
  });
  return messages;
}

std::string configKeyPath(llvm::StringRef path, llvm::StringRef key, bool quote) {
  std::string text = path.str();
  text += '[';
  if (quote)
    text += "'" + key.str() + "'";
  else
    text += key.str();
  text += ']';
  return text;
}

//===----------------------------------------------------------------------===//
// SpecKey, SpecMap
//===----------------------------------------------------------------------===//

SpecKey SpecKey::parse(llvm::StringRef text) {
  if (text == "*")
    return any();
  // Python's str.isdigit() on ASCII; the value must fit an int64 to be an
  // index (a 30-digit "index" stays a name and is reported as such later).
  int64_t value;
  if (!text.empty() && llvm::all_of(text, llvm::isDigit) && !text.getAsInteger(10, value))
    return index(value);
  return name(text.str());
}

std::string SpecKey::str() const {
  switch (kind_) {
  case Kind::Index:
    return std::to_string(index_);
  case Kind::Name:
    return name_;
  case Kind::Any:
    return "*";
  }
  return "";
}

SpecMap::SpecMap(std::initializer_list<Entry> entries) {
  for (const Entry &entry : entries)
    set(entry.first, entry.second);
}

SpecMap &SpecMap::set(SpecKey key, OptionalSpec spec) {
  for (Entry &entry : entries_) {
    if (entry.first == key) {
      entry.second = std::move(spec);
      return *this;
    }
  }
  entries_.emplace_back(std::move(key), std::move(spec));
  return *this;
}

const OptionalSpec *SpecMap::find(const SpecKey &key) const {
  for (const Entry &entry : entries_)
    if (entry.first == key)
      return &entry.second;
  return nullptr;
}

// Lookups compare keys in place: annotate asks once per operand of every
// node, and building a SpecKey (a std::string) per question cost more than
// the scan.
const OptionalSpec *SpecMap::lookup(int64_t index, bool *exact) const {
  const OptionalSpec *any = nullptr;
  for (const Entry &entry : entries_) {
    if (entry.first.isIndex() && entry.first.getIndex() == index) {
      if (exact)
        *exact = true;
      return &entry.second;
    }
    if (!any && entry.first.isAny())
      any = &entry.second;
  }
  if (exact)
    *exact = false;
  return any;
}

const OptionalSpec *SpecMap::lookup(llvm::StringRef name, bool *exact) const {
  const OptionalSpec *any = nullptr;
  for (const Entry &entry : entries_) {
    if (entry.first.isName() && entry.first.getName() == name) {
      if (exact)
        *exact = true;
      return &entry.second;
    }
    if (!any && entry.first.isAny())
      any = &entry.second;
  }
  if (exact)
    *exact = false;
  return any;
}

bool SpecMap::operator==(const SpecMap &other) const { return entries_ == other.entries_; }

//===----------------------------------------------------------------------===//
// OpQuantizerConfig, QATSchedule, ModuleQuantizerConfig
//===----------------------------------------------------------------------===//

OpQuantizerConfig OpQuantizerConfig::disabled() {
  OpQuantizerConfig config;
  config.opInputSpec = {};
  config.opOutputSpec = {};
  config.opStateSpec = {};
  return config;
}

bool OpQuantizerConfig::operator==(const OpQuantizerConfig &other) const {
  return opInputSpec == other.opInputSpec && opOutputSpec == other.opOutputSpec &&
         opStateSpec == other.opStateSpec;
}

llvm::Expected<QATSchedule> QATSchedule::create(int64_t enableObserver, int64_t enableFakeQuant,
                                                std::optional<int64_t> disableObserver) {
  QATSchedule schedule{enableObserver, enableFakeQuant, disableObserver};
  if (llvm::Error error = schedule.validate())
    return std::move(error);
  return schedule;
}

llvm::Error QATSchedule::validate(llvm::StringRef path) const {
  llvm::Error error = llvm::Error::success();
  auto add = [&](const llvm::Twine &message) {
    error = llvm::joinErrors(std::move(error), makeConfigError(path, message));
  };
  if (enableObserver < 0)
    add("enable_observer must be >= 0, got " + llvm::Twine(enableObserver));
  if (enableFakeQuant < 0)
    add("enable_fake_quant must be >= 0, got " + llvm::Twine(enableFakeQuant));
  if (disableObserver && *disableObserver <= 0)
    add("disable_observer must be > 0 (or null for never), got " + llvm::Twine(*disableObserver));
  if (enableFakeQuant < enableObserver)
    add("enable_fake_quant (" + llvm::Twine(enableFakeQuant) +
        ") must not come before enable_observer (" + llvm::Twine(enableObserver) +
        "): fake-quantization needs observed qparams; set enable_fake_quant >= enable_observer");
  if (disableObserver && *disableObserver <= enableObserver)
    add("disable_observer (" + llvm::Twine(*disableObserver) +
        ") must come after enable_observer (" + llvm::Twine(enableObserver) +
        "); set disable_observer > enable_observer or null");
  if (disableObserver && *disableObserver < enableFakeQuant)
    add("disable_observer (" + llvm::Twine(*disableObserver) +
        ") must not come before enable_fake_quant (" + llvm::Twine(enableFakeQuant) +
        "): qparams would freeze before fake-quantization starts; set disable_observer >= "
        "enable_fake_quant");
  return error;
}

Attribute QATSchedule::toAttribute() const {
  return Attribute::dict(
      {{"enable_observer", Attribute::integer(enableObserver)},
       {"enable_fake_quant", Attribute::integer(enableFakeQuant)},
       {"disable_observer",
        disableObserver ? Attribute::integer(*disableObserver) : Attribute::none()}});
}

ModuleQuantizerConfig ModuleQuantizerConfig::disabled() {
  ModuleQuantizerConfig config;
  config.opInputSpec = {};
  config.opOutputSpec = {};
  config.opStateSpec = {};
  return config;
}

template <typename Config>
static void setConfigEntry(ConfigDict<Config> &dict, std::string key, Config config) {
  for (auto &entry : dict) {
    if (entry.first == key) {
      entry.second = std::move(config);
      return;
    }
  }
  dict.emplace_back(std::move(key), std::move(config));
}

ModuleQuantizerConfig &ModuleQuantizerConfig::setOpType(std::string opType,
                                                        std::optional<OpQuantizerConfig> config) {
  setConfigEntry(opTypeConfig, std::move(opType),
                 config ? std::move(*config) : OpQuantizerConfig::disabled());
  return *this;
}

ModuleQuantizerConfig &ModuleQuantizerConfig::setOpName(std::string regex,
                                                        std::optional<OpQuantizerConfig> config) {
  setConfigEntry(opNameConfig, std::move(regex),
                 config ? std::move(*config) : OpQuantizerConfig::disabled());
  return *this;
}

OpQuantizerConfig ModuleQuantizerConfig::defaultOpConfig() const {
  OpQuantizerConfig config;
  config.opInputSpec = opInputSpec;
  config.opOutputSpec = opOutputSpec;
  config.opStateSpec = opStateSpec;
  return config;
}

bool ModuleQuantizerConfig::operator==(const ModuleQuantizerConfig &other) const {
  return opInputSpec == other.opInputSpec && opOutputSpec == other.opOutputSpec &&
         opStateSpec == other.opStateSpec && opTypeConfig == other.opTypeConfig &&
         opNameConfig == other.opNameConfig && moduleInputSpec == other.moduleInputSpec &&
         moduleOutputSpec == other.moduleOutputSpec && moduleStateSpec == other.moduleStateSpec &&
         qatSchedule == other.qatSchedule;
}

/// The weight-only preset recipe: int8/int4 symmetric, zp, "default"
/// calculators (static for weights), axis unset unless given.
static QuantizationSpec presetWeightSpec(QuantDType dtype, Granularity granularity) {
  QuantizationSpecFields fields;
  fields.dtype = dtype;
  fields.granularity = std::move(granularity);
  return llvm::cantFail(QuantizationSpec::create(std::move(fields)));
}

static ModuleQuantizerConfig weightOnlyModuleConfig(QuantizationSpec spec) {
  ModuleQuantizerConfig config;
  config.opInputSpec = {};
  config.opOutputSpec = {};
  config.opStateSpec = {{SpecKey::name("weight"), std::move(spec)}};
  return config;
}

ModuleQuantizerConfig ModuleQuantizerConfig::Presets::w8(std::optional<int64_t> axis) {
  return weightOnlyModuleConfig(presetWeightSpec(QuantDType::Int8, Granularity::perChannel(axis)));
}

ModuleQuantizerConfig ModuleQuantizerConfig::Presets::w4(std::optional<int64_t> axis) {
  return weightOnlyModuleConfig(presetWeightSpec(QuantDType::Int4, Granularity::perChannel(axis)));
}

llvm::Expected<ModuleQuantizerConfig>
ModuleQuantizerConfig::Presets::w4PerBlock(int64_t blockSize, std::optional<int64_t> axis) {
  QuantizationSpecFields fields;
  fields.dtype = QuantDType::Int4;
  fields.granularity = Granularity::perBlock(axis, blockSize);
  llvm::Expected<QuantizationSpec> spec = QuantizationSpec::create(std::move(fields));
  if (!spec)
    return prefixSpecErrorPath(spec.takeError(), "w4_per_block");
  return weightOnlyModuleConfig(std::move(*spec));
}

//===----------------------------------------------------------------------===//
// QuantizerConfig
//===----------------------------------------------------------------------===//

llvm::StringRef executionModeName(ExecutionMode mode) {
  return mode == ExecutionMode::Graph ? "graph" : "eager";
}

std::optional<ExecutionMode> lookupExecutionMode(llvm::StringRef name, bool *deprecated) {
  if (deprecated)
    *deprecated = false;
  std::string lower = name.lower();
  if (lower == "graph")
    return ExecutionMode::Graph;
  if (lower == "eager")
    return ExecutionMode::Eager;
  if (lower == "pt2e") {
    if (deprecated)
      *deprecated = true;
    return ExecutionMode::Graph;
  }
  return std::nullopt;
}

QuantizerConfig &QuantizerConfig::setGlobal(std::optional<ModuleQuantizerConfig> config) {
  globalConfig = config ? std::move(*config) : ModuleQuantizerConfig::disabled();
  return *this;
}

QuantizerConfig &QuantizerConfig::setModuleType(std::string fqn,
                                                std::optional<ModuleQuantizerConfig> config) {
  setConfigEntry(moduleTypeConfigs, std::move(fqn),
                 config ? std::move(*config) : ModuleQuantizerConfig::disabled());
  return *this;
}

QuantizerConfig &QuantizerConfig::setModuleName(std::string regex,
                                                std::optional<ModuleQuantizerConfig> config) {
  setConfigEntry(moduleNameConfigs, std::move(regex),
                 config ? std::move(*config) : ModuleQuantizerConfig::disabled());
  return *this;
}

llvm::Error QuantizerConfig::setExecutionMode(llvm::StringRef mode,
                                              std::vector<std::string> *warnings) {
  bool deprecated = false;
  std::optional<ExecutionMode> parsed = lookupExecutionMode(mode, &deprecated);
  if (!parsed)
    return makeConfigError("execution_mode",
                           "invalid execution mode '" + mode + "'; expected 'graph' or 'eager'");
  if (deprecated && warnings)
    warnings->push_back("execution_mode '" + mode.str() +
                        "' is deprecated; use 'graph' (same meaning)");
  executionMode = *parsed;
  return llvm::Error::success();
}

static bool isDisabledModuleConfig(const ModuleQuantizerConfig &config) {
  return config == ModuleQuantizerConfig::disabled();
}

llvm::Error QuantizerConfig::onlyFor(llvm::ArrayRef<ConfigTarget> targets) {
  if (targets.empty())
    return makeConfigError("only_for", "needs at least one module type or module name target");
  if (isDisabledModuleConfig(globalConfig))
    return makeConfigError("only_for",
                           "the global config is already disabled, so there is nothing to move "
                           "onto the targets; call only_for before disabling the global config");
  for (const ConfigTarget &target : targets) {
    if (target.kind == ConfigTarget::Kind::ModuleType)
      setModuleType(target.key, globalConfig);
    else
      setModuleName(target.key, globalConfig);
  }
  globalConfig = ModuleQuantizerConfig::disabled();
  return llvm::Error::success();
}

QuantizerConfig &QuantizerConfig::without(llvm::ArrayRef<ConfigTarget> targets) {
  for (const ConfigTarget &target : targets) {
    if (target.kind == ConfigTarget::Kind::ModuleType)
      setModuleType(target.key, std::nullopt);
    else
      setModuleName(target.key, std::nullopt);
  }
  return *this;
}

llvm::Error checkRegex(llvm::StringRef regex) {
  llvm::Expected<FullMatchRegex> compiled = FullMatchRegex::compile(regex);
  if (!compiled)
    return compiled.takeError();
  return llvm::Error::success();
}

namespace {

/// Collects the validation errors of one config.
class Validator {
public:
  void add(llvm::Error next) { error_ = llvm::joinErrors(std::move(error_), std::move(next)); }
  void add(const llvm::Twine &path, const llvm::Twine &message) {
    add(makeConfigError(path, message));
  }
  llvm::Error take() { return std::move(error_); }

  /// op_input_spec / module_input_spec / module_output_spec: indices or "*".
  void indexKeysOnly(const SpecMap &map, const std::string &path) {
    for (const SpecMap::Entry &entry : map.entries())
      if (entry.first.isName())
        add(configKeyPath(path, entry.first.getName()),
            "Only integer indices or '*' are supported as keys here; input and output tensors "
            "are addressed by position (0, 1, ...), state tensors by name in op_state_spec / "
            "module_state_spec");
  }

  /// op_output_spec: "*" or 0 (ops have one quantizable output).
  void outputKeys(const SpecMap &map, const std::string &path) {
    for (const SpecMap::Entry &entry : map.entries())
      if (!(entry.first.isAny() || (entry.first.isIndex() && entry.first.getIndex() == 0)))
        add(configKeyPath(path, entry.first.str(), entry.first.isName()),
            "op_output_spec currently supports setting for '*' or 0 tensor only; use '*' or 0");
  }

  /// State dicts: names or "*" (a digit key cannot name a state tensor).
  void stateKeys(const SpecMap &map, const std::string &path) {
    for (const SpecMap::Entry &entry : map.entries())
      if (entry.first.isIndex())
        add(configKeyPath(path, entry.first.str(), false),
            "state tensors are addressed by their local name ('weight', 'bias', ...) or '*', "
            "not by index");
  }

  void opConfig(const OpQuantizerConfig &config, const std::string &path) {
    indexKeysOnly(config.opInputSpec, path + ".op_input_spec");
    outputKeys(config.opOutputSpec, path + ".op_output_spec");
    stateKeys(config.opStateSpec, path + ".op_state_spec");
  }

  void moduleConfig(const ModuleQuantizerConfig &config, const std::string &path) {
    indexKeysOnly(config.opInputSpec, path + ".op_input_spec");
    outputKeys(config.opOutputSpec, path + ".op_output_spec");
    stateKeys(config.opStateSpec, path + ".op_state_spec");
    for (const auto &entry : config.opTypeConfig)
      opConfig(entry.second, configKeyPath(path + ".op_type_config", entry.first));
    for (const auto &entry : config.opNameConfig) {
      std::string entryPath = configKeyPath(path + ".op_name_config", entry.first);
      if (llvm::Error error = checkRegex(entry.first))
        add(makeConfigError(entryPath, llvm::toString(std::move(error))));
      opConfig(entry.second, entryPath);
    }
    indexKeysOnly(config.moduleInputSpec, path + ".module_input_spec");
    indexKeysOnly(config.moduleOutputSpec, path + ".module_output_spec");
    stateKeys(config.moduleStateSpec, path + ".module_state_spec");
    if (config.qatSchedule)
      add(config.qatSchedule->validate(path + ".qat_schedule"));
  }

private:
  llvm::Error error_ = llvm::Error::success();
};

} // namespace

llvm::Error QuantizerConfig::validate() const {
  Validator v;
  const std::string root = "quantization_config";
  v.moduleConfig(globalConfig, root + ".global_config");
  if (globalConfig.hasModuleSpecs())
    v.add(root + ".global_config",
          "global_config must not set module_input_spec, module_output_spec or "
          "module_state_spec: module-boundary specs need a module; move them to a "
          "module_type_configs or module_name_configs entry");
  for (const auto &entry : moduleTypeConfigs) {
    std::string path = configKeyPath(root + ".module_type_configs", entry.first);
    if (!llvm::StringRef(entry.first).contains('.'))
      v.add(path, "module type keys are fully qualified class names and must contain a dot, "
                  "e.g. 'torch.nn.modules.linear.Linear' (not 'Linear')");
    v.moduleConfig(entry.second, path);
  }
  for (const auto &entry : moduleNameConfigs) {
    std::string path = configKeyPath(root + ".module_name_configs", entry.first);
    if (llvm::Error error = checkRegex(entry.first))
      v.add(makeConfigError(path, llvm::toString(std::move(error))));
    v.moduleConfig(entry.second, path);
  }
  if (preservedAttributes)
    for (const std::string &name : *preservedAttributes)
      if (name.empty())
        v.add(root + ".preserved_attributes", "attribute names must not be empty");
  return v.take();
}

//===----------------------------------------------------------------------===//
// Tree form
//===----------------------------------------------------------------------===//

Attribute specMapToAttribute(const SpecMap &map) {
  AttributeDict entries;
  for (const SpecMap::Entry &entry : map.entries())
    entries.emplace_back(entry.first.str(),
                         entry.second ? entry.second->toAttribute() : Attribute::none());
  return Attribute::dict(std::move(entries));
}

static Attribute opConfigToAttribute(const OpQuantizerConfig &config) {
  return Attribute::dict({{"op_input_spec", specMapToAttribute(config.opInputSpec)},
                          {"op_output_spec", specMapToAttribute(config.opOutputSpec)},
                          {"op_state_spec", specMapToAttribute(config.opStateSpec)}});
}

static Attribute moduleConfigToAttribute(const ModuleQuantizerConfig &config) {
  AttributeDict opTypes, opNames;
  for (const auto &entry : config.opTypeConfig)
    opTypes.emplace_back(entry.first, opConfigToAttribute(entry.second));
  for (const auto &entry : config.opNameConfig)
    opNames.emplace_back(entry.first, opConfigToAttribute(entry.second));
  return Attribute::dict({{"op_input_spec", specMapToAttribute(config.opInputSpec)},
                          {"op_output_spec", specMapToAttribute(config.opOutputSpec)},
                          {"op_state_spec", specMapToAttribute(config.opStateSpec)},
                          {"op_type_config", Attribute::dict(std::move(opTypes))},
                          {"op_name_config", Attribute::dict(std::move(opNames))},
                          {"module_input_spec", specMapToAttribute(config.moduleInputSpec)},
                          {"module_output_spec", specMapToAttribute(config.moduleOutputSpec)},
                          {"module_state_spec", specMapToAttribute(config.moduleStateSpec)},
                          {"qat_schedule", config.qatSchedule ? config.qatSchedule->toAttribute()
                                                              : Attribute::none()}});
}

Attribute QuantizerConfig::toAttribute() const {
  AttributeDict types, names;
  for (const auto &entry : moduleTypeConfigs)
    types.emplace_back(entry.first, moduleConfigToAttribute(entry.second));
  for (const auto &entry : moduleNameConfigs)
    names.emplace_back(entry.first, moduleConfigToAttribute(entry.second));
  Attribute preserved = Attribute::none();
  if (preservedAttributes) {
    AttributeList list;
    for (const std::string &name : *preservedAttributes)
      list.push_back(Attribute::string(name));
    preserved = Attribute::list(std::move(list));
  }
  return Attribute::dict(
      {{"global_config", moduleConfigToAttribute(globalConfig)},
       {"module_type_configs", Attribute::dict(std::move(types))},
       {"module_name_configs", Attribute::dict(std::move(names))},
       {"preserved_attributes", preserved},
       {"execution_mode", Attribute::string(executionModeName(executionMode).str())}});
}

QuantizerConfig QuantizerConfig::Presets::w8(std::optional<int64_t> axis) {
  QuantizerConfig config;
  config.globalConfig = ModuleQuantizerConfig::Presets::w8(axis);
  return config;
}

QuantizerConfig QuantizerConfig::Presets::w4(std::optional<int64_t> axis) {
  QuantizerConfig config;
  config.globalConfig = ModuleQuantizerConfig::Presets::w4(axis);
  return config;
}

llvm::Expected<QuantizerConfig> QuantizerConfig::Presets::w4PerBlock(int64_t blockSize,
                                                                     std::optional<int64_t> axis) {
  llvm::Expected<ModuleQuantizerConfig> global =
      ModuleQuantizerConfig::Presets::w4PerBlock(blockSize, axis);
  if (!global)
    return global.takeError();
  QuantizerConfig config;
  config.globalConfig = std::move(*global);
  return config;
}

bool QuantizerConfig::operator==(const QuantizerConfig &other) const {
  return globalConfig == other.globalConfig && moduleTypeConfigs == other.moduleTypeConfigs &&
         moduleNameConfigs == other.moduleNameConfigs &&
         preservedAttributes == other.preservedAttributes && executionMode == other.executionMode;
}

} // namespace qfx
