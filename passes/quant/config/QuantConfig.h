//===- passes/quant/config/QuantConfig.h - The quantizer config model -----===//
//
// The C++ form of the reference's configuration model (§1.3-1.7): which
// tensors of which ops in which modules get which QuantizationSpec.
// OpQuantizerConfig holds the three spec dicts of one op (inputs by index,
// outputs, state tensors by local name); ModuleQuantizerConfig adds per-op-type
// and per-op-name overrides, module-boundary specs and a QAT schedule; and
// QuantizerConfig combines a global config with module-type and module-name
// configs. The presets (w8, w4, w4_per_block) and the default W8A8
// (`QuantizerConfig()`) are here; reading YAML/JSON lives in ConfigIO.h and
// resolving a config for the nodes of a graph in ConfigResolver.h.
//
// None has the reference's meaning at every level (§1.4): a whole scope set to
// None becomes an all-empty config that still claims the scope; an empty spec
// dict quantizes nothing in that group; a None *value* in a dict explicitly
// disables that tensor (OptionalSpec without a value). Configs are plain
// values with public fields so they are easy to build in code; validate()
// checks every rule of reference §7 that concerns configs and reports all
// violations at once, each naming the key path and the fix. Everything here is
// libtorch-free.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/spec/QuantizationSpec.h"

#include "ir/Attribute.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace qfx {

//===----------------------------------------------------------------------===//
// Errors
//===----------------------------------------------------------------------===//

/// A config is invalid. `path` locates the offending entry in the reference's
/// terms (`quantization_config.module_type_configs['Linear']`); the message
/// says what is wrong and how to fix it. Spec errors inside a config stay
/// SpecErrors with the config path prefixed to their field path.
class ConfigError : public llvm::ErrorInfo<ConfigError> {
public:
  static char ID;
  ConfigError(std::string path, std::string message)
      : path_(std::move(path)), message_(std::move(message)) {}
  llvm::StringRef path() const { return path_; }
  llvm::StringRef detail() const { return message_; }
  /// `<path>: <message>` (or just the message without a path).
  void log(llvm::raw_ostream &os) const override;
  std::error_code convertToErrorCode() const override;

private:
  std::string path_;
  std::string message_;
};

llvm::Error makeConfigError(const llvm::Twine &path, const llvm::Twine &message);

/// Every message of a (possibly joined) error, consumed, in order.
std::vector<std::string> errorMessages(llvm::Error error);

/// Appends `[key]` to a config path, quoting string keys: `op_state_spec['weight']`.
std::string configKeyPath(llvm::StringRef path, llvm::StringRef key, bool quote = true);

//===----------------------------------------------------------------------===//
// Spec dicts
//===----------------------------------------------------------------------===//

/// A key of a spec dict: an input/output index, a (local state) name, or "*".
class SpecKey {
public:
  enum class Kind : uint8_t { Index, Name, Any };

  static SpecKey index(int64_t index) { return SpecKey(Kind::Index, index, ""); }
  static SpecKey name(std::string name) { return SpecKey(Kind::Name, 0, std::move(name)); }
  static SpecKey any() { return SpecKey(Kind::Any, 0, "*"); }
  /// The reference's key coercion: "*" is the wildcard, a string of ASCII
  /// digits is an index ("0", "00" -> 0), anything else a name.
  static SpecKey parse(llvm::StringRef text);

  Kind kind() const { return kind_; }
  bool isIndex() const { return kind_ == Kind::Index; }
  bool isName() const { return kind_ == Kind::Name; }
  bool isAny() const { return kind_ == Kind::Any; }
  int64_t getIndex() const { return index_; }
  const std::string &getName() const { return name_; }
  /// `0`, `weight`, `*`.
  std::string str() const;

