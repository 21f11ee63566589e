//===- passes/quant/config/ConfigIO.cc - Configs from YAML and JSON -------===//
//
// A recursive reader over the Attribute tree TreeIO produces. Each level
// checks its keys against the fields the reference's model has, converts
// values (None normalization, key coercion) and keeps going after an error
// so that one run reports every problem of a config file.
//
//===----------------------------------------------------------------------===//
#include "passes/quant/config/ConfigIO.h"

#include "runtime/spec/SpecError.h"
#include "runtime/spec/TreeIO.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

namespace qfx {

std::string closestMatch(llvm::StringRef word, llvm::ArrayRef<std::string> candidates) {
  std::string best;
  unsigned bestDistance = 3;
  for (const std::string &candidate : candidates) {
    unsigned distance = word.edit_distance(candidate, /*AllowReplacements=*/true, bestDistance);
    if (distance < bestDistance && distance * 2 < std::max<size_t>(word.size(), 2)) {
      bestDistance = distance;
      best = candidate;
    }
  }
  return best;
}

namespace {

std::string describeKind(const Attribute &value) {
  switch (value.kind()) {
  case Attribute::Kind::None:
    return "null";
  case Attribute::Kind::Int:
    return "an integer (" + value.str() + ")";
  case Attribute::Kind::Float:
    return "a number (" + value.str() + ")";
  case Attribute::Kind::Bool:
    return std::string("a bool (") + (value.getBool() ? "true" : "false") + ")";
  case Attribute::Kind::String:
    return "a string ('" + value.getString() + "')";
  case Attribute::Kind::List:
    return "a list";
  case Attribute::Kind::Dict:
    return "a mapping";
  case Attribute::Kind::TensorRef:
    return "a tensor reference";
  }
  return "a value";
}

std::string joinQuoted(llvm::ArrayRef<std::string> words) {
  std::string text;
  for (const std::string &word : words)
    text += (text.empty() ? "'" : ", '") + word + "'";
  return text;
}

class Reader {
public:
  explicit Reader(std::vector<std::string> *warnings) : warnings_(warnings) {}

  llvm::Error take() { return std::move(error_); }
  bool failed() const { return failed_; }

  void error(const llvm::Twine &path, const llvm::Twine &message) {
    add(makeConfigError(path, message));
  }
  void add(llvm::Error next) {
    if (next)
      failed_ = true;
    error_ = llvm::joinErrors(std::move(error_), std::move(next));
  }
  void warn(const std::string &message) {
    if (warnings_)
      warnings_->push_back(message);
  }

  /// Reports keys of `dict` not in `allowed`; returns false if there were any.
  bool checkKeys(const Attribute &dict, const std::string &path,
                 const std::vector<std::string> &allowed, llvm::StringRef what) {
    bool ok = true;
    for (const NamedAttribute &entry : dict.getDict()) {
      if (llvm::is_contained(allowed, entry.first))
        continue;
      ok = false;
      std::string message = "unknown key '" + entry.first + "' in " + what.str();
      std::string suggestion = closestMatch(entry.first, allowed);
      if (!suggestion.empty())
        message += "; did you mean '" + suggestion + "'?";
      message += " (allowed keys: " + joinQuoted(allowed) + ")";
      error(path, message);
    }
    return ok;
  }

  /// A spec value: null = None, a mapping = a QuantizationSpec.
  std::optional<OptionalSpec> spec(const Attribute &value, const std::string &path) {
    if (value.isNone())
      return OptionalSpec();
    if (!value.isDict()) {
      error(path, "expected a quantization spec mapping (dtype, qscheme, granularity, ...) or "
                  "null for \"not quantized\", got " +
                      describeKind(value));
      return std::nullopt;
    }
    llvm::Expected<QuantizationSpec> parsed = QuantizationSpec::fromAttribute(value, path);
    if (!parsed) {
      add(parsed.takeError());
      return std::nullopt;
    }
    return OptionalSpec(std::move(*parsed));
  }

  enum class KeyStyle { Indexed, Named };

