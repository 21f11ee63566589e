//===- ir/Parser.h - Reading the qfx IR text form -------------------------===//
//
// Parses the textual form documented in docs/TextFormat.md into a Graph.
// Errors are reported to a DiagnosticEngine with file:line:col of the
// offending token and what was expected; parsing stops at the first error and
// returns null (never a half-built graph).
//
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Diagnostics.h"
#include "ir/Graph.h"

#include <memory>

namespace llvm {
class SourceMgr;
}

namespace qfx {

/// Parses the single graph in buffer `bufferId` of `sourceMgr`. Locations in
/// diagnostics and on nodes name the buffer's identifier.
std::unique_ptr<Graph> parseGraph(llvm::SourceMgr &sourceMgr, unsigned bufferId,
                                  DiagnosticEngine &diagnostics);

/// Convenience for tests and tools that hold text in memory.
std::unique_ptr<Graph> parseGraph(llvm::StringRef text, DiagnosticEngine &diagnostics,
                                  llvm::StringRef bufferName = "<input>");

} // namespace qfx