  bool operator==(const SpecKey &other) const {
    return kind_ == other.kind_ && index_ == other.index_ && name_ == other.name_;
  }
  bool operator!=(const SpecKey &other) const { return !(*this == other); }

private:
  SpecKey(Kind kind, int64_t index, std::string name)
      : kind_(kind), index_(index), name_(std::move(name)) {}
  Kind kind_;
  int64_t index_;
  std::string name_;
};

/// A spec or None ("explicitly not quantized").
using OptionalSpec = std::optional<QuantizationSpec>;

/// An ordered spec dict (`{"*": A8}`, `{0: None, 1: spec}`, `{"weight": W8}`)
/// with the reference's lookup: the exact key first, then "*", else absent.
class SpecMap {
public:
  using Entry = std::pair<SpecKey, OptionalSpec>;

  SpecMap() = default;
  SpecMap(std::initializer_list<Entry> entries);

  /// Sets `key`, replacing an equal key in place (dict assignment).
  SpecMap &set(SpecKey key, OptionalSpec spec);
  bool empty() const { return entries_.empty(); }
  size_t size() const { return entries_.size(); }
  llvm::ArrayRef<Entry> entries() const { return entries_; }

  /// The entry of exactly `key`; null when absent.
  const OptionalSpec *find(const SpecKey &key) const;
  /// Lookup by index (or by name) then "*". Null when neither is present;
  /// otherwise the entry (nullopt = None). `exact` tells whether the key
  /// itself (rather than "*") matched.
  const OptionalSpec *lookup(int64_t index, bool *exact = nullptr) const;
  const OptionalSpec *lookup(llvm::StringRef name, bool *exact = nullptr) const;

  bool operator==(const SpecMap &other) const;
  bool operator!=(const SpecMap &other) const { return !(*this == other); }

private:
  std::vector<Entry> entries_;
};

//===----------------------------------------------------------------------===//
// Config classes
//===----------------------------------------------------------------------===//

/// The reference's OpQuantizerConfig: the recipe of one op (or pattern).
/// Defaults: every input and output A8, the `weight` state W8; bias and other
/// state tensors stay float.
struct OpQuantizerConfig {
  SpecMap opInputSpec{{SpecKey::any(), defaultActivationQuantizationSpec()}};
  SpecMap opOutputSpec{{SpecKey::any(), defaultActivationQuantizationSpec()}};
  SpecMap opStateSpec{{SpecKey::name("weight"), defaultWeightQuantizationSpec()}};

  /// What None means for an op scope: all three dicts empty.
  static OpQuantizerConfig disabled();
  bool isDisabled() const {
    return opInputSpec.empty() && opOutputSpec.empty() && opStateSpec.empty();
  }

  bool operator==(const OpQuantizerConfig &other) const;
  bool operator!=(const OpQuantizerConfig &other) const { return !(*this == other); }
};

/// The reference's QATSchedule (§1.7): steps at which observers turn on and
/// off and fake-quantization turns on. Build with create() (validated) or
/// fill in and validate().
struct QATSchedule {
  int64_t enableObserver = 0;
  int64_t enableFakeQuant = 0;
  /// Never when unset.
  std::optional<int64_t> disableObserver;

  static llvm::Expected<QATSchedule> create(int64_t enableObserver, int64_t enableFakeQuant,
                                            std::optional<int64_t> disableObserver);
  /// enable_observer >= 0, enable_fake_quant >= 0, disable_observer > 0;
  /// enable_fake_quant >= enable_observer, disable_observer > enable_observer
  /// and disable_observer >= enable_fake_quant. Errors carry `path`.
  llvm::Error validate(llvm::StringRef path = "qat_schedule") const;

  bool observerEnabledAt(int64_t step) const {
    return enableObserver <= step && (!disableObserver || step < *disableObserver);
  }
  bool fakeQuantEnabledAt(int64_t step) const { return step >= enableFakeQuant; }

  /// `{enable_observer = 0, enable_fake_quant = 0, disable_observer = none}`.
  Attribute toAttribute() const;

