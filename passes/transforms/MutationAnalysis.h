//===- passes/transforms/MutationAnalysis.h - Which tensors are written ---===//
//
// TorchScript graphs may write tensors in place (`aten::relu_`, unknown ops
// such as `aten::copy_`), and many ops return views that share storage with
// their input. A rewrite that is only valid for immutable values, such as
// merging two reads of one tensor (cse) or dropping a `contiguous` that may
// have copied (canonicalize), must not touch values whose storage may be
// written. This analysis groups values that may share storage (union-find
// over the edges of view-like, in-place, list and unknown ops) and marks a
// group as written when an in-place op writes into it or an unknown op
// receives it. Near-linear in the graph size; conservative for unknown ops.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Graph.h"

#include "llvm/ADT/DenseMap.h"

#include <vector>

namespace qfx {

class MutationAnalysis {
public:
  explicit MutationAnalysis(const Graph &graph);

  /// True when `value`, or a value that may share its storage, may be written
  /// in place somewhere in the graph.
  bool mayBeWritten(const Value *value) const;
  /// True when no operand or result of `node` may be written.
  bool touchesOnlyUnwrittenValues(const Node &node) const;

private:
  unsigned indexOf(const Value *value);
  unsigned find(unsigned index) const;
  void unite(const Value *a, const Value *b);
  void markWritten(const Value *value);

  llvm::DenseMap<const Value *, unsigned> indices_;
  // Union-find with path halving; `parent_` is mutable so lookups can compress.
  mutable std::vector<unsigned> parent_;
  std::vector<unsigned> size_;
  std::vector<bool> written_; // meaningful at roots
};

} // namespace qfx
