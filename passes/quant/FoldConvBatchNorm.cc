//===- passes/quant/FoldConvBatchNorm.cc - The fold-conv-bn pass ----------===//
//
// Post-training quantization folds each batch_norm into the conv,
// conv_transpose or linear before it, so the weight fake-quant sees the
// weight the deployed model multiplies with (reference §2.8; for QAT the
// pair is kept and annotated as a pattern instead). With
//   scale = gamma / sqrt(running_var + eps)          (per output channel)
// the producer's weight becomes W * scale along its output-channel axis
// (OpInfo::channelAxis: 0 for conv and linear, 1 for conv_transpose; a
// deferred TensorData::scaled, whose product is computed only by readers that
// need it whole) and its
// bias (b - running_mean) * scale + beta, with b = 0 and a new bias parameter
// when it had none; the batch_norm's users then read the producer and the
// batch_norm is erased. Arithmetic is f32 in the reference's order -- sqrt,
// then divide (not rsqrt), then multiply -- so results match its folded
// model bit for bit; eps is the `eps` attribute (1e-5 when absent).
//
// What qualifies: a node with role BatchNorm and all five operands (input,
// weight, bias, running_mean, running_var) whose input is result 0 of a
// Conv / ConvTranspose / Linear node used by nothing else, not in training
// mode (`training = true`), with every parameter a graph parameter holding
// data (TensorData) of dtype f32 and the weight and bias used by this
// producer only (folding a shared weight would change its other users).
// Hand-written IR has no parameter data: such pairs, and every other pair
// that does not qualify, are left as they are with a remark saying why, so
// the pass never guesses; non-f32 data is an error. Linear in the graph size
// and the parameter data.
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"
#include "passes/quant/QuantSupport.h"

#include "llvm/ADT/STLExtras.h"

#include <cmath>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

namespace qfx {
namespace {

class FoldConvBatchNormPass : public Pass {
public:
  FoldConvBatchNormPass()
      : Pass("fold-conv-bn",
             "Fold batch_norm into the preceding conv, conv_transpose or linear (post-training "
             "quantization; needs parameter data)") {}

