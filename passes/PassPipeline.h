//===- passes/PassPipeline.h - The textual pipeline syntax ----------------===//
//
// One flat syntax names a sequence of configured passes:
//
//   cse,canonicalize{training=true},dce
//   annotate{config=w8a8 per-channel=true}
//
// Passes are separated by commas; options follow a pass in braces as
// `name=value`, separated by spaces (as in MLIR) or commas. A bool option may
// be written without a value, meaning true. Values containing spaces or
// punctuation are written in double quotes with `\"` and `\\` escapes.
// Whitespace around names, braces and separators is ignored.
//
// Printing is canonical: passes in order, each followed by the options that
// were explicitly given (also when equal to the default), in the pass's
// declaration order, separated by one space; values in their canonical
// spelling. So a pipeline written canonically prints back to itself, and
// print(parse(print(p))) == print(p) for every valid pipeline p.
//
// Errors are reported at Location{sourceName, 1, column} of the offending
// character, so a driver can show the pipeline with a caret.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Diagnostics.h"
#include "passes/Pass.h"
#include "passes/PassRegistry.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"

#include <memory>
#include <string>
#include <vector>

namespace llvm {
class raw_ostream;
}

namespace qfx {

using PassList = std::vector<std::unique_ptr<Pass>>;

/// Parses `text` into configured passes appended to `passes`. On error,
/// reports one diagnostic, appends nothing and returns false. An empty (or
/// all-blank) text is the empty pipeline. `sourceName` must outlive the
/// diagnostics (it is a Location's file).
bool parsePassPipeline(llvm::StringRef text, const PassRegistry &registry, PassList &passes,
                       DiagnosticEngine &diagnostics,
                       llvm::StringRef sourceName = "<pass-pipeline>");

/// The canonical text of `passes` (see the file comment).
void printPassPipeline(llvm::ArrayRef<std::unique_ptr<Pass>> passes, llvm::raw_ostream &os);
std::string printPassPipeline(llvm::ArrayRef<std::unique_ptr<Pass>> passes);

} // namespace qfx
