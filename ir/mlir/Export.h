//===- ir/mlir/Export.h - qfx Graph -> MLIR func.func ---------------------===//
//
// The MLIR-level entry points of the exporter, for code that holds MLIR ops.
// Code without MLIR uses exportMlir() of ir/mlir/Bridge.h instead. Includes
// MLIR headers. The context must have the dialects of registerQfxDialects()
// loaded; ops of other dialects (torch-mlir naming of aten ops, unknown ops
// of an imported module) need a context that allows unregistered dialects.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Graph.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"

namespace qfx {

/// Replaces the body of `func` by the ops of `graph`, keeping the function
/// itself (name, attributes, argument locations) and its func.return op (with
/// new operands). The graph's inputs must match the function's arguments in
/// number and type and its outputs the result types. On failure, diagnostics
/// are emitted and `func` is left as it was.
mlir::LogicalResult exportIntoFunction(const Graph &graph, mlir::func::FuncOp func);

/// Appends to `module` a func.func named after the graph, with the graph's
/// inputs as arguments and its outputs as results. Null after diagnostics on
/// failure. The result is not verified.
mlir::func::FuncOp exportToModule(const Graph &graph, mlir::ModuleOp module);

} // namespace qfx
