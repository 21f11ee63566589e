//===- passes/transforms/CommonSubexpressionElimination.cc - The cse pass -===//
//
// Merges nodes that compute the same thing: same op, same operands (the same
// Value objects), same attributes (compared with Attribute::operator==,
// regardless of their order), same result types and same quantization
// annotation. The first occurrence in program order stays; later duplicates
// have their uses redirected to it and are erased. One forward sweep with a
// hash set keyed by that identity (llvm::hash_combine over op, operands,
// attributes and types) is enough, since operands are merged before their
// users are visited: linear in the graph size.
//
// Only pure, deterministic ops are merged: known ops without the InPlace
// trait; IdentityInEval ops (dropout) only with `train = false` spelled out,
// because in training mode each draws its own random mask; never unknown ops.
// Nodes reading or producing a tensor that may be written in place (see
// MutationAnalysis) are left alone: two reads separated by a write differ.
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"
#include "passes/transforms/MutationAnalysis.h"

#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/Hashing.h"
#include "llvm/ADT/STLExtras.h"

#include <algorithm>
#include <cstring>

namespace qfx {
namespace {

llvm::hash_code hashAttribute(const Attribute &attribute);

llvm::hash_code hashAttributeDict(const AttributeDict &dict) {
  llvm::hash_code hash = llvm::hash_value(dict.size());
  for (const NamedAttribute &entry : dict)
    hash = llvm::hash_combine(hash, entry.first, hashAttribute(entry.second));
  return hash;
}

/// Consistent with Attribute::operator==: equal attributes hash equally
/// (floats compare bitwise, dictionaries in order).
llvm::hash_code hashAttribute(const Attribute &attribute) {
  llvm::hash_code kind = llvm::hash_value(static_cast<unsigned>(attribute.kind()));
  switch (attribute.kind()) {
  case Attribute::Kind::None:
    return kind;
  case Attribute::Kind::Int:
    return llvm::hash_combine(kind, attribute.getInt());
  case Attribute::Kind::Float: {
    double value = attribute.getFloat();
    uint64_t bits;
    std::memcpy(&bits, &value, sizeof(bits));
    return llvm::hash_combine(kind, bits);
  }
  case Attribute::Kind::Bool:
    return llvm::hash_combine(kind, attribute.getBool());
  case Attribute::Kind::String:
    return llvm::hash_combine(kind, attribute.getString());
  case Attribute::Kind::List: {
    llvm::hash_code hash = kind;
    for (const Attribute &element : attribute.getList())
      hash = llvm::hash_combine(hash, hashAttribute(element));
    return hash;
  }
  case Attribute::Kind::Dict:
    return llvm::hash_combine(kind, hashAttributeDict(attribute.getDict()));
  case Attribute::Kind::TensorRef:
    return llvm::hash_combine(kind, attribute.getTensorRef());
  }
  return kind;
}

llvm::hash_code hashType(const Type &type) {
  return llvm::hash_combine(static_cast<unsigned>(type.kind()),
                            static_cast<unsigned>(type.listElement()),
                            static_cast<unsigned>(type.dtype()), type.hasRank(),
                            llvm::hash_combine_range(type.shape().begin(), type.shape().end()));
}

/// Attributes sorted by name, so that `{a = 1, b = 2}` and `{b = 2, a = 1}`
/// compare equal. Nodes carry a handful of attributes; sorting is cheap.
llvm::SmallVector<const NamedAttribute *, 8> sortedAttributes(const Node &node) {
  llvm::SmallVector<const NamedAttribute *, 8> sorted;
  for (const NamedAttribute &entry : node.attributes())
    sorted.push_back(&entry);
  std::sort(sorted.begin(), sorted.end(),
            [](const NamedAttribute *a, const NamedAttribute *b) { return a->first < b->first; });
  return sorted;
}

unsigned hashNode(const Node &node) {
  llvm::hash_code hash = llvm::hash_combine(
      &node.op(), llvm::hash_combine_range(node.operands().begin(), node.operands().end()));
  // Order-independent over attributes: a sum of per-entry hashes.
  size_t attributeSum = 0;
  for (const NamedAttribute &entry : node.attributes())
    attributeSum += llvm::hash_combine(entry.first, hashAttribute(entry.second));
  hash = llvm::hash_combine(hash, attributeSum);
  for (unsigned i = 0, e = node.numResults(); i != e; ++i)
    hash = llvm::hash_combine(hash, hashType(node.result(i)->type()));
  return static_cast<unsigned>(hash);
}

bool sameAnnotation(const QuantAnnotation *a, const QuantAnnotation *b) {
  if (!a || !b)
    return a == b;
  return a->inputs == b->inputs && a->output == b->output;
}

bool equivalent(const Node &a, const Node &b) {
  if (&a.op() != &b.op() || a.operands() != b.operands() || a.numResults() != b.numResults() ||
      a.attributes().size() != b.attributes().size())
    return false;
  for (unsigned i = 0, e = a.numResults(); i != e; ++i)
    if (a.result(i)->type() != b.result(i)->type())
      return false;
  auto attributesA = sortedAttributes(a);
  auto attributesB = sortedAttributes(b);
  for (size_t i = 0, e = attributesA.size(); i != e; ++i)
    if (attributesA[i]->first != attributesB[i]->first ||
        attributesA[i]->second != attributesB[i]->second)
      return false;
  return sameAnnotation(a.quant(), b.quant());
}

/// A node with its hash, computed once.
struct HashedNode {
  Node *node;
  unsigned hash;
};

struct HashedNodeInfo {
  static HashedNode getEmptyKey() { return {llvm::DenseMapInfo<Node *>::getEmptyKey(), 0}; }
  static HashedNode getTombstoneKey() { return {llvm::DenseMapInfo<Node *>::getTombstoneKey(), 0}; }
  static unsigned getHashValue(const HashedNode &key) { return key.hash; }
  static bool isEqual(const HashedNode &a, const HashedNode &b) {
    if (a.node == b.node)
      return true;
    if (a.hash != b.hash || isSentinel(a.node) || isSentinel(b.node))
      return false;
    return equivalent(*a.node, *b.node);
  }
  static bool isSentinel(const Node *node) {
    return node == llvm::DenseMapInfo<Node *>::getEmptyKey() ||
           node == llvm::DenseMapInfo<Node *>::getTombstoneKey();
  }
};

/// `train = false` (or 0) written on the node.
bool isExplicitlyInEvalMode(const Node &node) {
  const Attribute *train = node.attribute("train");
  if (!train)
    return false;
  return (train->isBool() && !train->getBool()) || (train->isInt() && train->getInt() == 0);
}

class CommonSubexpressionEliminationPass : public Pass {
public:
  CommonSubexpressionEliminationPass()
      : Pass("cse", "Merge nodes with the same op, operands, attributes and result types "
                    "(pure ops only)") {}

