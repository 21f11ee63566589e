//===- passes/transforms/MutationAnalysis.cc - Which tensors are written --===//
//
// Alias groups by union-find, written flags kept at the group roots.
//
//===----------------------------------------------------------------------===//
#include "passes/transforms/MutationAnalysis.h"

namespace qfx {

/// How the results of `op` may share storage with its operands.
enum class AliasKind {
  None,         // fresh results (compute ops, pools, concat)
  FirstOperand, // views and in-place ops: results alias operand 0
  AllOperands,  // lists and unknown ops: results may hold any operand
};

static AliasKind aliasKindOf(const OpInfo &op) {
  if (!op.isKnown() || op.has(optrait::NonTensor))
    return AliasKind::AllOperands;
  // Data movement (view, reshape, permute, flatten, squeeze...) may return a
  // view; identity ops return their input (contiguous: when already
  // contiguous); in-place ops return the tensor they wrote.
  if (op.has(optrait::SameScale) || op.has(optrait::ChannelAltering) || op.has(optrait::Identity) ||
      op.has(optrait::IdentityInEval) || op.has(optrait::InPlace))
    return AliasKind::FirstOperand;
  return AliasKind::None;
}

MutationAnalysis::MutationAnalysis(const Graph &graph) {
  for (const Node *node : graph.nodes()) {
    const OpInfo &op = node->op();
    if (node->numOperands() == 0)
      continue;
    switch (aliasKindOf(op)) {
    case AliasKind::None:
      break;
    case AliasKind::FirstOperand:
      for (unsigned i = 0, e = node->numResults(); i != e; ++i)
        unite(node->operand(0), node->result(i));
      break;
    case AliasKind::AllOperands:
      for (const Value *operand : node->operands())
        unite(node->operand(0), operand);
      for (unsigned i = 0, e = node->numResults(); i != e; ++i)
        unite(node->operand(0), node->result(i));
      break;
    }
    if (op.has(optrait::InPlace)) {
      markWritten(node->operand(0));
    } else if (!op.isKnown()) {
      // An opaque op may write any tensor it receives (aten::copy_,
      // aten::index_put_ are not in the op table).
      for (const Value *operand : node->operands())
        markWritten(operand);
    }
  }
}

unsigned MutationAnalysis::indexOf(const Value *value) {
  auto inserted = indices_.try_emplace(value, static_cast<unsigned>(parent_.size()));
  if (inserted.second) {
    parent_.push_back(inserted.first->second);
    size_.push_back(1);
    written_.push_back(false);
  }
  return inserted.first->second;
}

unsigned MutationAnalysis::find(unsigned index) const {
  while (parent_[index] != index) {
    parent_[index] = parent_[parent_[index]];
    index = parent_[index];
  }
  return index;
}

void MutationAnalysis::unite(const Value *a, const Value *b) {
  unsigned rootA = find(indexOf(a));
  unsigned rootB = find(indexOf(b));
  if (rootA == rootB)
    return;
  if (size_[rootA] < size_[rootB])
    std::swap(rootA, rootB);
  parent_[rootB] = rootA;
  size_[rootA] += size_[rootB];
  written_[rootA] = written_[rootA] || written_[rootB];
}

void MutationAnalysis::markWritten(const Value *value) { written_[find(indexOf(value))] = true; }

bool MutationAnalysis::mayBeWritten(const Value *value) const {
  auto it = indices_.find(value);
  return it != indices_.end() && written_[find(it->second)];
}

bool MutationAnalysis::touchesOnlyUnwrittenValues(const Node &node) const {
  for (const Value *operand : node.operands())
    if (mayBeWritten(operand))
      return false;
  for (unsigned i = 0, e = node.numResults(); i != e; ++i)
    if (mayBeWritten(node.result(i)))
      return false;
  return true;
}

} // namespace qfx
