//===- passes/quant/config/ConfigResolver.cc - Config -> nodes of a graph -===//
//
// The module tree of a graph, the module -> config assignment of reference
// §1.5, FX-like node names, and per-node op recipe lookup.
//
//===----------------------------------------------------------------------===//
#include "passes/quant/config/ConfigResolver.h"

#include "passes/quant/config/ConfigIO.h"

#include "ir/OpInfo.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringSet.h"

#include <algorithm>

namespace qfx {

static llvm::StringRef parentPath(llvm::StringRef path) {
  size_t dot = path.rfind('.');
  return dot == llvm::StringRef::npos ? llvm::StringRef() : path.take_front(dot);
}

void ConfigResolver::buildModules(const Graph &graph) {
  auto getOrAdd = [&](llvm::StringRef path) -> unsigned {
    auto cached = pathCache_.find({path.data(), path.size()});
    if (cached != pathCache_.end())
      return cached->second;
    // Find the nearest known ancestor, then add the missing ones below it,
    // parents before children.
    llvm::SmallVector<llvm::StringRef, 8> missing;
    int parent = -1;
    for (llvm::StringRef p = path;; p = parentPath(p)) {
      auto known = moduleIndex_.find(p);
      if (known != moduleIndex_.end()) {
        parent = static_cast<int>(known->second);
        break;
      }
      missing.push_back(p);
      if (p.empty())
        break;
    }
    unsigned index = static_cast<unsigned>(parent);
    for (auto it = missing.rbegin(); it != missing.rend(); ++it) {
      index = modules_.size();
      moduleIndex_.try_emplace(*it, index);
      ModuleInfo info;
      info.path = *it;
      info.parent = parent;
      if (parent >= 0) {
        ModuleInfo &p = modules_[parent];
        if (p.lastChild < 0)
          p.firstChild = index;
        else
          modules_[p.lastChild].nextSibling = index;
        p.lastChild = index;
      }
      modules_.push_back(info);
      parent = static_cast<int>(index);
    }
    pathCache_.try_emplace({path.data(), path.size()}, index);
    return index;
  };
  getOrAdd(""); // the root module always exists
  for (const Node *node : graph.nodes()) {
    const SourceInfo &source = node->source();
    unsigned index = getOrAdd(source.modulePath);
    if (modules_[index].type.empty() && !source.moduleType.empty())
      modules_[index].type = source.moduleType;
  }
  // Parameter owners are modules too, so module-name configs (and module
  // state specs) can address modules that own weights but run no op.
  for (const Value *parameter : graph.parameters())
    getOrAdd(parentPath(parameter->name()));

  // Iterative pre-order numbering over the child lists.
  preorder_.reserve(modules_.size());
  std::vector<unsigned> stack{0u};
  while (!stack.empty()) {
    unsigned module = stack.back();
    stack.pop_back();
    modules_[module].first = preorder_.size();
    preorder_.push_back(module);
    // Push children in reverse so that they are visited in order.
    size_t mark = stack.size();
    for (int child = modules_[module].firstChild; child >= 0; child = modules_[child].nextSibling)
      stack.push_back(child);
    std::reverse(stack.begin() + mark, stack.end());
  }
  // A module's subtree ends where the next module that is not its
  // descendant starts: compute `last` bottom-up in reverse pre-order.
  for (auto it = preorder_.rbegin(); it != preorder_.rend(); ++it) {
    ModuleInfo &module = modules_[*it];
    module.last = module.first;
    for (int child = module.firstChild; child >= 0; child = modules_[child].nextSibling)
      module.last = std::max(module.last, modules_[child].last);
  }
}

void ConfigResolver::assign(unsigned module, const ModuleQuantizerConfig *config, ConfigLevel level,
                            int entry) {
  if (modules_[module].config)
    return;
  ModuleInfo &info = modules_[module];
  info.config = config;
  info.level = level;
  info.entry = entry;
  info.direct = true;
  // Descendants inherit (without the module-boundary specs, which `direct`
  // tracks). An already assigned descendant's subtree was fully assigned
  // when it was, so the walk stops there: each module is visited once.
  std::vector<unsigned> stack;
  for (int child = info.firstChild; child >= 0; child = modules_[child].nextSibling)
    stack.push_back(child);
  while (!stack.empty()) {
    unsigned current = stack.back();
    stack.pop_back();
    ModuleInfo &c = modules_[current];
    if (c.config)
      continue;
    c.config = config;
    c.level = level;
    c.entry = entry;
    c.direct = false;
    for (int child = c.firstChild; child >= 0; child = modules_[child].nextSibling)
      stack.push_back(child);
  }
}

llvm::Expected<std::unique_ptr<ConfigResolver>>
ConfigResolver::create(const QuantizerConfig &config, const Graph &graph) {
  std::unique_ptr<ConfigResolver> resolver(new ConfigResolver(config));
  // Without module-type or module-name configs every module gets the global
  // config: the module tree (one entry per module path, as many as nodes in
  // the worst case) is not needed, the root stands for all of them.
  resolver->globalOnly_ = config.moduleTypeConfigs.empty() && config.moduleNameConfigs.empty();
  if (resolver->globalOnly_) {
    resolver->modules_.emplace_back();
    resolver->preorder_.push_back(0);
    resolver->moduleIndex_[""] = 0;
  } else {
    resolver->buildModules(graph);
  }
  std::vector<ModuleInfo> &modules = resolver->modules_;

  // Module names: last entry first, modules in pre-order so that an
  // ancestor matched by the same entry claims its descendants first.
  const auto &names = config.moduleNameConfigs;
  for (int i = static_cast<int>(names.size()) - 1; i >= 0; --i) {
    llvm::Expected<FullMatchRegex> regex = FullMatchRegex::compile(names[i].first);
    if (!regex)
      return makeConfigError(
          configKeyPath("quantization_config.module_name_configs", names[i].first),
          llvm::toString(regex.takeError()));
    for (unsigned module : resolver->preorder_)
      if (!modules[module].config && regex->matches(modules[module].path))
        resolver->assign(module, &names[i].second, ConfigLevel::ModuleName, i);
  }
  // Module types: exact match on the fully qualified class name.
  const auto &types = config.moduleTypeConfigs;
  for (int i = static_cast<int>(types.size()) - 1; i >= 0; --i)
    for (unsigned module : resolver->preorder_)
      if (!modules[module].config && !modules[module].type.empty() &&
          modules[module].type == types[i].first)
        resolver->assign(module, &types[i].second, ConfigLevel::ModuleType, i);
  for (unsigned module : resolver->preorder_)
    if (!modules[module].config)
      resolver->assign(module, &config.globalConfig, ConfigLevel::Global, -1);

  // Default op recipes and op-name regexes, once per module config.
  auto prepare = [&](const ModuleQuantizerConfig &moduleConfig,
                     const std::string &path) -> llvm::Error {
    resolver->defaultOps_.emplace(&moduleConfig, moduleConfig.defaultOpConfig());
    std::vector<FullMatchRegex> regexes;
    for (const auto &entry : moduleConfig.opNameConfig) {
      llvm::Expected<FullMatchRegex> regex = FullMatchRegex::compile(entry.first);
      if (!regex)
        return makeConfigError(configKeyPath(path + ".op_name_config", entry.first),
                               llvm::toString(regex.takeError()));
      regexes.push_back(std::move(*regex));
    }
    resolver->hasOpNameConfigs_ |= !regexes.empty();
    resolver->opNameRegexes_.emplace(&moduleConfig, std::move(regexes));
    return llvm::Error::success();
  };
  if (llvm::Error error = prepare(config.globalConfig, "quantization_config.global_config"))
    return std::move(error);
  for (const auto &entry : types)
    if (llvm::Error error = prepare(
            entry.second, configKeyPath("quantization_config.module_type_configs", entry.first)))
      return std::move(error);
  for (const auto &entry : names)
    if (llvm::Error error = prepare(
            entry.second, configKeyPath("quantization_config.module_name_configs", entry.first)))
      return std::move(error);

  // FX-like names are only needed when some config matches on them.
  if (resolver->hasOpNameConfigs_) {
    llvm::StringMap<unsigned> counters;
    for (const Node *node : graph.nodes())
      resolver->nodeCounter_[node] = counters[node->op().opType]++;
  }
  return std::move(resolver);
}

int ConfigResolver::findModule(llvm::StringRef path) const {
  auto it = moduleIndex_.find(path);
  return it == moduleIndex_.end() ? -1 : static_cast<int>(it->second);
}

unsigned ConfigResolver::moduleOf(const Node &node) const {
  if (globalOnly_)
    return 0;
  llvm::StringRef path = node.source().modulePath;
  auto it = pathCache_.find({path.data(), path.size()});
  if (it != pathCache_.end())
    return it->second;
  // A node created after the resolver, with a path string of its own.
  int index = findModule(path);
  return index < 0 ? 0 : static_cast<unsigned>(index);
}

std::string ConfigResolver::nodeName(const Node &node) const {
  std::string name = node.op().opType.str();
  auto it = nodeCounter_.find(&node);
  if (it != nodeCounter_.end() && it->second != 0)
    name += "_" + std::to_string(it->second);
  return name;
}

ResolvedOpConfig ConfigResolver::resolve(const Node &node) const {
  ResolvedOpConfig resolved;
  resolved.moduleIndex = moduleOf(node);
  const ModuleInfo &module = modules_[resolved.moduleIndex];
  resolved.module = module.config;
  resolved.level = module.level;
  const ModuleQuantizerConfig &config = *module.config;

  if (!config.opNameConfig.empty()) {
    const std::vector<FullMatchRegex> &regexes = opNameRegexes_.at(&config);
    std::string name = nodeName(node);
    for (int i = static_cast<int>(regexes.size()) - 1; i >= 0; --i) {
      if (regexes[i].matches(name)) {
        resolved.op = &config.opNameConfig[i].second;
        resolved.opLevel = OpConfigLevel::OpName;
        resolved.opEntry = i;
        return resolved;
      }
    }
  }
  llvm::StringRef opType = node.op().opType;
  for (int i = static_cast<int>(config.opTypeConfig.size()) - 1; i >= 0; --i) {
    if (config.opTypeConfig[i].first == opType) {
      resolved.op = &config.opTypeConfig[i].second;
      resolved.opLevel = OpConfigLevel::OpType;
      resolved.opEntry = i;
      return resolved;
    }
  }
  resolved.op = &defaultOps_.at(&config);
  return resolved;
}

std::string ConfigResolver::modulePath(const ModuleInfo &module) const {
  switch (module.level) {
  case ConfigLevel::ModuleName:
    return configKeyPath("module_name_configs", config_.moduleNameConfigs[module.entry].first);
  case ConfigLevel::ModuleType:
    return configKeyPath("module_type_configs", config_.moduleTypeConfigs[module.entry].first);
  case ConfigLevel::Global:
    return "global_config";
  }
  return "";
}

std::string ConfigResolver::describe(const ResolvedOpConfig &resolved) const {
  std::string path = modulePath(modules_[resolved.moduleIndex]);
  switch (resolved.opLevel) {
  case OpConfigLevel::OpName:
    return configKeyPath(path + ".op_name_config",
                         resolved.module->opNameConfig[resolved.opEntry].first);
  case OpConfigLevel::OpType:
    return configKeyPath(path + ".op_type_config",
                         resolved.module->opTypeConfig[resolved.opEntry].first);
  case OpConfigLevel::Default:
    return path;
  }
  return path;
}

std::vector<std::string> knownOpTypes() {
  llvm::StringSet<> seen;
  std::vector<std::string> types;
  for (const OpInfo &info : allKnownOps())
    if (seen.insert(info.opType).second)
      types.push_back(info.opType.str());
  std::sort(types.begin(), types.end());
  return types;
}

std::vector<std::string> configWarnings(const QuantizerConfig &config) {
  std::vector<std::string> warnings;
  std::vector<std::string> known = knownOpTypes();
  std::string knownList;
  for (const std::string &type : known)
    knownList += (knownList.empty() ? "" : ", ") + type;
  auto checkModule = [&](const ModuleQuantizerConfig &module, const std::string &path) {
    for (const auto &entry : module.opTypeConfig) {
      if (std::binary_search(known.begin(), known.end(), entry.first))
        continue;
      std::string message = configKeyPath(path + ".op_type_config", entry.first) +
                            ": unknown op type '" + entry.first + "' matches no op";
      std::string suggestion = closestMatch(entry.first, known);
      if (!suggestion.empty())
        message += "; did you mean '" + suggestion + "'?";
      message += " (known op types: " + knownList + ")";
      warnings.push_back(std::move(message));
    }
  };
  const std::string root = "quantization_config";
  checkModule(config.globalConfig, root + ".global_config");
  for (const auto &entry : config.moduleTypeConfigs) {
    std::string path = configKeyPath(root + ".module_type_configs", entry.first);
    // `torch.nn.Linear` is how users import the class, but the reference
    // matches type(module)'s defining path, `torch.nn.modules.linear.Linear`.
    llvm::StringRef key = entry.first;
    if (key.startswith("torch.nn.") && key.count('.') == 2)
      warnings.push_back(path + ": '" + entry.first +
                         "' is an import alias and never matches: module types are matched by "
                         "the class's defining path, e.g. 'torch.nn.modules.linear.Linear'");
    checkModule(entry.second, path);
  }
  for (const auto &entry : config.moduleNameConfigs)
    checkModule(entry.second, configKeyPath(root + ".module_name_configs", entry.first));
  return warnings;
}

} // namespace qfx
