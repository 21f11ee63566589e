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

#include "llvm/ADT/SmallVector.h"

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
  if (numel < 0 || weight.byteSize() != static_cast<size_t>(numel) * sizeof(float))
    return makeError("weight data holds " + llvm::Twine(weight.byteSize()) +
                     " bytes, not the f32 elements of its shape");
  // Block extent per dim (the §5.4 block shape): D[d] / numBlocks[d].
  llvm::SmallVector<int64_t, 6> block(rank);
  for (size_t d = 0; d < rank; ++d) {
    if (qparamShape[d] <= 0 || weight.shape[d] % qparamShape[d] != 0)
      return makeError("qparam shape does not divide the weight shape");
    block[d] = weight.shape[d] / qparamShape[d];
  }

  const bool zp = spec.qformulation() == QFormulation::ZP;
  const float quantMin = static_cast<float>(spec.quantMin());
  const float quantMax = static_cast<float>(spec.quantMax());
  size_t numBlocks = qparams.scale.size();
  llvm::SmallVector<float, 16> inv(numBlocks), quantOffset(numBlocks), floatOffset(numBlocks);
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
  codes.mutableBytes().resize(static_cast<size_t>(numel));
  if (numel == 0)
    return codes;

  // Rows along the last dim (a scalar is one row of one element). Each row
  // starts at a block index computed from its multi-index; along the row
  // the block advances every `lastBlock` elements, so the inner loop has no
  // division.
  llvm::SmallVector<int64_t, 6> shape(weight.shape.begin(), weight.shape.end());
  llvm::SmallVector<int64_t, 6> blockShape(block.begin(), block.end());
  llvm::SmallVector<int64_t, 6> blocksPerDim(qparamShape.begin(), qparamShape.end());
  if (shape.empty()) {
    shape = {1};
    blockShape = {1};
    blocksPerDim = {1};
  }
  size_t dims = shape.size();
  llvm::SmallVector<int64_t, 6> blockStride(dims, 1);
  for (size_t d = dims - 1; d-- > 0;)
    blockStride[d] = blockStride[d + 1] * blocksPerDim[d + 1];
  const int64_t inner = shape[dims - 1], lastBlock = blockShape[dims - 1];
  const int64_t rows = numel / inner;
  // q = clamp(nearbyint(t) + qo) with t = (v - fo) * inv, computed as
  // clamp(round(clamp(t, lo, hi)) + qo) with lo = quant_min - qo - 1 and
  // hi = quant_max - qo + 1: qo is an integer, so values beyond [lo, hi]
  // clamp to the same code either way, and inside it the branch-free
  // rounding is exact (|t| <= 2^22). Wider ranges (32-bit codes) keep libm.
  auto smallRange = [&](float qo) {
    double lo = spec.quantMin() - qo - 1.0, hi = spec.quantMax() - qo + 1.0;
    return std::abs(lo) < 4194304.0 && std::abs(hi) < 4194304.0;
  };
  bool fastRounding = true;
  for (size_t b = 0; b < numBlocks; ++b)
    fastRounding = fastRounding && smallRange(quantOffset[b]);
  const uint8_t *weightBytes = weight.bytes().data(); // a scaled weight: its product
  uint8_t *codeBytes = codes.mutableBytes().data();
  llvm::SmallVector<int64_t, 6> index(dims, 0);
  for (int64_t row = 0; row < rows; ++row) {
    size_t rowBlock = 0;
    for (size_t d = 0; d + 1 < dims; ++d)
      rowBlock += static_cast<size_t>(index[d] / blockShape[d] * blockStride[d]);
    const uint8_t *x = weightBytes + row * inner * sizeof(float);
    uint8_t *out = codeBytes + row * inner;
    for (int64_t start = 0; start < inner; start += lastBlock) {
      size_t b = rowBlock + static_cast<size_t>(start / lastBlock);
      const float scaleInv = inv[b], qo = quantOffset[b], fo = floatOffset[b];
      const int64_t e = std::min(inner, start + lastBlock);
      if (fastRounding) {
        const float lo = quantMin - qo - 1.0f, hi = quantMax - qo + 1.0f;
        for (int64_t i = start; i < e; ++i) {
          float v;
          std::memcpy(&v, x + i * sizeof(float), sizeof v);
          v = std::isnan(v) ? 0.0f : v; // the kernels store NaN as the code of 0.0
          float t = std::min(std::max((v - fo) * scaleInv, lo), hi);
          float q = roundHalfEvenSmall(t) + qo;
          q = std::min(std::max(q, quantMin), quantMax);
          out[i] =
              isSigned ? static_cast<uint8_t>(static_cast<int8_t>(q)) : static_cast<uint8_t>(q);
        }
        continue;
      }
      for (int64_t i = start; i < e; ++i) {
        float v;
        std::memcpy(&v, x + i * sizeof(float), sizeof v);
        if (std::isnan(v))
          v = 0.0f; // the kernels store NaN as the code of 0.0
        float q = std::nearbyint((v - fo) * scaleInv) + qo;
        q = std::min(std::max(q, quantMin), quantMax);
        out[i] = isSigned ? static_cast<uint8_t>(static_cast<int8_t>(q)) : static_cast<uint8_t>(q);
      }
    }
    for (size_t d = dims - 1; d-- > 0;) {
      if (++index[d] < shape[d])
        break;
      index[d] = 0;
    }
  }
  return codes;
}

} // namespace qfx
