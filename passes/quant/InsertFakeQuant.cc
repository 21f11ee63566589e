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
// The annotations are consumed: the pass clears each one once its
// fake-quants stand for it, so running it twice inserts nothing the second
// time. (After an error the graph is partly rewritten, as for any failing
// pass.)
// Linear: each edge costs a hash lookup and each output one pass over its
// uses.
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"
#include "passes/quant/QuantSupport.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/SmallVector.h"

#include <algorithm>
#include <optional>
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

  /// Records the spec of every group whose first entry in graph order is
  /// on `node` (called in graph order); false after reporting an error.
  bool defineGroupSpecs(PassContext &context, const Node &node);
  /// The spec of `group`, or null while undefined. Group ids are dense from
  /// share-observers; a vector of spec ids (4 bytes per group) holds them (a
  /// map for stray large ids).
  const Attribute *groupSpec(int64_t group) const {
    int32_t id = -1;
    if (static_cast<uint64_t>(group) < denseGroupSpecs_.size()) {
      id = denseGroupSpecs_[group];
    } else {
      auto found = sparseGroupSpecs_.find(group);
      if (found != sparseGroupSpecs_.end())
        id = found->second;
    }
    return id < 0 ? nullptr : &specs_.attribute(id);
  }
  void setGroupSpec(int64_t group, uint32_t specId) {
    if (static_cast<uint64_t>(group) < 4 * nodes_.size() + 64) {
      if (static_cast<uint64_t>(group) >= denseGroupSpecs_.size())
        denseGroupSpecs_.resize(std::max<size_t>(group + 1, denseGroupSpecs_.size() * 3 / 2), -1);
      denseGroupSpecs_[group] = static_cast<int32_t>(specId);
    } else {
      sparseGroupSpecs_[group] = static_cast<int32_t>(specId);
    }
  }
  Node *createFakeQuant(Graph &graph, Value *input, int64_t group, const Node &attributedTo,
                        const Node &locatedAt);
  const Node &attributionForOutput(const Node &producer) const;
  const Node &attributionForEdge(const Node &consumer, const Value *value) const;

  std::vector<Node *> nodes_;
  NodeMap<uint32_t> position_; // graph order of the original nodes
  std::vector<int32_t> denseGroupSpecs_;
  llvm::DenseMap<int64_t, int32_t> sparseGroupSpecs_;
  SpecTable specs_; // per run
};

bool hasModule(const Node &node) {
  return !node.source().modulePath.empty() || !node.source().moduleType.empty();
}

bool InsertFakeQuantPass::defineGroupSpecs(PassContext &context, const Node &node) {
  const QuantAnnotation *quant = node.quant();
  unsigned numOperands = node.numOperands();
  if (quant->inputGroups.size() != numOperands || quant->inputs.size() != numOperands) {
    fail(context, node,
         "the node is annotated but has no observer groups; run share-observers before "
         "insert-fake-quant");
    return false;
  }
  for (unsigned slot = 0; slot <= numOperands; ++slot) {
    int64_t group = slot < numOperands ? quant->inputGroups[slot] : quant->outputGroup;
    if (group < 0 || groupSpec(group))
      continue;
    // The first spec of the group in graph order: this entry's own spec, or
    // the spec its shared_with chain (within this node) leads to.
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
      std::optional<uint32_t> known = specs_.find(*entry);
      llvm::Expected<uint32_t> id = known ? *known : specs_.intern(*entry);
      if (id)
        setGroupSpec(group, *id);
      else
        problem = errorText(id.takeError());
    }
    if (!problem.empty()) {
      fail(context, node,
           (slot < numOperands ? "operand " + std::to_string(slot) : std::string("the output")) +
               ": " + problem);
      return false;
    }
  }
  return true;
}

