//===- passes/quant/DedupFakeQuant.cc - The dedup-fake-quant pass ---------===//
//
// Removes the fake-quants that would only cost time or quantize twice:
//  - back to back: `fq2(fq1(x))` where both are of one observer group, or
//    of different groups with equal specs, is one fake-quant; fq2 goes and
//    its group joins fq1's (so what fq2's group shared -- a cat's other
//    inputs, say -- now shares fq1's observer, as it would have had the two
//    been merged by share-observers). Fake-quants with different specs stay
//    back to back: each is what a consumer asked for (reference §4.3);
//  - duplicates: two fake-quants of one group on one value are one; the
//    later goes (the earlier one dominates all of the later one's users);
//  - disabled ones (reference §4.4, §5.7): a per-block spec whose block
//    size does not divide a static input shape can never quantize; the
//    reference's fake-quant warns "Skipping quantization" and disables itself
//    at the first forward, then prepare removes it. Here the shape is known
//    at compile time, so the pass warns in the same words and removes it
//    (users are rewired to its input). A dynamic shape is left to the
//    runtime. Other spec problems on a static shape (unresolved or
//    out-of-range axis) are errors.
// Group ids left after merging are the smallest of each merged set; they are
// not renumbered. One pass in graph order: linear.
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"
#include "passes/quant/QuantSupport.h"

#include "runtime/spec/Granularity.h"
#include "runtime/spec/SpecError.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallVector.h"

#include <optional>
#include <utility>
#include <vector>

namespace qfx {
namespace {

class DedupFakeQuantPass : public Pass {
public:
  DedupFakeQuantPass()
      : Pass("dedup-fake-quant",
             "Collapse back-to-back fake-quants of one group or equal specs, merge duplicate "
             "fake-quants of one group on one value, drop fake-quants disabled by their spec") {}

  PassResult run(Graph &graph, PassContext &context) override;

private:
  /// Union-find over group ids (sparse), the smallest id as representative.
  int64_t findGroup(int64_t group) {
    while (true) {
      auto parent = groupParent_.find(group);
      if (parent == groupParent_.end() || parent->second == group)
        return group;
      auto grand = groupParent_.find(parent->second);
      if (grand != groupParent_.end())
        parent->second = grand->second; // path halving
      group = parent->second;
    }
  }
  void uniteGroups(int64_t a, int64_t b) {
    a = findGroup(a);
    b = findGroup(b);
    if (a == b)
      return;
    if (b < a)
      std::swap(a, b);
    groupParent_[b] = a;
  }

