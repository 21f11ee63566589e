//===- runtime/interpreter/GraphCopy.h - Deep copies of a Graph -----------===//
//
// copyGraph makes an independent Graph with the same inputs, parameters,
// nodes (ops, attributes, provenance, annotations, result names and types)
// and outputs. Parameter data is shared, not copied: TensorData is immutable
// behind shared_ptr<const>, and passes replace it rather than write it. The
// quantization tool keeps a float copy this way before preparing the graph,
// to compare the quantized model against it. Linear in the graph size;
// libtorch-free.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Graph.h"

#include <memory>

namespace qfx {

std::unique_ptr<Graph> copyGraph(const Graph &graph);

} // namespace qfx
