//===- tests/unit/QuantPassesTest.cpp - Quantization passes via the API ---===//
//
// What the lit tests of share-observers, insert-fake-quant, fold-conv-bn and
// lower-to-qdq cannot show: the union-find on its own (deep chains without
// recursion, cycles, a partition independent of the order of unions), the
// grouping of share-observers independent of the graph's topological order
// on generated graphs, the fold-conv-bn numerics on parameter data (the text
// form carries none), and lower-to-qdq's weight codes with given qparams and
// with a WeightQuantizer service provided through the PassContext.
//
//===----------------------------------------------------------------------===//
#include "ir/Graph.h"
#include "ir/Parser.h"
#include "ir/Printer.h"
#include "ir/Verifier.h"
#include "passes/BuiltinPasses.h"
#include "passes/Pass.h"
#include "passes/PassPipeline.h"
#include "passes/quant/UnionFind.h"
#include "passes/quant/WeightQuantizer.h"

#include "gtest/gtest.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

using namespace qfx;

namespace {

std::unique_ptr<Graph> parse(llvm::StringRef text) {
  DiagnosticEngine diagnostics;
  std::unique_ptr<Graph> graph = parseGraph(text, diagnostics, "test.qfx");
  EXPECT_TRUE(graph) << "test input does not parse";
  return graph;
}

/// Runs `pipelineElement` with `context`; collects the messages.
PassResult runPass(llvm::StringRef name, Graph &graph, std::vector<std::string> *messages = nullptr,
                   WeightQuantizer *quantizer = nullptr, bool hideQuantizer = false) {
  DiagnosticEngine diagnostics;
  std::vector<std::string> collected;
  diagnostics.setHandler([&](const Diagnostic &d) { collected.push_back(d.message); });
  PassContext context(diagnostics);
  if (quantizer || hideQuantizer)
    context.setService<WeightQuantizer>(quantizer);
  std::unique_ptr<Pass> pass = builtinPassRegistry().create(name);
  EXPECT_TRUE(pass) << name.str();
  PassResult result = pass->run(graph, context);
  if (result != PassResult::Failed) {
    EXPECT_TRUE(verifyGraph(graph, diagnostics)) << printGraphToString(graph);
  }
  if (messages)
    *messages = collected;
  return result;
}

std::shared_ptr<TensorData> floats(std::vector<int64_t> shape, const std::vector<float> &values) {
  auto data = std::make_shared<TensorData>();
  data->dtype = DType::F32;
  data->shape = std::move(shape);
  data->mutableBytes().resize(values.size() * sizeof(float));
  std::memcpy(data->mutableBytes().data(), values.data(), data->bytes().size());
  return data;
}

std::vector<float> floatsOf(const TensorData &data) {
  std::vector<float> values(data.bytes().size() / sizeof(float));
  std::memcpy(values.data(), data.bytes().data(), data.bytes().size());
  return values;
}

//===----------------------------------------------------------------------===//
// UnionFind
//===----------------------------------------------------------------------===//

TEST(UnionFindTest, UnitesAndFinds) {
  UnionFind sets(6);
  EXPECT_FALSE(sets.connected(0, 1));
  EXPECT_TRUE(sets.unite(0, 1));
  EXPECT_TRUE(sets.unite(2, 3));
  EXPECT_TRUE(sets.unite(1, 3));
  EXPECT_TRUE(sets.connected(0, 2));
  EXPECT_FALSE(sets.connected(0, 4));
  EXPECT_EQ(sets.setSize(3), 4u);
  EXPECT_EQ(sets.add(), 6u);
  EXPECT_EQ(sets.size(), 7u);
}

TEST(UnionFindTest, UnitingWithinOneSetOrClosingACycleIsANoOp) {
  UnionFind sets(3);
  EXPECT_FALSE(sets.unite(1, 1));
  EXPECT_TRUE(sets.unite(0, 1));
  EXPECT_TRUE(sets.unite(1, 2));
  EXPECT_FALSE(sets.unite(2, 0)); // the cycle 0-1-2-0
  EXPECT_EQ(sets.setSize(0), 3u);
}

TEST(UnionFindTest, DeepChainsNeedNoRecursion) {
  // Unions of consecutive items build long parent chains before compression;
  // a recursive find would need a frame per link.
  const uint32_t n = 2'000'000;
  UnionFind sets(n);
  for (uint32_t i = 1; i < n; ++i)
    sets.unite(i, i - 1);
  EXPECT_TRUE(sets.connected(0, n - 1));
  EXPECT_EQ(sets.setSize(12345), n);
}

/// The partition as a canonical vector: each item's smallest set member.
std::vector<uint32_t> canonicalPartition(UnionFind &sets) {
  std::vector<uint32_t> smallest(sets.size(), UINT32_MAX);
  for (uint32_t i = 0; i < sets.size(); ++i)
    smallest[sets.find(i)] = std::min(smallest[sets.find(i)], i);
  std::vector<uint32_t> result(sets.size());
  for (uint32_t i = 0; i < sets.size(); ++i)
    result[i] = smallest[sets.find(i)];
  return result;
}

TEST(UnionFindTest, PartitionDoesNotDependOnTheOrderOfUnions) {
  std::mt19937 random(42);
  const uint32_t n = 500;
  std::vector<std::pair<uint32_t, uint32_t>> pairs;
  for (int i = 0; i < 300; ++i)
    pairs.push_back({random() % n, random() % n});
  UnionFind reference(n);
  for (auto [a, b] : pairs)
    reference.unite(a, b);
  std::vector<uint32_t> expected = canonicalPartition(reference);
  for (int trial = 0; trial < 20; ++trial) {
    std::shuffle(pairs.begin(), pairs.end(), random);
    UnionFind sets(n);
    for (auto [a, b] : pairs)
      trial % 2 ? sets.unite(a, b) : sets.unite(b, a);
    EXPECT_EQ(canonicalPartition(sets), expected) << "trial " << trial;
  }
}

//===----------------------------------------------------------------------===//
// share-observers: independence of the topological order
//===----------------------------------------------------------------------===//

/// A generated graph: `width` independent chains, each relu -> (cat with
/// the previous chain's value) -> linear-like consumer, with specs drawn from
/// three kinds, so producer/consumer, sibling and shared_with merges all
/// occur. Nodes are emitted in one of two interleavings.
std::string generatedGraph(int width, bool interleaved) {
  const char *specs[] = {"{dtype = \"int8\"}", "{dtype = \"int8\", qscheme = \"asymmetric\"}",
                         "{dtype = \"int4\"}"};
  std::vector<std::vector<std::string>> chains(width);
  for (int c = 0; c < width; ++c) {
    std::string a = specs[c % 3], b = specs[(c + 1) % 3];
    std::string prev = c == 0 ? "%x" : "%r" + std::to_string(c - 1);
    std::string r = "%r" + std::to_string(c), k = "%k" + std::to_string(c),
                u = "%u" + std::to_string(c);
    chains[c].push_back(
        r + " = aten::relu(%x) : tensor<1x4xf32> quant(inputs = [none], output = " + a + ")");
    chains[c].push_back(k + " = aten::cat(" + r + ", " + prev +
                        ") {dim = 0} : tensor<2x4xf32> quant(inputs = [" + a +
                        ", {shared_with = 0}], output = {shared_with = 0})");
    chains[c].push_back(u + " = aten::gelu(" + k + ") : tensor<2x4xf32> quant(inputs = [" + b +
                        "], output = none)");
  }
  std::string text = "graph @g(%x: tensor<1x4xf32>) {\n";
  std::vector<std::string> outputs;
  if (interleaved) {
    // Every chain's relu first (in reverse), then the cats, then the gelus.
    for (int step = 0; step < 3; ++step)
      for (int c = width - 1; c >= 0; --c)
        text += "  " + chains[c][step] + "\n";
  } else {
    for (int c = 0; c < width; ++c)
      for (const std::string &line : chains[c])
        text += "  " + line + "\n";
  }
  text += "  return";
  for (int c = 0; c < width; ++c)
    text += std::string(c ? ", " : " ") + "%u" + std::to_string(c);
  return text + "\n}\n";
}

/// Group of every (node name, slot) as a canonical partition keyed by names.
std::map<std::string, std::string> groupsByName(const Graph &graph) {
  std::map<std::string, std::string> slotGroup;
  std::map<int64_t, std::string> firstSlotOfGroup;
  std::map<std::string, int64_t> raw;
  for (const Node *node : graph.nodes()) {
    const QuantAnnotation *quant = node->quant();
    if (!quant)
      continue;
    std::string name = node->result(0)->name().str();
    for (size_t k = 0; k <= quant->inputGroups.size(); ++k) {
      int64_t group = k < quant->inputGroups.size() ? quant->inputGroups[k] : quant->outputGroup;
      raw[name + "#" + (k < quant->inputGroups.size() ? std::to_string(k) : "out")] = group;
    }
  }
  // Name each group by its smallest slot name: a canonical form of the
  // partition that ignores group numbering (which follows graph order).
  for (const auto &[slot, group] : raw)
    if (group >= 0 && !firstSlotOfGroup.count(group))
      firstSlotOfGroup[group] = slot;
  for (const auto &[slot, group] : raw)
    slotGroup[slot] = group < 0 ? "-" : firstSlotOfGroup[group];
  return slotGroup;
}

TEST(ShareObserversTest, PartitionDoesNotDependOnTopologicalOrder) {
  for (const char *pipeline : {"share-observers", "share-observers{compatibility=reference}"}) {
    std::unique_ptr<Graph> straight = parse(generatedGraph(30, false));
    std::unique_ptr<Graph> interleaved = parse(generatedGraph(30, true));
    ASSERT_TRUE(straight && interleaved);
    DiagnosticEngine diagnostics;
    PassList passes;
    ASSERT_TRUE(parsePassPipeline(pipeline, builtinPassRegistry(), passes, diagnostics));
    PassContext context(diagnostics);
    ASSERT_NE(passes[0]->run(*straight, context), PassResult::Failed);
    ASSERT_NE(passes[0]->run(*interleaved, context), PassResult::Failed);
    EXPECT_EQ(groupsByName(*straight), groupsByName(*interleaved)) << pipeline;
  }
}

TEST(ShareObserversTest, RunningTwiceIsUnchanged) {
  std::unique_ptr<Graph> graph = parse(generatedGraph(5, false));
  ASSERT_TRUE(graph);
  EXPECT_EQ(runPass("share-observers", *graph), PassResult::Changed);
  EXPECT_EQ(runPass("share-observers", *graph), PassResult::Unchanged);
}

//===----------------------------------------------------------------------===//
// fold-conv-bn numerics
//===----------------------------------------------------------------------===//

struct BatchNormData {
  std::vector<float> gamma, beta, mean, var;
};

/// Adds a `producerOp` (weight shaped `weightShape`, optional bias) followed
/// by a batch_norm over `channels`, with data.
std::unique_ptr<Graph> convBatchNormGraph(llvm::StringRef producerOp,
                                          std::vector<int64_t> weightShape,
                                          const std::vector<float> &weight,
                                          const std::vector<float> *bias, const BatchNormData &bn,
                                          std::optional<double> eps) {
  int64_t channels = static_cast<int64_t>(bn.gamma.size());
  auto graph = std::make_unique<Graph>("fold");
  Type activation = Type::rankedTensor(DType::F32, {1, channels, 2, 2});
  Value *x = graph->addInput("x", activation);
  auto param = [&](const char *name, std::vector<int64_t> shape, const std::vector<float> &values,
                   bool buffer = false) {
    Value *p = graph->addParameter(name, Type::rankedTensor(DType::F32, shape), buffer);
    p->setData(floats(shape, values));
    return p;
  };
  Value *w = param("conv.weight", weightShape, weight);
  std::vector<Value *> operands = {x, w};
  if (bias)
    operands.push_back(param("conv.bias", {channels}, *bias));
  Node *producer = graph->createNode(producerOp, operands, {activation});
  graph->append(producer);
  Node *bnNode = graph->createNode("aten::batch_norm",
                                   {producer->result(0), param("bn.weight", {channels}, bn.gamma),
                                    param("bn.bias", {channels}, bn.beta),
                                    param("bn.running_mean", {channels}, bn.mean, true),
                                    param("bn.running_var", {channels}, bn.var, true)},
                                   {activation});
  if (eps)
    bnNode->setAttribute("eps", Attribute::floating(*eps));
  graph->append(bnNode);
  graph->addOutput(bnNode->result(0));
  return graph;
}

/// The reference's fold in f32: scale = gamma / sqrt(var + eps).
float foldScale(const BatchNormData &bn, int c, float eps) {
  float denominator = std::sqrt(bn.var[c] + eps);
  return bn.gamma[c] / denominator;
}

TEST(FoldConvBatchNormTest, ConvWeightIsScaledPerOutputChannelAndBiasCreated) {
  BatchNormData bn{{1.5f, -0.5f}, {0.25f, 1.0f}, {0.1f, -0.2f}, {0.9f, 4.0f}};
  // [C_out = 2, C_in = 1, 1, 2]
  std::vector<float> weight = {1.0f, 2.0f, -3.0f, 0.5f};
  std::unique_ptr<Graph> graph =
      convBatchNormGraph("aten::conv2d", {2, 1, 1, 2}, weight, nullptr, bn, 1e-3);
  ASSERT_EQ(runPass("fold-conv-bn", *graph), PassResult::Changed);

  ASSERT_EQ(graph->numNodes(), 1u) << printGraphToString(*graph);
  Node *conv = graph->front();
  EXPECT_EQ(graph->outputs()[0], conv->result(0));
  ASSERT_EQ(conv->numOperands(), 3u);
  Value *bias = conv->operand(2);
  EXPECT_EQ(bias->name(), "conv.bias");
  EXPECT_EQ(bias->type(), Type::rankedTensor(DType::F32, {2}));

  std::vector<float> folded = floatsOf(*conv->operand(1)->data());
  std::vector<float> foldedBias = floatsOf(*bias->data());
  for (int c = 0; c < 2; ++c) {
    float scale = foldScale(bn, c, 1e-3f);
    for (int i = 0; i < 2; ++i)
      EXPECT_EQ(folded[c * 2 + i], weight[c * 2 + i] * scale) << c << "," << i;
    float centered = 0.0f - bn.mean[c];
    float scaled = centered * scale;
    EXPECT_EQ(foldedBias[c], scaled + bn.beta[c]) << c;
  }
  // Hand-checked numbers for channel 1: scale = -0.5 / sqrt(4.001).
  EXPECT_NEAR(folded[2], -3.0 * (-0.5 / std::sqrt(4.001)), 1e-6);
  EXPECT_NEAR(foldedBias[1], (0.2) * (-0.5 / std::sqrt(4.001)) + 1.0, 1e-6);
}

TEST(FoldConvBatchNormTest, ExistingBiasIsFoldedAndDefaultEpsIsUsed) {
  BatchNormData bn{{2.0f}, {0.5f}, {1.0f}, {0.25f}};
  std::vector<float> weight = {1.0f, -1.0f};
  std::vector<float> bias = {3.0f};
  std::unique_ptr<Graph> graph =
      convBatchNormGraph("aten::linear", {1, 2}, weight, &bias, bn, std::nullopt);
  ASSERT_EQ(runPass("fold-conv-bn", *graph), PassResult::Changed);
  Node *linear = graph->front();
  float scale = foldScale(bn, 0, 1e-5f);
  std::vector<float> folded = floatsOf(*linear->operand(1)->data());
  EXPECT_EQ(folded[0], 1.0f * scale);
  EXPECT_EQ(folded[1], -1.0f * scale);
  float centered = 3.0f - 1.0f;
  float scaled = centered * scale;
  EXPECT_EQ(floatsOf(*linear->operand(2)->data())[0], scaled + 0.5f);
  EXPECT_EQ(graph->parameters().size(), 6u); // no parameter was added
}

TEST(FoldConvBatchNormTest, ConvTransposeScalesAlongAxisOne) {
  BatchNormData bn{{1.0f, 3.0f}, {0.0f, 0.0f}, {0.0f, 0.0f}, {1.0f, 1.0f}};
  // [C_in = 2, C_out = 2, 1, 1]: element (i, o) scales by channel o.
  std::vector<float> weight = {1.0f, 1.0f, 2.0f, 2.0f};
  std::unique_ptr<Graph> graph =
      convBatchNormGraph("aten::conv_transpose2d", {2, 2, 1, 1}, weight, nullptr, bn, 0.0);
  ASSERT_EQ(runPass("fold-conv-bn", *graph), PassResult::Changed);
  std::vector<float> folded = floatsOf(*graph->front()->operand(1)->data());
  EXPECT_EQ(folded, (std::vector<float>{1.0f, 3.0f, 2.0f, 6.0f}));
}

TEST(FoldConvBatchNormTest, TosaDepthwiseScalesAlongItsChannelDimension) {
  // HWIM weight [KH = 2, KW = 1, C = 2, M = 1]: the table's channel axis 0 is
  // C in PyTorch's terms, dim 2 of this layout. KH == C here, so folding
  // along dim 0 would go through unnoticed by the shape check.
  BatchNormData bn{{1.0f, 3.0f}, {0.0f, 0.0f}, {0.0f, 0.0f}, {1.0f, 1.0f}};
  std::vector<float> weight = {1.0f, 2.0f, 4.0f, 8.0f}; // (kh, c): (0,0) (0,1) (1,0) (1,1)
  std::vector<float> bias = {0.0f, 0.0f};
  std::unique_ptr<Graph> graph =
      convBatchNormGraph("tosa.depthwise_conv2d", {2, 1, 2, 1}, weight, &bias, bn, 0.0);
  ASSERT_EQ(runPass("fold-conv-bn", *graph), PassResult::Changed);
  std::vector<float> folded = floatsOf(*graph->front()->operand(1)->data());
  EXPECT_EQ(folded, (std::vector<float>{1.0f, 6.0f, 4.0f, 24.0f}));
}

TEST(FoldConvBatchNormTest, NonFloat32DataIsAnError) {
  BatchNormData bn{{1.0f}, {0.0f}, {0.0f}, {1.0f}};
  std::unique_ptr<Graph> graph =
      convBatchNormGraph("aten::linear", {1, 1}, {1.0f}, nullptr, bn, std::nullopt);
  auto half = std::make_shared<TensorData>(*graph->parameter("bn.running_var")->data());
  half->dtype = DType::F16;
  graph->parameter("bn.running_var")->setData(half);
  std::vector<std::string> messages;
  EXPECT_EQ(runPass("fold-conv-bn", *graph, &messages), PassResult::Failed);
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_NE(messages[0].find("f32 parameter data only; '%bn.running_var' holds f16"),
            std::string::npos)
      << messages[0];
}

//===----------------------------------------------------------------------===//
// lower-to-qdq weight codes
//===----------------------------------------------------------------------===//

constexpr llvm::StringLiteral kWeightGraph = R"(graph @g(%x: tensor<1x4xf32>) {
  param %w : tensor<2x4xf32>
  %0 = qfx.fake_quant(%w) {group = 0, spec = {dtype = "int8", qscheme = "asymmetric", granularity = {type = "per_channel", axis = 0}, qparam_calculator_cls = "static"}} : tensor<2x4xf32>
  %1 = aten::linear(%x, %0) : tensor<1x2xf32>
  return %1
}
)";