  llvm::DenseMap<int64_t, int64_t> groupParent_;
};

/// How a warning names the tensor a fake-quant observes.
std::string targetName(const Node &fakeQuant) {
  const Value *input = fakeQuant.operand(0);
  if (!input->name().empty())
    return "%" + input->name().str();
  if (input->isResult())
    return "result of " + input->producer()->describe();
  return fakeQuant.describe();
}

PassResult DedupFakeQuantPass::run(Graph &graph, PassContext &context) {
  groupParent_.clear();
  SpecTable specs;
  struct Info {
    int64_t group = -1;
    uint32_t specId = 0;
    bool kept = false;
  };
  NodeMap<Info> info;
  // Indexed by id, which insert-fake-quant took well past the node count:
  // reserved for all, so the table is never copied while it grows.
  info.reserve(graph.nodeIdBound());
  // (input value, group) -> the first fake-quant of that group on it.
  llvm::DenseMap<std::pair<const Value *, int64_t>, Node *> firstOnValue;
  llvm::SmallVector<std::pair<uint32_t, Type>, 16> fittingPairs;
  bool changed = false;

  for (Node *node : llvm::make_early_inc_range(graph.nodes())) {
    if (!isFakeQuant(*node) || node->numOperands() != 1 || node->numResults() != 1)
      continue;
    const Attribute *group = node->attribute(fqattr::kGroup);
    const Attribute *spec = node->attribute(fqattr::kSpec);
    if (!group || !group->isInt())
      return fail(context, *node, "a fake-quant needs an integer 'group' attribute");
    if (!spec)
      return fail(context, *node, "a fake-quant needs a 'spec' attribute");
    std::optional<uint32_t> known = specs.find(*spec);
    llvm::Expected<uint32_t> specId = known ? *known : specs.intern(*spec);
    if (!specId)
      return fail(context, *node, "invalid spec: " + errorText(specId.takeError()));
    Value *input = node->operand(0);
    Value *result = node->result(0);

    // Disabled by its spec on a static shape. Whether a (spec, type) pair
    // fits is computed once: graphs carry a few of them on every weight.
    const Type &type = input->type();
    const Granularity &granularity = specs.spec(*specId).granularity();
    bool knownToFit = llvm::any_of(fittingPairs, [&](const auto &pair) {
      return pair.first == *specId && pair.second == type;
    });
    if (!knownToFit && !granularity.isPerTensor() && type.isTensor() && type.hasStaticShape()) {
      llvm::Expected<std::vector<int64_t>> block = computeBlockShape(granularity, type.shape());
      if (block && fittingPairs.size() < 16)
        fittingPairs.emplace_back(*specId, type);
      if (!block) {
        bool mismatch = false;
        std::string message;
        llvm::handleAllErrors(
            block.takeError(),
            [&](const BlockSizeMismatchError &error) {
              mismatch = true;
              message = error.message();
            },
            [&](const llvm::ErrorInfoBase &error) { message = error.message(); });
        if (!mismatch)
          return fail(context, *node, "its spec cannot apply to " + type.str() + ": " + message);
        context.diagnostics().warning(
            node->textLocation(), "Tensor (target: " + targetName(*node) +
                                      ") incompatible with block size configuration: " + message +
                                      ". Skipping quantization.");
        result->replaceAllUsesWith(input);
        graph.erase(node);
        changed = true;
        continue;
      }
    }

    int64_t ownGroup = findGroup(group->getInt());
    // Back to back with a compatible fake-quant.
    if (Node *producer = input->isResult() ? input->producer() : nullptr) {
      const Info &previous = info.lookup(producer);
      if (previous.kept && (findGroup(previous.group) == ownGroup || previous.specId == *specId)) {
        uniteGroups(previous.group, ownGroup);
        result->replaceAllUsesWith(input);
        graph.erase(node);
        changed = true;
        continue;
      }
    }
    // A second fake-quant of the group on the same value.
    // Found among the value's few users (kept fake-quants come earlier in
    // graph order), or for values with many users through a hash map, so a
    // wide fan-out stays linear.
    Node *earlier = nullptr;
    if (input->numUses() <= 16) {
      for (const Use &use : input->uses()) {
        if (use.isGraphOutput() || use.user == node)
          continue;
        const Info &other = info.lookup(use.user);
        if (other.kept && findGroup(other.group) == ownGroup) {
          earlier = use.user;
          break;
        }
      }
    } else {
      auto inserted = firstOnValue.insert({{input, ownGroup}, node});
      if (!inserted.second)
        earlier = inserted.first->second;
    }
    if (earlier) {
      result->replaceAllUsesWith(earlier->result(0));
      graph.erase(node);
      changed = true;
      continue;
    }
    info[node] = Info{group->getInt(), *specId, true};
  }

  if (!groupParent_.empty()) {
    for (Node *node : graph.nodes()) {
      if (!isFakeQuant(*node))
        continue;
      const Attribute *group = node->attribute(fqattr::kGroup);
      if (!group || !group->isInt())
        continue;
      int64_t representative = findGroup(group->getInt());
      if (representative != group->getInt()) {
        node->setAttribute(fqattr::kGroup, Attribute::integer(representative));
        changed = true;
      }
    }
  }
  return changed ? PassResult::Changed : PassResult::Unchanged;
}

} // namespace

std::unique_ptr<Pass> createDedupFakeQuantPass() { return std::make_unique<DedupFakeQuantPass>(); }

} // namespace qfx
