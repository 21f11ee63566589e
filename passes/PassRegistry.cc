//===- passes/PassRegistry.cc - Creating passes by name -------------------===//
//
// Name lookup, the "unknown pass" message and the `--help` listing.
//
//===----------------------------------------------------------------------===//
#include "passes/PassRegistry.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>

namespace qfx {

bool PassRegistry::registerPass(llvm::StringRef name, Factory factory) {
  if (!factory || contains(name))
    return false;
  std::unique_ptr<Pass> probe = factory();
  if (!probe || probe->name() != name)
    return false;
  factories_.emplace(name.str(), std::move(factory));
  return true;
}

bool PassRegistry::contains(llvm::StringRef name) const {
  return factories_.find(name) != factories_.end();
}

std::unique_ptr<Pass> PassRegistry::create(llvm::StringRef name) const {
  auto it = factories_.find(name);
  if (it == factories_.end())
    return nullptr;
  return it->second();
}

std::vector<std::string> PassRegistry::names() const {
  std::vector<std::string> result;
  result.reserve(factories_.size());
  for (const auto &entry : factories_)
    result.push_back(entry.first);
  return result;
}

std::string PassRegistry::unknownPassMessage(llvm::StringRef name) const {
  if (factories_.empty())
    return ("unknown pass '" + name + "'; no passes are registered").str();
  return ("unknown pass '" + name + "'; registered passes: " + llvm::join(names(), ", ")).str();
}

void PassRegistry::printHelp(llvm::raw_ostream &os, unsigned indent) const {
  size_t nameWidth = 0;
  for (const auto &entry : factories_)
    nameWidth = std::max(nameWidth, entry.first.size());
  for (const auto &entry : factories_) {
    std::unique_ptr<Pass> pass = entry.second();
    os.indent(indent) << llvm::left_justify(entry.first, nameWidth) << " - " << pass->description()
                      << "\n";
    for (const PassOptionBase *option : pass->options()) {
      os.indent(indent + 4) << option->name() << "=<" << option->typeName()
                            << "> (default: " << option->defaultText() << ") - " << option->help()
                            << "\n";
    }
  }
}

} // namespace qfx
