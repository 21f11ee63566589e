//===- tests/unit/PassManagerTest.cpp - Pass infrastructure API tests -----===//
//
// What qfx-opt's text cannot show about the pass infrastructure: the registry
// API, typed option parsing and its messages, pipeline parsing (error columns)
// and canonical printing, and the PassManager's behaviour around passes that
// misbehave on purpose (one breaks the IR, one fails, one fails silently),
// IR printing after passes and timing.
//
//===----------------------------------------------------------------------===//
#include "passes/PassManager.h"
#include "ir/Graph.h"
#include "ir/Parser.h"
#include "passes/BuiltinPasses.h"
#include "passes/Pass.h"
#include "passes/PassPipeline.h"
#include "passes/PassRegistry.h"

#include "llvm/Support/raw_ostream.h"

#include "gtest/gtest.h"

#include <string>
#include <vector>

using namespace qfx;

namespace {

//===----------------------------------------------------------------------===//
// Test passes
//===----------------------------------------------------------------------===//

/// Has one option of every kind, and does nothing.
class OptionsPass : public Pass {
public:
  OptionsPass() : Pass("test-options", "Has options of every kind") {}
  PassResult run(Graph &, PassContext &) override { return PassResult::Unchanged; }

  BoolOption flag{*this, "flag", "a bool", false};
  IntOption count{*this, "count", "an int", 3};
  FloatOption ratio{*this, "ratio", "a float", 0.5};
  StringOption label{*this, "label", "a string", "none"};
  EnumOption config{*this, "config", "an enum", "w8a8", {"w8a8", "w4a8", "a16w8"}};
};

/// Makes the first node use the result of the last one: a use before its
/// definition, which the verifier must catch.
class BreakIRPass : public Pass {
public:
  BreakIRPass() : Pass("test-break-ir", "Breaks SSA order") {}
  PassResult run(Graph &graph, PassContext &) override {
    if (graph.numNodes() < 2)
      return PassResult::Unchanged;
    graph.front()->setOperand(0, graph.back()->result(0));
    return PassResult::Changed;
  }
};

/// Fails on the first node, the way passes are meant to fail.
class FailPass : public Pass {
public:
  FailPass() : Pass("test-fail", "Fails on the first node") {}
  PassResult run(Graph &graph, PassContext &context) override {
    return fail(context, *graph.front(), "this op is not supported");
  }
};

/// Returns Failed without saying why (a bug the manager must not hide).
class SilentFailPass : public Pass {
public:
  SilentFailPass() : Pass("test-silent-fail", "Fails without a diagnostic") {}
  PassResult run(Graph &, PassContext &) override { return PassResult::Failed; }
};

/// Reports an error but claims success.
class ErrorButChangedPass : public Pass {
public:
  ErrorButChangedPass() : Pass("test-error-changed", "Emits an error, returns Changed") {}
  PassResult run(Graph &, PassContext &context) override {
    context.diagnostics().error(Location(), "something went wrong");
    return PassResult::Changed;
  }
};

/// Counts its runs in a counter owned by the test.
class CountingPass : public Pass {
public:
  explicit CountingPass(int *runs) : Pass("test-count", "Counts runs"), runs_(runs) {}
  PassResult run(Graph &, PassContext &) override {
    ++*runs_;
    return PassResult::Unchanged;
  }

private:
  int *runs_;
};

PassRegistry makeTestRegistry() {
  PassRegistry registry;
  EXPECT_TRUE(
      registry.registerPass("test-options", [] { return std::make_unique<OptionsPass>(); }));
  EXPECT_TRUE(registry.registerPass("dce", [] { return builtinPassRegistry().create("dce"); }));
  return registry;
}

/// Collects diagnostics instead of printing them.
struct CollectedDiagnostics {
  DiagnosticEngine engine;
  std::vector<Diagnostic> all;
  CollectedDiagnostics() {
    engine.setHandler([this](const Diagnostic &diagnostic) { all.push_back(diagnostic); });
  }
  std::string firstMessage() const { return all.empty() ? "" : all.front().message; }
};

std::unique_ptr<Graph> parse(llvm::StringRef text) {
  DiagnosticEngine diagnostics;
  std::unique_ptr<Graph> graph = parseGraph(text, diagnostics, "test.qfx");
  EXPECT_TRUE(graph) << "test input does not parse";
  return graph;
}

constexpr llvm::StringLiteral kTwoReluGraph = R"(graph @g(%x: tensor<4xf32>) {
  %a = aten::relu(%x) : tensor<4xf32>
  %b = aten::relu(%a) : tensor<4xf32>
  return %b
}
)";