std::vector<int8_t> codesOf(const Graph &graph, llvm::StringRef name) {
  const TensorData &data = *graph.parameter(name)->data();
  std::vector<int8_t> codes(data.bytes().size());
  std::memcpy(codes.data(), data.bytes().data(), codes.size());
  return codes;
}

TEST(LowerToQDQTest, GivenQParamsQuantizeWeightDataWithRoundHalfToEven) {
  std::unique_ptr<Graph> graph = parse(kWeightGraph);
  Value *w = graph->parameter("w");
  w->setData(floats({2, 4}, {0.5f, 1.5f, 2.5f, -0.5f, 1.0f, 100.0f, -100.0f, 0.25f}));
  Node *fakeQuant = graph->front();
  fakeQuant->setAttribute("qparams",
                          Attribute::dict({{"scale", Attribute::floatList({1.0, 0.5})},
                                           {"zero_point", Attribute::intList({0, 10})}}));
  ASSERT_EQ(runPass("lower-to-qdq", *graph, nullptr, nullptr, /*hideQuantizer=*/true),
            PassResult::Changed);
  // Row 0: x / 1 rounded half to even. Row 1: x / 0.5 + 10, clamped to int8.
  EXPECT_EQ(codesOf(*graph, "w_quantized"), (std::vector<int8_t>{0, 2, 2, 0, 12, 127, -128, 10}));
  EXPECT_EQ(graph->parameter("w_quantized")->type(), Type::rankedTensor(DType::I8, {2, 4}));
}

