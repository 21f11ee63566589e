//===- runtime/torch_ops/TorchOps.h - Schemas of the qfx TorchScript ops --===//
//
// The operators that libqfx_torch_ops.so registers under the `qfx`
// namespace (TORCH_LIBRARY), so TorchScript graphs and eager PyTorch can
// call the fused kernels of runtime/kernels:
//
//   import torch
//   torch.ops.load_library("libqfx_torch_ops.so")
//   y = torch.ops.qfx.fake_quantize(x, scale, zero_point, None, -128, 127, "int")
//
// Common arguments:
// - scale: float tensor, one entry per block: same rank as x, each size
//   dividing x's (all ones = per tensor, C on the channel axis = per channel,
//   D/B per dim = per block); a single element of any rank is per tensor.
// - zero_point / minval: the integer formulation, by which one is given:
//   zero_point (integer tensor, scale's shape) = "zp", q = round(x / s) + zp;
//   minval (float tensor, scale's shape) = "minval",
//   q = round((x - minval) / s) + quant_min. Exactly one for format "int";
//   neither for float formats.
// - quant_min / quant_max: the integer range (quantization-semantics.md
//   §5.1); ignored by float formats, whose range is their grid's.
// - format: "int", "float8_e4m3fn" (alias "float8_e4m3"), "float8_e5m2",
//   "float4_e2m1fn_x2" (alias "float4_e2m1fn").
//
// Ops:
// - fake_quantize -> Tensor: quantize + dequantize in one pass, same dtype as
//   x (fp32/fp16/bf16). Differentiable in x with the straight-through
//   estimator (gradient * in-range mask; none to the qparams); usable from
//   TorchScript and autograd alike.
// - fake_quantize_with_mask -> (Tensor output, Tensor mask): the same forward
//   plus the bool mask the backward uses; not differentiable.
// - quantize -> Tensor: codes; int8 when quant_min < 0 else uint8 for "int";
//   uint8 fp8 bit patterns for float formats (LibTorch 1.13 has no float8
//   dtype; fp4 values are stored as float8_e4m3fn patterns). NaN → code of
//   0.0 for "int", 0x7F for float formats.
// - dequantize -> Tensor: the inverse, into out_dtype (float32 when None,
//   float16, bfloat16).
//
// Numerics, NaN/Inf policy and the parity with ATen's fake_quantize ops are
// documented in runtime/kernels/Kernels.h.
//
//===----------------------------------------------------------------------===//
#pragma once

namespace qfx::torch_ops {

// Schemas as registered (without the `qfx::` prefix). Kept here so the
// registration, the tests and the documentation cannot disagree.
inline constexpr const char *kFakeQuantizeSchema =
    "fake_quantize(Tensor x, Tensor scale, Tensor? zero_point=None, Tensor? minval=None, "
    "int quant_min=-128, int quant_max=127, str format=\"int\") -> Tensor";
inline constexpr const char *kFakeQuantizeWithMaskSchema =
    "fake_quantize_with_mask(Tensor x, Tensor scale, Tensor? zero_point=None, "
    "Tensor? minval=None, int quant_min=-128, int quant_max=127, str format=\"int\") "
    "-> (Tensor output, Tensor mask)";
inline constexpr const char *kQuantizeSchema =
    "quantize(Tensor x, Tensor scale, Tensor? zero_point=None, Tensor? minval=None, "
    "int quant_min=-128, int quant_max=127, str format=\"int\") -> Tensor";
inline constexpr const char *kDequantizeSchema =
    "dequantize(Tensor q, Tensor scale, Tensor? zero_point=None, Tensor? minval=None, "
    "int quant_min=-128, int quant_max=127, str format=\"int\", ScalarType? out_dtype=None) "
    "-> Tensor";

} // namespace qfx::torch_ops