  bool operator==(const QATSchedule &other) const {
    return enableObserver == other.enableObserver && enableFakeQuant == other.enableFakeQuant &&
           disableObserver == other.disableObserver;
  }
  bool operator!=(const QATSchedule &other) const { return !(*this == other); }
};

/// An ordered `{key: config}` dict whose None values are already normalized
/// to the disabled config (the reference normalizes on assignment too).
template <typename Config> using ConfigDict = std::vector<std::pair<std::string, Config>>;

/// The reference's ModuleQuantizerConfig (a final class, as in the reference):
/// the default op recipe inside a module scope, op-type and op-name
/// overrides, module-boundary specs and the QAT schedule.
class ModuleQuantizerConfig final {
public:
  /// The default op recipe of every recognised op/pattern in the scope.
  SpecMap opInputSpec{{SpecKey::any(), defaultActivationQuantizationSpec()}};
  SpecMap opOutputSpec{{SpecKey::any(), defaultActivationQuantizationSpec()}};
  SpecMap opStateSpec{{SpecKey::name("weight"), defaultWeightQuantizationSpec()}};
  /// Keyed by op type (OpInfo::opType: `linear`, `conv2d`, `add`, ...); the
  /// last matching key wins.
  ConfigDict<OpQuantizerConfig> opTypeConfig;
  /// Keyed by a regex fully matched against FX-like node names (`linear_1`);
  /// the last matching regex wins.
  ConfigDict<OpQuantizerConfig> opNameConfig;
  /// Module-boundary overrides (§2.7), applied only to the module the config
  /// is attached to (not inherited by child modules).
  SpecMap moduleInputSpec;
  SpecMap moduleOutputSpec;
  SpecMap moduleStateSpec;
  std::optional<QATSchedule> qatSchedule;

  /// What None means for a module scope: every spec dict empty.
  static ModuleQuantizerConfig disabled();

  /// Sets an op-type / op-name entry (None = the disabled op config),
  /// replacing an equal key in place. Returns *this.
  ModuleQuantizerConfig &setOpType(std::string opType, std::optional<OpQuantizerConfig> config);
  ModuleQuantizerConfig &setOpName(std::string regex, std::optional<OpQuantizerConfig> config);

  /// The op recipe of ops without an op-type/op-name entry.
  OpQuantizerConfig defaultOpConfig() const;
  bool hasModuleSpecs() const {
    return !moduleInputSpec.empty() || !moduleOutputSpec.empty() || !moduleStateSpec.empty();
  }

  /// Module-level presets (§1.6): weight-only, op inputs and outputs None.
  /// `axis` unset = resolved per consuming op (§5.4).
  struct Presets {
    static ModuleQuantizerConfig w8(std::optional<int64_t> axis = std::nullopt);
    static ModuleQuantizerConfig w4(std::optional<int64_t> axis = std::nullopt);
    /// Errors for a block size <= 0 or an axis outside {0, 1}.
    static llvm::Expected<ModuleQuantizerConfig>
    w4PerBlock(int64_t blockSize = 32, std::optional<int64_t> axis = std::nullopt);
  };

  bool operator==(const ModuleQuantizerConfig &other) const;
  bool operator!=(const ModuleQuantizerConfig &other) const { return !(*this == other); }
};

enum class ExecutionMode : uint8_t { Graph, Eager };
/// `graph`, `eager`.
llvm::StringRef executionModeName(ExecutionMode mode);
/// `graph`, `eager`, and the deprecated `pt2e` (= graph; `deprecated` is set).
std::optional<ExecutionMode> lookupExecutionMode(llvm::StringRef name, bool *deprecated = nullptr);

