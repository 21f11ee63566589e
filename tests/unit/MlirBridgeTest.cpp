//===- tests/unit/MlirBridgeTest.cpp - The MLIR bridge without MLIR -------===//
//
// Unit tests of ir/mlir/Bridge.h, the entry points for code that does not
// include MLIR headers: importMlir() of MLIR text (parameters with their
// data, nodes, locations, the diagnostics of bad input), exportMlir() of a
// graph built through the API (data written as dense constants, quantization
// in the quant dialect, failures reported with nothing written), the round
// trip export -> import -> export, and concurrent use from several threads
// (each call has its own MLIR context).
//
//===----------------------------------------------------------------------===//
#include "ir/mlir/Bridge.h"

#include "ir/Graph.h"
#include "ir/Printer.h"

#include "llvm/Support/raw_ostream.h"

#include "gtest/gtest.h"

#include <cstring>
#include <string>
#include <thread>
#include <vector>

using namespace qfx;

namespace {

/// Collects diagnostics as `file:line:col: message`.
struct Collected {
  DiagnosticEngine engine;
  std::vector<std::string> messages;
  Collected() {
    engine.setHandler([this](const Diagnostic &diagnostic) {
      messages.push_back(diagnostic.location.file.str() + ":" +
                         std::to_string(diagnostic.location.line) + ":" +
                         std::to_string(diagnostic.location.column) + ": " + diagnostic.message);
    });
  }
};

constexpr const char *kConvModule = R"mlir(
func.func @conv(%arg0: tensor<1x4x4x2xf32>) -> tensor<1x4x4x2xf32> {
  %w = "tosa.const"() {value = dense<[[[[1.0, 2.0]]], [[[3.0, -4.0]]]]> : tensor<2x1x1x2xf32>} : () -> tensor<2x1x1x2xf32>
  %b = arith.constant dense<0.5> : tensor<2xf32>
  %0 = "tosa.conv2d"(%arg0, %w, %b) {pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>, dilation = array<i64: 1, 1>} : (tensor<1x4x4x2xf32>, tensor<2x1x1x2xf32>, tensor<2xf32>) -> tensor<1x4x4x2xf32>
  %1 = "tosa.clamp"(%0) {min_int = 0 : i64, max_int = 6 : i64, min_fp = 0.0 : f32, max_fp = 6.0 : f32} : (tensor<1x4x4x2xf32>) -> tensor<1x4x4x2xf32>
  return %1 : tensor<1x4x4x2xf32>
}
func.func private @declaration(tensor<2xf32>) -> tensor<2xf32>
)mlir";

std::vector<float> floatsOf(const TensorData &data) {
  std::vector<float> values(data.bytes().size() / sizeof(float));
  std::memcpy(values.data(), data.bytes().data(), data.bytes().size());
  return values;
}

TEST(MlirBridgeTest, ImportsFunctionsWithParameterData) {
  Collected diagnostics;
  std::vector<std::unique_ptr<Graph>> graphs =
      importMlir(kConvModule, "conv.mlir", diagnostics.engine);
  ASSERT_EQ(graphs.size(), 1u) << "the declaration has no body and no graph";
  EXPECT_TRUE(diagnostics.messages.empty());
  const Graph &graph = *graphs[0];
  EXPECT_EQ(graph.name(), "conv");
  ASSERT_EQ(graph.inputs().size(), 1u);
  EXPECT_EQ(graph.inputs()[0]->type().str(), "tensor<1x4x4x2xf32>");

  // Constants are parameters named after their role in the conv.
  ASSERT_EQ(graph.parameters().size(), 2u);
  const Value *weight = graph.parameter("conv2d0.weight");
  const Value *bias = graph.parameter("conv2d0.bias");
  ASSERT_TRUE(weight && bias);
  ASSERT_TRUE(weight->data() && bias->data());
  EXPECT_EQ(weight->data()->dtype, DType::F32);
  EXPECT_EQ(weight->data()->shape, (std::vector<int64_t>{2, 1, 1, 2}));
  EXPECT_EQ(floatsOf(*weight->data()), (std::vector<float>{1, 2, 3, -4}));
  // Splats are expanded.
  EXPECT_EQ(floatsOf(*bias->data()), (std::vector<float>{0.5, 0.5}));

  // Nodes: same names as the op table, attributes as qfx attributes, the MLIR
  // location as source location.
  ASSERT_EQ(graph.numNodes(), 2u);
  const Node *conv = graph.front();
  EXPECT_EQ(conv->opName(), "tosa.conv2d");
  EXPECT_TRUE(conv->op().isKnown());
  ASSERT_TRUE(conv->attribute("stride"));
  EXPECT_EQ(conv->attribute("stride")->asIntList(), (std::vector<int64_t>{1, 1}));
  EXPECT_EQ(conv->source().file, "conv.mlir");
  EXPECT_EQ(conv->source().line, 5u);
  EXPECT_EQ(conv->source().column, 8u);
  const Node *clamp = graph.back();
  ASSERT_TRUE(clamp->attribute("max_fp"));
  EXPECT_EQ(clamp->attribute("max_fp")->getFloat(), 6.0);
  EXPECT_EQ(graph.outputs()[0], clamp->result(0));
}