//===----------------------------------------------------------------------===//
// Registry
//===----------------------------------------------------------------------===//

TEST(PassRegistryTest, BuiltinRegistryCreatesEveryPassUnderItsOwnName) {
  const PassRegistry &registry = builtinPassRegistry();
  std::vector<std::string> names = registry.names();
  ASSERT_FALSE(names.empty());
  EXPECT_TRUE(std::is_sorted(names.begin(), names.end()));
  for (const std::string &name : names) {
    std::unique_ptr<Pass> pass = registry.create(name);
    ASSERT_TRUE(pass) << name;
    EXPECT_EQ(pass->name(), name);
    EXPECT_FALSE(pass->description().empty()) << name;
  }
  for (llvm::StringRef name : {"canonicalize", "cse", "dce"})
    EXPECT_TRUE(registry.contains(name)) << name.str();
}

TEST(PassRegistryTest, UnknownPassMessageListsEveryRegisteredPass) {
  const PassRegistry &registry = builtinPassRegistry();
  EXPECT_EQ(registry.create("foo"), nullptr);
  EXPECT_EQ(registry.unknownPassMessage("foo"),
            "unknown pass 'foo'; registered passes: annotate, calibrate, canonicalize, cse, dce, "
            "dedup-fake-quant, fold-conv-bn, insert-fake-quant, lower-to-qdq, share-observers");
}

TEST(PassRegistryTest, RejectsDuplicateNamesAndMisnamedFactories) {
  PassRegistry registry;
  EXPECT_TRUE(
      registry.registerPass("test-options", [] { return std::make_unique<OptionsPass>(); }));
  EXPECT_FALSE(
      registry.registerPass("test-options", [] { return std::make_unique<OptionsPass>(); }));
  EXPECT_FALSE(registry.registerPass("other-name", [] { return std::make_unique<OptionsPass>(); }));
  EXPECT_EQ(registry.names(), std::vector<std::string>{"test-options"});
}

TEST(PassRegistryTest, HelpListsPassesWithOptionTypesDefaultsAndHelp) {
  PassRegistry registry = makeTestRegistry();
  std::string help;
  llvm::raw_string_ostream os(help);
  registry.printHelp(os);
  EXPECT_NE(help.find("test-options - Has options of every kind"), std::string::npos) << help;
  EXPECT_NE(help.find("count=<int> (default: 3) - an int"), std::string::npos) << help;
  EXPECT_NE(help.find("config=<w8a8|w4a8|a16w8> (default: w8a8) - an enum"), std::string::npos)
      << help;
  EXPECT_NE(help.find("remove-unused-parameters=<bool> (default: false)"), std::string::npos)
      << help;
}

//===----------------------------------------------------------------------===//
// Options
//===----------------------------------------------------------------------===//

TEST(PassOptionTest, DefaultsAreUsedUntilSet) {
  OptionsPass pass;
  EXPECT_FALSE(pass.flag);
  EXPECT_EQ(pass.count.value(), 3);
  EXPECT_EQ(pass.ratio.value(), 0.5);
  EXPECT_EQ(pass.label.value(), "none");
  EXPECT_EQ(pass.config.value(), "w8a8");
  for (const PassOptionBase *option : pass.options())
    EXPECT_FALSE(option->isExplicitlySet()) << option->name().str();
  EXPECT_EQ(pass.pipelineElement(), "test-options");
}

TEST(PassOptionTest, OptionsAreListedInDeclarationOrder) {
  OptionsPass pass;
  std::vector<std::string> names;
  for (const PassOptionBase *option : pass.options())
    names.push_back(option->name().str());
  EXPECT_EQ(names, (std::vector<std::string>{"flag", "count", "ratio", "label", "config"}));
}

TEST(PassOptionTest, ParsesEveryKind) {
  OptionsPass pass;
  EXPECT_FALSE(bool(pass.setOption("flag", "true")));
  EXPECT_FALSE(bool(pass.setOption("count", "-12")));
  EXPECT_FALSE(bool(pass.setOption("ratio", "0.25")));
  EXPECT_FALSE(bool(pass.setOption("label", "hello world")));
  EXPECT_FALSE(bool(pass.setOption("config", "w4a8")));
  EXPECT_TRUE(pass.flag);
  EXPECT_EQ(pass.count.value(), -12);
  EXPECT_EQ(pass.ratio.value(), 0.25);
  EXPECT_EQ(pass.label.value(), "hello world");
  EXPECT_EQ(pass.config.value(), "w4a8");
}