/// A module a config is attached to: a module type (fully qualified class
/// name) or a module name (regex over module paths).
struct ConfigTarget {
  enum class Kind : uint8_t { ModuleType, ModuleName };
  Kind kind;
  std::string key;
  static ConfigTarget moduleType(std::string fqn) { return {Kind::ModuleType, std::move(fqn)}; }
  static ConfigTarget moduleName(std::string regex) { return {Kind::ModuleName, std::move(regex)}; }
};

/// The reference's QuantizerConfig (final). Default-constructed it is W8A8:
/// W int8 symmetric per-channel(axis 0) static on every weight, A int8
/// symmetric per-tensor moving-average on every op input and output.
class QuantizerConfig final {
public:
  /// None (disabled) is ModuleQuantizerConfig::disabled().
  ModuleQuantizerConfig globalConfig;
  /// Keyed by fully qualified module class name (`torch.nn.modules.linear.Linear`),
  /// matched exactly; the last matching entry wins.
  ConfigDict<ModuleQuantizerConfig> moduleTypeConfigs;
  /// Keyed by a regex fully matched against module paths; the last matching
  /// entry wins, even when less specific.
  ConfigDict<ModuleQuantizerConfig> moduleNameConfigs;
  /// Model attributes to carry over (kept for fidelity; qfx graphs have none).
  std::optional<std::vector<std::string>> preservedAttributes;
  ExecutionMode executionMode = ExecutionMode::Graph;

  /// Mutators returning *this, as the reference's. None = disabled.
  QuantizerConfig &setGlobal(std::optional<ModuleQuantizerConfig> config);
  QuantizerConfig &setModuleType(std::string fqn, std::optional<ModuleQuantizerConfig> config);
  QuantizerConfig &setModuleName(std::string regex, std::optional<ModuleQuantizerConfig> config);
  /// `graph`, `eager` or the deprecated `pt2e` (a warning is appended to
  /// `warnings` when given); anything else is an error listing the modes.
  llvm::Error setExecutionMode(llvm::StringRef mode, std::vector<std::string> *warnings = nullptr);
  /// Moves a copy of the global config onto each target and disables the
  /// global config. Errors: no targets, or the global config already disabled.
  llvm::Error onlyFor(llvm::ArrayRef<ConfigTarget> targets);
  /// Sets each target to None (disabled).
  QuantizerConfig &without(llvm::ArrayRef<ConfigTarget> targets);

  /// Every config rule of reference §7 (global config with module specs,
  /// module type keys without a dot, invalid regexes in module-name and
  /// op-name keys, QAT schedule ordering, and the graph quantizer's key rules:
  /// op_input_spec / module_input_spec / module_output_spec keys are indices
  /// or "*", op_output_spec keys "*" or 0). All violations, joined.
  llvm::Error validate() const;

  /// The body of the reference's to_dict() (`quantization_config:` value) as
  /// a tree: specs in their full dict form, None as none. Reading it back
  /// gives an equal config.
  Attribute toAttribute() const;

  /// QuantizerConfig presets (§1.6): the recipe in the global config as
  /// op_state_spec {"weight": spec}, op inputs and outputs None.
  struct Presets {
    static QuantizerConfig w8(std::optional<int64_t> axis = std::nullopt);
    static QuantizerConfig w4(std::optional<int64_t> axis = std::nullopt);
    /// Errors for a block size <= 0 or an axis outside {0, 1}.
    static llvm::Expected<QuantizerConfig> w4PerBlock(int64_t blockSize = 32,
                                                      std::optional<int64_t> axis = std::nullopt);
  };

  bool operator==(const QuantizerConfig &other) const;
  bool operator!=(const QuantizerConfig &other) const { return !(*this == other); }
};

/// The attribute form of a spec dict (`{"*": spec | none, ...}`) with full
/// spec dicts; keys print as the reference spells them.
Attribute specMapToAttribute(const SpecMap &map);

/// Checks that `regex` compiles as a full-match pattern (see
/// compileFullMatchRegex); the error says why.
llvm::Error checkRegex(llvm::StringRef regex);

} // namespace qfx
