//===- passes/transforms/DeadCodeElimination.cc - The dce pass ------------===//
//
// Removes nodes whose results are unused and that have no side effects. Ops
// of the op table are side-effect free except those that write their operand
// in place (InPlace trait); unknown ops are kept, since nothing says what they
// do. One backward sweep suffices: a node's users come after it, so by the
// time the sweep reaches a node, every user that was going to be removed is
// gone. Linear in the graph size (each erase costs the operands' use lists).
//
// Unused parameters and buffers are kept by default: they are part of the
// model's state (what a state dict loads and an exporter writes), not dead
// computation. `remove-unused-parameters=true` drops those that no node uses
// as an operand and no attribute or annotation names (`@name` references).
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"

#include "llvm/ADT/StringSet.h"

#include <vector>

namespace qfx {
namespace {

class DeadCodeEliminationPass : public Pass {
public:
  DeadCodeEliminationPass()
      : Pass("dce", "Remove nodes whose results are unused and that have no side effects") {}

  PassResult run(Graph &graph, PassContext &) override {
    bool changed = false;
    for (Node *node = graph.back(); node;) {
      Node *previous = node->prev();
      if (isRemovable(node->op()) && !node->hasUsedResults()) {
        graph.erase(node);
        changed = true;
      }
      node = previous;
    }
    if (removeUnusedParameters) {
      llvm::StringSet<> referenced = collectParameterReferences(graph);
      std::vector<Value *> unused;
      for (Value *parameter : graph.parameters())
        if (!parameter->hasUses() && !referenced.contains(parameter->name()))
          unused.push_back(parameter);
      graph.eraseParameters(unused);
      changed |= !unused.empty();
    }
    return changed ? PassResult::Changed : PassResult::Unchanged;
  }

private:
  static bool isRemovable(const OpInfo &op) { return op.isKnown() && !op.has(optrait::InPlace); }

  static void collectReferences(const Attribute &attribute, llvm::StringSet<> &names) {
    if (attribute.isTensorRef()) {
      names.insert(attribute.getTensorRef());
    } else if (attribute.isList()) {
      for (const Attribute &element : attribute.getList())
        collectReferences(element, names);
    } else if (attribute.isDict()) {
      for (const NamedAttribute &entry : attribute.getDict())
        collectReferences(entry.second, names);
    }
  }

  /// Names of parameters referenced by attributes or annotations of the
  /// remaining nodes: O(total attribute size).
  static llvm::StringSet<> collectParameterReferences(const Graph &graph) {
    llvm::StringSet<> names;
    for (const Node *node : graph.nodes()) {
      for (const NamedAttribute &entry : node->attributes())
        collectReferences(entry.second, names);
      if (const QuantAnnotation *quant = node->quant()) {
        for (const Attribute &input : quant->inputs)
          collectReferences(input, names);
        collectReferences(quant->output, names);
      }
    }
    return names;
  }

  BoolOption removeUnusedParameters{
      *this, "remove-unused-parameters",
      "Also remove parameters and buffers that no node uses (they are model state, kept by "
      "default)",
      false};
};

} // namespace

std::unique_ptr<Pass> createDeadCodeEliminationPass() {
  return std::make_unique<DeadCodeEliminationPass>();
}

} // namespace qfx
