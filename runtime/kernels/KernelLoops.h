//===- runtime/kernels/KernelLoops.h - Raw element loops (internal) -------===//
//
// The interface between the ATen-facing layer (Kernels.cc: validation,
// allocation, threading, autograd) and the element loops (KernelLoops.cc).
// It is free of libtorch on purpose: KernelLoops.cc is compiled once per
// instruction set (portable scalar code and AVX2+F16C) and must not pull in
// ATen's inline functions with different target flags. A job is described by
// raw pointers plus a canonical blocked layout (LoopLayout), and every entry
// point processes the flat element range [begin, end) of one job, so the
// caller can split a job across threads at any element boundary.
//
// Not part of the public API; use runtime/kernels/Kernels.h.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/kernels/QuantFormat.h"

#include <cstdint>

namespace qfx::kernels {

/// Storage type of the floating-point side of a job (input of fake-quant and
/// quantize, output of dequantize, gradients of the backward).
enum class ValueType : uint8_t { F32, F16, BF16 };

/// Most canonical dims a layout can have (see LoopLayout).
constexpr int kMaxLoopDims = 16;

/// A contiguous tensor seen as nested dims, each split into `numBlocks`
/// blocks of `blockSize` elements that share one set of qparams. Adjacent
/// dims are merged whenever the merge keeps the element → qparam mapping, so
/// per-tensor is one dim with one block, per-channel on the outer dim is one
/// dim of C blocks, per-channel on the inner dim is [rows, (C blocks of 1)].
/// The last dim is the contiguous "row"; qparams are contiguous in the same
/// canonical order (qStride of the row dim is 1).
struct LoopLayout {
  int numDims = 1;
  int64_t extent[kMaxLoopDims] = {0};    // numBlocks * blockSize
  int64_t blockSize[kMaxLoopDims] = {0}; // elements per block along the dim
  int64_t qStride[kMaxLoopDims] = {0};   // qparam index stride of a block step
};

/// One kernel invocation over a contiguous tensor. Which pointers are used
/// depends on the entry point; see KernelTable.
struct LoopJob {
  ElementFormat format = ElementFormat::Int;
  ValueType valueType = ValueType::F32;
  /// Integer codes are int8 (true) or uint8 (false). Float formats always
  /// use uint8 bit patterns.
  bool signedCodes = true;
  const void *in = nullptr;
  void *out = nullptr;
  uint8_t *mask = nullptr; // fake-quant: optional output; backward: input
  const float *scale = nullptr;
  const int32_t *zeroPoint = nullptr; // ZeroPoint formulation only
  const float *minVal = nullptr;      // MinVal formulation only
  float quantMin = 0, quantMax = 0;   // integer range, as floats
  /// Write outputs with non-temporal stores (fake-quant and backward): set
  /// for outputs larger than the last-level cache, where read-for-ownership
  /// traffic would only evict other data. Ignored by the scalar loops.
  bool streamStores = false;
  LoopLayout layout;
};

/// Element loops of one instruction set. Each processes elements
/// [begin, end) of the job:
/// - fakeQuantize: in = values, out = values of the same type, mask optional;
/// - quantize: in = values, out = codes (int8/uint8);
/// - dequantize: in = codes, out = values;
/// - backward: in = gradient, mask = saved mask, out = gradient (layout and
///   qparams unused).
struct KernelTable {
  using RangeFn = void (*)(const LoopJob &job, int64_t begin, int64_t end);
  const char *name;
  RangeFn fakeQuantize;
  RangeFn quantize;
  RangeFn dequantize;
  RangeFn backward;
};

namespace scalar {
extern const KernelTable kTable;
} // namespace scalar
namespace avx2 {
extern const KernelTable kTable;
} // namespace avx2

} // namespace qfx::kernels
