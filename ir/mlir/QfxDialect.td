//===- ir/mlir/QfxDialect.td - The qfx MLIR dialect -----------*- tablegen -*-===//
//
// The `qfx` dialect holds what MLIR's `quant` dialect of LLVM 16 cannot say:
// quantize/dequantize with fp8 and fp4 formats, power-of-two (e8m0) scales,
// per-block qparams and the MINVAL formulation, plus the fake-quant nodes of a
// graph that has not been lowered yet. Exported modules use it only where the
// `quant` dialect falls short (see ir/mlir/Export.cc). Its ops have no custom
// assembly on purpose: they always print in generic form, so any MLIR tool
// (Debian's mlir-opt-16 included) reads them with --allow-unregistered-dialect.
//
//===----------------------------------------------------------------------===//

#ifndef QFX_MLIR_QFXDIALECT_TD
#define QFX_MLIR_QFXDIALECT_TD

include "mlir/IR/OpBase.td"

def Qfx_Dialect : Dialect {
  let name = "qfx";
  let cppNamespace = "::qfx::dialect";
  let summary = "qfx's quantize, dequantize and fake-quant ops";
  let useFoldAPI = kEmitFoldAdaptorFolder;
  let description = [{
    Quantization ops with explicit qparams as attributes, written by qfx's MLIR
    exporter when a quantization spec does not fit `!quant.uniform` of LLVM 16.
    Attribute names and meanings are those of qfx's graph IR (see
    passes/quant/LowerToQDQ.cc and docs/Quantization.md).
  }];
}

class Qfx_Op<string mnemonic, list<Trait> traits = []>
    : Op<Qfx_Dialect, mnemonic, traits>;

#endif // QFX_MLIR_QFXDIALECT_TD