  /// A spec dict; null or {} is empty. Indexed dicts coerce digit-string
  /// keys to indices and reject keys that collide after coercion.
  SpecMap specMap(const Attribute &value, const std::string &path, KeyStyle style) {
    SpecMap map;
    if (value.isNone())
      return map;
    if (!value.isDict()) {
      error(path, llvm::Twine("expected a mapping of ") +
                      (style == KeyStyle::Indexed ? "input/output index or '*'"
                                                  : "state tensor name or '*'") +
                      " to a spec (or null), got " + describeKind(value));
      return map;
    }
    std::vector<std::pair<SpecKey, std::string>> seen;
    for (const NamedAttribute &entry : value.getDict()) {
      SpecKey key = style == KeyStyle::Indexed ? SpecKey::parse(entry.first)
                    : entry.first == "*"       ? SpecKey::any()
                                               : SpecKey::name(entry.first);
      std::string entryPath = configKeyPath(path, entry.first, !key.isIndex());
      auto collision = llvm::find_if(seen, [&](const auto &other) { return other.first == key; });
      if (collision != seen.end()) {
        error(entryPath, "key '" + entry.first + "' collides with key '" + collision->second +
                             "': both mean index " + key.str() +
                             " after digit-string keys are coerced to integers; keep one of them");
        continue;
      }
      seen.emplace_back(key, entry.first);
      if (std::optional<OptionalSpec> parsed = spec(entry.second, entryPath))
        map.set(std::move(key), std::move(*parsed));
    }
    return map;
  }

  std::optional<int64_t> integer(const Attribute &value, const std::string &path, bool allowNull) {
    if (value.isInt())
      return value.getInt();
    if (!(allowNull && value.isNone()))
      error(path, llvm::Twine("expected an integer") + (allowNull ? " or null" : "") + ", got " +
                      describeKind(value));
    return std::nullopt;
  }

  std::optional<QATSchedule> qatSchedule(const Attribute &value, const std::string &path) {
    if (value.isNone())
      return std::nullopt;
    if (!value.isDict()) {
      error(path, "expected a mapping with enable_observer, enable_fake_quant and "
                  "disable_observer (or null for no schedule), got " +
                      describeKind(value));
      return std::nullopt;
    }
    checkKeys(value, path, {"enable_observer", "enable_fake_quant", "disable_observer"},
              "qat_schedule");
    QATSchedule schedule;
    bool ok = true;
    if (const Attribute *field = value.lookup("enable_observer")) {
      std::optional<int64_t> v = integer(*field, path + ".enable_observer", false);
      ok &= v.has_value();
      schedule.enableObserver = v.value_or(0);
    }
    if (const Attribute *field = value.lookup("enable_fake_quant")) {
      std::optional<int64_t> v = integer(*field, path + ".enable_fake_quant", false);
      ok &= v.has_value();
      schedule.enableFakeQuant = v.value_or(0);
    }
    if (const Attribute *field = value.lookup("disable_observer")) {
      schedule.disableObserver = integer(*field, path + ".disable_observer", true);
      ok &= field->isNone() || schedule.disableObserver.has_value();
    }
    if (ok)
      add(schedule.validate(path));
    return schedule;
  }

  std::optional<OpQuantizerConfig> opConfig(const Attribute &value, const std::string &path) {
    if (value.isNone())
      return OpQuantizerConfig::disabled();
    if (!value.isDict()) {
      error(path, "expected an op config mapping (op_input_spec, op_output_spec, "
                  "op_state_spec) or null to leave the op in float, got " +
                      describeKind(value));
      return std::nullopt;
    }
    checkKeys(value, path, {"op_input_spec", "op_output_spec", "op_state_spec"},
              "an op config (op_type_config / op_name_config entry)");
    OpQuantizerConfig config;
    if (const Attribute *field = value.lookup("op_input_spec"))
      config.opInputSpec = specMap(*field, path + ".op_input_spec", KeyStyle::Indexed);
    if (const Attribute *field = value.lookup("op_output_spec"))
      config.opOutputSpec = specMap(*field, path + ".op_output_spec", KeyStyle::Indexed);
    if (const Attribute *field = value.lookup("op_state_spec"))
      config.opStateSpec = specMap(*field, path + ".op_state_spec", KeyStyle::Named);
    return config;
  }

  ConfigDict<OpQuantizerConfig> opConfigDict(const Attribute &value, const std::string &path,
                                             llvm::StringRef keyKind) {
    ConfigDict<OpQuantizerConfig> dict;
    if (value.isNone())
      return dict;
    if (!value.isDict()) {
      error(path, "expected a mapping of " + keyKind + " to an op config (or null), got " +
                      describeKind(value));
      return dict;
    }
    for (const NamedAttribute &entry : value.getDict())
      if (std::optional<OpQuantizerConfig> config =
              opConfig(entry.second, configKeyPath(path, entry.first)))
        dict.emplace_back(entry.first, std::move(*config));
    return dict;
  }

