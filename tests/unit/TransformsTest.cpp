//===- tests/unit/TransformsTest.cpp - dce, cse, canonicalize via the API -===//
//
// What the lit tests of the generic passes cannot show: the PassResult each
// pass returns (Changed only when it changed something), that the passes stay
// correct and do not degrade on long chains and wide graphs built in memory,
// the mutation analysis the passes share, and the op-table trait that
// canonicalize's reshape folding relies on.
//
//===----------------------------------------------------------------------===//
#include "ir/Graph.h"
#include "ir/OpInfo.h"
#include "ir/Parser.h"
#include "ir/Printer.h"
#include "ir/Verifier.h"
#include "passes/BuiltinPasses.h"
#include "passes/Pass.h"
#include "passes/transforms/MutationAnalysis.h"

#include "gtest/gtest.h"

#include <string>

using namespace qfx;

namespace {

std::unique_ptr<Graph> parse(llvm::StringRef text) {
  DiagnosticEngine diagnostics;
  std::unique_ptr<Graph> graph = parseGraph(text, diagnostics, "test.qfx");
  EXPECT_TRUE(graph) << "test input does not parse";
  return graph;
}

PassResult runPass(llvm::StringRef pipelineName, Graph &graph) {
  DiagnosticEngine diagnostics;
  PassContext context(diagnostics);
  std::unique_ptr<Pass> pass = builtinPassRegistry().create(pipelineName);
  EXPECT_TRUE(pass) << pipelineName.str();
  PassResult result = pass->run(graph, context);
  EXPECT_FALSE(diagnostics.hadErrors());
  EXPECT_TRUE(verifyGraph(graph, diagnostics)) << printGraphToString(graph);
  return result;
}

Type vectorType() { return Type::rankedTensor(DType::F32, {16}); }

//===----------------------------------------------------------------------===//
// Changed / Unchanged
//===----------------------------------------------------------------------===//

constexpr llvm::StringLiteral kNothingToDo = R"(graph @g(%x: tensor<4xf32>) {
  %a = aten::relu(%x) : tensor<4xf32>
  %b = aten::sigmoid(%a) : tensor<4xf32>
  return %b
}
)";

TEST(TransformsTest, PassesReportUnchangedWhenThereIsNothingToDo) {
  for (llvm::StringRef name : {"dce", "cse", "canonicalize"}) {
    std::unique_ptr<Graph> graph = parse(kNothingToDo);
    std::string before = printGraphToString(*graph);
    EXPECT_EQ(runPass(name, *graph), PassResult::Unchanged) << name.str();
    EXPECT_EQ(printGraphToString(*graph), before) << name.str();
  }
}

TEST(TransformsTest, PassesReportChangedWhenTheyChangeTheGraph) {
  std::unique_ptr<Graph> dead = parse(R"(graph @g(%x: tensor<4xf32>) {
  %a = aten::relu(%x) : tensor<4xf32>
  return %x
}
)");
  EXPECT_EQ(runPass("dce", *dead), PassResult::Changed);
  EXPECT_EQ(dead->numNodes(), 0u);

  std::unique_ptr<Graph> duplicate = parse(R"(graph @g(%x: tensor<4xf32>) {
  %a = aten::relu(%x) : tensor<4xf32>
  %b = aten::relu(%x) : tensor<4xf32>
  return %a, %b
}
)");
  EXPECT_EQ(runPass("cse", *duplicate), PassResult::Changed);
  EXPECT_EQ(duplicate->numNodes(), 1u);
  EXPECT_EQ(duplicate->outputs()[0], duplicate->outputs()[1]);

  std::unique_ptr<Graph> identity = parse(R"(graph @g(%x: tensor<4xf32>) {
  %a = aten::detach(%x) : tensor<4xf32>
  return %a
}
)");
  EXPECT_EQ(runPass("canonicalize", *identity), PassResult::Changed);
  EXPECT_EQ(identity->outputs()[0], identity->inputs()[0]);
}

TEST(TransformsTest, UnusedParametersAreRemovedOnlyWhenAsked) {
  constexpr llvm::StringLiteral text = R"(graph @g(%x: tensor<4xf32>) {
  param %unused : tensor<4xf32>
  return %x
}
)";
  std::unique_ptr<Graph> byDefault = parse(text);
  EXPECT_EQ(runPass("dce", *byDefault), PassResult::Unchanged);
  EXPECT_EQ(byDefault->parameters().size(), 1u);

  std::unique_ptr<Graph> asked = parse(text);
  std::unique_ptr<Pass> dce = builtinPassRegistry().create("dce");
  ASSERT_FALSE(bool(dce->setOption("remove-unused-parameters", "true")));
  DiagnosticEngine diagnostics;
  PassContext context(diagnostics);
  EXPECT_EQ(dce->run(*asked, context), PassResult::Changed);
  EXPECT_TRUE(asked->parameters().empty());
}

//===----------------------------------------------------------------------===//
// Large graphs (correctness at scale; the benchmark measures time)
//===----------------------------------------------------------------------===//

constexpr unsigned kLarge = 100000;