/// A stand-in for the runtime: qparams scale 0.5 / zero point 1 per row,
/// codes all 7; counts its calls.
class StubQuantizer : public WeightQuantizer {
public:
  llvm::Expected<QParamValues> computeQParams(const TensorData &, const QuantizationSpec &,
                                              llvm::ArrayRef<int64_t> qparamShape) override {
    ++computed;
    size_t n = static_cast<size_t>(productOf(qparamShape));
    return QParamValues{std::vector<double>(n, 0.5), std::vector<int64_t>(n, 1), {}};
  }
  llvm::Expected<TensorData> quantize(const TensorData &weight, const QuantizationSpec &,
                                      const QParamValues &, llvm::ArrayRef<int64_t>) override {
    ++quantized;
    TensorData codes;
    codes.dtype = DType::I8;
    codes.shape = weight.shape;
    codes.mutableBytes().assign(static_cast<size_t>(productOf(weight.shape)), 7);
    return codes;
  }
  int computed = 0, quantized = 0;
};

TEST(LowerToQDQTest, WeightQuantizerServiceComputesQParamsAndCodes) {
  std::unique_ptr<Graph> graph = parse(kWeightGraph);
  graph->parameter("w")->setData(floats({2, 4}, std::vector<float>(8, 1.0f)));
  StubQuantizer stub;
  ASSERT_EQ(runPass("lower-to-qdq", *graph, nullptr, &stub), PassResult::Changed);
  EXPECT_EQ(stub.computed, 1);
  EXPECT_EQ(stub.quantized, 1);
  EXPECT_EQ(codesOf(*graph, "w_quantized"), std::vector<int8_t>(8, 7));
  const Attribute *scale = graph->front()->attribute("scale");
  ASSERT_TRUE(scale);
  EXPECT_EQ(*scale, Attribute::floatList({0.5, 0.5}));
}