TEST(PassOptionTest, BadValuesNameThePassTheOptionTheValueAndWhatWasExpected) {
  OptionsPass pass;
  auto message = [&](llvm::StringRef name, llvm::StringRef value) {
    return llvm::toString(pass.setOption(name, value));
  };
  EXPECT_EQ(message("flag", "maybe"), "invalid value 'maybe' for option 'flag' of pass "
                                      "'test-options': expected a bool (true or false)");
  EXPECT_EQ(message("count", "1.5"),
            "invalid value '1.5' for option 'count' of pass 'test-options': expected an integer");
  EXPECT_EQ(message("count", "99999999999999999999"),
            "invalid value '99999999999999999999' for option 'count' of pass 'test-options': "
            "expected an integer");
  EXPECT_EQ(message("ratio", "half"),
            "invalid value 'half' for option 'ratio' of pass 'test-options': expected a number");
  EXPECT_EQ(message("config", "w3a3"), "invalid value 'w3a3' for option 'config' of pass "
                                       "'test-options': expected one of: w8a8, w4a8, a16w8");
  // A failed parse leaves the value alone.
  EXPECT_EQ(pass.count.value(), 3);
  EXPECT_EQ(pass.config.value(), "w8a8");
}

TEST(PassOptionTest, UnknownOptionsListTheValidOnes) {
  OptionsPass pass;
  EXPECT_EQ(llvm::toString(pass.setOption("colour", "red")),
            "pass 'test-options' has no option 'colour'; options of 'test-options': flag, count, "
            "ratio, label, config");
  std::unique_ptr<Pass> cse = builtinPassRegistry().create("cse");
  EXPECT_EQ(llvm::toString(cse->setOption("x", "1")),
            "pass 'cse' has no option 'x'; it takes no options");
}

//===----------------------------------------------------------------------===//
// Pipelines
//===----------------------------------------------------------------------===//

/// Parses `text` with the test registry; returns the canonical print, or
/// "error at <column>: <message>".
std::string reprint(llvm::StringRef text) {
  PassRegistry registry = makeTestRegistry();
  CollectedDiagnostics diagnostics;
  PassList passes;
  if (!parsePassPipeline(text, registry, passes, diagnostics.engine)) {
    EXPECT_EQ(diagnostics.all.size(), 1u);
    EXPECT_TRUE(passes.empty());
    const Diagnostic &error = diagnostics.all.front();
    EXPECT_EQ(error.location.file, "<pass-pipeline>");
    EXPECT_EQ(error.location.line, 1u);
    return "error at " + std::to_string(error.location.column) + ": " + error.message;
  }
  EXPECT_TRUE(diagnostics.all.empty());
  return printPassPipeline(passes);
}

TEST(PassPipelineTest, CanonicalPipelinesPrintBackToThemselves) {
  for (llvm::StringRef text : {
           "",
           "dce",
           "dce,dce",
           "test-options{flag=true}",
           "test-options{flag=false count=3}",
           "dce,test-options{count=-7 ratio=0.001 label=\"two words\" config=w4a8},dce",
           "test-options{label=\"quote \\\" and backslash \\\\\"}",
           "test-options{label=path/to:file@1.2}",
       })
    EXPECT_EQ(reprint(text), text.str());
}

TEST(PassPipelineTest, PrintingIsCanonical) {
  // Blanks go, commas between options become spaces, options follow their
  // declaration order, values get their canonical spelling.
  EXPECT_EQ(reprint("  dce ,\n test-options { config = w4a8 , flag } "),
            "dce,test-options{flag=true config=w4a8}");
  EXPECT_EQ(reprint("dce , test-options{ratio=.5,count=010}"),
            "dce,test-options{count=10 ratio=0.5}");
  EXPECT_EQ(reprint("test-options{label=\"plain\"}"), "test-options{label=plain}");
  EXPECT_EQ(reprint("test-options{flag=1}"), "test-options{flag=true}");
  // Setting an option to its default is kept: it pins the value.
  EXPECT_EQ(reprint("test-options{count=3}"), "test-options{count=3}");
}

TEST(PassPipelineTest, PrintingTheParseOfAPrintedPipelineIsIdentical) {
  for (llvm::StringRef text :
       {"test-options{ratio=1e10,label=\"a,b{c}\" flag}", "test-options{ratio=-0.0 label=\"\"}",
        "dce , dce", "test-options{ratio=0.1}"}) {
    std::string once = reprint(text);
    ASSERT_EQ(once.find("error"), std::string::npos) << once;
    EXPECT_EQ(reprint(once), once) << text.str();
  }
}

