//===- tests/unit/QfxOptTest.cpp - The qfx-opt driver, in process ---------===//
//
// Runs the driver library (runQfxOpt) with a registry holding passes that
// misbehave on purpose, which no lit test can reach through the built-in
// passes: a pass that breaks the IR (caught by --verify-each and reported at
// the broken node, naming the pass) and a pass that fails (its diagnostic is
// rendered with the source line, nothing is output). Also checks that the
// driver's output is exactly what a successful run prints.
//
//===----------------------------------------------------------------------===//
#include "passes/BuiltinPasses.h"
#include "passes/Pass.h"
#include "passes/PassRegistry.h"
#include "tools/QfxOptMain.h"

#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"

#include "gtest/gtest.h"

using namespace qfx;

namespace {

/// Makes the first node use the result of the last one (use before def).
class BreakIRPass : public Pass {
public:
  BreakIRPass() : Pass("test-break-ir", "Breaks SSA order") {}
  PassResult run(Graph &graph, PassContext &) override {
    graph.front()->setOperand(0, graph.back()->result(0));
    return PassResult::Changed;
  }
};

/// Fails on the last node.
class FailPass : public Pass {
public:
  FailPass() : Pass("test-fail", "Fails on the last node") {}
  PassResult run(Graph &graph, PassContext &context) override {
    return fail(context, *graph.back(), "cannot handle this node");
  }
};

/// Adds a node whose op name the text form cannot spell: the graph is valid
/// but does not survive print -> parse.
class UnprintablePass : public Pass {
public:
  UnprintablePass() : Pass("test-unprintable", "Adds an op named with a space") {}
  PassResult run(Graph &graph, PassContext &) override {
    Node *node = graph.createNode("my op", {graph.inputs()[0]}, {graph.inputs()[0]->type()});
    graph.append(node);
    return PassResult::Changed;
  }
};

PassRegistry testRegistry() {
  PassRegistry registry;
  registry.registerPass("test-break-ir", [] { return std::make_unique<BreakIRPass>(); });
  registry.registerPass("test-fail", [] { return std::make_unique<FailPass>(); });
  registry.registerPass("test-unprintable", [] { return std::make_unique<UnprintablePass>(); });
  registry.registerPass("dce", [] { return builtinPassRegistry().create("dce"); });
  return registry;
}

constexpr llvm::StringLiteral kInput = R"(graph @g(%x: tensor<4xf32>) {
  %a = aten::relu(%x) : tensor<4xf32>
  %b = aten::sigmoid(%a) : tensor<4xf32>
  return %b
}
)";

struct DriverResult {
  bool ok;
  std::string output;
  std::string errors;
};

DriverResult runDriver(QfxOptConfig config, llvm::StringRef input = kInput) {
  PassRegistry registry = testRegistry();
  config.registry = &registry;
  std::unique_ptr<llvm::MemoryBuffer> buffer = llvm::MemoryBuffer::getMemBuffer(input, "in.qfx");
  DriverResult result;
  llvm::raw_string_ostream errors(result.errors);
  result.ok = runQfxOpt(config, *buffer, result.output, errors);
  errors.flush();
  return result;
}

TEST(QfxOptTest, VerifyEachReportsThePassThatBrokeTheIRAtTheBrokenNode) {
  QfxOptConfig config;
  config.passPipeline = "test-break-ir,dce";
  DriverResult result = runDriver(config);
  EXPECT_FALSE(result.ok);
  EXPECT_TRUE(result.output.empty());
  EXPECT_EQ(result.errors.rfind("in.qfx:2:3: error: invalid IR after pass 'test-break-ir': ", 0),
            0u)
      << result.errors;
  EXPECT_NE(result.errors.find("  %a = aten::relu(%x) : tensor<4xf32>\n  ^\n"), std::string::npos)
      << result.errors;
}

TEST(QfxOptTest, WithoutVerifyEachTheBrokenIRIsNotDiagnosedByThePassManager) {
  QfxOptConfig config;
  config.passPipeline = "test-break-ir";
  config.verifyEach = false;
  DriverResult result = runDriver(config);
  EXPECT_EQ(result.errors.find("invalid IR after pass"), std::string::npos) << result.errors;
}

TEST(QfxOptTest, AFailingPassIsReportedAtItsNodeAndNothingIsOutput) {
  QfxOptConfig config;
  config.passPipeline = "dce,test-fail";
  DriverResult result = runDriver(config);
  EXPECT_FALSE(result.ok);
  EXPECT_TRUE(result.output.empty());
  EXPECT_EQ(result.errors, "in.qfx:3:3: error: pass 'test-fail' failed on 'aten::sigmoid': cannot "
                           "handle this node\n"
                           "  %b = aten::sigmoid(%a) : tensor<4xf32>\n"
                           "  ^\n");
}

TEST(QfxOptTest, PassFailuresCanBeExpectedUnderVerifyDiagnostics) {
  QfxOptConfig config;
  config.passPipeline = "test-fail";
  config.verifyDiagnostics = true;
  DriverResult result = runDriver(config, R"(graph @g(%x: tensor<4xf32>) {
  // expected-error@+1 {{pass 'test-fail' failed on 'aten::relu': cannot handle this node}}
  %a = aten::relu(%x) : tensor<4xf32>
  return %a
}
)");
  EXPECT_TRUE(result.ok) << result.errors;
  EXPECT_TRUE(result.errors.empty()) << result.errors;
}

TEST(QfxOptTest, ASuccessfulRunOutputsThePrintedGraph) {
  QfxOptConfig config;
  config.passPipeline = "dce";
  config.verifyRoundtrip = true;
  DriverResult result = runDriver(config);
  EXPECT_TRUE(result.ok) << result.errors;
  EXPECT_EQ(result.output, kInput.str());
  EXPECT_TRUE(result.errors.empty()) << result.errors;
}

TEST(QfxOptTest, VerifyRoundtripCatchesAGraphTheTextFormCannotReproduce) {
  QfxOptConfig config;
  config.passPipeline = "test-unprintable";
  config.verifyRoundtrip = true;
  DriverResult result = runDriver(config);
  EXPECT_FALSE(result.ok);
  EXPECT_TRUE(result.output.empty());
  EXPECT_EQ(
      result.errors.rfind("in.qfx: error: round trip after the pass pipeline: the printed "
                          "graph does not parse back: line 4 `%0 = my op(%x) : tensor<4xf32>`",
                          0),
      0u)
      << result.errors;

  config.verifyRoundtrip = false;
  EXPECT_TRUE(runDriver(config).ok);
}

TEST(QfxOptTest, UnknownPassesInTheConfigFailBeforeReadingTheInput) {
  QfxOptConfig config;
  config.passPipeline = "cse";
  DriverResult result = runDriver(config);
  EXPECT_FALSE(result.ok);
  EXPECT_EQ(result.errors.rfind("<pass-pipeline>:1:1: error: unknown pass 'cse'; registered "
                                "passes: dce, test-break-ir, test-fail, test-unprintable\n",
                                0),
            0u)
      << result.errors;
}

} // namespace