TEST(LowerToQDQTest, DefaultServiceIsFoundWithoutBeingSetOnTheContext) {
  std::unique_ptr<Graph> graph = parse(kWeightGraph);
  graph->parameter("w")->setData(floats({2, 4}, std::vector<float>(8, 1.0f)));
  StubQuantizer stub;
  setDefaultPassService<WeightQuantizer>(&stub);
  PassResult result = runPass("lower-to-qdq", *graph);
  setDefaultPassService<WeightQuantizer>(nullptr);
  EXPECT_EQ(result, PassResult::Changed);
  EXPECT_EQ(stub.computed, 1);
}

TEST(LowerToQDQTest, WithoutQuantizerOrQParamsTheErrorNamesTheFix) {
  std::unique_ptr<Graph> graph = parse(kWeightGraph);
  graph->parameter("w")->setData(floats({2, 4}, std::vector<float>(8, 1.0f)));
  std::vector<std::string> messages;
  EXPECT_EQ(runPass("lower-to-qdq", *graph, &messages, nullptr, /*hideQuantizer=*/true),
            PassResult::Failed);
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_NE(messages[0].find("computing weight qparams needs the runtime's weight quantizer, which "
                             "is not linked: run calibration or provide qparams"),
            std::string::npos)
      << messages[0];
}

TEST(LowerToQDQTest, MinvalCodesFollowTheKernelFormula) {
  QuantizationSpecFields fields;
  fields.dtype = QuantDType::UInt4;
  fields.qscheme = QScheme::Asymmetric;
  fields.qformulation = QFormulation::MinVal;
  llvm::Expected<QuantizationSpec> spec = QuantizationSpec::create(fields);
  ASSERT_TRUE(static_cast<bool>(spec));
  TensorData weight = *floats({4}, {-1.0f, -0.75f, 0.0f, 3.0f});
  QParamValues qparams{{0.25}, {}, {-1.0}};
  llvm::Expected<TensorData> codes = quantizeWithQParams(weight, *spec, qparams, {1});
  ASSERT_TRUE(static_cast<bool>(codes));
  // q = round((x - minval) / scale) + quant_min, clamped to [0, 15].
  EXPECT_EQ(codes->dtype, DType::U8);
  EXPECT_EQ(codes->bytes(), (std::vector<uint8_t>{0, 1, 4, 15}));
}

} // namespace
