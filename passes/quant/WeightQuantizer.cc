//===- passes/quant/WeightQuantizer.cc - Built-in integer weight codes ----===//
//
// The service key of WeightQuantizer and quantizeWithQParams, the integer
// quantization lower-to-qdq uses when qparams are given and no runtime is
// linked. It follows runtime/kernels/KernelLoops.cc's scalar loop exactly
// (fp32 reciprocal, multiply, nearbyint, clamp in float) so a graph lowered
// here and one lowered with the runtime store the same codes.
//
//===----------------------------------------------------------------------===//
#include "passes/quant/WeightQuantizer.h"

#include "runtime/spec/Granularity.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace qfx {

char WeightQuantizer::ID = 0;

WeightQuantizer::~WeightQuantizer() = default;

static llvm::Error makeError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

llvm::Expected<TensorData> quantizeWithQParams(const TensorData &weight,
                                               const QuantizationSpec &spec,
                                               const QParamValues &qparams,
                                               llvm::ArrayRef<int64_t> qparamShape) {
  if (!spec.hasOffsets())
    return makeError(quantDTypeName(spec.dtype()) +
                     " codes need the runtime's weight quantizer (link //runtime)");
  if (weight.dtype != DType::F32)
    return makeError("weight data of dtype " + dtypeName(weight.dtype) +
                     " needs the runtime's weight quantizer (built-in: f32 only)");
  size_t rank = weight.shape.size();
  if (qparamShape.size() != rank)
    return makeError("qparam shape rank differs from the weight's");
  int64_t numel = productOf(weight.shape);
  if (numel < 0 || weight.bytes.size() != static_cast<size_t>(numel) * sizeof(float))
    return makeError("weight data holds " + llvm::Twine(weight.bytes.size()) +
                     " bytes, not the f32 elements of its shape");
  // Block extent per dim (the §5.4 block shape): D[d] / numBlocks[d].
  std::vector<int64_t> block(rank);
  for (size_t d = 0; d < rank; ++d) {
    if (qparamShape[d] <= 0 || weight.shape[d] % qparamShape[d] != 0)
      return makeError("qparam shape does not divide the weight shape");
    block[d] = weight.shape[d] / qparamShape[d];
  }

  const bool zp = spec.qformulation() == QFormulation::ZP;
  const float quantMin = static_cast<float>(spec.quantMin());
  const float quantMax = static_cast<float>(spec.quantMax());
  size_t numBlocks = qparams.scale.size();
  std::vector<float> inv(numBlocks), quantOffset(numBlocks), floatOffset(numBlocks);
  for (size_t b = 0; b < numBlocks; ++b) {
    float scale = static_cast<float>(qparams.scale[b]);
    inv[b] = 1.0f / scale; // as the kernels (and ATen): multiply by the fp32 reciprocal
    quantOffset[b] = zp ? static_cast<float>(qparams.zeroPoint[b]) : quantMin;
    floatOffset[b] = zp ? 0.0f : static_cast<float>(qparams.minval[b]);
  }

  TensorData codes;
  codes.shape = weight.shape;
  bool isSigned = spec.quantMin() < 0;
  codes.dtype = isSigned ? DType::I8 : DType::U8;
  codes.bytes.resize(static_cast<size_t>(numel));
  const uint8_t *in = weight.bytes.data();

  // Walk the elements in row-major order with a multi-index, keeping the
  // flat block index up to date (O(rank) per carry, O(1) amortized).
  std::vector<int64_t> index(rank, 0);
  std::vector<int64_t> blockStride(rank, 1);
  for (size_t d = rank; d-- > 1;)
    blockStride[d - 1] = blockStride[d] * qparamShape[d];
  for (int64_t i = 0; i < numel; ++i) {
    size_t b = 0;
    for (size_t d = 0; d < rank; ++d)
      b += static_cast<size_t>(index[d] / block[d] * blockStride[d]);
    float x;
    std::memcpy(&x, in + i * sizeof(float), sizeof(float));
    if (std::isnan(x))
      x = 0.0f; // the kernels store NaN as the code of 0.0
    float q = std::nearbyint((x - floatOffset[b]) * inv[b]) + quantOffset[b];
    q = std::min(std::max(q, quantMin), quantMax);
    if (isSigned)
      codes.bytes[i] = static_cast<uint8_t>(static_cast<int8_t>(q));
    else
      codes.bytes[i] = static_cast<uint8_t>(q);
    for (size_t d = rank; d-- > 0;) {
      if (++index[d] < weight.shape[d])
        break;
      index[d] = 0;
    }
  }
  return codes;
}

} // namespace qfx
