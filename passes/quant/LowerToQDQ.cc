//===- passes/quant/LowerToQDQ.cc - The lower-to-qdq pass -----------------===//
//
// Replaces every `qfx.fake_quant` by what a deployed model runs (reference
// §6.2), with concrete qparams:
//  - activations: `qfx.quantize` (float -> codes in the spec's container
//    dtype: i8 / u8 for integers, f8 for float formats) then
//    `qfx.dequantize` (codes -> the original type);
//  - weights (a fake-quant of a parameter or buffer): a new buffer
//    `<param>_quantized` holding the codes (integer storage, like the
//    reference's constexpr_blockwise_shift_scale) and one `qfx.dequantize`
//    of it. The float parameter is left in place, unused (the reference
//    keeps it too); `dce{remove-unused-parameters=true}` drops it.
// Both ops carry the qparams as attributes:
//   {dtype = "int8", quant_min = -128, quant_max = 127, scale = [...],
//    zero_point = [...] (formulation zp) | minval = [...] (minval),
//    qparam_shape = [...], axis = k (per channel) | block_shape = [...]
//    (per block), scale_dtype = "float8_e8m0fnu" (power-of-two scales)}
// with one qparam per block, in the full-rank block convention of
// runtime/spec/Granularity.h (per-tensor: all ones).
//
// Qparams come from the fake-quant's `qparams` attribute (calibration sets
// it; tests write it), else from another fake-quant of the same observer
// group (they share one observer), else -- for weights with data -- from the
// WeightQuantizer service (the runtime's static calculator; see
// WeightQuantizer.h). Weight codes come from that service, or, without it,
// from quantizeWithQParams (integer formats, f32 data). A fake-quant left
// without qparams is an error naming it and the fix. A graph without any
// fake-quant is an error too, as the reference's finalize raises "no fake
// quantization nodes" (allow-empty=true accepts it).
//
// stock-ops=true emits PyTorch's own ops where they mean exactly the same:
// int8 / uint8, zero-point formulation, the dtype's full range, per tensor
// or per channel, f32 values: `aten::quantize_per_tensor` {scale,
// zero_point, dtype = "qint8" | "quint8"} or `aten::quantize_per_channel`
// {scales, zero_points, axis, dtype} then `aten::dequantize` for
// activations, and `aten::_make_per_tensor_quantized_tensor` {scale,
// zero_point} / `aten::_make_per_channel_quantized_tensor` {scale,
// zero_point, axis} over the codes then `aten::dequantize` for weights.
// Other specs keep the qfx ops. Linear in the graph and the weight data.
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"
#include "passes/quant/QuantSupport.h"
#include "passes/quant/WeightQuantizer.h"

#include "runtime/spec/Granularity.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/Hashing.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/Twine.h"

#include <algorithm>
#include <memory>
#include <optional>
#include <vector>

namespace qfx {
namespace {

class LowerToQDQPass : public Pass {
public:
  LowerToQDQPass()
      : Pass("lower-to-qdq", "Replace fake-quants by quantize/dequantize with concrete qparams; "
                             "weights become integer storage plus a dequantize") {}

