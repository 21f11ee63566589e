//===- tests/unit/CalibratePassTest.cpp - The calibrate pass with the runtime -===//
//
// The `calibrate` pass linked with //runtime/interpreter (its Calibrator
// service): every fake-quant of a prepared graph gets qparams, the input's
// are the moving-average min/max of the synthetic batches computed here with
// ATen (reference §5.2: the first batch sets the range, later ones move it by
// averaging_constant 0.01; symmetric int8 scale max|range| / 127.5), and
// lower-to-qdq can follow it in the same pipeline.
//
//===----------------------------------------------------------------------===//
#include "ir/Parser.h"
#include "passes/BuiltinPasses.h"
#include "passes/PassManager.h"
#include "passes/PassPipeline.h"
#include "passes/quant/QuantSupport.h"
#include "runtime/interpreter/DataLoader.h"
#include "runtime/interpreter/Interpreter.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

using namespace qfx;

namespace {

const char *kLinearGraph = R"(
graph @linear(%x: tensor<2x4xf32>) {
  param %fc.weight : tensor<3x4xf32>
  param %fc.bias : tensor<3xf32>
  %0 = aten::linear(%x, %fc.weight, %fc.bias) : tensor<2x3xf32>
  %1 = aten::relu(%0) : tensor<2x3xf32>
  return %1
}
)";

struct Prepared {
  std::unique_ptr<Graph> graph;
  std::string messages;
  PassResult result = PassResult::Failed;
};

Prepared runPipeline(llvm::StringRef pipeline) {
  Prepared prepared;
  DiagnosticEngine diagnostics;
  diagnostics.setHandler([&](const Diagnostic &d) { prepared.messages += d.message + "\n"; });
  prepared.graph = parseGraph(kLinearGraph, diagnostics);
  if (!prepared.graph)
    return prepared;
  at::manual_seed(3);
  for (Value *parameter : prepared.graph->parameters()) {
    llvm::ArrayRef<int64_t> shape = parameter->type().shape();
    llvm::Expected<TensorData> data =
        tensorToData(at::randn(std::vector<int64_t>(shape.begin(), shape.end())));
    EXPECT_TRUE(static_cast<bool>(data));
    parameter->setData(std::make_shared<TensorData>(std::move(*data)));
  }
  PassList passes;
  if (!parsePassPipeline(pipeline, builtinPassRegistry(), passes, diagnostics))
    return prepared;
  PassManager manager(diagnostics);
  manager.addPasses(std::move(passes));
  prepared.result = manager.run(*prepared.graph);
  return prepared;
}

constexpr const char *kPrepare =
    "annotate{config=w8a8},share-observers,insert-fake-quant,dedup-fake-quant";

TEST(CalibratePassTest, WritesMovingAverageQParamsOfTheData) {
  Prepared prepared = runPipeline(std::string(kPrepare) + ",calibrate{num-batches=3 seed=5}");
  ASSERT_EQ(prepared.result, PassResult::Changed) << prepared.messages;
  // Synthetic data says so.
  EXPECT_NE(prepared.messages.find("synthetic noise"), std::string::npos) << prepared.messages;

  const Node *inputFakeQuant = nullptr;
  size_t fakeQuants = 0;
  for (const Node *node : prepared.graph->nodes()) {
    if (!isFakeQuant(*node))
      continue;
    ++fakeQuants;
    EXPECT_TRUE(node->hasAttribute(fqattr::kQParams)) << node->describe();
    if (node->operand(0)->isInput())
      inputFakeQuant = node;
  }
  EXPECT_GE(fakeQuants, 3u); // input, weight, output at least
  ASSERT_TRUE(inputFakeQuant);

  // The same batches, observed by hand.
  llvm::Expected<std::unique_ptr<DataSource>> data =
      createSyntheticDataSource(*prepared.graph, 3, 5);
  ASSERT_TRUE(static_cast<bool>(data)) << llvm::toString(data.takeError());
  double low = 0, high = 0;
  for (int b = 0; b < 3; ++b) {
    llvm::Expected<std::optional<Batch>> batch = (*data)->next();
    ASSERT_TRUE(batch && *batch);
    double batchLow = (**batch)[0].min().item<float>(),
           batchHigh = (**batch)[0].max().item<float>();
    if (b == 0) {
      low = batchLow;
      high = batchHigh;
    } else {
      low += 0.01 * (batchLow - low);
      high += 0.01 * (batchHigh - high);
    }
  }
  double expectedScale = std::max(-std::min(low, 0.0), std::max(high, 0.0)) / 127.5;
  const Attribute *scale = inputFakeQuant->attribute(fqattr::kQParams)->lookup("scale");
  ASSERT_TRUE(scale && scale->isList() && scale->getList().size() == 1u)
      << inputFakeQuant->attribute(fqattr::kQParams)->str();
  EXPECT_NEAR(scale->getList()[0].getFloat(), expectedScale, 1e-6 * expectedScale);
}

TEST(CalibratePassTest, LowerToQDQFollowsInOnePipeline) {
  Prepared prepared = runPipeline(std::string(kPrepare) + ",calibrate{num-batches=2},lower-to-qdq");
  ASSERT_EQ(prepared.result, PassResult::Changed) << prepared.messages;
  size_t quantizes = 0;
  for (const Node *node : prepared.graph->nodes()) {
    EXPECT_FALSE(isFakeQuant(*node)) << node->describe();
    quantizes += node->op().role == OpRole::Quantize;
  }
  EXPECT_GE(quantizes, 2u);
}

TEST(CalibratePassTest, BadDataIsAnErrorNamingIt) {
  Prepared missing =
      runPipeline(std::string(kPrepare) + ",calibrate{data=/nonexistent/batches.pt}");
  EXPECT_EQ(missing.result, PassResult::Failed);
  EXPECT_NE(missing.messages.find("/nonexistent/batches.pt"), std::string::npos)
      << missing.messages;
  Prepared unprepared = runPipeline("calibrate");
  EXPECT_EQ(unprepared.result, PassResult::Failed);
  EXPECT_NE(unprepared.messages.find("no fake quantization nodes"), std::string::npos)
      << unprepared.messages;
}

} // namespace
