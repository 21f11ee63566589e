//===- ir/mlir/QfxOps.td - Ops of the qfx MLIR dialect --------*- tablegen -*-===//
//
// qfx.quantize, qfx.dequantize and qfx.fake_quant, mirroring the graph IR ops
// of the same names. Their attributes are exactly what lower-to-qdq and
// insert-fake-quant write on graph nodes, converted by the default attribute
// mapping of ir/mlir/Conversion.cc (ints -> i64, floats -> f64, int lists ->
// array<i64>, float lists -> array<f64>, dictionaries -> dictionaries), so an
// exported op imports back to the node it came from. The verifiers
// (QfxDialect.cc) check what a later reader relies on: matching shapes, the
// storage element type of the dtype, one qparam per block of qparam_shape,
// positive finite scales and zero points inside [quant_min, quant_max].
//
//===----------------------------------------------------------------------===//

#ifndef QFX_MLIR_QFXOPS_TD
#define QFX_MLIR_QFXOPS_TD

include "ir/mlir/QfxDialect.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

// The qparams shared by quantize and dequantize, as lower-to-qdq writes them.
defvar QfxQParamArguments = (ins
  StrAttr:$dtype,
  AnyAttrOf<[I64Attr, F64Attr]>:$quant_min,
  AnyAttrOf<[I64Attr, F64Attr]>:$quant_max,
  DenseF64ArrayAttr:$scale,
  OptionalAttr<DenseI64ArrayAttr>:$zero_point,
  OptionalAttr<DenseF64ArrayAttr>:$minval,
  DenseI64ArrayAttr:$qparam_shape,
  OptionalAttr<I64Attr>:$axis,
  OptionalAttr<DenseI64ArrayAttr>:$block_shape,
  OptionalAttr<StrAttr>:$scale_dtype
);

def Qfx_QuantizeOp : Qfx_Op<"quantize", [Pure]> {
  let summary = "float tensor to quantized codes, with explicit qparams";
  let description = [{
    `codes = clamp(round(x / scale) + zero_point, quant_min, quant_max)` (ZP
    formulation) or `clamp(round((x - minval) / scale) + quant_min, ...)`
    (MINVAL), one scale (and offset) per block of `qparam_shape` (the
    full-rank block convention: a tensor of shape D has qparams of shape
    D[d] / block[d]). Codes are stored in the dtype's container: i8 / ui8 for
    integer dtypes, f8E4M3FN / f8E5M2 for fp8, f8E4M3FN for fp4 (every e2m1
    value is exact in e4m3). `scale_dtype = "float8_e8m0fnu"` marks
    power-of-two scales.
  }];
  let arguments = !con((ins AnyTensor:$input), QfxQParamArguments);
  let results = (outs AnyTensor:$output);
  let hasVerifier = 1;
}

def Qfx_DequantizeOp : Qfx_Op<"dequantize", [Pure]> {
  let summary = "quantized codes back to a float tensor, with explicit qparams";
  let description = [{
    The inverse of `qfx.quantize` with the same attributes:
    `(codes - zero_point) * scale` or `(codes - quant_min) * scale + minval`.
  }];
  let arguments = !con((ins AnyTensor:$input), QfxQParamArguments);
  let results = (outs AnyTensor:$output);
  let hasVerifier = 1;
}

def Qfx_FakeQuantOp : Qfx_Op<"fake_quant", [Pure, SameOperandsAndResultType]> {
  let summary = "an observer and fake quantization, before qparams are known";
  let description = [{
    What insert-fake-quant leaves in a graph: `spec` is the quantization spec
    dictionary of observer group `group` (fake-quants of one group share one
    observer); `qparams = {scale = [...], zero_point = [...]}` once calibrated.
  }];
  let arguments = (ins
    AnyTensor:$input,
    I64Attr:$group,
    DictionaryAttr:$spec,
    OptionalAttr<DictionaryAttr>:$qparams
  );
  let results = (outs AnyTensor:$output);
  let hasVerifier = 1;
}

#endif // QFX_MLIR_QFXOPS_TD
