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
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Type.h"

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

  /// The contents. A scaled tensor computes them on first use (once, even
  /// with concurrent readers) and keeps them.
  const std::vector<uint8_t> &bytes() const { return deferred_ ? materialized() : bytes_; }
  /// The stored bytes, to write. A scaled tensor becomes a plain one holding
  /// its computed contents first.
  std::vector<uint8_t> &mutableBytes();
  /// bytes().size() without computing anything.
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

  std::vector<uint8_t> bytes_;
  // Shared by copies, so a copy never computes the product twice.
  std::shared_ptr<Deferred> deferred_;
};

} // namespace qfx
