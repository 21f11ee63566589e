//===- ir/TensorData.h - Raw contents of graph parameters and buffers -----===//
//
// The bytes behind a named graph parameter or buffer, with their dtype and
// shape. The core IR never interprets them (no libtorch here); the runtime,
// the weight passes and the bridges do. Kept apart from Graph.h so that the
// representation of weight storage can change without touching the graph's
// node and value layout.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Type.h"

#include <cstdint>
#include <vector>

namespace qfx {

/// Raw contents of a parameter or buffer. The core IR never interprets the
/// bytes (no libtorch here); the runtime and bridges do.
struct TensorData {
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  std::vector<uint8_t> bytes;
};

} // namespace qfx
