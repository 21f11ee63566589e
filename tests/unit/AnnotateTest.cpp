//===- tests/unit/AnnotateTest.cpp - The annotate pass through the API ----===//
//
// The annotate pass run the way a compiler pipeline links it (by registry
// name, options set through the API): large generated graphs (a residual MLP
// of 100k nodes, a 100k-long chain of shared-observer ops that propagation
// walks without recursion), idempotence (a second run changes nothing),
// Changed/Unchanged/Failed results, and config errors reported as
// diagnostics rather than crashes.
//
//===----------------------------------------------------------------------===//
#include "ir/Graph.h"
#include "ir/Verifier.h"
#include "passes/BuiltinPasses.h"
#include "passes/Pass.h"

#include "gtest/gtest.h"

#include <string>
#include <vector>

using namespace qfx;

namespace {

struct RunResult {
  PassResult result;
  std::vector<Diagnostic> diagnostics;
};

RunResult runAnnotate(Graph &graph, llvm::StringRef config = "") {
  std::unique_ptr<Pass> pass = builtinPassRegistry().create("annotate");
  EXPECT_TRUE(pass != nullptr);
  if (!config.empty()) {
    llvm::Error error = pass->setOption("config", config);
    EXPECT_FALSE(bool(error)) << llvm::toString(std::move(error));
  }
  RunResult run;
  DiagnosticEngine diagnostics;
  diagnostics.setHandler([&](const Diagnostic &d) { run.diagnostics.push_back(d); });
  PassContext context(diagnostics);
  run.result = pass->run(graph, context);
  return run;
}

Type f32(llvm::ArrayRef<int64_t> shape) { return Type::rankedTensor(DType::F32, shape); }

/// `blocks` residual blocks x + fc2(relu(fc1(x))), each op in its module.
std::unique_ptr<Graph> residualMLP(unsigned blocks) {
  auto graph = std::make_unique<Graph>("mlp");
  Value *x = graph->addInput("x", f32({1, 16}));
  for (unsigned b = 0; b < blocks; ++b) {
    std::string prefix = "l" + std::to_string(b);
    Value *w1 = graph->addParameter(prefix + ".fc1.weight", f32({16, 16}));
    Value *w2 = graph->addParameter(prefix + ".fc2.weight", f32({16, 16}));
    Node *fc1 = graph->createNode("aten::linear", {x, w1}, {f32({1, 16})});
    fc1->setModule(graph->intern(prefix + ".fc1"), "torch.nn.modules.linear.Linear");
    graph->append(fc1);
    Node *relu = graph->createNode("aten::relu", {fc1->result()}, {f32({1, 16})});
    graph->append(relu);
    Node *fc2 = graph->createNode("aten::linear", {relu->result(), w2}, {f32({1, 16})});
    fc2->setModule(graph->intern(prefix + ".fc2"), "torch.nn.modules.linear.Linear");
    graph->append(fc2);
    Node *add = graph->createNode("aten::add", {fc2->result(), x}, {f32({1, 16})});
    graph->append(add);
    x = add->result();
  }
  graph->addOutput(x);
  return graph;
}

bool isNone(const Attribute &entry) { return entry.isNone(); }

TEST(AnnotateTest, LargeResidualMLP) {
  std::unique_ptr<Graph> graph = residualMLP(25000); // 100k nodes
  RunResult run = runAnnotate(*graph);
  ASSERT_EQ(run.result, PassResult::Changed);
  EXPECT_TRUE(run.diagnostics.empty());
  unsigned linears = 0, relus = 0, adds = 0;
  for (const Node *node : graph->nodes()) {
    const QuantAnnotation *quant = node->quant();
    ASSERT_NE(quant, nullptr) << node->describe(); // every node is in some pattern
    ASSERT_EQ(quant->inputs.size(), node->numOperands());
    switch (node->op().role) {
    case OpRole::Linear:
      ++linears;
      EXPECT_FALSE(isNone(quant->inputs[0]));
      EXPECT_FALSE(isNone(quant->inputs[1]));
      break;
    case OpRole::Add:
      ++adds;
      EXPECT_FALSE(isNone(quant->output));
      break;
    default:
      ++relus;
      EXPECT_FALSE(isNone(quant->output)); // fc1 -> relu: the relu output
    }
  }
  EXPECT_EQ(linears, 50000u);
  EXPECT_EQ(relus, 25000u);
  EXPECT_EQ(adds, 25000u);
  DiagnosticEngine diagnostics;
  EXPECT_TRUE(verifyGraph(*graph, diagnostics));
}

TEST(AnnotateTest, SecondRunChangesNothing) {
  std::unique_ptr<Graph> graph = residualMLP(10);
  ASSERT_EQ(runAnnotate(*graph, "w8").result, PassResult::Changed);
  EXPECT_EQ(runAnnotate(*graph, "w8").result, PassResult::Unchanged);
}

TEST(AnnotateTest, LongSharedObserverChainPropagatesIteratively) {
  Graph graph("chain");
  Value *x = graph.addInput("x", f32({1, 4, 8, 8}));
  Node *relu = graph.createNode("aten::relu", {x}, {f32({1, 4, 8, 8})});
  graph.append(relu);
  Value *value = relu->result();
  // relu is no pattern of its own; a conv in front makes its output
  // quantized so that it propagates down the whole chain.
  Value *weight = graph.addParameter("conv.weight", f32({4, 4, 1, 1}));
  Node *conv = graph.createNode("aten::conv2d", {value, weight}, {f32({1, 4, 8, 8})});
  graph.append(conv);
  value = conv->result();
  const unsigned kChain = 100000;
  for (unsigned i = 0; i < kChain; ++i) {
    Node *pool = graph.createNode("aten::max_pool2d", {value}, {f32({1, 4, 8, 8})});
    graph.append(pool);
    value = pool->result();
  }
  graph.addOutput(value);
  RunResult run = runAnnotate(graph);
  ASSERT_EQ(run.result, PassResult::Changed);
  unsigned shared = 0;
  for (const Node *node : graph.nodes()) {
    if (!node->op().has(optrait::SharesQParams))
      continue;
    const QuantAnnotation *quant = node->quant();
    ASSERT_NE(quant, nullptr);
    EXPECT_TRUE(quant->inputs[0].isDict());
    EXPECT_EQ(quant->output, Attribute::dict({{"shared_with", Attribute::integer(0)}}));
    ++shared;
  }
  EXPECT_EQ(shared, kChain);
}

TEST(AnnotateTest, ConfigErrorsAreDiagnostics) {
  std::unique_ptr<Graph> graph = residualMLP(1);
  RunResult run = runAnnotate(*graph, "/nonexistent/config.yaml");
  EXPECT_EQ(run.result, PassResult::Failed);
  ASSERT_EQ(run.diagnostics.size(), 1u);
  EXPECT_EQ(run.diagnostics[0].severity, Severity::Error);
  EXPECT_NE(run.diagnostics[0].message.find("cannot read config file '/nonexistent/config.yaml'"),
            std::string::npos)
      << run.diagnostics[0].message;
  for (const Node *node : graph->nodes())
    EXPECT_EQ(node->quant(), nullptr);

  run = runAnnotate(*graph, "w3");
  EXPECT_EQ(run.result, PassResult::Failed);
  ASSERT_EQ(run.diagnostics.size(), 1u);
  EXPECT_NE(run.diagnostics[0].message.find("unknown config 'w3'"), std::string::npos);
}

TEST(AnnotateTest, NothingToAnnotateIsUnchanged) {
  Graph graph("plain");
  Value *x = graph.addInput("x", f32({4}));
  Node *softmax = graph.createNode("aten::softmax", {x}, {f32({4})});
  softmax->setAttribute("dim", Attribute::integer(0));
  graph.append(softmax);
  graph.addOutput(softmax->result());
  EXPECT_EQ(runAnnotate(graph).result, PassResult::Unchanged);
  EXPECT_EQ(softmax->quant(), nullptr);
}

} // namespace