TEST(PassPipelineTest, ErrorsPointAtTheColumn) {
  EXPECT_EQ(reprint("dce,foo"),
            "error at 5: unknown pass 'foo'; registered passes: dce, test-options");
  EXPECT_EQ(reprint(",dce"), "error at 1: expected a pass name, found ','");
  EXPECT_EQ(reprint("dce,,dce"), "error at 5: expected a pass name, found ','");
  EXPECT_EQ(reprint("dce,"), "error at 5: expected a pass name, found the end of the pipeline");
  EXPECT_EQ(reprint("dce dce"),
            "error at 5: expected ',' between passes or the end of the pipeline, found 'd'");
  EXPECT_EQ(reprint("dce{remove-unused-parameters=true"),
            "error at 4: missing '}' closing the options of pass 'dce'");
  EXPECT_EQ(reprint("dce{nope=1}"), "error at 5: pass 'dce' has no option 'nope'; options of "
                                    "'dce': remove-unused-parameters");
  EXPECT_EQ(reprint("test-options{count=many}"),
            "error at 20: invalid value 'many' for option 'count' of pass 'test-options': "
            "expected an integer");
  EXPECT_EQ(reprint("test-options{count}"),
            "error at 19: missing value for option 'count' of pass 'test-options': expected '=' "
            "and an integer");
  EXPECT_EQ(reprint("test-options{count=}"), "error at 20: expected a value after '=', found '}'");
  EXPECT_EQ(reprint("test-options{flag flag}"),
            "error at 19: option 'flag' of pass 'test-options' is given twice");
  EXPECT_EQ(reprint("test-options{label=\"open}"),
            "error at 20: unterminated quoted value (missing '\"')");
  EXPECT_EQ(reprint("test-options{flag,}"), "error at 19: expected an option name after ',', "
                                            "found '}'");
  EXPECT_EQ(reprint("test-options{=1}"),
            "error at 14: expected an option name of pass 'test-options', found '='");
}

//===----------------------------------------------------------------------===//
// PassManager
//===----------------------------------------------------------------------===//

TEST(PassManagerTest, VerifyEachNamesThePassThatBrokeTheIR) {
  std::unique_ptr<Graph> graph = parse(kTwoReluGraph);
  CollectedDiagnostics diagnostics;
  int runsAfter = 0;
  PassManager manager(diagnostics.engine);
  manager.addPass(std::make_unique<BreakIRPass>());
  manager.addPass(std::make_unique<CountingPass>(&runsAfter));
  EXPECT_EQ(manager.run(*graph), PassResult::Failed);
  ASSERT_FALSE(diagnostics.all.empty());
  EXPECT_EQ(diagnostics.all.front().severity, Severity::Error);
  EXPECT_EQ(diagnostics.firstMessage().rfind("invalid IR after pass 'test-break-ir': ", 0), 0u)
      << diagnostics.firstMessage();
  EXPECT_EQ(runsAfter, 0);
}

TEST(PassManagerTest, WithoutVerifierTheBrokenIRGoesUnnoticed) {
  std::unique_ptr<Graph> graph = parse(kTwoReluGraph);
  CollectedDiagnostics diagnostics;
  PassManager manager(diagnostics.engine);
  manager.enableVerifier(false);
  manager.addPass(std::make_unique<BreakIRPass>());
  EXPECT_EQ(manager.run(*graph), PassResult::Changed);
  EXPECT_TRUE(diagnostics.all.empty());
}

TEST(PassManagerTest, AFailingPassStopsThePipelineWithItsDiagnosticAtTheNode) {
  std::unique_ptr<Graph> graph = parse(kTwoReluGraph);
  CollectedDiagnostics diagnostics;
  int runs = 0;
  PassManager manager(diagnostics.engine);
  manager.addPass(std::make_unique<CountingPass>(&runs));
  manager.addPass(std::make_unique<FailPass>());
  manager.addPass(std::make_unique<CountingPass>(&runs));
  EXPECT_EQ(manager.run(*graph), PassResult::Failed);
  EXPECT_EQ(runs, 1);
  ASSERT_EQ(diagnostics.all.size(), 1u);
  EXPECT_EQ(diagnostics.firstMessage(),
            "pass 'test-fail' failed on 'aten::relu': this op is not supported");
  const Location &location = diagnostics.all.front().location;
  EXPECT_EQ(location.file, "test.qfx");
  EXPECT_EQ(location.line, 2u);
}

TEST(PassManagerTest, AFailureWithoutDiagnosticIsStillReported) {
  std::unique_ptr<Graph> graph = parse(kTwoReluGraph);
  CollectedDiagnostics diagnostics;
  PassManager manager(diagnostics.engine);
  manager.addPass(std::make_unique<SilentFailPass>());
  EXPECT_EQ(manager.run(*graph), PassResult::Failed);
  EXPECT_EQ(diagnostics.firstMessage(), "pass 'test-silent-fail' failed without a diagnostic");
}

