//===- runtime/kernels/Kernels.h - Fused quantization kernels on at::Tensor ===//
//
// Fused CPU kernels for quantization-semantics.md §5.6: fake-quant forward
// (quantize, dequantize and the straight-through mask in one pass over
// memory), quantize to codes, dequantize from codes, the masked backward,
// and an autograd function so QAT can train through fake-quant. Integer
// results are bit-exact with ATen's fake_quantize_per_{tensor,channel}_affine
// (forward and gradient) wherever ATen's own behaviour is defined; see
// "Deliberate differences from ATen" below.
//
// Qparams. `scale` (any float dtype; used as fp32), `zeroPoint` (any integer
// dtype; used as int32) or `minVal` (float) have one entry per block: their
// shape is the number of blocks per dim, with the input's rank. All ones
// (or a single element of any rank) is per tensor; C on axis a and 1
// elsewhere is per channel; D[d]/B[d] on every dim is per block, which covers
// the reference's §5.4 blocks (dims >= 2 whole: size 1 there). Every qparam
// size must divide the input's size on its dim. Scales must be finite and
// > 0, zero points in [quantMin, quantMax], minvals finite.
//
// Formats and containers. Integer formats quantize to int8 when quantMin < 0
// and to uint8 otherwise (so the reference's int2..int8 use int8 and
// uint2..uint8 use uint8); fake-quant accepts any range with |bounds| <=
// 2^24. LibTorch 1.13 has no float8 dtype, so the float formats quantize to
// uint8 tensors holding bit patterns: fp8 e4m3fn / e5m2 codes for the fp8
// formats, and e4m3fn codes for fp4 e2m1 (its container per §1.1; every fp4
// grid value is exact in e4m3fn). dequantize reads the same representation.
//
// Values. Inputs are fp32, fp16 or bf16, computed in fp32 and cast back
// (round to nearest even). Non-contiguous inputs are made contiguous once;
// outputs are contiguous. Empty tensors give empty results.
//
// NaN and Inf. Fake-quant keeps NaN as NaN (mask 0); ±Inf saturate to the
// range ends (mask 0). quantize maps NaN to the code of 0.0 for integer
// formats (the zero point under ZP; an integer has no NaN) and to 0x7F (a
// NaN in e4m3fn and e5m2) for float formats; ±Inf saturate.
//
// Deliberate differences from ATen. ATen converts the rounded value to
// int64 before clamping, which is undefined beyond 2^63 and on x86 turns NaN,
// +Inf and huge positive inputs into quant_min; we clamp in float, so those
// saturate to quant_max (and NaN stays NaN). For |x / scale| < 2^63 the
// results are identical.
//
// Threads: at::parallel_for with a grain of 32K elements. The element loops
// are AVX2+F16C when the CPU has them, portable scalar code otherwise; both
// give identical bits.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/kernels/QuantFormat.h"

#include <ATen/core/Tensor.h>

#include <cstdint>

namespace qfx {

/// Everything the kernels need to map one tensor to its quantized form.
struct QuantKernelParams {
  ElementFormat format = ElementFormat::Int;
  /// Integer formats only; selects which of zeroPoint / minVal is used (the
  /// other may be left undefined or is ignored).
  Formulation formulation = Formulation::ZeroPoint;
  /// Integer range (§5.1); ignored by float formats, whose range is their
  /// grid's (±448, ±57344, ±6).
  int64_t quantMin = -128;
  int64_t quantMax = 127;
  at::Tensor scale;
  at::Tensor zeroPoint; // ZeroPoint formulation
  at::Tensor minVal;    // MinVal formulation
};

struct FakeQuantizeResult {
  at::Tensor output;
  /// Bool, same shape as output: 1 where the unclamped quantized value was
  /// within range (the straight-through estimator passes the gradient).
  /// Undefined unless requested.
  at::Tensor mask;
};

/// Fake-quant forward in one pass; also writes the mask when `computeMask`.
FakeQuantizeResult fakeQuantizeForward(const at::Tensor &x, const QuantKernelParams &params,
                                       bool computeMask);

/// Same, into preallocated contiguous tensors of x's shape: `output` of x's
/// dtype (may be x itself, for in-place fake-quant of a contiguous x), and
/// `mask` (bool or uint8; may be undefined).
void fakeQuantizeForwardOut(const at::Tensor &x, const QuantKernelParams &params,
                            const at::Tensor &output, const at::Tensor &mask);

/// Straight-through backward: gradOutput * mask, computed as a product so
/// NaN/Inf gradients behave as in ATen's `grad * mask`.
at::Tensor fakeQuantizeBackward(const at::Tensor &gradOutput, const at::Tensor &mask);

/// Autograd-aware fake-quant for QAT: when grad mode is on and x requires
/// grad, records a node whose backward is fakeQuantizeBackward with the saved
/// mask (no gradient flows to scale / zero point / minval); otherwise the
/// plain forward without a mask. Supports double backward (as grad * mask).
at::Tensor fakeQuantize(const at::Tensor &x, const QuantKernelParams &params);

/// Quantized codes: int8/uint8 for integer formats (see header), uint8 fp8 bit
/// patterns for float formats.
at::Tensor quantize(const at::Tensor &x, const QuantKernelParams &params);
/// quantize into `codes` (contiguous, x's shape, dtype codeDtype(params)), for
/// callers that own the destination buffer (weight codes written straight
/// into the graph's data).
void quantizeOut(const at::Tensor &x, const QuantKernelParams &params, const at::Tensor &codes);

/// Inverse of quantize: (q - quant_offset) * scale + float_offset for integer
/// formats, decode(q) * scale for float formats. `codes` must have the
/// container dtype quantize produces; outDtype is fp32, fp16 or bf16.
at::Tensor dequantize(const at::Tensor &codes, const QuantKernelParams &params,
                      at::ScalarType outDtype = at::kFloat);

/// The dtype quantize returns for these params (kChar or kByte).
at::ScalarType codeDtype(const QuantKernelParams &params);

/// Which element loops run. The default is the best the CPU supports
/// (environment variable QFX_KERNEL_ISA=scalar forces the portable ones);
/// tests switch to compare both.
enum class KernelIsa : uint8_t { Scalar, Avx2 };
bool isKernelIsaSupported(KernelIsa isa);
KernelIsa activeKernelIsa();
/// Throws c10::Error if the CPU lacks the instructions.
void setKernelIsa(KernelIsa isa);

/// Fake-quant and backward jobs writing at least this many bytes (output
/// plus mask) use non-temporal stores, which skip reading the output lines
/// first: worth it only when the output cannot stay in the last-level cache.
/// Default: the larger of the L3 size and 32 MiB. Tests lower it to cover
/// that path.
int64_t streamingStoreThreshold();
void setStreamingStoreThreshold(int64_t bytes);

} // namespace qfx