  std::optional<ModuleQuantizerConfig> moduleConfig(const Attribute &value,
                                                    const std::string &path) {
    if (value.isNone())
      return ModuleQuantizerConfig::disabled();
    if (!value.isDict()) {
      error(path, "expected a module config mapping or null to leave the scope in float, got " +
                      describeKind(value));
      return std::nullopt;
    }
    checkKeys(value, path,
              {"op_input_spec", "op_output_spec", "op_state_spec", "op_type_config",
               "op_name_config", "module_input_spec", "module_output_spec", "module_state_spec",
               "qat_schedule"},
              "a module config");
    ModuleQuantizerConfig config;
    if (const Attribute *field = value.lookup("op_input_spec"))
      config.opInputSpec = specMap(*field, path + ".op_input_spec", KeyStyle::Indexed);
    if (const Attribute *field = value.lookup("op_output_spec"))
      config.opOutputSpec = specMap(*field, path + ".op_output_spec", KeyStyle::Indexed);
    if (const Attribute *field = value.lookup("op_state_spec"))
      config.opStateSpec = specMap(*field, path + ".op_state_spec", KeyStyle::Named);
    if (const Attribute *field = value.lookup("op_type_config"))
      config.opTypeConfig = opConfigDict(*field, path + ".op_type_config", "op type");
    if (const Attribute *field = value.lookup("op_name_config"))
      config.opNameConfig = opConfigDict(*field, path + ".op_name_config", "node-name regex");
    if (const Attribute *field = value.lookup("module_input_spec"))
      config.moduleInputSpec = specMap(*field, path + ".module_input_spec", KeyStyle::Indexed);
    if (const Attribute *field = value.lookup("module_output_spec"))
      config.moduleOutputSpec = specMap(*field, path + ".module_output_spec", KeyStyle::Indexed);
    if (const Attribute *field = value.lookup("module_state_spec"))
      config.moduleStateSpec = specMap(*field, path + ".module_state_spec", KeyStyle::Named);
    if (const Attribute *field = value.lookup("qat_schedule"))
      config.qatSchedule = qatSchedule(*field, path + ".qat_schedule");
    return config;
  }

  ConfigDict<ModuleQuantizerConfig>
  moduleConfigDict(const Attribute &value, const std::string &path, llvm::StringRef keyKind) {
    ConfigDict<ModuleQuantizerConfig> dict;
    if (value.isNone())
      return dict;
    if (!value.isDict()) {
      error(path, "expected a mapping of " + keyKind + " to a module config (or null), got " +
                      describeKind(value));
      return dict;
    }
    for (const NamedAttribute &entry : value.getDict())
      if (std::optional<ModuleQuantizerConfig> config =
              moduleConfig(entry.second, configKeyPath(path, entry.first)))
        dict.emplace_back(entry.first, std::move(*config));
    return dict;
  }

