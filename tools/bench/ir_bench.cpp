//===- tools/bench/ir_bench.cpp - Scaling benchmark of the core IR --------===//
//
// Builds residual-MLP-like graphs of 10k, 100k and 1M nodes (each block:
// linear, relu, a duplicate relu that cse merges, linear, add, and a dead
// sigmoid that dce removes) and times build, print, parse, verify and the
// `cse,dce` pipeline, and dce of as many dead users of one single value
// (fan-out), printing nanoseconds per node for each size. The last
// lines compare the 1M-node time with the 100k-node time: every phase must
// scale linearly (ratio <= 12 for a 10x larger graph). Not a test: absolute
// times on a shared 2-core machine are noise; the ratios are the result.
//
//===----------------------------------------------------------------------===//
#include "ir/Diagnostics.h"
#include "ir/Graph.h"
#include "ir/Parser.h"
#include "ir/Printer.h"
#include "ir/Verifier.h"
#include "passes/BuiltinPasses.h"
#include "passes/PassManager.h"
#include "passes/PassPipeline.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/raw_ostream.h"

#include <chrono>
#include <map>
#include <string>
#include <vector>

using namespace qfx;

namespace {

llvm::cl::list<unsigned> sizesOption("sizes", llvm::cl::desc("graph sizes in nodes"),
                                     llvm::cl::CommaSeparated);

constexpr int64_t kWidth = 64;
constexpr unsigned kNodesPerBlock = 6;

std::unique_ptr<Graph> buildGraph(unsigned numNodes) {
  auto graph = std::make_unique<Graph>("residual_mlp");
  Type activation = Type::rankedTensor(DType::F32, {1, kWidth});
  Type weight = Type::rankedTensor(DType::F32, {kWidth, kWidth});
  Type bias = Type::rankedTensor(DType::F32, {kWidth});
  Value *x = graph->addInput("x", activation);
  unsigned numBlocks = numNodes / kNodesPerBlock;
  for (unsigned block = 0; block < numBlocks; ++block) {
    std::string prefix = "blocks." + std::to_string(block);
    Value *w1 = graph->addParameter(prefix + ".fc1.weight", weight);
    Value *b1 = graph->addParameter(prefix + ".fc1.bias", bias);
    Value *w2 = graph->addParameter(prefix + ".fc2.weight", weight);
    auto add = [&](llvm::StringRef op, std::vector<Value *> operands, llvm::StringRef module) {
      Node *node = graph->createNode(op, operands, {activation});
      node->setModule(module, module.empty() ? "" : "torch.nn.modules.linear.Linear");
      graph->append(node);
      return node->result();
    };
    Value *h = add("aten::linear", {x, w1, b1}, prefix + ".fc1");
    Value *r1 = add("aten::relu", {h}, "");
    Value *r2 = add("aten::relu", {h}, ""); // duplicate: cse merges it with r1
    Value *y = add("aten::linear", {r1, w2}, prefix + ".fc2");
    add("aten::sigmoid", {r2}, ""); // dead: dce removes it (and then r2)
    Node *sum = graph->createNode("aten::add", {y, x}, {activation});
    sum->setAttribute("alpha", Attribute::integer(1));
    graph->append(sum);
    x = sum->result();
  }
  graph->addOutput(x);
  return graph;
}

/// `numNodes` dead users of one input: erasing them must not search the
/// input's use list (that would be quadratic in the fan-out).
std::unique_ptr<Graph> buildFanOut(unsigned numNodes) {
  auto graph = std::make_unique<Graph>("fan_out");
  Type activation = Type::rankedTensor(DType::F32, {1, kWidth});
  Value *x = graph->addInput("x", activation);
  for (unsigned i = 0; i < numNodes; ++i)
    graph->append(graph->createNode("aten::sigmoid", {x}, {activation}));
  graph->addOutput(x);
  return graph;
}

using Clock = std::chrono::steady_clock;
double secondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

} // namespace

