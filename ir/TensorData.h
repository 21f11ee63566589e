//===- ir/TensorData.h - Raw contents of graph parameters and buffers -----===//
//
// The bytes behind a named graph parameter or buffer, with their dtype and
// shape. The core IR never interprets them (no libtorch here); the runtime,
// the weight passes and the bridges do. Kept apart from Graph.h so that the
// representation of weight storage can change without touching the graph's
// node and value layout.
//
// Besides stored bytes, a TensorData can be *scaled*: "source x factor along
// one axis", the weight fold-conv-bn produces (reference §2.8), kept as the
// source and the per-channel factors instead of 4 bytes per element. Writing
// the folded weights (and reading them back) was most of what preparing and
// converting a CNN cost, while the consumers that matter can apply the factor
// themselves: the interpreter scales a conv's output, the weight quantizer
// scales a channel block while it is in cache. Readers that do not know the
// scaled form call bytes(), which computes the product once (thread-safe; the
// same f32 multiply fold-conv-bn did, so the values are bit for bit the ones a
// folded weight held) and keeps it. There is no way to read empty bytes of a
// scaled tensor by mistake: the stored bytes are private.
//
// A third form holds bytes a producer wrote whole (writtenBy): an owned
// buffer that is never zero-filled, where std::vector::resize would write
// every byte once before the producer writes it again -- for the weight
// quantizer's codes (25 MB on resnet50) a second pass over fresh memory, as
// long as the quantize loop itself. The buffer is handed out only after the
// producer returned, so no reader sees a byte it did not write. Readers that
// need a std::vector (bytes()) get a copy made once, like the scaled form;
// the ones on hot paths (the interpreter's and export's tensors, which share
// the bytes) read view(), which never copies.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Type.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/STLFunctionalExtras.h"

#include <atomic>
#include <cstdint>
#include <cstring>
#include <memory>
#include <mutex>
#include <vector>

namespace qfx {

/// Raw contents of a parameter or buffer. The core IR never interprets the
/// bytes (no libtorch here); the runtime and bridges do.
class TensorData {
public:
  /// The deferred form: element i of the tensor is the f32 product
  /// source[i] * factors[index of i along axis]. Source and result are f32,
  /// shaped alike; factors has shape[axis] entries.
  struct Scaled {
    std::shared_ptr<const TensorData> source;
    int64_t axis = 0;
    std::vector<float> factors;
  };

  DType dtype = DType::F32;
  std::vector<int64_t> shape;

  TensorData() = default;
  TensorData(DType dtype, std::vector<int64_t> shape, std::vector<uint8_t> bytes = {})
      : dtype(dtype), shape(std::move(shape)), bytes_(std::move(bytes)) {}

  /// A scaled tensor over `source` (f32; its shape is taken). The caller
  /// checks that `factors` has source->shape[axis] entries.
  static std::shared_ptr<TensorData> scaled(std::shared_ptr<const TensorData> source, int64_t axis,
                                            std::vector<float> factors);

  /// A tensor of `size` bytes that `fill` writes, every one of them: the
  /// buffer is not zero-filled first and nothing else can read it before
  /// `fill` returns. An exception from `fill` propagates (the buffer is
  /// freed).
  static TensorData writtenBy(DType dtype, std::vector<int64_t> shape, size_t size,
                              llvm::function_ref<void(uint8_t *)> fill);

  /// The contents. A scaled tensor computes them on first use (once, even
  /// with concurrent readers) and keeps them; a writtenBy tensor copies its
  /// buffer into a vector once (use view() to read it in place).
  const std::vector<uint8_t> &bytes() const {
    return deferred_ ? materialized() : written_ ? writtenVector() : bytes_;
  }
  /// The contents without a copy: a writtenBy buffer in place, else bytes().
  llvm::ArrayRef<uint8_t> view() const;
  /// The stored bytes, to write. A scaled or writtenBy tensor becomes a
  /// plain one holding its contents first.
  std::vector<uint8_t> &mutableBytes();
  /// bytes().size() without computing or copying anything.
  size_t byteSize() const;

  /// out[i] = in[i] * factor for i < n: the product every reader of the
  /// scaled form computes (one IEEE f32 multiply per element, so fused
  /// readers see the values bytes() holds). Vectorized by hand: -O2 leaves
  /// such loops scalar, and weights are tens of megabytes.
  static void multiplyRun(const float *in, float factor, float *out, int64_t n) {
    typedef float Vec __attribute__((vector_size(16)));
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
      Vec a, b;
      std::memcpy(&a, in + i, sizeof a);
      std::memcpy(&b, in + i + 4, sizeof b);
      a = a * factor;
      b = b * factor;
      std::memcpy(out + i, &a, sizeof a);
      std::memcpy(out + i + 4, &b, sizeof b);
    }
    for (; i < n; ++i)
      out[i] = in[i] * factor;
  }

  /// The deferred form, or null for stored bytes.
  const Scaled *scaledForm() const { return deferred_ ? &deferred_->scaled : nullptr; }
  /// Whether bytes() would compute something (scaled and not yet computed).
  bool needsMaterializing() const;

private:
  struct Deferred {
    Scaled scaled;
    std::once_flag once;
    std::atomic<bool> done{false};
    std::vector<uint8_t> bytes;
  };
  const std::vector<uint8_t> &materialized() const;
  /// A writtenBy buffer: immutable once made, shared by copies.
  struct Written {
    std::unique_ptr<uint8_t[]> data;
    size_t size = 0;
    std::once_flag once;
    std::vector<uint8_t> copy; // for bytes()
  };
  const std::vector<uint8_t> &writtenVector() const;

  std::vector<uint8_t> bytes_;
  // Shared by copies, so a copy never computes the product twice.
  std::shared_ptr<Deferred> deferred_;
  std::shared_ptr<Written> written_;
};

} // namespace qfx