TEST(MlirBridgeTest, UnparseableTextIsAnErrorWithItsLocation) {
  Collected diagnostics;
  std::vector<std::unique_ptr<Graph>> graphs =
      importMlir("func.func @f() {\n  %0 = tosa.nope\n}\n", "bad.mlir", diagnostics.engine);
  EXPECT_TRUE(graphs.empty());
  ASSERT_FALSE(diagnostics.messages.empty());
  EXPECT_EQ(diagnostics.messages[0].rfind("bad.mlir:2:", 0), 0u) << diagnostics.messages[0];
}

TEST(MlirBridgeTest, UnregisteredDialectsOnlyWhenAllowed) {
  const char *text = R"mlir(
func.func @f(%arg0: tensor<2xf32>) -> tensor<2xf32> {
  %0 = "foo.bar"(%arg0) {x = 1 : i32} : (tensor<2xf32>) -> tensor<2xf32>
  return %0 : tensor<2xf32>
}
)mlir";
  Collected rejected;
  EXPECT_TRUE(importMlir(text, "foo.mlir", rejected.engine).empty());
  ASSERT_FALSE(rejected.messages.empty());
  EXPECT_NE(rejected.messages[0].find("unregistered dialect"), std::string::npos)
      << rejected.messages[0];

  Collected accepted;
  MlirImportOptions options;
  options.allowUnregisteredDialects = true;
  std::vector<std::unique_ptr<Graph>> graphs =
      importMlir(text, "foo.mlir", accepted.engine, options);
  ASSERT_EQ(graphs.size(), 1u);
  EXPECT_EQ(graphs[0]->front()->opName(), "foo.bar");
  EXPECT_FALSE(graphs[0]->front()->op().isKnown());
}

TEST(MlirBridgeTest, ImportErrorsComeWithTheOpLocation) {
  const char *text = R"mlir(
func.func @f(%arg0: tensor<2x4xf32>, %arg1: tensor<?x4xf32>, %arg2: tensor<3xf32>) -> tensor<2x3xf32> {
  %0 = "tosa.fully_connected"(%arg0, %arg1, %arg2) : (tensor<2x4xf32>, tensor<?x4xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}
)mlir";
  Collected diagnostics;
  EXPECT_TRUE(importMlir(text, "dyn.mlir", diagnostics.engine).empty());
  ASSERT_EQ(diagnostics.messages.size(), 1u);
  EXPECT_EQ(diagnostics.messages[0],
            "dyn.mlir:3:8: 'tosa.fully_connected' needs a static shape for its weight (operand 1) "
            "to be quantized, found 'tensor<?x4xf32>'");
}

/// x -> qfx.quantize -> qfx.dequantize, and a weight as int8 codes +
/// qfx.dequantize, feeding tosa.fully_connected.
std::unique_ptr<Graph> quantizedGraph() {
  auto graph = std::make_unique<Graph>("fc");
  Type input = Type::rankedTensor(DType::F32, {1, 2});
  Value *x = graph->addInput("x", input);
  Value *codes = graph->addParameter("fc.weight_quantized", Type::rankedTensor(DType::I8, {2, 2}),
                                     /*isBuffer=*/true);
  auto data = std::make_shared<TensorData>();
  data->dtype = DType::I8;
  data->shape = {2, 2};
  data->mutableBytes() = {1, 2, 0xFF, 0x80}; // 1, 2, -1, -128
  codes->setData(data);
  Value *bias = graph->addParameter("fc.bias", Type::rankedTensor(DType::F32, {2}));
  auto biasData = std::make_shared<TensorData>();
  biasData->dtype = DType::F32;
  biasData->shape = {2};
  biasData->mutableBytes().resize(8);
  float biasValues[2] = {0.25f, -1.0f};
  std::memcpy(biasData->mutableBytes().data(), biasValues, 8);
  bias->setData(biasData);

  auto qparams = [](llvm::ArrayRef<double> scales, llvm::ArrayRef<int64_t> zeroPoints,
                    llvm::ArrayRef<int64_t> shape, std::optional<int64_t> axis) {
    AttributeDict attributes;
    attributes.emplace_back("dtype", Attribute::string("int8"));
    attributes.emplace_back("quant_min", Attribute::integer(-128));
    attributes.emplace_back("quant_max", Attribute::integer(127));
    attributes.emplace_back("scale", Attribute::floatList(scales));
    attributes.emplace_back("zero_point", Attribute::intList(zeroPoints));
    attributes.emplace_back("qparam_shape", Attribute::intList(shape));
    if (axis)
      attributes.emplace_back("axis", Attribute::integer(*axis));
    return attributes;
  };
  Node *quantize = graph->createNode("qfx.quantize", {x}, {Type::rankedTensor(DType::I8, {1, 2})});
  quantize->setAttributes(qparams({0.5}, {1}, {1, 1}, std::nullopt));
  graph->append(quantize);
  Node *dequantize = graph->createNode("qfx.dequantize", {quantize->result(0)}, {input});
  dequantize->setAttributes(qparams({0.5}, {1}, {1, 1}, std::nullopt));
  graph->append(dequantize);
  Node *weight =
      graph->createNode("qfx.dequantize", {codes}, {Type::rankedTensor(DType::F32, {2, 2})});
  weight->setAttributes(qparams({0.125, 0.25}, {0, 0}, {2, 1}, 0));
  graph->append(weight);
  Node *fc =
      graph->createNode("tosa.fully_connected", {dequantize->result(0), weight->result(0), bias},
                        {Type::rankedTensor(DType::F32, {1, 2})});
  graph->append(fc);
  graph->addOutput(fc->result(0));
  return graph;
}

