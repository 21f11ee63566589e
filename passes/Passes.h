//===- passes/Passes.h - Factories of the passes qfx registers ------------===//
//
// Declares `std::unique_ptr<Pass> create<ClassName>()` for every row of
// passes/PassRegistry.def. Pass classes stay private to their .cc file; code
// that wants a pass by type calls its factory, code that wants it by name asks
// the registry (passes/BuiltinPasses.h).
//
//===----------------------------------------------------------------------===//
#pragma once

#include "passes/Pass.h"

#include <memory>

namespace qfx {

#define QFX_PASS(Name, Class) std::unique_ptr<Pass> create##Class();
#include "passes/PassRegistry.def"

} // namespace qfx
