//===- passes/quant/InsertFakeQuant.cc - The insert-fake-quant pass -------===//
//
// Turns grouped annotations (share-observers) into `qfx.fake_quant` nodes,
// one per (value, observer group), as reference §4.3:
//
//   %y = qfx.fake_quant(%x) {group = G, spec = {...}} : <type of %x>
//
// Original nodes are visited in graph order. For each annotated node:
//  - each quantized input edge (group G) on value v: nothing to do when the
//    producer's output fake-quant is already of group G; else an existing
//    fake-quant of group G on v is reused (sibling consumers share one node);
//    else a new one is inserted -- after the producer (after its output
//    fake-quant, which then feeds it: two fake-quants back to back, which
//    only incompatible specs produce), at the graph start for graph inputs,
//    and right before this consumer for parameters (weights) -- feeding only
//    this consumer;
//  - a quantized output gets one fake-quant right after the node, and every
//    user of the result (graph outputs included) is rerouted to it.
// The spec attribute is the group's spec: the first spec of the group in
// graph order (§4.2), in the compact dictionary form. Each fake-quant takes
// the module path and type (and the `qat_schedule` attribute, if any) of its
// first consumer in graph order that has a module, else of the producer: the
// reference attributes a fake-quant to its consumer's module for QAT
// schedules (§1.7). Diagnostics about a fake-quant point at the node it was
// made for.
//
// The annotations are consumed: the pass clears them once the fake-quants
// stand for them, so running it twice inserts nothing the second time.
// Linear: each edge costs a hash lookup and each output one pass over its
// uses.
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"
#include "passes/quant/QuantSupport.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/SmallVector.h"

#include <vector>

namespace qfx {
namespace {

class InsertFakeQuantPass : public Pass {
public:
  InsertFakeQuantPass()
      : Pass("insert-fake-quant",
             "Insert one qfx.fake_quant per (value, observer group) from the grouped "
             "annotations") {}

  PassResult run(Graph &graph, PassContext &context) override;

private:
  struct FakeQuantOnValue {
    int64_t group;
    Node *node;
  };

  bool collectGroupSpecs(PassContext &context);
  Node *createFakeQuant(Graph &graph, Value *input, int64_t group, const Node &attributedTo,
                        const Node &locatedAt);
  const Node &attributionForOutput(const Node &producer) const;
  const Node &attributionForEdge(const Node &consumer, const Value *value) const;

