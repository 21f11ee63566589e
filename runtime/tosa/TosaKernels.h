//===- runtime/tosa/TosaKernels.h - The interpreter's tosa ops on ATen ----===//
//
// Kernels for the TOSA ops MLIR models are made of, plugged into the graph
// interpreter through its kernel registry (runtime/interpreter/Kernel.h), so
// that a model imported from MLIR (ir/mlir) can be run and calibrated like a
// TorchScript one. Layouts follow the TOSA specification: activations NHWC,
// conv2d weights [OC, KH, KW, IC], depthwise weights [KH, KW, C, M], pads
// [top, bottom, left, right], average pooling that does not count padding.
// Each kernel reads its attributes (and constant operands such as transpose
// perms) once when the interpreter is built; weights are permuted to ATen's
// layout once per weight tensor, not per batch. Float tensors only, except
// the elementwise and data-movement ops, which also run on integers (tosa.mul
// with its rounding right shift). Other tosa ops fail at interpreter creation
// with a message naming the node and the supported ops. Linking this library
// registers the kernels (a static initializer); registerTosaKernels() does
// the same explicitly.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"

namespace qfx {

/// Registers the `tosa.*` kernel factory with the interpreter (idempotent).
void registerTosaKernels();

/// The tosa op names the kernels run, sorted.
llvm::ArrayRef<llvm::StringRef> supportedTosaOps();

} // namespace qfx
