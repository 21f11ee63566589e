//===- ir/Verifier.h - Structural checks of a Graph -----------------------===//
//
// Checks what every pass may assume: operands are defined before use (SSA
// order), use lists agree with operands and outputs, nodes belong to their
// graph, arity, result count and required attributes match the op table, and
// annotations have one entry per operand. Unknown ops are only checked
// structurally. Every problem is reported (not just the first), each at the
// node's text location and naming the node.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Diagnostics.h"
#include "ir/Graph.h"

namespace qfx {

/// True when `graph` is well formed; otherwise diagnostics were emitted.
bool verifyGraph(const Graph &graph, DiagnosticEngine &diagnostics);

} // namespace qfx
