//===- ir/mlir/Bridge.h - qfx <-> MLIR, without MLIR headers --------------===//
//
// The MLIR bridge as seen from code that does not itself use MLIR (a
// TorchScript tool writing its quantized graph as MLIR, a driver reading a
// tosa model): import MLIR text into graphs, export a graph as MLIR text, and
// register the qfx dialect and the qfx MLIR passes into an MLIR tool. Nothing
// here includes an MLIR header, so including it costs nothing; MLIR-level
// entry points (importing a func.func op, exporting into one) are in
// ir/mlir/Import.h and ir/mlir/Export.h.
//
// What maps to what (details in Import.cc / Export.cc):
//   func.func            <-> one Graph (arguments -> inputs, func.return -> outputs)
//   arith.constant, tosa.const of dense tensors <-> parameters with TensorData
//   any other op         <-> a node of the same name (`tosa.conv2d`), its
//                            attributes as qfx Attributes; ops with regions
//                            are kept as their MLIR text
//   aten::op / prim::op  ->  generic `"torch.aten.op"` ops (torch-mlir naming)
//   qfx.quantize / qfx.dequantize -> quant.qcast / quant.dcast (+ quant.scast of
//                            integer weight constants) when `!quant.uniform`
//                            expresses the qparams, else the qfx dialect's ops
//   qfx.fake_quant       <-> the qfx dialect's qfx.fake_quant
// Importing then exporting without changes gives the same module.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Diagnostics.h"
#include "ir/Graph.h"

#include "llvm/ADT/StringRef.h"

#include <memory>
#include <vector>

namespace llvm {
class raw_ostream;
}
namespace mlir {
class DialectRegistry;
}

namespace qfx {

/// Registers the dialects qfx reads and writes: func, arith, tosa, quant and
/// qfx's own.
void registerQfxDialects(mlir::DialectRegistry &registry);

/// Registers the qfx MLIR passes (idempotent):
///   qfx-quantize{pipeline="..."}  runs a qfx pipeline on each func.func
///   qfx-quantize{config=...}      (default: annotate{config=...} and the
///                                 quantization passes up to deduplicated
///                                 fake-quants)
///   qfx-lower-to-qdq              lowers fake-quants to quantize/dequantize
///   qfx-roundtrip                 imports and exports each func.func unchanged
void registerQfxPasses();

struct MlirImportOptions {
  /// Accept ops of dialects that are not registered (kept as they are).
  bool allowUnregisteredDialects = false;
};

/// Parses MLIR text and imports every func.func with a body, in module order.
/// On error (unparseable text, an unsupported construct) reports MLIR-style
/// diagnostics (`file:line:col: error: ...`, `bufferName` as the file) and
/// returns no graphs.
std::vector<std::unique_ptr<Graph>> importMlir(llvm::StringRef text, llvm::StringRef bufferName,
                                               DiagnosticEngine &diagnostics,
                                               const MlirImportOptions &options = {});

struct MlirExportOptions {
  /// Print locations (`loc(...)`) too.
  bool printDebugInfo = false;
};

/// Writes `graph` as an MLIR module holding one func.func named after the
/// graph, verified before it is written. Returns false, writing nothing, after
/// reporting diagnostics when the graph has no MLIR form (a dtype MLIR 16
/// lacks, a non-tensor graph input, qparams `!quant.uniform` cannot hold and
/// the qfx dialect rejects).
bool exportMlir(const Graph &graph, llvm::raw_ostream &os, DiagnosticEngine &diagnostics,
                const MlirExportOptions &options = {});

} // namespace qfx
