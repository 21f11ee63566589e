//===- tools/qfx-mlir-translate.cpp - qfx IR text <-> MLIR ----------------===//
//
// An mlir-translate (mlirTranslateMain) with two translations:
//   --mlir-to-qfx  imports every func.func of an MLIR module and prints the
//                  graphs as qfx IR text (separated by `// -----`), which
//                  shows exactly what the importer made of each op;
//   --qfx-to-mlir  reads one graph in qfx IR text (what qfx-opt writes, e.g.
//                  a TorchScript model after quantization) and writes it as
//                  an MLIR module: aten ops as torch-mlir's generic
//                  `"torch.aten.*"` ops, quantization in the quant and qfx
//                  dialects. Its output parses with
//                  `mlir-opt --allow-unregistered-dialect` of LLVM 16.
// Diagnostics are MLIR's (file:line:col with the source line), so
// --verify-diagnostics and --split-input-file work on both directions.
//
//===----------------------------------------------------------------------===//
#include "ir/mlir/Bridge.h"
#include "ir/mlir/Conversion.h"
#include "ir/mlir/Export.h"
#include "ir/mlir/Import.h"

#include "ir/Parser.h"
#include "ir/Printer.h"
#include "ir/Verifier.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Tools/mlir-translate/MlirTranslateMain.h"
#include "mlir/Tools/mlir-translate/Translation.h"

#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

static mlir::LogicalResult mlirToQfx(mlir::Operation *op, llvm::raw_ostream &os) {
  auto module = llvm::dyn_cast<mlir::ModuleOp>(op);
  if (!module)
    return op->emitError("expected a module");
  bool first = true;
  for (mlir::func::FuncOp func : module.getOps<mlir::func::FuncOp>()) {
    if (func.isExternal())
      continue;
    std::unique_ptr<qfx::Graph> graph = qfx::importFunction(func);
    if (!graph)
      return mlir::failure();
    if (!first)
      os << "// -----\n";
    first = false;
    qfx::printGraph(*graph, os);
  }
  return mlir::success();
}

static mlir::OwningOpRef<mlir::Operation *> qfxToMlir(llvm::SourceMgr &sourceMgr,
                                                      mlir::MLIRContext *context) {
  // aten ops become ops of torch-mlir's dialect, which is not linked here.
  context->allowUnregisteredDialects(true);
  context->loadAllAvailableDialects();
  const llvm::MemoryBuffer *buffer = sourceMgr.getMemoryBuffer(sourceMgr.getMainFileID());
  qfx::DiagnosticEngine diagnostics;
  mlir::Location fallback = mlir::FileLineColLoc::get(context, buffer->getBufferIdentifier(), 1, 1);
  diagnostics.setHandler(
      [&](const qfx::Diagnostic &diagnostic) { qfx::emitAsMlirDiagnostic(diagnostic, fallback); });
  std::unique_ptr<qfx::Graph> graph =
      qfx::parseGraph(buffer->getBuffer(), diagnostics, buffer->getBufferIdentifier());
  if (!graph || !qfx::verifyGraph(*graph, diagnostics))
    return nullptr;
  mlir::OwningOpRef<mlir::ModuleOp> module = mlir::ModuleOp::create(mlir::UnknownLoc::get(context));
  if (!qfx::exportToModule(*graph, *module) || failed(mlir::verify(*module)))
    return nullptr;
  return mlir::OwningOpRef<mlir::Operation *>(module.release());
}

int main(int argc, char **argv) {
  auto registerDialects = [](mlir::DialectRegistry &registry) {
    qfx::registerQfxDialects(registry);
  };
  mlir::TranslateFromMLIRRegistration toQfx("mlir-to-qfx",
                                            "import each func.func and print it as qfx IR text",
                                            mlirToQfx, registerDialects);
  mlir::TranslateToMLIRRegistration toMlir(
      "qfx-to-mlir", "export a graph in qfx IR text as an MLIR module",
      mlir::TranslateRawSourceMgrToMLIRFunction(qfxToMlir), registerDialects);
  return mlir::failed(mlir::mlirTranslateMain(argc, argv, "qfx MLIR translator\n")) ? 1 : 0;
}
