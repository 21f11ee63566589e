//===- ir/TensorData.cc - Scaled tensor data, computed on demand ----------===//
//
// The product of a scaled TensorData (see TensorData.h), computed the way
// fold-conv-bn wrote folded weights before it deferred them: one f32 multiply
// per element, a contiguous run of `inner` elements per channel index, so
// every reader that materializes sees the values a folded weight held.
//
//===----------------------------------------------------------------------===//
#include "ir/TensorData.h"

#include <cstring>

namespace qfx {

std::shared_ptr<TensorData> TensorData::scaled(std::shared_ptr<const TensorData> source,
                                               int64_t axis, std::vector<float> factors) {
  auto data = std::make_shared<TensorData>();
  data->dtype = DType::F32;
  data->shape = source->shape;
  data->deferred_ = std::make_shared<Deferred>();
  data->deferred_->scaled = Scaled{std::move(source), axis, std::move(factors)};
  return data;
}

TensorData TensorData::writtenBy(DType dtype, std::vector<int64_t> shape, size_t size,
                                 llvm::function_ref<void(uint8_t *)> fill) {
  auto written = std::make_shared<Written>();
  // new[] of a trivial type default-initializes: no pass over the bytes.
  written->data.reset(new uint8_t[size]);
  written->size = size;
  fill(written->data.get());
  TensorData data(dtype, std::move(shape));
  data.written_ = std::move(written);
  return data;
}

size_t TensorData::byteSize() const {
  if (deferred_)
    return deferred_->scaled.source->byteSize();
  return written_ ? written_->size : bytes_.size();
}

llvm::ArrayRef<uint8_t> TensorData::view() const {
  if (written_)
    return llvm::ArrayRef<uint8_t>(written_->data.get(), written_->size);
  return bytes();
}

const std::vector<uint8_t> &TensorData::writtenVector() const {
  Written &written = *written_;
  std::call_once(written.once, [&written] {
    written.copy.assign(written.data.get(), written.data.get() + written.size);
  });
  return written.copy;
}

bool TensorData::needsMaterializing() const {
  return deferred_ && !deferred_->done.load(std::memory_order_acquire);
}

const std::vector<uint8_t> &TensorData::materialized() const {
  Deferred &deferred = *deferred_;
  std::call_once(deferred.once, [&deferred] {
    const Scaled &scaled = deferred.scaled;

    const std::vector<uint8_t> &source = scaled.source->bytes();
    const std::vector<int64_t> &shape = scaled.source->shape;
    int64_t channels = scaled.axis < static_cast<int64_t>(shape.size()) ? shape[scaled.axis] : 0;
    int64_t inner = 1;
    for (size_t d = scaled.axis + 1; d < shape.size(); ++d)
      inner *= shape[d];
    size_t elements = source.size() / sizeof(float);
    deferred.bytes.resize(source.size());
    if (channels > 0 && inner > 0 && static_cast<size_t>(channels) == scaled.factors.size() &&
        elements % static_cast<size_t>(channels * inner) == 0) {
      int64_t outer = static_cast<int64_t>(elements) / (channels * inner);
      // Both buffers come from operator new: aligned for float.
      const float *in = reinterpret_cast<const float *>(source.data());
      float *out = reinterpret_cast<float *>(deferred.bytes.data());
      for (int64_t o = 0; o < outer; ++o)
        for (int64_t c = 0; c < channels; ++c) {
          int64_t base = (o * channels + c) * inner;
          multiplyRun(in + base, scaled.factors[c], out + base, inner);
        }
    } else if (!source.empty()) {
      // A malformed scaled form (TensorData::scaled's caller checks sizes):
      // the source unchanged rather than bytes past an end.
      std::memcpy(deferred.bytes.data(), source.data(), source.size());
    }
    deferred.done.store(true, std::memory_order_release);
  });
  return deferred.bytes;
}

std::vector<uint8_t> &TensorData::mutableBytes() {
  if (deferred_) {
    bytes_ = materialized();
    deferred_.reset();
  }
  if (written_) {
    // Copies share the buffer: this one writes its own bytes.
    bytes_.assign(written_->data.get(), written_->data.get() + written_->size);
    written_.reset();
  }
  return bytes_;
}

} // namespace qfx