int main(int argc, char **argv) {
  llvm::cl::ParseCommandLineOptions(argc, argv, "qfx IR scaling benchmark\n");
  std::vector<unsigned> sizes(sizesOption.begin(), sizesOption.end());
  if (sizes.empty())
    sizes = {10000, 100000, 1000000};

  const char *phases[] = {"build",   "print",       "parse",      "verify",
                          "cse,dce", "parse+print", "fan-out dce"};
  std::map<unsigned, std::map<std::string, double>> seconds;
  llvm::outs() << llvm::format("%-10s %-12s %12s %12s\n", static_cast<const char *>("nodes"),
                               static_cast<const char *>("phase"),
                               static_cast<const char *>("seconds"),
                               static_cast<const char *>("ns/node"));
  for (unsigned size : sizes) {
    DiagnosticEngine diagnostics;
    auto start = Clock::now();
    std::unique_ptr<Graph> graph = buildGraph(size);
    seconds[size]["build"] = secondsSince(start);
    size_t nodes = graph->numNodes();

    start = Clock::now();
    std::string text = printGraphToString(*graph);
    seconds[size]["print"] = secondsSince(start);
    graph.reset();

    start = Clock::now();
    graph = parseGraph(text, diagnostics, "generated");
    seconds[size]["parse"] = secondsSince(start);
    if (!graph) {
      llvm::errs() << "error: the printed graph did not parse back\n";
      return 1;
    }
    seconds[size]["parse+print"] = seconds[size]["parse"] + seconds[size]["print"];

    start = Clock::now();
    bool valid = verifyGraph(*graph, diagnostics);
    seconds[size]["verify"] = secondsSince(start);
    if (!valid)
      return 1;

    PassList passes;
    if (!parsePassPipeline("cse,dce", builtinPassRegistry(), passes, diagnostics))
      return 1;
    PassManager manager(diagnostics);
    manager.addPasses(std::move(passes));
    start = Clock::now();
    PassResult result = manager.run(*graph);
    seconds[size]["cse,dce"] = secondsSince(start);
    if (result == PassResult::Failed)
      return 1;
    size_t expected = size / kNodesPerBlock * (kNodesPerBlock - 2);
    if (graph->numNodes() != expected) {
      llvm::errs() << "error: cse,dce left " << graph->numNodes() << " nodes, expected " << expected
                   << "\n";
      return 1;
    }

    std::unique_ptr<Graph> fanOut = buildFanOut(size);
    PassList dce;
    if (!parsePassPipeline("dce", builtinPassRegistry(), dce, diagnostics))
      return 1;
    PassManager fanOutManager(diagnostics);
    fanOutManager.addPasses(std::move(dce));
    start = Clock::now();
    if (fanOutManager.run(*fanOut) == PassResult::Failed || !fanOut->empty())
      return 1;
    seconds[size]["fan-out dce"] = secondsSince(start);

    for (const char *phase : phases)
      llvm::outs() << llvm::format("%-10zu %-12s %12.4f %12.1f\n", nodes, phase,
                                   seconds[size][phase], 1e9 * seconds[size][phase] / nodes);
  }

  // Linear scaling: each tenfold size step may cost at most 12x. Only the
  // largest step decides the exit status: below ~10 ms per phase, timer and
  // cache noise dominate the ratio.
  bool linear = true;
  for (size_t i = 1; i < sizes.size(); ++i) {
    unsigned small = sizes[i - 1], large = sizes[i];
    double growth = static_cast<double>(large) / small;
    llvm::outs() << "\nscaling " << small << " -> " << large << " nodes (" << growth
                 << "x larger; limit " << 1.2 * growth << "x):\n";
    for (const char *phase : phases) {
      double ratio = seconds[large][phase] / std::max(seconds[small][phase], 1e-9);
      bool ok = ratio <= 1.2 * growth;
      if (i + 1 == sizes.size())
        linear &= ok;
      llvm::outs() << llvm::format("  %-12s %8.2fx %s\n", phase, ratio, ok ? "ok" : "NOT LINEAR");
    }
  }
  return linear ? 0 : 2;
}
