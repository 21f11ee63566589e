//===- passes/PassRegistry.h - Creating passes by name --------------------===//
//
// A PassRegistry maps pipeline names (`cse`) to factories. The pipeline parser
// and qfx-opt's `--help` read it; lookups of unknown names produce a message
// listing every registered name, so a typo is one glance from its fix. The
// registry of qfx's own passes is builtinPassRegistry() (passes/BuiltinPasses.h);
// tests and embedders may build their own registries with extra passes.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "passes/Pass.h"

#include "llvm/ADT/StringRef.h"

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace llvm {
class raw_ostream;
}

namespace qfx {

class PassRegistry {
public:
  using Factory = std::function<std::unique_ptr<Pass>()>;

  /// Registers `factory` under `name`. Returns false, registering nothing, if
  /// the name is taken or the factory's passes are named differently (a
  /// programming error the unit tests catch for the built-in passes).
  bool registerPass(llvm::StringRef name, Factory factory);

  bool contains(llvm::StringRef name) const;
  /// A fresh pass with default options; null for an unknown name.
  std::unique_ptr<Pass> create(llvm::StringRef name) const;
  /// Registered names, sorted.
  std::vector<std::string> names() const;
  /// `unknown pass 'foo'; registered passes: canonicalize, cse, dce`.
  std::string unknownPassMessage(llvm::StringRef name) const;

  /// Every pass with its description and options (type, default, help), for
  /// `--help`. `indent` spaces precede each pass line.
  void printHelp(llvm::raw_ostream &os, unsigned indent = 2) const;

private:
  // std::map keeps names sorted for listings; the registry is tiny.
  std::map<std::string, Factory, std::less<>> factories_;
};

} // namespace qfx