  std::vector<Node *> nodes_;
  llvm::DenseMap<const Node *, uint32_t> position_;
  llvm::DenseMap<int64_t, Attribute> groupSpec_;
  SpecTable specs_; // per run
};

bool hasModule(const Node &node) {
  return !node.source().modulePath.empty() || !node.source().moduleType.empty();
}

bool InsertFakeQuantPass::collectGroupSpecs(PassContext &context) {
  bool ok = true;
  for (Node *node : nodes_) {
    const QuantAnnotation *quant = node->quant();
    if (!quant)
      continue;
    unsigned numOperands = node->numOperands();
    if (quant->inputGroups.size() != numOperands || quant->inputs.size() != numOperands) {
      ok = false;
      fail(context, *node,
           "the node is annotated but has no observer groups; run share-observers before "
           "insert-fake-quant");
      continue;
    }
    for (unsigned slot = 0; slot <= numOperands; ++slot) {
      int64_t group = slot < numOperands ? quant->inputGroups[slot] : quant->outputGroup;
      if (group < 0 || groupSpec_.count(group))
        continue;
      // The entry's own spec, or the spec its shared_with chain (within this
      // node) leads to.
      const Attribute *entry = slot < numOperands ? &quant->inputs[slot] : &quant->output;
      std::string problem;
      for (unsigned steps = 0;; ++steps) {
        llvm::Expected<AnnotationEntry> kind = classifyAnnotationEntry(*entry);
        if (!kind) {
          problem = errorText(kind.takeError());
          break;
        }
        if (kind->isSpec())
          break;
        if (kind->isNone()) {
          problem = "the entry is none but its group is " + std::to_string(group);
          break;
        }
        if (kind->sharedWith < 0 || kind->sharedWith >= numOperands || steps > numOperands) {
          problem = "its shared_with entries reach no spec";
          break;
        }
        entry = &quant->inputs[kind->sharedWith];
      }
      if (problem.empty()) {
        llvm::Expected<uint32_t> id = specs_.intern(*entry);
        if (id)
          groupSpec_[group] = specs_.attribute(*id);
        else
          problem = errorText(id.takeError());
      }
      if (!problem.empty()) {
        ok = false;
        fail(context, *node,
             (slot < numOperands ? "operand " + std::to_string(slot) : std::string("the output")) +
                 ": " + problem);
      }
    }
  }
  return ok;
}

/// The first user in graph order of `producer`'s result that has a module,
/// else the producer.
const Node &InsertFakeQuantPass::attributionForOutput(const Node &producer) const {
  const Node *best = nullptr;
  uint32_t bestPosition = UINT32_MAX;
  for (const Use &use : producer.result(0)->uses()) {
    if (use.isGraphOutput() || !hasModule(*use.user))
      continue;
    auto position = position_.find(use.user);
    if (position != position_.end() && position->second < bestPosition) {
      best = use.user;
      bestPosition = position->second;
    }
  }
  return best ? *best : producer;
}

const Node &InsertFakeQuantPass::attributionForEdge(const Node &consumer,
                                                    const Value *value) const {
  if (!hasModule(consumer) && value->isResult() && hasModule(*value->producer()))
    return *value->producer();
  return consumer;
}

Node *InsertFakeQuantPass::createFakeQuant(Graph &graph, Value *input, int64_t group,
                                           const Node &attributedTo, const Node &locatedAt) {
  Node *fakeQuant = graph.createNode(lookupOp("qfx.fake_quant"), {input}, {input->type()});
  AttributeDict attributes;
  attributes.emplace_back(fqattr::kGroup, Attribute::integer(group));
  attributes.emplace_back(fqattr::kSpec, groupSpec_.lookup(group));
  if (const Attribute *schedule = attributedTo.attribute(fqattr::kQatSchedule))
    attributes.emplace_back(fqattr::kQatSchedule, *schedule);
  fakeQuant->setAttributes(std::move(attributes));
  const SourceInfo &source = attributedTo.source();
  fakeQuant->setModule(source.modulePath, source.moduleType);
  if (source.line != 0)
    fakeQuant->setSourceLocation(source.file, source.line, source.column);
  fakeQuant->setTextLocation(locatedAt.textLocation());
  return fakeQuant;
}

PassResult InsertFakeQuantPass::run(Graph &graph, PassContext &context) {
  nodes_.clear();
  position_.clear();
  groupSpec_.clear();
  specs_ = SpecTable();
  bool annotated = false;
  for (Node *node : graph.nodes()) {
    position_[node] = static_cast<uint32_t>(nodes_.size());
    nodes_.push_back(node);
    annotated |= node->quant() != nullptr;
  }
  if (!annotated)
    return PassResult::Unchanged;
  if (!collectGroupSpecs(context))
    return PassResult::Failed;

  // Fake-quants per original value, and where the next one after a
  // producer goes (after the ones already there, in creation order).
  llvm::DenseMap<Value *, llvm::SmallVector<FakeQuantOnValue, 1>> onValue;
  llvm::DenseMap<Value *, Node *> lastAfterProducer;
  llvm::DenseMap<Value *, Value *> originalOf; // output fake-quant result -> its input
  Node *lastAtGraphStart = nullptr;

  for (Node *node : nodes_) {
    const QuantAnnotation *quant = node->quant();
    if (!quant)
      continue;
    for (unsigned k = 0, e = node->numOperands(); k != e; ++k) {
      int64_t group = quant->inputGroups[k];
      if (group < 0)
        continue;
      Value *current = node->operand(k);
      Value *original = originalOf.lookup(current);
      if (!original)
        original = current;
      auto &existing = onValue[original];
      auto found =
          llvm::find_if(existing, [&](const FakeQuantOnValue &f) { return f.group == group; });
      if (found != existing.end()) {
        if (current != found->node->result(0))
          node->setOperand(k, found->node->result(0));
        continue;
      }
      Node *fakeQuant =
          createFakeQuant(graph, current, group, attributionForEdge(*node, original), *node);
      if (original->isParameter()) {
        graph.insertBefore(node, fakeQuant);
      } else if (original->isInput()) {
        if (lastAtGraphStart)
          graph.insertAfter(lastAtGraphStart, fakeQuant);
        else
          graph.insertBefore(graph.front(), fakeQuant);
        lastAtGraphStart = fakeQuant;
      } else {
        Node *&last = lastAfterProducer[original];
        graph.insertAfter(last ? last : original->producer(), fakeQuant);
        last = fakeQuant;
      }
      onValue[original].push_back({group, fakeQuant});
      node->setOperand(k, fakeQuant->result(0));
    }
    if (quant->outputGroup >= 0 && node->numResults() > 0) {
      Value *result = node->result(0);
      Node *fakeQuant =
          createFakeQuant(graph, result, quant->outputGroup, attributionForOutput(*node), *node);
      graph.insertAfter(node, fakeQuant);
      result->replaceAllUsesWith(fakeQuant->result(0));
      fakeQuant->setOperand(0, result);
      originalOf[fakeQuant->result(0)] = result;
      onValue[result].push_back({quant->outputGroup, fakeQuant});
      lastAfterProducer[result] = fakeQuant;
    }
  }
  for (Node *node : nodes_)
    node->clearQuant();
  return PassResult::Changed;
}

} // namespace

std::unique_ptr<Pass> createInsertFakeQuantPass() {
  return std::make_unique<InsertFakeQuantPass>();
}

} // namespace qfx
