//===- passes/quant/config/ConfigResolver.h - Config -> nodes of a graph --===//
//
// Applies a QuantizerConfig to the nodes of one Graph with the precedence of
// reference §1.5. The graph's modules are the module paths its nodes come
// from (Node::source()), their ancestors, and the owners of its parameters;
// a module's type is the one its own nodes report. Each module gets one
// ModuleQuantizerConfig: module-name configs first, then module-type configs,
// each processed last entry first so that the last matching entry wins (even
// a less specific one), a matched module passing its config on to every
// descendant not yet assigned; the global config takes the rest. A node then
// uses the config of its innermost module, and inside it its op-name config
// (regex over FX-like node names, last match wins), else its op-type config
// (OpInfo::opType), else the module's default op recipe.
//
// FX-like node names follow torch.export: the op type, then `_k` for the k-th
// further node of that op type in graph order (`linear`, `linear_1`, ...);
// in-place variants share their functional op's counter since they share its
// op type.
//
// Building is linear in nodes + parameters plus (modules x module-name/type
// entries) regex matches; resolving a node costs its module config's op-name
// and op-type entries. The resolver keeps pointers into the config and the
// graph (module paths and types are the graph's interned strings), which
// must outlive it.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "passes/quant/config/FullMatchRegex.h"
#include "passes/quant/config/QuantConfig.h"

#include "ir/Graph.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/DenseMapInfo.h"
#include "llvm/ADT/StringMap.h"

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace qfx {

/// Where a module's config came from, in priority order (lower first).
enum class ConfigLevel : uint8_t { ModuleName = 0, ModuleType = 1, Global = 2 };
/// Where a node's op recipe came from inside its module config.
enum class OpConfigLevel : uint8_t { OpName = 0, OpType = 1, Default = 2 };

/// One module of the graph and the config assigned to it.
struct ModuleInfo {
  llvm::StringRef path; // `layer1.0.conv1`; "" for the root
  llvm::StringRef type; // fully qualified class name; empty when no node says
  int parent = -1;
  /// Children as a linked list (no allocation per module).
  int firstChild = -1;
  int lastChild = -1;
  int nextSibling = -1;
  /// Pre-order interval: module m is inside this one iff first <= m.first <= last.
  unsigned first = 0;
  unsigned last = 0;

  const ModuleQuantizerConfig *config = nullptr;
  ConfigLevel level = ConfigLevel::Global;
  /// Index of the entry in module_name_configs / module_type_configs; -1 for global.
  int entry = -1;
  /// Matched by its own entry (and so carries the entry's module-boundary
  /// specs), rather than inheriting an ancestor's config.
  bool direct = false;
};

/// The op recipe of one node and where it came from.
struct ResolvedOpConfig {
  const OpQuantizerConfig *op = nullptr;
  const ModuleQuantizerConfig *module = nullptr;
  unsigned moduleIndex = 0;
  ConfigLevel level = ConfigLevel::Global;
  OpConfigLevel opLevel = OpConfigLevel::Default;
  /// Index of the op_name_config / op_type_config entry; -1 for the default.
  int opEntry = -1;
};

class ConfigResolver {
public:
  /// Errors only for regexes that do not compile (validate() reports those
  /// first when the config comes from a file).
  static llvm::Expected<std::unique_ptr<ConfigResolver>> create(const QuantizerConfig &config,
                                                                const Graph &graph);

  const QuantizerConfig &config() const { return config_; }

  /// The effective op config of `node` (§1.5).
  ResolvedOpConfig resolve(const Node &node) const;

  /// `linear`, `linear_1`, ...
  std::string nodeName(const Node &node) const;

  /// The modules of the graph. With only a global config (no module-type or
  /// module-name entries) there is just the root, standing for every module.
  llvm::ArrayRef<ModuleInfo> modules() const { return modules_; }
  /// Modules in pre-order (parents before children).
  llvm::ArrayRef<unsigned> preorder() const { return preorder_; }
  /// Index of the module at `path`, -1 if the graph has none there.
  int findModule(llvm::StringRef path) const;
  /// The innermost module of `node`.
  unsigned moduleOf(const Node &node) const;
  /// True when `module` is `ancestor` or inside it.
  bool isWithin(unsigned module, unsigned ancestor) const {
    const ModuleInfo &a = modules_[ancestor];
    unsigned position = modules_[module].first;
    return a.first <= position && position <= a.last;
  }

  /// The config path of a module's config entry: `global_config`,
  /// `module_type_configs['torch.nn.modules.linear.Linear']`,
  /// `module_name_configs['fc.*']`.
  std::string modulePath(const ModuleInfo &module) const;
  /// The config path of a node's op recipe, e.g.
  /// `module_name_configs['fc'].op_type_config['linear']` or
  /// `global_config (default op recipe)`.
  std::string describe(const ResolvedOpConfig &resolved) const;

private:
  explicit ConfigResolver(const QuantizerConfig &config) : config_(config) {}
  void buildModules(const Graph &graph);
  void assign(unsigned module, const ModuleQuantizerConfig *config, ConfigLevel level, int entry);

  const QuantizerConfig &config_;
  std::vector<ModuleInfo> modules_;
  std::vector<unsigned> preorder_;
  /// Keys point into the graph (interned module paths, parameter names), so
  /// nothing is copied per module.
  llvm::DenseMap<llvm::StringRef, unsigned> moduleIndex_;
  /// Module paths are interned by the graph, so a node's module is found by
  /// the address of its path string before hashing characters.
  llvm::DenseMap<std::pair<const char *, size_t>, unsigned> pathCache_;
  /// Per node: k of its FX-like name (only when some config has op-name entries).
  llvm::DenseMap<const Node *, unsigned> nodeCounter_;
  bool hasOpNameConfigs_ = false;
  /// No module-type/name configs: one root module stands for all.
  bool globalOnly_ = false;
  /// The default op recipe and compiled op-name regexes of each module config.
  std::unordered_map<const ModuleQuantizerConfig *, OpQuantizerConfig> defaultOps_;
  std::unordered_map<const ModuleQuantizerConfig *, std::vector<FullMatchRegex>> opNameRegexes_;
};

/// Non-fatal findings about a config, as messages naming the config entry:
/// op-type keys that are no op type of the op table (listing the known
/// ones, with a suggestion for a likely typo), and module-type keys spelled
/// as `torch.nn.X` aliases that never match a module's defining class path.
std::vector<std::string> configWarnings(const QuantizerConfig &config);

/// Sorted distinct op types of the op table, for messages.
std::vector<std::string> knownOpTypes();

} // namespace qfx
