//===- passes/quant/ShareObservers.cc - The share-observers pass ----------===//
//
// Decides which quantized tensors share one observer (hence one set of
// qparams) and records it as observer groups on the annotations
// (QuantAnnotation::inputGroups / outputGroup, dense ids 0..G-1 numbered in
// graph order). insert-fake-quant then puts one fake-quant per (value, group).
//
// Items are the quantized node outputs and the quantized input edges, keyed by
// (consumer node, operand index) -- so `cat(%x, %x)` has two distinct edge
// items -- and numbered in graph order (per node: its edges, then its
// output). A union-find (UnionFind.h, iterative find) groups them in two
// phases (reference §4.2):
//  1. `{shared_with = k}` joins an entry with this node's own edge k. Every
//     phase-1 set then holds exactly one spec dictionary (entries point at
//     one other entry, so a set is a tree rooted at a spec or a cycle without
//     one, which is an error): that is the spec of each of its items.
//  2. Implicit merges: a consumer edge with its producer's output, and
//     sibling consumer edges of one value with each other, when their specs
//     are compatible; every quantized input and the output of a SharesQParams
//     op (max pool, cat, flatten...) always, since the op's result takes its
//     values from its inputs; SameScale ops (reshape, view, permute,
//     transpose...) only under share-same-scale, where an unannotated one is
//     also transparent: its consumers' edges merge with the group of its
//     input's producer.
// Every union is decided by a fixed predicate on phase-1 specs, so the
// resulting partition does not depend on the order of the unions or of the
// graph (PT2E crashed when a shared spec's anchor came later, ao#4421).
// Each group's spec is the first spec of the group in graph order.
//
// Compatibility (option `compatibility`). `exact` (default) merges only equal
// specs: int8-symmetric on one end of an edge and int8-asymmetric on the other
// stay two observers, and the tensor gets two fake-quants back to back, as
// written. `reference` compares only dtype, quant range and the reference's
// qscheme tag, as torchao does, so such specs silently become one observer
// built from the first spec -- peers.md lists that as a bug; the option
// exists to reproduce the reference's counts.
//
// Fixed-range ops (option `fixed-range`, reference §3.4). `reference`
// (default): no numeric effect; the outputs of NonNegative (relu, relu6) and
// FixedRangeUnit (sigmoid...) ops are tagged affine and FixedRangeSymmetric
// (tanh) ones symmetric; the tag flows into consumers' own specs (not into
// shared_with entries) and only matters to `compatibility=reference`.
// `fixed-qparams`: integer outputs of FixedRangeUnit ops get the fixed
// qparams scale 1/2^n, zero point quant_min (sigmoid int8: 1/256, -128;
// uint8: 1/256, 0), FixedRangeSymmetric ops scale 2/2^n over [-1, 1) (tanh
// uint8: 2/256, 128; int8: 1/128, 0). They are written as specs -- per-tensor
// asymmetric with float_range [0, 1 - 1/2^n] or [-1, 1 - 2/2^n], which the
// calculators turn into exactly those qparams and then freeze -- so nothing
// downstream needs to know; consumers' specs equal to the producer's get the
// same rewrite so the edge still merges. Float formats keep their spec.
//
// Channel-altering ops (§3.3). When one group both feeds a ChannelAltering op
// (flatten, reshape, view, permute, transpose...) and quantizes its output
// (or its consumers' edges), per-channel qparams would be read along another
// axis on the other side: every spec of that group becomes per-tensor.
//
// Linear: one pass over nodes and uses, near-constant union-find operations.
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"
#include "passes/quant/QuantSupport.h"
#include "passes/quant/UnionFind.h"

#include "runtime/spec/Granularity.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/SmallVector.h"

#include <optional>
#include <vector>

namespace qfx {
namespace {

/// The reference's torchao qscheme tag (§3.4): it takes part in torchao's
/// spec comparison but not in numerics.
enum class Tag : uint8_t { None, Affine, Symmetric };

struct Item {
  Node *node;
  /// The operand (edges) or result 0 (outputs): kept here so later phases
  /// need not touch the node again.
  Value *value;
  /// Operand index, or -1 for the output.
  int32_t operand;
  /// `{shared_with = k}`: k; -1 for a spec entry.
  int32_t sharedWith;
  /// The spec of the item (after phase 1, also for shared items).
  uint32_t specId;
  /// The spec id the annotation spelled (spec entries only), to know what
  /// to write back.
  uint32_t writtenSpecId;
  /// The spec entry of the item's phase-1 set (itself for spec entries).
  uint32_t origin;
  Tag tag = Tag::None;
  bool isSpec() const { return sharedWith < 0; }
};

/// What makes two specs compatible in reference mode, as one comparable value.
struct ReferenceKey {
  QuantDType dtype;
  double quantMin, quantMax;
  Tag tag;
  bool operator==(const ReferenceKey &other) const {
    return dtype == other.dtype && quantMin == other.quantMin && quantMax == other.quantMax &&
           tag == other.tag;
  }
};

class ShareObserversPass : public Pass {
public:
  ShareObserversPass()
      : Pass("share-observers",
             "Group quantized edges and outputs that share one observer (union-find over the "
             "annotations) and record the groups on the annotations") {}