  PassResult run(Graph &graph, PassContext &) override {
    MutationAnalysis mutations(graph);
    llvm::DenseSet<HashedNode, HashedNodeInfo> seen;
    seen.reserve(graph.numNodes());
    bool changed = false;
    for (Node *node : llvm::make_early_inc_range(graph.nodes())) {
      if (!isMergeable(*node, mutations))
        continue;
      auto inserted = seen.insert(HashedNode{node, hashNode(*node)});
      if (inserted.second)
        continue;
      Node *original = inserted.first->node;
      for (unsigned i = 0, e = node->numResults(); i != e; ++i)
        node->result(i)->replaceAllUsesWith(original->result(i));
      graph.erase(node);
      changed = true;
    }
    return changed ? PassResult::Changed : PassResult::Unchanged;
  }

private:
  static bool isMergeable(const Node &node, const MutationAnalysis &mutations) {
    const OpInfo &op = node.op();
    if (!op.isKnown() || op.has(optrait::InPlace) || node.numResults() == 0)
      return false;
    if (op.has(optrait::IdentityInEval) && !isExplicitlyInEvalMode(node))
      return false;
    return mutations.touchesOnlyUnwrittenValues(node);
  }
};

} // namespace

std::unique_ptr<Pass> createCommonSubexpressionEliminationPass() {
  return std::make_unique<CommonSubexpressionEliminationPass>();
}

} // namespace qfx
