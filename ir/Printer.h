//===- ir/Printer.h - Writing the qfx IR text form ------------------------===//
//
// Prints a Graph deterministically in the form ir/Parser.h reads back:
// printing the parse of a printed graph gives the same text byte for byte.
// Unnamed results are numbered %0, %1, ... in program order; named values keep
// their names (made unique with a suffix if two collide).
//
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Graph.h"

#include <string>

namespace llvm {
class raw_ostream;
}

namespace qfx {

struct PrintOptions {
  /// Print `module(...)` and `loc(...)` provenance of nodes.
  bool printSourceInfo = true;
  /// Print `quant(...)` annotations.
  bool printAnnotations = true;
};

void printGraph(const Graph &graph, llvm::raw_ostream &os, const PrintOptions &options = {});
std::string printGraphToString(const Graph &graph, const PrintOptions &options = {});

} // namespace qfx