  PassResult run(Graph &graph, PassContext &context) override;
};

constexpr double kDefaultEps = 1e-5;

std::vector<float> readFloats(const TensorData &data) {
  std::vector<float> values(data.bytes().size() / sizeof(float));
  if (!values.empty())
    std::memcpy(values.data(), data.bytes().data(), values.size() * sizeof(float));
  return values;
}

std::shared_ptr<TensorData> makeFloatData(const std::vector<int64_t> &shape,
                                          const std::vector<float> &values) {
  auto data = std::make_shared<TensorData>();
  data->dtype = DType::F32;
  data->shape = shape;
  std::vector<uint8_t> &bytes = data->mutableBytes();
  bytes.resize(values.size() * sizeof(float));
  if (!values.empty())
    std::memcpy(bytes.data(), values.data(), bytes.size());
  return data;
}

bool isFoldableProducer(const OpInfo &op) {
  return op.role == OpRole::Conv || op.role == OpRole::ConvTranspose || op.role == OpRole::Linear;
}

/// `conv.weight` -> `conv.bias`, else `<weight>_bias`; made unique.
std::string newBiasName(const Graph &graph, llvm::StringRef weightName) {
  std::string base = weightName.endswith(".weight")
                         ? weightName.drop_back(strlen("weight")).str() + "bias"
                         : weightName.str() + "_bias";
  std::string name = base;
  for (unsigned suffix = 1; graph.parameter(name); ++suffix)
    name = base + "_" + std::to_string(suffix);
  return name;
}

PassResult FoldConvBatchNormPass::run(Graph &graph, PassContext &context) {
  bool changed = false;
  for (Node *bn : llvm::make_early_inc_range(graph.nodes())) {
    if (bn->op().role != OpRole::BatchNorm || bn->numOperands() == 0)
      continue;
    Value *input = bn->operand(0);
    if (!input->isResult() || input->resultIndex() != 0)
      continue;
    Node *producer = input->producer();
    const OpInfo &op = producer->op();
    if (!isFoldableProducer(op))
      continue;

    auto skip = [&](const llvm::Twine &why) {
      context.diagnostics().remark(bn->textLocation(), "batch_norm not folded into " +
                                                           producer->describe() + ": " + why);
    };
    if (bn->numOperands() != 5) {
      skip("it needs its weight, bias, running_mean and running_var operands");
      continue;
    }
    if (const Attribute *training = bn->attribute("training");
        training && training->isBool() && training->getBool()) {
      skip("it is in training mode");
      continue;
    }
    if (input->numUses() != 1) {
      skip("the " + producer->opName() + " result has other users");
      continue;
    }
    int weightIndex = op.weightOperand, biasIndex = op.biasOperand, axis = op.channelAxis;
    if (weightIndex < 0 || weightIndex >= static_cast<int>(producer->numOperands()) || axis < 0) {
      skip("the op has no weight operand with a channel axis");
      continue;
    }
    Value *weight = producer->operand(weightIndex);
    Value *bias = biasIndex >= 0 && biasIndex < static_cast<int>(producer->numOperands())
                      ? producer->operand(biasIndex)
                      : nullptr;
    if (!bias && biasIndex != static_cast<int>(producer->numOperands())) {
      skip("the op has no bias operand to write the folded bias to");
      continue;
    }
    Value *gamma = bn->operand(1), *beta = bn->operand(2), *mean = bn->operand(3),
          *var = bn->operand(4);
    bool allParameters = true;
    for (Value *value : {weight, gamma, beta, mean, var})
      allParameters &= value->isParameter();
    if (bias)
      allParameters &= bias->isParameter();
    if (!allParameters) {
      skip("its weight, bias and statistics must all be graph parameters");
      continue;
    }
    if (weight->numUses() != 1 || (bias && bias->numUses() != 1)) {
      skip("the weight or bias is shared with other ops");
      continue;
    }
    bool haveData = true;
    for (Value *value : {weight, gamma, beta, mean, var})
      haveData &= value->data() != nullptr;
    if (bias)
      haveData &= bias->data() != nullptr;
    if (!haveData) {
      skip("the parameters have no data (folding needs their values)");
      continue;
    }
    for (Value *value : {weight, bias, gamma, beta, mean, var}) {
      if (value && value->data()->dtype != DType::F32)
        return fail(context, *bn,
                    "fold-conv-bn supports f32 parameter data only; '%" + value->name() +
                        "' holds " + dtypeName(value->data()->dtype));
    }

    const TensorData &weightData = *weight->data();
    int64_t rank = static_cast<int64_t>(weightData.shape.size());
    // The table gives the axis in PyTorch's weight terms; tosa weights keep
    // their channels elsewhere (OHWI, HWIM), which weightDim maps to.
    axis = static_cast<int>(op.weightDim(axis, rank));
    if (axis >= rank) {
      skip("the weight has no axis " + llvm::Twine(axis));
      continue;
    }
    int64_t channels = weightData.shape[axis];
    bool shapesMatch = true;
    for (Value *value : {gamma, beta, mean, var})
      shapesMatch &= value->data()->shape == std::vector<int64_t>{channels};
    if (bias)
      shapesMatch &= bias->data()->shape == std::vector<int64_t>{channels};
    if (!shapesMatch) {
      skip("the weight has " + llvm::Twine(channels) + " channels on axis " + llvm::Twine(axis) +
           " but the bias or batch_norm parameters are not of that size");
      continue;
    }
    double eps = kDefaultEps;
    if (const Attribute *epsAttribute = bn->attribute("eps"))
      if (std::optional<double> number = epsAttribute->asNumber())
        eps = *number;

    int64_t elements = productOf(weightData.shape);
    std::vector<float> g = readFloats(*gamma->data()), b0 = readFloats(*beta->data()),
                       m = readFloats(*mean->data()), v = readFloats(*var->data());
    std::vector<float> b = bias ? readFloats(*bias->data()) : std::vector<float>(channels, 0.0f);
    if (static_cast<int64_t>(weightData.byteSize()) != elements * int64_t(sizeof(float))) {
      skip("the weight data does not hold its shape's elements");
      continue;
    }
    // scale = gamma / sqrt(var + eps): f32 throughout, sqrt then divide.
    const float epsF = static_cast<float>(eps);
    std::vector<float> scale(channels);
    for (int64_t c = 0; c < channels; ++c) {
      float denominator = std::sqrt(v[c] + epsF);
      scale[c] = g[c] / denominator;
    }
    // W' = W * scale along `axis`, kept deferred: the new weight is the old
    // one's data plus the factors (TensorData::scaled), not 4 bytes per
    // element written here and read back by the weight quantizer -- that
    // traffic was most of what preparing and converting a CNN cost. Readers
    // that know the form apply the factor as they go (the interpreter's conv,
    // the runtime's weight quantizer); the others get the product, computed
    // once with this f32 multiply. The old TensorData is shared, not
    // changed: the float graph (copyGraph) still reads it.
    std::shared_ptr<TensorData> foldedWeight = TensorData::scaled(weight->data(), axis, scale);
    std::vector<float> folded(channels);
    for (int64_t c = 0; c < channels; ++c) {
      float centered = b[c] - m[c];
      float scaled = centered * scale[c];
      folded[c] = scaled + b0[c];
    }

    weight->setData(std::move(foldedWeight));
    if (bias) {
      bias->setData(makeFloatData({channels}, folded));
    } else {
      std::string name = newBiasName(graph, weight->name());
      Value *newBias =
          graph.addParameter(name, Type::rankedTensor(DType::F32, {channels}), /*isBuffer=*/false);
      newBias->setData(makeFloatData({channels}, folded));
      producer->addOperand(newBias);
      if (producer->quant()) {
        QuantAnnotation &quant = producer->getOrCreateQuant();
        quant.inputs.push_back(Attribute::none());
        if (quant.hasGroups())
          quant.inputGroups.push_back(-1);
      }
    }
    bn->result(0)->replaceAllUsesWith(input);
    graph.erase(bn);
    changed = true;
  }
  return changed ? PassResult::Changed : PassResult::Unchanged;
}

} // namespace

std::unique_ptr<Pass> createFoldConvBatchNormPass() {
  return std::make_unique<FoldConvBatchNormPass>();
}

} // namespace qfx
