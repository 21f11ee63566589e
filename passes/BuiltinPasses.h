//===- passes/BuiltinPasses.h - The registry of qfx's own passes ----------===//
//
// builtinPassRegistry() holds every pass listed in passes/PassRegistry.def.
// It lives in its own library (//passes:registry) because it depends on all
// pass libraries, while the pass infrastructure (//passes:pass) depends on
// none of them.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "passes/PassRegistry.h"

namespace qfx {

/// Built on first use (thread-safe), never modified afterwards.
const PassRegistry &builtinPassRegistry();

} // namespace qfx