TEST(MlirBridgeTest, ExportsQuantizationWithTheQuantDialect) {
  std::unique_ptr<Graph> graph = quantizedGraph();
  Collected diagnostics;
  std::string text;
  llvm::raw_string_ostream os(text);
  ASSERT_TRUE(exportMlir(*graph, os, diagnostics.engine));
  os.flush();
  EXPECT_TRUE(diagnostics.messages.empty());
  EXPECT_NE(text.find("\"quant.qcast\"(%arg0) : (tensor<1x2xf32>) -> "
                      "tensor<1x2x!quant.uniform<i8:f32, 5.000000e-01:1>>"),
            std::string::npos)
      << text;
  EXPECT_NE(
      text.find("arith.constant {qfx.name = \"fc.weight_quantized\"} dense<[[1, 2], [-1, -128]]> : "
                "tensor<2x2xi8>"),
      std::string::npos)
      << text;
  EXPECT_NE(text.find("\"quant.scast\""), std::string::npos) << text;
  EXPECT_NE(
      text.find("arith.constant {qfx.name = \"fc.bias\"} dense<[2.500000e-01, -1.000000e+00]> : "
                "tensor<2xf32>"),
      std::string::npos)
      << text;

  // Export -> import -> export gives the same text; the parameters come back
  // with their data.
  std::vector<std::unique_ptr<Graph>> graphs = importMlir(text, "fc.mlir", diagnostics.engine);
  ASSERT_EQ(graphs.size(), 1u);
  const Value *codes = graphs[0]->parameter("fc.weight_quantized");
  ASSERT_TRUE(codes && codes->data());
  EXPECT_EQ(codes->data()->bytes(), (std::vector<uint8_t>{1, 2, 0xFF, 0x80}));
  std::string again;
  llvm::raw_string_ostream againOs(again);
  ASSERT_TRUE(exportMlir(*graphs[0], againOs, diagnostics.engine));
  againOs.flush();
  EXPECT_EQ(again, text);
}

TEST(MlirBridgeTest, ExportFailuresWriteNothing) {
  Graph graph("fp4");
  Value *x = graph.addInput("x", Type::rankedTensor(DType::F32, {4}));
  Node *node = graph.createNode("aten::relu", {x}, {Type::rankedTensor(DType::F4E2M1FN, {4})});
  graph.append(node);
  graph.addOutput(node->result(0));
  Collected diagnostics;
  std::string text;
  llvm::raw_string_ostream os(text);
  EXPECT_FALSE(exportMlir(graph, os, diagnostics.engine));
  os.flush();
  EXPECT_TRUE(text.empty());
  ASSERT_EQ(diagnostics.messages.size(), 1u);
  EXPECT_NE(diagnostics.messages[0].find(
                "result 0 of 'aten::relu' has type tensor<4xf4E2M1FN>, which has no MLIR form"),
            std::string::npos)
      << diagnostics.messages[0];
}

TEST(MlirBridgeTest, ConcurrentCallsAreIndependent) {
  // Each call builds its own MLIR context: callers may use the bridge from
  // several threads at once.
  std::vector<std::string> outputs(4);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < outputs.size(); ++i)
    threads.emplace_back([&outputs, i] {
      for (int repeat = 0; repeat < 5; ++repeat) {
        DiagnosticEngine diagnostics;
        std::vector<std::unique_ptr<Graph>> graphs =
            importMlir(kConvModule, "conv.mlir", diagnostics);
        if (graphs.size() != 1)
          return;
        std::string text;
        llvm::raw_string_ostream os(text);
        if (exportMlir(*graphs[0], os, diagnostics))
          outputs[i] = os.str();
      }
    });
  for (std::thread &thread : threads)
    thread.join();
  ASSERT_FALSE(outputs[0].empty());
  for (const std::string &output : outputs)
    EXPECT_EQ(output, outputs[0]);
}

} // namespace
