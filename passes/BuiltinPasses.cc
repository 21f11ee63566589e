//===- passes/BuiltinPasses.cc - The registry of qfx's own passes ---------===//
//
// One registry entry per row of passes/PassRegistry.def.
//
//===----------------------------------------------------------------------===//
#include "passes/BuiltinPasses.h"

#include "passes/Passes.h"

#include "llvm/Support/ErrorHandling.h"

namespace qfx {

static PassRegistry buildRegistry() {
  PassRegistry registry;
#define QFX_PASS(Name, Class)                                                                      \
  if (!registry.registerPass(Name, create##Class))                                                 \
    llvm::report_fatal_error("qfx: PassRegistry.def row " Name " does not match its pass");
#include "passes/PassRegistry.def"
  return registry;
}

const PassRegistry &builtinPassRegistry() {
  static const PassRegistry registry = buildRegistry();
  return registry;
}

} // namespace qfx