  PassResult run(Graph &graph, PassContext &context) override;

private:
  BoolOption stockOps{*this, "stock-ops",
                      "Emit aten::quantize_per_tensor/per_channel + aten::dequantize where the "
                      "spec allows (int8/uint8, zero point, full range, per tensor/channel)",
                      false};
  BoolOption allowEmpty{*this, "allow-empty",
                        "Accept a graph without fake-quants (otherwise an error, as the "
                        "reference's finalize)",
                        false};
};

/// Whether PyTorch's quantized ops express `spec` exactly on `type`.
bool stockExpressible(const QuantizationSpec &spec, const Type &type) {
  if (spec.dtype() != QuantDType::Int8 && spec.dtype() != QuantDType::UInt8)
    return false;
  QuantRange full = quantRange(spec.dtype(), QScheme::Asymmetric);
  return spec.qformulation() == QFormulation::ZP && spec.quantRange() == full &&
         !spec.usesE8M0Scale() &&
         (spec.granularity().isPerTensor() || spec.granularity().isPerChannel()) &&
         type.isTensor() && type.dtype() == DType::F32;
}

llvm::StringRef stockDTypeName(const QuantizationSpec &spec) {
  return spec.dtype() == QuantDType::Int8 ? "qint8" : "quint8";
}

/// The attributes of qfx.quantize / qfx.dequantize that depend only on the
/// spec and the value's type, in printing order: `head` before the qparams
/// (dtype, quant_min, quant_max), `tail` after them (qparam_shape, axis or
/// block_shape, scale_dtype). Built once per (spec, type) and copied into
/// every node, so each weight builds only its own scale and offset lists.
struct QDQAttributeParts {
  AttributeDict head;
  AttributeDict tail;
};

QDQAttributeParts qdqAttributeParts(const QuantizationSpec &spec,
                                    llvm::ArrayRef<int64_t> qparamShape, const Type &type) {
  QDQAttributeParts parts;
  AttributeDict &head = parts.head;
  head.emplace_back("dtype", Attribute::string(quantDTypeName(spec.dtype()).str()));
  if (spec.isFloatingPoint()) {
    head.emplace_back("quant_min", Attribute::floating(spec.quantMin()));
    head.emplace_back("quant_max", Attribute::floating(spec.quantMax()));
  } else {
    head.emplace_back("quant_min", Attribute::integer(static_cast<int64_t>(spec.quantMin())));
    head.emplace_back("quant_max", Attribute::integer(static_cast<int64_t>(spec.quantMax())));
  }
  AttributeDict &tail = parts.tail;
  tail.emplace_back("qparam_shape", Attribute::intList(qparamShape));
  const Granularity &granularity = spec.granularity();
  if (granularity.isPerChannel() && granularity.axis() && type.hasRank()) {
    llvm::Expected<int64_t> axis = normalizeAxis(*granularity.axis(), type.rank());
    if (axis)
      tail.emplace_back("axis", Attribute::integer(*axis));
    else
      llvm::consumeError(axis.takeError()); // qparamShapeOf checked it already
  } else if (granularity.isPerBlock() && type.hasStaticShape()) {
    llvm::Expected<std::vector<int64_t>> block = computeBlockShape(granularity, type.shape());
    if (block)
      tail.emplace_back("block_shape", Attribute::intList(*block));
    else
      llvm::consumeError(block.takeError());
  }
  if (spec.usesE8M0Scale())
    tail.emplace_back("scale_dtype", Attribute::string("float8_e8m0fnu"));
  return parts;
}

/// The attributes of qfx.quantize / qfx.dequantize:
///   head, scale, zero_point | minval, tail.
/// `zeroPoints` is reused when it holds the same values (weights of one
/// spec mostly share their zero points), saving a list per weight.
AttributeDict qdqAttributes(const QDQAttributeParts &parts, const QParamValues &qparams,
                            Attribute *zeroPoints = nullptr) {
  // Built once: a dictionary per weight interns no key.
  static const AttributeKey kScale("scale"), kZeroPoint("zero_point"), kMinval("minval");
  AttributeDict attributes;
  attributes.reserve(parts.head.size() + 2 + parts.tail.size());
  attributes.insert(attributes.end(), parts.head.begin(), parts.head.end());
  attributes.emplace_back(kScale, Attribute::floatList(qparams.scale));
  if (!qparams.zeroPoint.empty()) {
    if (!zeroPoints) {
      attributes.emplace_back(kZeroPoint, Attribute::intList(qparams.zeroPoint));
    } else {
      bool same = zeroPoints->isList() && zeroPoints->getList().size() == qparams.zeroPoint.size();
      for (size_t i = 0; same && i < qparams.zeroPoint.size(); ++i) {
        const Attribute &element = zeroPoints->getList()[i];
        same = element.isInt() && element.getInt() == qparams.zeroPoint[i];
      }
      if (!same)
        *zeroPoints = Attribute::intList(qparams.zeroPoint);
      attributes.emplace_back(kZeroPoint, *zeroPoints);
    }
  }
  if (!qparams.minval.empty())
    attributes.emplace_back(kMinval, Attribute::floatList(qparams.minval));
  attributes.insert(attributes.end(), parts.tail.begin(), parts.tail.end());
  return attributes;
}

/// The per-channel axis of a stock-expressible per-channel spec.
int64_t channelAxis(const QuantizationSpec &spec, const Type &type) {
  llvm::Expected<int64_t> axis = normalizeAxis(*spec.granularity().axis(), type.rank());
  if (!axis) {
    llvm::consumeError(axis.takeError());
    return 0;
  }
  return *axis;
}

Type withElement(const Type &type, DType dtype) {
  if (type.hasRank())
    return Type::rankedTensor(dtype, type.shape());
  return Type::unrankedTensor(dtype);
}

/// A new buffer named `base`, or `base_1`, `base_2`, ... when taken. The
/// first try is one lookup: addParameter refuses a taken name.
Value *addUniqueBuffer(Graph &graph, llvm::StringRef base, const Type &type) {
  if (Value *buffer = graph.addParameter(base, type, /*isBuffer=*/true))
    return buffer;
  for (unsigned suffix = 1;; ++suffix)
    if (Value *buffer = graph.addParameter((base + "_" + llvm::Twine(suffix)).str(), type,
                                           /*isBuffer=*/true))
      return buffer;
}

/// Creates a node of `op` before `fakeQuant`, with its provenance.
Node *createLike(Graph &graph, const Node &fakeQuant, const OpInfo *op,
                 llvm::ArrayRef<Value *> operands, const Type &resultType,
                 AttributeDict attributes) {
  Node *node = graph.createNode(op, operands, {resultType});
  node->setAttributes(std::move(attributes));
  node->copyProvenance(fakeQuant);
  graph.insertBefore(const_cast<Node *>(&fakeQuant), node);
  return node;
}

/// The same with attributes shared with other nodes (activation plans).
Node *createLike(Graph &graph, const Node &fakeQuant, const OpInfo *op,
                 llvm::ArrayRef<Value *> operands, const Type &resultType,
                 const std::shared_ptr<const AttributeDict> &attributes) {
  Node *node = graph.createNode(op, operands, {resultType});
  node->shareAttributes(attributes);
  node->copyProvenance(fakeQuant);
  graph.insertBefore(const_cast<Node *>(&fakeQuant), node);
  return node;
}

/// Turns `fakeQuant` itself into the dequantize of `operand`: its result
/// keeps its uses (graph outputs too), its provenance stays, and no node is
/// created, rerouted to and erased per fake-quant. Attributes are set by
/// the caller.
void rewriteAsDequantize(Node &fakeQuant, const OpInfo *op, Value *operand, const Type &type) {
  fakeQuant.setOp(*op);
  fakeQuant.setOperand(0, operand);
  Value *result = fakeQuant.result(0);
  result->setType(type);
  // The fake-quant's name hint is not the dequantize's (a new node's result
  // had none): the printer numbers it, as before.
  if (!result->name().empty())
    result->setName({});
}

/// What depends only on (spec, type of the quantized value): checked and
/// built once per distinct pair (graphs carry a few specs on values of a
/// few types), not per fake-quant.
struct TypePlan {
  uint32_t specId;
  Type type;
  std::vector<int64_t> qparamShape;
  DType codeType;
  Type codeValueType; // `type` with the code element type
  bool stock = false;
  QDQAttributeParts parts;
};

uint64_t hashType(const Type &type) {
  return static_cast<uint64_t>(llvm::hash_combine(
      static_cast<unsigned>(type.kind()), static_cast<unsigned>(type.dtype()), type.hasRank(),
      llvm::hash_combine_range(type.shape().begin(), type.shape().end())));
}

/// What an activation fake-quant becomes: the ops and their attributes.
/// Fake-quants of one group (and many groups calibration gave equal
/// qparams) share one plan, built once; its nodes share its attribute
/// dictionaries instead of copying them.
struct ActivationPlan {
  std::vector<int64_t> qparamShape;
  bool stock = false;
  Attribute retainedQParams; // keeps the cache key's storage alive
  const OpInfo *quantizeOp = nullptr;
  std::shared_ptr<const AttributeDict> quantizeAttributes;
  const OpInfo *dequantizeOp = nullptr;
  std::shared_ptr<const AttributeDict> dequantizeAttributes;
};

PassResult LowerToQDQPass::run(Graph &graph, PassContext &context) {
  std::vector<Node *> fakeQuants;
  for (Node *node : graph.nodes())
    if (isFakeQuant(*node))
      fakeQuants.push_back(node);
  // Counted from the vector, not during the walk over the node list: there
  // each operand's load waited for the next node's, here they overlap.
  size_t numWeights = 0;
  for (Node *node : fakeQuants)
    numWeights += node->numOperands() == 1 && node->operand(0)->isParameter();
  // A buffer of codes per weight: the name index grows once.
  graph.reserveParameters(numWeights);
  if (fakeQuants.empty()) {
    if (allowEmpty)
      return PassResult::Unchanged;
    return fail(context, "the graph contains no fake quantization nodes to convert (nothing is "
                         "quantized); pass allow-empty=true to accept that");
  }

  // Specs are parsed once per distinct dictionary. Qparams of each observer
  // group are recorded as its fake-quants go by (copies: those fake-quants
  // are rewritten on the way); a fake-quant without its own waits for the end
  // when none of its group came first.
  SpecTable specs;
  // Qparams of each observer group, first come first kept. Group ids are
  // dense from share-observers (about one per fake-quant), so a vector
  // indexed by group holds them (a map for stray ids from hand-written IR),
  // and the entries are indices into the distinct dictionaries: a hash map
  // of a million Attributes was a tenth of this pass at 1M nodes.
  std::vector<int32_t> qparamsOfGroup;
  llvm::DenseMap<int64_t, int32_t> qparamsOfSparseGroup;
  std::vector<Attribute> distinctQParams;
  llvm::DenseMap<const void *, int32_t> distinctQParamsByStorage;
  auto groupQParamsSlot = [&](int64_t group) -> int32_t & {
    if (group >= 0 && static_cast<uint64_t>(group) < 4 * fakeQuants.size() + 64) {
      if (static_cast<uint64_t>(group) >= qparamsOfGroup.size())
        qparamsOfGroup.resize(std::max<size_t>(group + 1, qparamsOfGroup.size() * 3 / 2), -1);
      return qparamsOfGroup[group];
    }
    return qparamsOfSparseGroup.try_emplace(group, -1).first->second;
  };
  auto recordGroupQParams = [&](int64_t group, const Attribute &qparams) {
    int32_t &slot = groupQParamsSlot(group);
    if (slot >= 0)
      return;
    const void *storage = qparams.isDict() ? &qparams.getDict() : nullptr;
    if (storage) {
      auto known = distinctQParamsByStorage.find(storage);
      if (known != distinctQParamsByStorage.end()) {
        slot = known->second;
        return;
      }
    }
    slot = static_cast<int32_t>(distinctQParams.size());
    // The copy keeps the storage alive, so its address stays its own.
    distinctQParams.push_back(qparams);
    if (storage)
      distinctQParamsByStorage[storage] = slot;
  };
  auto groupQParams = [&](int64_t group) -> const Attribute * {
    int32_t slot = groupQParamsSlot(group);
    return slot >= 0 ? &distinctQParams[slot] : nullptr;
  };
  std::vector<Node *> deferred;
  WeightQuantizer *quantizer = context.getService<WeightQuantizer>();
  const OpInfo *quantizeOp = &opInfo(OpCode::Quantize);
  const OpInfo *dequantizeOp = &opInfo(OpCode::Dequantize);
  const OpInfo *atenDequantize = lookupOp("aten::dequantize");
  llvm::DenseMap<std::pair<uint32_t, const void *>, ActivationPlan> plans;
  llvm::DenseMap<std::pair<uint32_t, uint64_t>, llvm::SmallVector<TypePlan *, 1>> typePlans;
  std::vector<std::unique_ptr<TypePlan>> typePlanStorage;
  Attribute weightZeroPoints; // the last weight's, shared while equal

  // Lowers one fake-quant; with `mayDefer`, one that has no qparams yet is
  // put aside instead (its group's may come later).
  auto lower = [&](Node *node, bool mayDefer) -> PassResult {
    if (node->numOperands() != 1 || node->numResults() != 1)
      return fail(context, *node, "a fake-quant takes one operand and has one result");
    const Attribute *specAttribute = node->attribute(fqattr::kSpec);
    if (!specAttribute)
      return fail(context, *node, "a fake-quant needs a 'spec' attribute");
    std::optional<uint32_t> known = specs.find(*specAttribute);
    llvm::Expected<uint32_t> specId = known ? *known : specs.intern(*specAttribute);
    if (!specId)
      return fail(context, *node, "invalid spec: " + errorText(specId.takeError()));
    const QuantizationSpec &spec = specs.spec(*specId);
    const Attribute *group = node->attribute(fqattr::kGroup);
    bool hasGroup = group && group->isInt();
    Value *input = node->operand(0);
    const Type &type = input->type();
    bool isWeight = input->isParameter();

    // Few (spec, type) pairs exist: while there are few plans, a scan finds
    // one without hashing the type.
    TypePlan *typePlan = nullptr;
    if (typePlanStorage.size() <= 8) {
      for (const std::unique_ptr<TypePlan> &candidate : typePlanStorage)
        if (candidate->specId == *specId && candidate->type == type) {
          typePlan = candidate.get();
          break;
        }
    }
    if (!typePlan && typePlanStorage.size() > 8) {
      for (TypePlan *candidate : typePlans[{*specId, hashType(type)}])
        if (candidate->type == type) {
          typePlan = candidate;
          break;
        }
    }
    if (!typePlan) {
      llvm::Expected<std::vector<int64_t>> qparamShape = qparamShapeOf(spec, type);
      if (!qparamShape)
        return fail(context, *node,
                    "its spec does not apply to " + type.str() + ": " +
                        errorText(qparamShape.takeError()));
      std::optional<DType> codeType = toIRDType(spec.targetDType());
      if (!codeType)
        return fail(context, *node,
                    "no IR element type stores " + quantDTypeName(spec.targetDType()));
      typePlanStorage.push_back(std::make_unique<TypePlan>());
      typePlan = typePlanStorage.back().get();
      typePlan->specId = *specId;
      typePlan->type = type;
      typePlan->qparamShape = std::move(*qparamShape);
      typePlan->codeType = *codeType;
      typePlan->codeValueType = withElement(type, *codeType);
      typePlan->stock = stockOps && stockExpressible(spec, type);
      typePlan->parts = qdqAttributeParts(spec, typePlan->qparamShape, type);
      typePlans[{*specId, hashType(type)}].push_back(typePlan);
    }
    const std::vector<int64_t> &qparamShape = typePlan->qparamShape;
    bool stock = typePlan->stock;

    // Qparams: own, the group's, or computed from the weight.
    const Attribute *qparamsAttribute = node->attribute(fqattr::kQParams);
    if (qparamsAttribute && hasGroup)
      recordGroupQParams(group->getInt(), *qparamsAttribute);
    if (!qparamsAttribute && hasGroup)
      qparamsAttribute = groupQParams(group->getInt());
    if (!qparamsAttribute && mayDefer && !(isWeight && quantizer && input->data())) {
      deferred.push_back(node);
      return PassResult::Unchanged;
    }

    // An activation whose (spec, qparams) was lowered before reuses that plan.
    ActivationPlan *plan = nullptr;
    if (!isWeight && qparamsAttribute && qparamsAttribute->isDict()) {
      auto found = plans.find({*specId, &qparamsAttribute->getDict()});
      if (found != plans.end() && found->second.qparamShape == qparamShape &&
          found->second.stock == stock)
        plan = &found->second;
    }

    if (!plan) {
      QParamValues qparams;
      if (qparamsAttribute) {
        llvm::Expected<QParamValues> parsed = parseQParams(*qparamsAttribute);
        if (!parsed)
          return fail(context, *node, errorText(parsed.takeError()));
        qparams = std::move(*parsed);
      } else if (isWeight && quantizer && input->data()) {
        llvm::Expected<QParamValues> computed =
            quantizer->computeQParams(*input->data(), spec, qparamShape);
        if (!computed)
          return fail(context, *node,
                      "computing the qparams of '%" + input->name() +
                          "' failed: " + errorText(computed.takeError()));
        qparams = std::move(*computed);
      } else {
        std::string why;
        if (isWeight)
          why = input->data() ? "; computing weight qparams needs the runtime's weight "
                                "quantizer, which is not linked"
                              : "; the parameter has no data to compute them from";
        return fail(context, *node,
                    "the fake-quant has no qparams" + why +
                        ": run calibration or provide qparams (qparams = {scale = [...], "
                        "zero_point = [...]} or minval = [...])");
      }
      if (llvm::Error error = checkQParams(qparams, spec, qparamShape))
        return fail(context, *node, "invalid qparams: " + errorText(std::move(error)));

      if (isWeight) {
        if (!type.hasStaticShape())
          return fail(context, *node,
                      "a quantized weight needs a static shape, found " + type.str());
        llvm::SmallString<64> name(input->name());
        name += "_quantized";
        Value *codes = addUniqueBuffer(graph, name, typePlan->codeValueType);
        if (input->data()) {
          llvm::Expected<TensorData> data =
              quantizer ? quantizer->quantize(*input->data(), spec, qparams, qparamShape)
                        : quantizeWithQParams(*input->data(), spec, qparams, qparamShape);
          if (!data)
            return fail(context, *node,
                        "quantizing '%" + input->name() +
                            "' failed: " + errorText(data.takeError()));
          codes->setData(std::make_shared<TensorData>(std::move(*data)));
        }
        if (stock) {
          AttributeDict attributes;
          const OpInfo *op;
          if (spec.granularity().isPerTensor()) {
            op = lookupOp("aten::_make_per_tensor_quantized_tensor");
            attributes.emplace_back("scale", Attribute::floating(qparams.scale[0]));
            attributes.emplace_back("zero_point", Attribute::integer(qparams.zeroPoint[0]));
          } else {
            op = lookupOp("aten::_make_per_channel_quantized_tensor");
            attributes.emplace_back("scale", Attribute::floatList(qparams.scale));
            attributes.emplace_back("zero_point", Attribute::intList(qparams.zeroPoint));
            attributes.emplace_back("axis", Attribute::integer(channelAxis(spec, type)));
          }
          Node *quantized =
              createLike(graph, *node, op, {codes}, typePlan->codeValueType, std::move(attributes));
          rewriteAsDequantize(*node, atenDequantize, quantized->result(0), type);
          node->setAttributes(AttributeDict());
        } else {
          rewriteAsDequantize(*node, dequantizeOp, codes, type);
          node->setAttributes(qdqAttributes(typePlan->parts, qparams, &weightZeroPoints));
        }
        return PassResult::Changed;
      }

      ActivationPlan built;
      built.qparamShape = qparamShape;
      built.stock = stock;
      AttributeDict quantizeAttributes;
      if (stock) {
        if (spec.granularity().isPerTensor()) {
          built.quantizeOp = lookupOp("aten::quantize_per_tensor");
          quantizeAttributes.emplace_back("scale", Attribute::floating(qparams.scale[0]));
          quantizeAttributes.emplace_back("zero_point", Attribute::integer(qparams.zeroPoint[0]));
        } else {
          built.quantizeOp = lookupOp("aten::quantize_per_channel");
          quantizeAttributes.emplace_back("scales", Attribute::floatList(qparams.scale));
          quantizeAttributes.emplace_back("zero_points", Attribute::intList(qparams.zeroPoint));
          quantizeAttributes.emplace_back("axis", Attribute::integer(channelAxis(spec, type)));
        }
        quantizeAttributes.emplace_back("dtype", Attribute::string(stockDTypeName(spec).str()));
        built.quantizeAttributes =
            std::make_shared<const AttributeDict>(std::move(quantizeAttributes));
        built.dequantizeOp = atenDequantize;
        built.dequantizeAttributes = std::make_shared<const AttributeDict>();
      } else {
        built.quantizeOp = quantizeOp;
        built.quantizeAttributes =
            std::make_shared<const AttributeDict>(qdqAttributes(typePlan->parts, qparams));
        built.dequantizeOp = dequantizeOp;
        built.dequantizeAttributes = built.quantizeAttributes;
      }
      if (qparamsAttribute && qparamsAttribute->isDict()) {
        built.retainedQParams = *qparamsAttribute;
        plan = &(plans[{*specId, &built.retainedQParams.getDict()}] = std::move(built));
      } else {
        plans.erase({*specId, nullptr});
        plan = &(plans[{*specId, nullptr}] = std::move(built));
      }
    }

    Node *quantize = createLike(graph, *node, plan->quantizeOp, {input}, typePlan->codeValueType,
                                plan->quantizeAttributes);
    rewriteAsDequantize(*node, plan->dequantizeOp, quantize->result(0), type);
    node->shareAttributes(plan->dequantizeAttributes);
    return PassResult::Changed;
  };

  for (Node *node : fakeQuants)
    if (lower(node, /*mayDefer=*/true) == PassResult::Failed)
      return PassResult::Failed;
  for (Node *node : deferred)
    if (lower(node, /*mayDefer=*/false) == PassResult::Failed)
      return PassResult::Failed;
  return PassResult::Changed;
}

} // namespace

std::unique_ptr<Pass> createLowerToQDQPass() { return std::make_unique<LowerToQDQPass>(); }

} // namespace qfx