  QuantizerConfig body(const Attribute &value, const std::string &path) {
    QuantizerConfig config;
    if (!value.isDict()) {
      error(path, "expected a mapping of QuantizerConfig fields (global_config, "
                  "module_type_configs, module_name_configs, preserved_attributes, "
                  "execution_mode), got " +
                      describeKind(value));
      return config;
    }
    checkKeys(value, path,
              {"global_config", "module_type_configs", "module_name_configs",
               "preserved_attributes", "execution_mode"},
              "quantization_config");
    if (const Attribute *field = value.lookup("global_config")) {
      if (std::optional<ModuleQuantizerConfig> global =
              moduleConfig(*field, path + ".global_config"))
        config.globalConfig = std::move(*global);
    }
    if (const Attribute *field = value.lookup("module_type_configs"))
      config.moduleTypeConfigs = moduleConfigDict(*field, path + ".module_type_configs",
                                                  "fully qualified module class names");
    if (const Attribute *field = value.lookup("module_name_configs"))
      config.moduleNameConfigs =
          moduleConfigDict(*field, path + ".module_name_configs", "module-name regexes");
    if (const Attribute *field = value.lookup("preserved_attributes")) {
      if (field->isList()) {
        std::vector<std::string> names;
        for (const Attribute &name : field->getList()) {
          if (name.isString())
            names.push_back(name.getString());
          else
            error(path + ".preserved_attributes",
                  "expected attribute names (strings), got " + describeKind(name));
        }
        config.preservedAttributes = std::move(names);
      } else if (!field->isNone()) {
        error(path + ".preserved_attributes",
              "expected a list of attribute names or null, got " + describeKind(*field));
      }
    }
    if (const Attribute *field = value.lookup("execution_mode")) {
      if (!field->isString()) {
        error(path + ".execution_mode", "expected 'graph' or 'eager', got " + describeKind(*field));
      } else {
        std::vector<std::string> modeWarnings;
        if (llvm::Error modeError = config.setExecutionMode(field->getString(), &modeWarnings)) {
          llvm::consumeError(std::move(modeError));
          error(path + ".execution_mode",
                "invalid execution mode '" + field->getString() + "'; expected 'graph' or 'eager'");
        }
        for (std::string &warning : modeWarnings)
          warn(path + ".execution_mode: " + warning);
      }
    }
    return config;
  }

private:
  std::vector<std::string> *warnings_;
  llvm::Error error_ = llvm::Error::success();
  bool failed_ = false;
};

} // namespace

llvm::Expected<QuantizerConfig> parseQuantizerConfigBody(const Attribute &body,
                                                         std::vector<std::string> *warnings) {
  Reader reader(warnings);
  QuantizerConfig config = reader.body(body, "quantization_config");
  // Validation of the assembled config only adds to structural errors when
  // the structure was readable, so a typo does not cascade into noise.
  if (!reader.failed())
    reader.add(config.validate());
  if (llvm::Error error = reader.take())
    return std::move(error);
  return config;
}

llvm::Expected<QuantizerConfig> parseQuantizerConfig(const Attribute &document,
                                                     std::vector<std::string> *warnings) {
  if (!document.isDict())
    return makeConfigError("", "a quantization config document must be a mapping with the key "
                               "'quantization_config' (and optionally 'quantization_spec'), got " +
                                   describeKind(document));
  llvm::Error error = llvm::Error::success();
  for (const NamedAttribute &entry : document.getDict()) {
    if (entry.first == "quantization_config" || entry.first == "quantization_spec")
      continue;
    std::string message = "Found unexpected key '" + entry.first +
                          "' at the top level; only 'quantization_config' (the config) and "
                          "'quantization_spec' (a scratch area for YAML anchors) are allowed";
    std::string suggestion =
        closestMatch(entry.first, {"quantization_config", "quantization_spec"});
    if (!suggestion.empty())
      message += "; did you mean '" + suggestion + "'?";
    error = llvm::joinErrors(std::move(error), makeConfigError("", message));
  }
  const Attribute *body = document.lookup("quantization_config");
  if (!body)
    error = llvm::joinErrors(
        std::move(error),
        makeConfigError("", "Did not find 'quantization_config' in the config document; put the "
                            "config under a top-level 'quantization_config:' key"));
  else if (body->isNone())
    error = llvm::joinErrors(
        std::move(error),
        makeConfigError("quantization_config",
                        "the config body is null; write the QuantizerConfig fields under it, or "
                        "'quantization_config: {}' for the default W8A8 config"));
  if (error)
    return std::move(error);
  return parseQuantizerConfigBody(*body, warnings);
}

llvm::Expected<std::optional<QuantizerConfig>>
readQuantizerConfigYAML(llvm::StringRef text, llvm::StringRef bufferName,
                        std::vector<std::string> *warnings) {
  llvm::Expected<Attribute> tree = parseYAMLTree(text, bufferName);
  if (!tree)
    return tree.takeError();
  if (tree->isNone()) {
    if (warnings)
      warnings->push_back("the config document is empty; using the default W8A8 config (as the "
                          "reference does when from_yaml returns None)");
    return std::optional<QuantizerConfig>();
  }
  llvm::Expected<QuantizerConfig> config = parseQuantizerConfig(*tree, warnings);
  if (!config)
    return config.takeError();
  return std::optional<QuantizerConfig>(std::move(*config));
}

llvm::Expected<QuantizerConfig> readQuantizerConfigJSON(llvm::StringRef text,
                                                        llvm::StringRef bufferName,
                                                        std::vector<std::string> *warnings) {
  llvm::Expected<Attribute> tree = parseJSONTree(text, bufferName);
  if (!tree)
    return tree.takeError();
  return parseQuantizerConfig(*tree, warnings);
}

llvm::Expected<std::optional<QuantizerConfig>>
loadQuantizerConfigFile(llvm::StringRef path, std::vector<std::string> *warnings) {
  std::string extension = llvm::sys::path::extension(path).lower();
  bool isJSON = extension == ".json";
  if (!isJSON && extension != ".yaml" && extension != ".yml")
    return makeConfigError("", "config file '" + path +
                                   "' must end in .yaml, .yml or .json (or name a preset)");
  llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> buffer =
      llvm::MemoryBuffer::getFile(path, /*IsText=*/true);
  if (!buffer)
    return makeConfigError("", "cannot read config file '" + path +
                                   "': " + buffer.getError().message());
  if (isJSON) {
    llvm::Expected<QuantizerConfig> config =
        readQuantizerConfigJSON((*buffer)->getBuffer(), path, warnings);
    if (!config)
      return config.takeError();
    return std::optional<QuantizerConfig>(std::move(*config));
  }
  return readQuantizerConfigYAML((*buffer)->getBuffer(), path, warnings);
}

} // namespace qfx