/// The first user in graph order of `producer`'s result that has a module,
/// else the producer.
const Node &InsertFakeQuantPass::attributionForOutput(const Node &producer) const {
  const Node *best = nullptr;
  uint32_t bestPosition = UINT32_MAX;
  for (const Use &use : producer.result(0)->uses()) {
    if (use.isGraphOutput() || !hasModule(*use.user))
      continue;
    uint32_t position = position_.lookup(use.user);
    if (position < bestPosition) {
      best = use.user;
      bestPosition = position;
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
  Node *fakeQuant = graph.createNode(&opInfo(OpCode::FakeQuant), {input}, {input->type()});
  AttributeDict attributes;
  // Room for the qparams calibration adds, so that costs no reallocation,
  // and no more (a million fake-quants hold a million dictionaries).
  const Attribute *schedule = attributedTo.attribute(fqattr::kQatSchedule);
  attributes.reserve(schedule ? 4 : 3);
  attributes.emplace_back(fqattr::kGroup, Attribute::integer(group));
  attributes.emplace_back(fqattr::kSpec, *groupSpec(group));
  if (schedule)
    attributes.emplace_back(fqattr::kQatSchedule, *schedule);
  fakeQuant->setAttributes(std::move(attributes));
  // The module strings are this graph's already: copied, not interned again.
  fakeQuant->copyProvenance(attributedTo);
  fakeQuant->setTextLocation(locatedAt.textLocation());
  return fakeQuant;
}

PassResult InsertFakeQuantPass::run(Graph &graph, PassContext &context) {
  nodes_.clear();
  denseGroupSpecs_.clear();
  sparseGroupSpecs_.clear();
  specs_ = SpecTable();
  position_.clear(UINT32_MAX);
  position_.reserve(graph.numNodes());
  bool annotated = false;
  uint64_t firstNewId = 0;
  nodes_.reserve(graph.numNodes());
  for (Node *node : graph.nodes()) {
    position_[node] = static_cast<uint32_t>(nodes_.size());
    nodes_.push_back(node);
    annotated |= node->quant() != nullptr;
    firstNewId = std::max(firstNewId, node->id() + 1);
  }
  if (!annotated)
    return PassResult::Unchanged;
  // Group ids are dense (share-observers numbers about one per quantized
  // value): room up front, so the table is not copied as it grows.
  denseGroupSpecs_.reserve(2 * nodes_.size() + 64);

  // Per original value: its fake-quants, and where the next one after its
  // producer goes (after the ones already there, in creation order). Result
  // 0 of a node is found by the node's id, a parameter by its position,
  // other values by a hash map (graphs have up to a parameter per node).
  struct ValueState {
    llvm::SmallVector<FakeQuantOnValue, 1> fakeQuants;
    Node *lastAfterProducer = nullptr;
  };
  std::vector<ValueState> states;
  states.reserve(graph.numNodes() + graph.parameters().size());
  NodeMap<int32_t> stateOfResult(-1);
  stateOfResult.reserve(graph.numNodes());
  std::vector<int32_t> stateOfParameter(graph.parameters().size(), -1);
  llvm::DenseMap<Value *, int32_t> stateOfOther;
  auto stateOf = [&](Value *value) -> ValueState & {
    int32_t *index;
    if (value->isResult() && value->resultIndex() == 0)
      index = &stateOfResult[value->producer()];
    else if (value->isParameter() && value->position() < stateOfParameter.size())
      index = &stateOfParameter[value->position()];
    else
      index = &stateOfOther.try_emplace(value, -1).first->second;
    if (*index < 0) {
      *index = static_cast<int32_t>(states.size());
      states.emplace_back();
    }
    return states[*index];
  };
  // A current operand produced by a fake-quant created here is the output
  // fake-quant of the original value (edge fake-quants only ever feed the
  // consumer they were made for).
  auto originalOf = [&](Value *value) {
    Node *producer = value->isResult() ? value->producer() : nullptr;
    if (producer && producer->id() >= firstNewId && isFakeQuant(*producer))
      return producer->operand(0);
    return value;
  };
  Node *lastAtGraphStart = nullptr;

  for (Node *node : nodes_) {
    const QuantAnnotation *quant = node->quant();
    if (!quant)
      continue;
    if (!defineGroupSpecs(context, *node))
      return PassResult::Failed;
    for (unsigned k = 0, e = node->numOperands(); k != e; ++k) {
      int64_t group = quant->inputGroups[k];
      if (group < 0)
        continue;
      Value *current = node->operand(k);
      Value *original = originalOf(current);
      auto &existing = stateOf(original).fakeQuants;
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
        Node *&last = stateOf(original).lastAfterProducer;
        graph.insertAfter(last ? last : original->producer(), fakeQuant);
        last = fakeQuant;
      }
      stateOf(original).fakeQuants.push_back({group, fakeQuant});
      node->setOperand(k, fakeQuant->result(0));
    }
    if (quant->outputGroup >= 0 && node->numResults() > 0) {
      Value *result = node->result(0);
      Node *fakeQuant =
          createFakeQuant(graph, result, quant->outputGroup, attributionForOutput(*node), *node);
      graph.insertAfter(node, fakeQuant);
      result->replaceAllUsesWith(fakeQuant->result(0));
      fakeQuant->setOperand(0, result);
      ValueState &state = stateOf(result);
      state.fakeQuants.push_back({quant->outputGroup, fakeQuant});
      state.lastAfterProducer = fakeQuant;
    }
    // Consumed: clearing it here, while the node is in cache, saves a walk.
    node->clearQuant();
  }
  return PassResult::Changed;
}

} // namespace

std::unique_ptr<Pass> createInsertFakeQuantPass() {
  return std::make_unique<InsertFakeQuantPass>();
}

} // namespace qfx
