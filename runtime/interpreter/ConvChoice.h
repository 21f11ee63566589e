//===- runtime/interpreter/ConvChoice.h - Which conv kernel a node runs ---===//
//
// The interpreter runs TorchScript convs through LibTorch's operator
// registry, and aten::conv2d picks its CPU kernel by a heuristic (1.13,
// ConvParams::use_mkldnn): a pointwise (1x1, unstrided, undilated) conv on
// one intra-op thread with a batch under 16 goes to the "THNN" kernel, im2col
// plus BLAS sgemm, because "THNN is faster when single-threaded" -- true with
// MKL behind sgemm. Debian's libtorch links the reference (netlib) BLAS,
// whose sgemm is 4-15x slower than oneDNN on those shapes (resnet50's
// bottleneck convs at batch 1: 22 ms against 1.4-5 ms each), so on one
// thread 86% of a resnet50 forward was that sgemm. This wrapper sends exactly
// the heuristic's pointwise exception to at::mkldnn_convolution, the kernel
// the same call takes with two threads; everything else (other shapes,
// groups, strides, autograd, non-float, other devices, oneDNN disabled by
// the user) runs the operator as registered. The two kernels agree to float
// rounding (different summation order), not bit for bit, so the interpreter
// applies it only when asked (InterpreterOptions::pointwiseConvOnOneDnn).
//
//===----------------------------------------------------------------------===//
#pragma once

#include <torch/csrc/jit/runtime/operator.h>

namespace qfx {

/// `operation` (aten::conv2d's default overload) with the pointwise
/// single-thread case sent to oneDNN; `operation` itself when LibTorch was
/// built without oneDNN.
torch::jit::Operation choosePointwiseConvKernel(torch::jit::Operation operation);

/// Whether choosePointwiseConvKernel's operation would run oneDNN for these
/// arguments (exposed for tests).
bool usesPointwiseConvKernel(const at::Tensor &input, const at::Tensor &weight,
                             c10::IntArrayRef stride, c10::IntArrayRef dilation, int64_t groups);

} // namespace qfx
