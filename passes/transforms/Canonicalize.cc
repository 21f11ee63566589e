//===- passes/transforms/Canonicalize.cc - The canonicalize pass ----------===//
//
// Removes ops that return their input unchanged, replacing their result with
// their first operand:
//  - Identity ops (contiguous, detach, tosa.identity);
//  - IdentityInEval ops (dropout) unless they run in training mode: attribute
//    `train = true`, or no `train` attribute and option `training=true`;
//  - no-op reshapes: ReshapeLike ops (reshape, view, flatten, squeeze,
//    unsqueeze) whose result type equals the operand type and is a static
//    tensor shape. (Permute and transpose can keep the type and still move
//    elements, which is why the trait is ReshapeLike, not ChannelAltering.)
// Which ops qualify is asked from the op table's traits, never from op names.
// An op is kept when its result type differs from its operand's (the type
// carries information the graph would lose) or when its input or output may
// be written in place (MutationAnalysis): `contiguous` and `reshape` may copy,
// and without the copy the write would reach the other tensor.
//
// Rewrites run from a worklist to a fixpoint: a node is revisited when one of
// its operands is replaced. Each revisit is paid for by one redirected use, so
// the pass stays linear in the graph size.
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"
#include "passes/transforms/MutationAnalysis.h"

#include "llvm/ADT/DenseSet.h"

#include <vector>

namespace qfx {
namespace {

class CanonicalizePass : public Pass {
public:
  CanonicalizePass()
      : Pass("canonicalize",
             "Remove identity ops (contiguous, detach, dropout in eval mode) and no-op reshapes") {}

  PassResult run(Graph &graph, PassContext &) override {
    MutationAnalysis mutations(graph);
    // Program order: the worklist is a stack, so push in reverse.
    std::vector<Node *> worklist;
    worklist.reserve(graph.numNodes());
    for (Node *node = graph.back(); node; node = node->prev())
      worklist.push_back(node);
    llvm::DenseSet<Node *> queued(worklist.begin(), worklist.end());

    bool changed = false;
    while (!worklist.empty()) {
      Node *node = worklist.back();
      worklist.pop_back();
      queued.erase(node);

      Value *replacement = forwardedOperand(*node, mutations);
      if (!replacement)
        continue;
      Value *result = node->result(0);
      // Users see a new operand: give their patterns another chance.
      for (const Use &use : result->uses())
        if (!use.isGraphOutput() && queued.insert(use.user).second)
          worklist.push_back(use.user);
      result->replaceAllUsesWith(replacement);
      graph.erase(node);
      changed = true;
    }
    return changed ? PassResult::Changed : PassResult::Unchanged;
  }

private:
  /// The operand `node` returns unchanged, or null if it must stay.
  Value *forwardedOperand(const Node &node, const MutationAnalysis &mutations) const {
    const OpInfo &op = node.op();
    if (node.numOperands() == 0 || node.numResults() != 1)
      return nullptr;
    Value *input = node.operand(0);
    const Type &resultType = node.result(0)->type();
    if (resultType != input->type())
      return nullptr;
    bool forwards = false;
    if (op.has(optrait::Identity))
      forwards = true;
    else if (op.has(optrait::IdentityInEval))
      forwards = !runsInTrainingMode(node);
    else if (op.has(optrait::ReshapeLike))
      forwards = resultType.isTensor() && resultType.hasStaticShape();
    // The input and result are one alias group, so checking the input covers
    // writes to either.
    if (!forwards || mutations.mayBeWritten(input))
      return nullptr;
    return input;
  }

  bool runsInTrainingMode(const Node &node) const {
    const Attribute *train = node.attribute("train");
    if (!train)
      return training;
    if (train->isBool())
      return train->getBool();
    if (train->isInt())
      return train->getInt() != 0;
    // Not a flag we understand: keep the op.
    return true;
  }

  BoolOption training{*this, "training",
                      "Treat IdentityInEval ops (dropout) without a `train` attribute as running "
                      "in training mode, and keep them",
                      false};
};

} // namespace

std::unique_ptr<Pass> createCanonicalizePass() { return std::make_unique<CanonicalizePass>(); }

} // namespace qfx