  PassResult run(Graph &graph, PassContext &context) override;

private:
  EnumOption compatibility{
      *this,
      "compatibility",
      "Which specs merge across an edge and between siblings: exact (equal specs) or reference "
      "(equal dtype, quant range and qscheme tag, as torchao)",
      "exact",
      {"exact", "reference"}};
  BoolOption shareSameScale{*this, "share-same-scale",
                            "Also share across SameScale data movement (reshape, view, permute, "
                            "transpose...); unannotated ones become transparent",
                            false};
  EnumOption fixedRange{*this,
                        "fixed-range",
                        "Outputs of fixed-range ops (sigmoid, tanh...): reference (a tag, no "
                        "numeric effect) or fixed-qparams (scale 1/2^n on [0,1), 2/2^n on [-1,1))",
                        "reference",
                        {"reference", "fixed-qparams"}};
};

/// The per-run state: items, their slots per node, and the union-find.
class Grouping {
public:
  Grouping(Graph &graph, PassContext &context, const Pass &pass, bool exact, bool sameScale,
           bool fixedQParams)
      : graph_(graph), context_(context), pass_(pass), exact_(exact), sameScale_(sameScale),
        fixedQParams_(fixedQParams) {}

  PassResult run();

private:
  bool collectItems();
  bool resolveSharedEntries();
  void propagateTagsAndFixedRanges();
  void mergeForcedSharing();
  void mergeAcrossEdges();
  void forcePerTensorAcrossChannelAltering();
  bool writeBack();

  bool fail(const Node &node, const llvm::Twine &message) {
    context_.diagnostics().error(node.textLocation(), "pass '" + pass_.name() + "' failed on " +
                                                          node.describe() + ": " + message);
    return false;
  }

  /// Item of operand `operand` (-1: the output) of an annotated node, or -1.
  int32_t itemAt(const Node *node, int32_t operand) const {
    uint32_t base = slotBase_.lookup(node);
    if (base == kNoSlots)
      return -1;
    uint32_t slot = operand < 0 ? node->numOperands() : static_cast<uint32_t>(operand);
    return slots_[base + slot];
  }

  /// The observer item a consumer of `value` sees upstream: the producer's
  /// quantized output, or -- through transparent SameScale nodes -- that of
  /// their input's producer. -1 when none.
  int32_t upstreamItem(const Value *value) const {
    if (!value->isResult() || value->resultIndex() != 0)
      return -1;
    const Node *producer = value->producer();
    if (slotBase_.lookup(producer) != kNoSlots)
      return itemAt(producer, -1);
    int32_t alias = transparent_.lookup(producer);
    return alias == kNotTransparent ? -1 : alias;
  }

  /// Items of one compatibility class may share: in exact mode the class
  /// is the spec id; in reference mode one per distinct (dtype, quant range,
  /// tag), numbered on first sight (there are a handful).
  uint32_t compatClass(uint32_t item) {
    const Item &it = items_[item];
    if (exact_)
      return it.specId;
    uint64_t cacheKey = uint64_t(it.specId) << 2 | static_cast<uint64_t>(it.tag);
    auto cached = classCache_.find(cacheKey);
    if (cached != classCache_.end())
      return cached->second;
    const QuantizationSpec &spec = specs_.spec(it.specId);
    ReferenceKey key{spec.dtype(), spec.quantMin(), spec.quantMax(), it.tag};
    uint32_t id = static_cast<uint32_t>(llvm::find(referenceKeys_, key) - referenceKeys_.begin());
    if (id == referenceKeys_.size())
      referenceKeys_.push_back(key);
    classCache_[cacheKey] = id;
    return id;
  }

