//===- tools/qfx-mlir-opt.cpp - mlir-opt with qfx's dialect and passes ----===//
//
// An mlir-opt (MlirOptMain) that knows the dialects qfx reads and writes
// (func, arith, tosa, quant, qfx) and the qfx passes (qfx-quantize,
// qfx-lower-to-qdq, qfx-roundtrip), so qfx runs inside ordinary MLIR
// pipelines:
//   qfx-mlir-opt model.mlir \
//     -pass-pipeline='builtin.module(func.func(qfx-quantize{pipeline="..."},qfx-lower-to-qdq))'
// Everything else (--verify-diagnostics, --split-input-file, -o, printing
// flags) is MlirOptMain's.
//
//===----------------------------------------------------------------------===//
#include "ir/mlir/Bridge.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"

int main(int argc, char **argv) {
  mlir::DialectRegistry registry;
  qfx::registerQfxDialects(registry);
  qfx::registerQfxPasses();
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "qfx MLIR optimizer driver\n", registry));
}
