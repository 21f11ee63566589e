//===- ir/mlir/Import.h - MLIR func.func -> qfx Graph ---------------------===//
//
// The MLIR-level entry point of the importer, for code that holds MLIR ops
// (the qfx MLIR passes, qfx-mlir-translate, compilers linking qfx). Code
// without MLIR uses importMlir() of ir/mlir/Bridge.h instead. Includes MLIR
// headers.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Graph.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

#include <memory>

namespace qfx {

/// Imports the body of `func` (one block ending in func.return) as a graph
/// named after the function: block arguments become inputs `arg0`, `arg1`,
/// ...; dense arith.constant / tosa.const tensors become parameters (named by
/// a `qfx.name` attribute, else a NameLoc, else `const0`, `const1`, ...);
/// every other op becomes a node of the same name, and what qfx's IR cannot
/// hold is kept in reserved `mlir.*` node attributes (ir/mlir/Conversion.h)
/// so that exportIntoFunction() rebuilds the same body. Errors (several
/// blocks, another terminator, a weight of dynamic shape, a malformed
/// `qfx.annotation`) are emitted as MLIR diagnostics at the offending op; the
/// result is then null.
std::unique_ptr<Graph> importFunction(mlir::func::FuncOp func);

} // namespace qfx