TEST(TransformsTest, CanonicalizeCollapsesALongIdentityChain) {
  Graph graph;
  Value *input = graph.addInput("x", vectorType());
  Value *current = input;
  for (unsigned i = 0; i != kLarge; ++i) {
    Node *node =
        graph.createNode(i % 2 ? "aten::contiguous" : "aten::detach", {current}, {vectorType()});
    graph.append(node);
    current = node->result();
  }
  Node *relu = graph.createNode("aten::relu", {current}, {vectorType()});
  graph.append(relu);
  graph.addOutput(relu->result());
  graph.addOutput(current);

  EXPECT_EQ(runPass("canonicalize", graph), PassResult::Changed);
  EXPECT_EQ(graph.numNodes(), 1u);
  EXPECT_EQ(graph.front()->operand(0), input);
  EXPECT_EQ(graph.outputs()[1], input);
}

TEST(TransformsTest, CseMergesManyDuplicateLevelsInOneRun) {
  // Two identical chains of kLarge / 2 nodes each, interleaved.
  Graph graph;
  Value *input = graph.addInput("x", vectorType());
  Value *left = input, *right = input;
  for (unsigned i = 0; i != kLarge / 2; ++i) {
    llvm::StringRef op = i % 2 ? "aten::relu" : "aten::sigmoid";
    Node *a = graph.createNode(op, {left}, {vectorType()});
    Node *b = graph.createNode(op, {right}, {vectorType()});
    graph.append(a);
    graph.append(b);
    left = a->result();
    right = b->result();
  }
  graph.addOutput(left);
  graph.addOutput(right);

  EXPECT_EQ(runPass("cse", graph), PassResult::Changed);
  EXPECT_EQ(graph.numNodes(), kLarge / 2);
  EXPECT_EQ(graph.outputs()[0], graph.outputs()[1]);
}

TEST(TransformsTest, DceRemovesALongDeadChainInOneRun) {
  Graph graph;
  Value *input = graph.addInput("x", vectorType());
  Value *current = input;
  for (unsigned i = 0; i != kLarge; ++i) {
    Node *node = graph.createNode("aten::relu", {current}, {vectorType()});
    graph.append(node);
    current = node->result();
  }
  graph.addOutput(input);

  EXPECT_EQ(runPass("dce", graph), PassResult::Changed);
  EXPECT_TRUE(graph.empty());
}

//===----------------------------------------------------------------------===//
// MutationAnalysis
//===----------------------------------------------------------------------===//

TEST(MutationAnalysisTest, WritesReachEveryAliasOfTheWrittenTensor) {
  std::unique_ptr<Graph> graph = parse(R"(graph @g(%x: tensor<4xf32>, %y: tensor<4xf32>) {
  %fresh = aten::sigmoid(%x) : tensor<4xf32>
  %view = aten::view(%x) : tensor<4xf32>
  %alias = aten::detach(%view) : tensor<4xf32>
  %written = aten::add_(%alias, %y) : tensor<4xf32>
  return %fresh, %written
}
)");
  MutationAnalysis mutations(*graph);
  auto value = [&](llvm::StringRef name) -> const Value * {
    for (const Node *node : graph->nodes())
      if (node->result()->name() == name)
        return node->result();
    return nullptr;
  };
  // %x, its view, the detached alias and the in-place result are one tensor.
  EXPECT_TRUE(mutations.mayBeWritten(graph->inputs()[0]));
  EXPECT_TRUE(mutations.mayBeWritten(value("view")));
  EXPECT_TRUE(mutations.mayBeWritten(value("alias")));
  EXPECT_TRUE(mutations.mayBeWritten(value("written")));
  // add_ writes its first operand only; sigmoid's result is a new tensor.
  EXPECT_FALSE(mutations.mayBeWritten(graph->inputs()[1]));
  EXPECT_FALSE(mutations.mayBeWritten(value("fresh")));
}

TEST(MutationAnalysisTest, UnknownOpsMayWriteWhatTheyReceive) {
  std::unique_ptr<Graph> graph = parse(R"(graph @g(%x: tensor<4xf32>, %y: tensor<4xf32>) {
  %list = prim::ListConstruct(%x) : list<tensor>
  my.fill_all(%list)
  %z = aten::relu(%y) : tensor<4xf32>
  return %z
}
)");
  MutationAnalysis mutations(*graph);
  // Through the list, %x reached the unknown op.
  EXPECT_TRUE(mutations.mayBeWritten(graph->inputs()[0]));
  EXPECT_FALSE(mutations.mayBeWritten(graph->inputs()[1]));
  EXPECT_TRUE(mutations.touchesOnlyUnwrittenValues(*graph->back()));
}

TEST(MutationAnalysisTest, AGraphWithoutWritesHasNoWrittenValues) {
  std::unique_ptr<Graph> graph = parse(kNothingToDo);
  MutationAnalysis mutations(*graph);
  for (const Node *node : graph->nodes())
    EXPECT_TRUE(mutations.touchesOnlyUnwrittenValues(*node));
}

//===----------------------------------------------------------------------===//
// The trait canonicalize folds reshapes by
//===----------------------------------------------------------------------===//

TEST(TransformsTest, ReshapeLikeCoversReshapesButNotPermutations) {
  for (llvm::StringRef name : {"aten::reshape", "aten::view", "aten::flatten", "aten::squeeze",
                               "aten::unsqueeze", "tosa.reshape"})
    EXPECT_TRUE(lookupOp(name)->has(optrait::ReshapeLike)) << name.str();
  for (llvm::StringRef name :
       {"aten::permute", "aten::transpose", "aten::t", "tosa.transpose", "aten::stack"})
    EXPECT_FALSE(lookupOp(name)->has(optrait::ReshapeLike)) << name.str();
}

} // namespace