  static Tag intrinsicTag(const OpInfo &op) {
    if (op.has(optrait::NonNegative) || op.has(optrait::FixedRangeUnit))
      return Tag::Affine;
    if (op.has(optrait::FixedRangeSymmetric))
      return Tag::Symmetric;
    return Tag::None;
  }

  bool isSameScaleShared(const OpInfo &op) const {
    return op.has(optrait::SharesQParams) || (sameScale_ && op.has(optrait::SameScale));
  }

  Graph &graph_;
  PassContext &context_;
  const Pass &pass_;
  bool exact_, sameScale_, fixedQParams_;

  static constexpr uint32_t kNoSlots = UINT32_MAX;
  static constexpr int32_t kNotTransparent = -2;

  /// Annotated nodes in graph order; the nodes the op-based rules apply
  /// to, gathered during the one walk over the graph.
  std::vector<Node *> annotated_, forcedSharing_, channelAltering_;
  /// First slot of an annotated node in slots_ (its operands, then its
  /// output); kNoSlots for other nodes.
  NodeMap<uint32_t> slotBase_{kNoSlots};
  std::vector<int32_t> slots_;
  /// For transparent SameScale nodes: the upstream item (or -1).
  NodeMap<int32_t> transparent_{kNotTransparent};
  llvm::DenseMap<uint64_t, uint32_t> classCache_;
  std::vector<ReferenceKey> referenceKeys_;
  std::vector<Item> items_;
  UnionFind unionFind_;
  SpecTable specs_;
};

bool isQuantizableType(const Type &type) {
  if (type.kind() == Type::Kind::Any)
    return true;
  return type.isTensor() && (type.dtype() == DType::Unknown || isFloatingPoint(type.dtype()));
}

bool Grouping::collectItems() {
  bool ok = true;
  // Room for the usual case without counting first (a weighted op has four
  // items: input, weight, bias, output): growing these vectors copied them
  // and faulted in fresh pages at every doubling. Reserved pages that stay
  // unused cost nothing.
  items_.reserve(graph_.numNodes() * 4);
  slots_.reserve(graph_.numNodes() * 4);
  slotBase_.reserve(graph_.numNodes());
  for (Node *node : graph_.nodes()) {
    const OpInfo &op = node->op();
    if (op.has(optrait::ChannelAltering) && node->numOperands() > 0 && node->numResults() > 0)
      channelAltering_.push_back(node);
    const QuantAnnotation *quant = node->quant();
    if (!quant) {
      // An unannotated SameScale op with one tensor input passes its input's
      // observer through under share-same-scale.
      if (sameScale_ && node->op().has(optrait::SameScale) && node->numOperands() >= 1 &&
          node->numResults() >= 1) {
        bool single = true;
        for (unsigned k = 1; k < node->numOperands(); ++k)
          single &= !node->operand(k)->type().isTensor();
        if (single)
          transparent_[node] = upstreamItem(node->operand(0));
      }
      continue;
    }
    unsigned numOperands = node->numOperands();
    if (quant->inputs.size() != numOperands) {
      ok = fail(*node, "the quant annotation has " + llvm::Twine(quant->inputs.size()) +
                           " input entries for " + llvm::Twine(numOperands) + " operands");
      continue;
    }
    annotated_.push_back(node);
    if (isSameScaleShared(op))
      forcedSharing_.push_back(node);
    uint32_t base = static_cast<uint32_t>(slots_.size());
    slotBase_[node] = base;
    slots_.resize(base + numOperands + 1, -1);
    // Edges first, then the output (slot numOperands): items in graph order.
    for (unsigned slot = 0; slot <= numOperands; ++slot) {
      int32_t operand = slot < numOperands ? static_cast<int32_t>(slot) : -1;
      const Attribute &entry = operand < 0 ? quant->output : quant->inputs[operand];
      if (entry.isNone())
        continue;
      // The common case, a spec dictionary seen before (annotate shares
      // the storage of equal specs), costs one lookup.
      if (std::optional<uint32_t> known = specs_.find(entry)) {
        if (operand >= 0 || node->numResults() > 0) {
          Value *value = operand < 0 ? node->result(0) : node->operand(operand);
          if (isQuantizableType(value->type())) {
            uint32_t index = static_cast<uint32_t>(items_.size());
            slots_[base + slot] = static_cast<int32_t>(index);
            items_.push_back(Item{node, value, operand, -1, *known, *known, index});
            continue;
          }
        }
      }
      std::string where =
          operand < 0 ? std::string("the output") : "operand " + std::to_string(operand);
      llvm::Expected<AnnotationEntry> kind = classifyAnnotationEntry(entry);
      if (!kind) {
        ok = fail(*node, "invalid quant entry of " + where + ": " + errorText(kind.takeError()));
        continue;
      }
      if (kind->isNone())
        continue;
      if (operand < 0 && node->numResults() == 0) {
        ok = fail(*node, "the output is quantized but the node has no result");
        continue;
      }
      const Type &type = operand < 0 ? node->result(0)->type() : node->operand(operand)->type();
      if (!isQuantizableType(type)) {
        ok = fail(*node, where + " has a quantization entry but is a " + type.str() +
                             ", not a floating-point tensor");
        continue;
      }
      Item item{node, operand < 0 ? node->result(0) : node->operand(operand), operand, -1, 0, 0, 0};
      if (kind->isShared()) {
        int64_t target = kind->sharedWith;
        if (target < 0 || target >= static_cast<int64_t>(numOperands) || target == operand) {
          ok = fail(*node, where + " has {shared_with = " + llvm::Twine(target) +
                               "}, which is not another operand of the node (it has " +
                               llvm::Twine(numOperands) + ")");
          continue;
        }
        item.sharedWith = static_cast<int32_t>(target);
      } else {
        llvm::Expected<uint32_t> id = specs_.intern(entry);
        if (!id) {
          ok = fail(*node, "invalid spec of " + where + ": " + errorText(id.takeError()));
          continue;
        }
        item.specId = item.writtenSpecId = *id;
      }
      uint32_t index = static_cast<uint32_t>(items_.size());
      item.origin = index;
      slots_[base + slot] = static_cast<int32_t>(index);
      items_.push_back(item);
    }
  }
  unionFind_.grow(static_cast<uint32_t>(items_.size()));
  return ok;
}

bool Grouping::resolveSharedEntries() {
  bool ok = true;
  for (uint32_t i = 0; i < items_.size(); ++i) {
    const Item &item = items_[i];
    if (item.isSpec())
      continue;
    int32_t target = itemAt(item.node, item.sharedWith);
    if (target < 0) {
      ok = fail(*item.node, (item.operand < 0 ? std::string("the output")
                                              : "operand " + std::to_string(item.operand)) +
                                " has {shared_with = " + std::to_string(item.sharedWith) +
                                "} but operand " + std::to_string(item.sharedWith) +
                                " is not quantized");
      continue;
    }
    unionFind_.unite(i, static_cast<uint32_t>(target));
  }
  if (!ok)
    return false;
  // One spec entry per phase-1 set (see the file comment); a set without one
  // is a cycle of shared_with entries.
  std::vector<int32_t> specOfRoot(items_.size(), -1);
  for (uint32_t i = 0; i < items_.size(); ++i)
    if (items_[i].isSpec())
      specOfRoot[unionFind_.find(i)] = static_cast<int32_t>(i);
  llvm::DenseSet<const Node *> reported;
  for (uint32_t i = 0; i < items_.size(); ++i) {
    Item &item = items_[i];
    if (item.isSpec())
      continue;
    int32_t origin = specOfRoot[unionFind_.find(i)];
    if (origin < 0) {
      if (reported.insert(item.node).second)
        ok = fail(*item.node, "its shared_with entries form a cycle that reaches no spec");
      continue;
    }
    item.origin = static_cast<uint32_t>(origin);
    item.specId = items_[origin].specId;
  }
  return ok;
}

/// The fixed-qparams spec of §3.4 for an output of `spec` (nullopt: keep).
std::optional<QuantizationSpec> fixedRangeSpec(const QuantizationSpec &spec, bool symmetric) {
  if (!spec.hasOffsets())
    return std::nullopt;
  QuantizationSpecFields fields = spec.fields();
  fields.qscheme = QScheme::Asymmetric;
  fields.granularity = Granularity::perTensor();
  QuantRange range = quantRange(fields.dtype, QScheme::Asymmetric);
  double levels = range.max - range.min + 1; // 2^n
  // scale = (max - min) / (levels - 1) is exactly 1/levels (2/levels) and
  // zero_point = quant_min - round(min / scale) is quant_min (the middle).
  if (symmetric)
    fields.floatRange = FloatRange{-1.0, 1.0 - 2.0 / levels};
  else
    fields.floatRange = FloatRange{0.0, 1.0 - 1.0 / levels};
  llvm::Expected<QuantizationSpec> fixed = QuantizationSpec::create(std::move(fields));
  if (!fixed) {
    llvm::consumeError(fixed.takeError());
    return std::nullopt;
  }
  return std::move(*fixed);
}

void Grouping::propagateTagsAndFixedRanges() {
  // Graph order: a consumer edge reads the (final) tag and rewrite of its
  // producer's phase-1 set, which belongs to an earlier node.
  std::vector<int32_t> rewriteFrom(fixedQParams_ ? items_.size() : 0, -1);
  std::vector<uint32_t> rewriteTo(fixedQParams_ ? items_.size() : 0, 0);
  for (Node *node : annotated_) {
    uint32_t base = slotBase_.lookup(node);
    if (base == kNoSlots)
      continue;
    unsigned numOperands = node->numOperands();
    // Spec entries of the edges: pushed from upstream.
    for (unsigned k = 0; k < numOperands; ++k) {
      int32_t e = slots_[base + k];
      if (e < 0 || !items_[e].isSpec())
        continue;
      int32_t upstream = upstreamItem(node->operand(k));
      if (upstream < 0)
        continue;
      uint32_t origin = items_[upstream].origin;
      items_[e].tag = items_[origin].tag;
      if (fixedQParams_ && rewriteFrom[origin] >= 0 &&
          items_[e].specId == static_cast<uint32_t>(rewriteFrom[origin])) {
        items_[e].specId = rewriteTo[origin];
        rewriteFrom[e] = rewriteFrom[origin];
        rewriteTo[e] = rewriteTo[origin];
      }
    }
    // The output's own spec entry: the op decides.
    int32_t out = slots_[base + numOperands];
    if (out >= 0 && items_[out].isSpec()) {
      const OpInfo &op = node->op();
      items_[out].tag = intrinsicTag(op);
      bool unit = op.has(optrait::FixedRangeUnit), symmetric = op.has(optrait::FixedRangeSymmetric);
      if (fixedQParams_ && (unit || symmetric)) {
        uint32_t old = items_[out].specId;
        if (std::optional<QuantizationSpec> fixed = fixedRangeSpec(specs_.spec(old), !unit)) {
          items_[out].specId = specs_.intern(*fixed);
          rewriteFrom[out] = static_cast<int32_t>(old);
          rewriteTo[out] = items_[out].specId;
        }
      }
    }
    // Shared entries follow their set's spec entry (an edge of this node).
    for (unsigned k = 0; k <= numOperands; ++k) {
      int32_t s = slots_[base + k];
      if (s < 0 || items_[s].isSpec())
        continue;
      const Item &origin = items_[items_[s].origin];
      items_[s].tag = origin.tag;
      items_[s].specId = origin.specId;
    }
  }
}

void Grouping::mergeForcedSharing() {
  for (Node *node : forcedSharing_) {
    uint32_t base = slotBase_.lookup(node);
    int32_t first = -1;
    for (unsigned k = 0; k <= node->numOperands(); ++k) {
      int32_t item = slots_[base + k];
      if (item < 0)
        continue;
      if (first < 0)
        first = item;
      else
        unionFind_.unite(static_cast<uint32_t>(first), static_cast<uint32_t>(item));
    }
  }
}

void Grouping::mergeAcrossEdges() {
  // Every edge item joins its producer's output item when compatible.
  // Siblings of one value that are compatible with that output are then
  // joined through it; the others (and the edges of values without a
  // quantized producer: graph inputs, parameters, unannotated producers)
  // meet in a map keyed by (value, compatibility class).
  // Parameters (up to one per node, mostly one edge each) meet in a vector
  // indexed by position first: the first class seen per parameter there, the
  // rest in the map.
  llvm::DenseMap<std::pair<const Value *, uint32_t>, uint32_t> siblings;
  struct FirstEdge {
    uint32_t cls = UINT32_MAX;
    uint32_t item = 0;
  };
  std::vector<FirstEdge> parameterEdges(graph_.parameters().size());
  for (uint32_t e = 0; e < items_.size(); ++e) {
    const Item &edge = items_[e];
    if (edge.operand < 0)
      continue;
    uint32_t cls = compatClass(e);
    int32_t upstream = upstreamItem(edge.value);
    if (upstream >= 0 && compatClass(static_cast<uint32_t>(upstream)) == cls) {
      unionFind_.unite(static_cast<uint32_t>(upstream), e);
      continue;
    }
    if (edge.value->isParameter() && edge.value->position() < parameterEdges.size()) {
      FirstEdge &first = parameterEdges[edge.value->position()];
      if (first.cls == UINT32_MAX) {
        first = {cls, e};
        continue;
      }
      if (first.cls == cls) {
        unionFind_.unite(first.item, e);
        continue;
      }
    }
    auto inserted = siblings.try_emplace({edge.value, cls}, e);
    if (!inserted.second)
      unionFind_.unite(inserted.first->second, e);
  }
}

void Grouping::forcePerTensorAcrossChannelAltering() {
  llvm::DenseSet<uint32_t> forcedRoots;
  for (Node *node : channelAltering_) {
    int32_t in = itemAt(node, 0);
    if (in < 0)
      in = upstreamItem(node->operand(0));
    if (in < 0)
      continue;
    uint32_t inRoot = unionFind_.find(static_cast<uint32_t>(in));
    bool same = false;
    int32_t out = itemAt(node, -1);
    if (out >= 0) {
      same = unionFind_.find(static_cast<uint32_t>(out)) == inRoot;
    } else {
      for (const Use &use : node->result(0)->uses()) {
        if (use.isGraphOutput())
          continue;
        int32_t edge = itemAt(use.user, static_cast<int32_t>(use.operandIndex));
        if (edge >= 0 && unionFind_.find(static_cast<uint32_t>(edge)) == inRoot) {
          same = true;
          break;
        }
      }
    }
    if (same)
      forcedRoots.insert(inRoot);
  }
  if (forcedRoots.empty())
    return;
  for (uint32_t i = 0; i < items_.size(); ++i) {
    Item &item = items_[i];
    if (!item.isSpec() || !forcedRoots.count(unionFind_.find(i)))
      continue;
    const QuantizationSpec &spec = specs_.spec(item.specId);
    if (spec.granularity().isPerTensor())
      continue;
    llvm::Expected<QuantizationSpec> perTensor = spec.withGranularity(Granularity::perTensor());
    if (!perTensor) {
      llvm::consumeError(perTensor.takeError()); // per-tensor is valid for every spec
      continue;
    }
    item.specId = specs_.intern(*perTensor);
  }
  // Shared entries follow their spec entry.
  for (Item &item : items_)
    if (!item.isSpec())
      item.specId = items_[item.origin].specId;
}

bool Grouping::writeBack() {
  // Dense group ids in graph order of the items' first appearance.
  std::vector<int64_t> groupOfRoot(items_.size(), -1);
  int64_t numGroups = 0;
  std::vector<int64_t> groupOf(items_.size());
  for (uint32_t i = 0; i < items_.size(); ++i) {
    int64_t &group = groupOfRoot[unionFind_.find(i)];
    if (group < 0)
      group = numGroups++;
    groupOf[i] = group;
  }
  bool changed = false;
  for (Node *node : annotated_) {
    uint32_t base = slotBase_.lookup(node);
    QuantAnnotation &quant = node->getOrCreateQuant();
    unsigned numOperands = node->numOperands();
    if (quant.inputGroups.size() != numOperands) {
      quant.inputGroups.assign(numOperands, -1);
      changed = true;
    }
    for (unsigned k = 0; k <= numOperands; ++k) {
      int32_t item = slots_[base + k];
      int64_t group = item < 0 ? -1 : groupOf[item];
      int64_t &slot = k < numOperands ? quant.inputGroups[k] : quant.outputGroup;
      if (slot != group) {
        slot = group;
        changed = true;
      }
      if (item < 0)
        continue;
      const Item &it = items_[item];
      if (it.isSpec() && it.specId != it.writtenSpecId) {
        (k < numOperands ? quant.inputs[k] : quant.output) = specs_.attribute(it.specId);
        changed = true;
      }
    }
  }
  return changed;
}

PassResult Grouping::run() {
  if (!collectItems() || !resolveSharedEntries())
    return PassResult::Failed;
  // Tags matter only to reference comparison, rewrites only to fixed qparams.
  if (!exact_ || fixedQParams_)
    propagateTagsAndFixedRanges();
  mergeForcedSharing();
  mergeAcrossEdges();
  forcePerTensorAcrossChannelAltering();
  return writeBack() ? PassResult::Changed : PassResult::Unchanged;
}

PassResult ShareObserversPass::run(Graph &graph, PassContext &context) {
  Grouping grouping(graph, context, *this, compatibility.value() == "exact", shareSameScale.value(),
                    fixedRange.value() == "fixed-qparams");
  return grouping.run();
}

} // namespace

std::unique_ptr<Pass> createShareObserversPass() { return std::make_unique<ShareObserversPass>(); }

} // namespace qfx