TEST(PassManagerTest, AnErrorDiagnosticFailsThePassWhateverItReturns) {
  std::unique_ptr<Graph> graph = parse(kTwoReluGraph);
  CollectedDiagnostics diagnostics;
  int runs = 0;
  PassManager manager(diagnostics.engine);
  manager.addPass(std::make_unique<ErrorButChangedPass>());
  manager.addPass(std::make_unique<CountingPass>(&runs));
  EXPECT_EQ(manager.run(*graph), PassResult::Failed);
  EXPECT_EQ(runs, 0);
  EXPECT_EQ(diagnostics.all.size(), 1u);
}

TEST(PassManagerTest, ReportsWhetherAnyPassChangedTheGraph) {
  CollectedDiagnostics diagnostics;
  PassManager manager(diagnostics.engine);
  PassList passes;
  ASSERT_TRUE(parsePassPipeline("cse,dce", builtinPassRegistry(), passes, diagnostics.engine));
  manager.addPasses(std::move(passes));
  EXPECT_EQ(manager.pipelineText(), "cse,dce");

  std::unique_ptr<Graph> clean = parse(kTwoReluGraph);
  EXPECT_EQ(manager.run(*clean), PassResult::Unchanged);
  std::unique_ptr<Graph> dead = parse(R"(graph @g(%x: tensor<4xf32>) {
  %a = aten::relu(%x) : tensor<4xf32>
  %b = aten::relu(%x) : tensor<4xf32>
  return %x
}
)");
  EXPECT_EQ(manager.run(*dead), PassResult::Changed);
  EXPECT_EQ(dead->numNodes(), 0u);
}

TEST(PassManagerTest, PrintsIRAfterTheNamedPassOnly) {
  std::unique_ptr<Graph> graph = parse(kTwoReluGraph);
  CollectedDiagnostics diagnostics;
  std::string dump;
  llvm::raw_string_ostream os(dump);
  PassManager manager(diagnostics.engine);
  PassList passes;
  ASSERT_TRUE(
      parsePassPipeline("cse,canonicalize,dce", builtinPassRegistry(), passes, diagnostics.engine));
  manager.addPasses(std::move(passes));
  manager.enablePrintIRAfter({"canonicalize"}, os);
  EXPECT_NE(manager.run(*graph), PassResult::Failed);
  os.flush();
  EXPECT_EQ(dump.rfind("// -----// IR Dump After canonicalize //----- //\ngraph @g(", 0), 0u)
      << dump;
  EXPECT_EQ(dump.find("IR Dump After cse"), std::string::npos);
  EXPECT_EQ(dump.find("IR Dump After dce"), std::string::npos);
}

TEST(PassManagerTest, PrintsIRAfterEveryPass) {
  std::unique_ptr<Graph> graph = parse(kTwoReluGraph);
  CollectedDiagnostics diagnostics;
  std::string dump;
  llvm::raw_string_ostream os(dump);
  PassManager manager(diagnostics.engine);
  manager.addPass(builtinPassRegistry().create("cse"));
  manager.addPass(builtinPassRegistry().create("dce"));
  manager.enablePrintIRAfterAll(os);
  manager.run(*graph);
  os.flush();
  size_t cse = dump.find("// -----// IR Dump After cse //----- //\n");
  size_t dce = dump.find("// -----// IR Dump After dce //----- //\n");
  ASSERT_NE(cse, std::string::npos) << dump;
  ASSERT_NE(dce, std::string::npos) << dump;
  EXPECT_LT(cse, dce);
}

TEST(PassManagerTest, TimingReportsEveryPassInLLVMFormat) {
  std::unique_ptr<Graph> graph = parse(kTwoReluGraph);
  CollectedDiagnostics diagnostics;
  PassManager manager(diagnostics.engine);
  manager.addPass(builtinPassRegistry().create("cse"));
  manager.addPass(builtinPassRegistry().create("canonicalize"));
  manager.enableTiming();
  manager.run(*graph);
  std::string report;
  llvm::raw_string_ostream os(report);
  manager.printTimingReport(os);
  os.flush();
  EXPECT_NE(report.find("Pass execution timing report"), std::string::npos) << report;
  EXPECT_NE(report.find("cse"), std::string::npos);
  EXPECT_NE(report.find("canonicalize"), std::string::npos);
  EXPECT_NE(report.find("(verifier)"), std::string::npos);
  EXPECT_NE(report.find("Total"), std::string::npos);
}

} // namespace
