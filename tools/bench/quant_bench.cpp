//===- tools/bench/quant_bench.cpp - Speed of the quantization pipeline ---===//
//
// Times the whole graph-mode quantization pipeline -- annotate (default W8A8),
// share-observers, insert-fake-quant, dedup-fake-quant, then qparams on the
// activation fake-quants (a stand-in for calibration, which runs the model
// and is not a compiler pass) and lower-to-qdq, which computes per-channel
// weight qparams and int8 codes from the weight data -- on
//  (a) the residual MLP of tools/bench/peer_quant.py: N blocks of Linear,
//      ReLU, Linear and a residual add (hidden size 64, weights with data),
//      the model PyTorch's prepare_fx/convert_fx and prepare_jit/convert_jit
//      are timed on; and
//  (b) generated graphs of 100k and 1M nodes that alternate that block with
//      a branch block (two linears of one input, cat, linear, relu), so
//      sibling sharing and shared-observer groups occur at scale (hidden
//      size 4 to keep weight data small).
// Weight numerics come from a small WeightQuantizer given to the passes
// through the PassContext (symmetric per-channel min/max, as the static
// calculator; codes from quantizeWithQParams), standing in for the libtorch
// runtime. Prints per-pass wall and CPU seconds, the totals, counts that show the result
// is what it should be, and for (b) nanoseconds per node at both sizes and
// their ratio (linear scaling: about 1). tools/bench/run_quant_bench.sh puts
// the (a) total next to the peers'. Not a test: tagged manual.
//
//===----------------------------------------------------------------------===//
#include "ir/Diagnostics.h"
#include "ir/Graph.h"
#include "ir/Verifier.h"
#include "passes/BuiltinPasses.h"
#include "passes/Pass.h"
#include "passes/quant/QuantSupport.h"
#include "passes/quant/WeightQuantizer.h"

#include "llvm/ADT/DenseSet.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <ctime>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <sys/resource.h>

using namespace qfx;

namespace {

llvm::cl::opt<unsigned> blocksOption("blocks",
                                     llvm::cl::desc("blocks of the residual MLP (default 400)"),
                                     llvm::cl::init(400));
llvm::cl::list<unsigned> sizesOption("sizes",
                                     llvm::cl::desc("generated graph sizes in nodes "
                                                    "(default 100000,1000000)"),
                                     llvm::cl::CommaSeparated);
llvm::cl::opt<unsigned> repeatOption("repeat",
                                     llvm::cl::desc("runs of the MLP pipeline; the median is kept"),
                                     llvm::cl::init(5));

using Clock = std::chrono::steady_clock;
double secondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

/// CPU seconds of this (single-threaded) process: on a machine shared with
/// builds, wall time includes waiting for a core; CPU time does not.
/// Minor page faults of the process so far: a pass's first touch of fresh
/// memory costs a fault per 4 KiB page, which is a large part of its time at
/// a million nodes, so the report shows them per step.
long minorFaults() {
  rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_minflt;
}

double cpuSeconds() {
  timespec now;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now);
  return now.tv_sec + now.tv_nsec * 1e-9;
}

/// Builds graphs with deterministic random weight data.
class GraphBuilder {
public:
  GraphBuilder(llvm::StringRef name, int64_t hidden)
      : graph_(std::make_unique<Graph>(name)), hidden_(hidden), random_(7) {
    activation_ = Type::rankedTensor(DType::F32, {1, hidden});
    x_ = graph_->addInput("x", activation_);
  }

  /// Linear, ReLU, Linear, residual add.
  void residualBlock(const std::string &prefix) {
    Value *h = linear(prefix + ".fc1", x_, hidden_);
    Value *r =
        node("aten::relu", {h}, activation_, prefix + ".relu", "torch.nn.modules.activation.ReLU");
    Value *y = linear(prefix + ".fc2", r, hidden_);
    Node *sum = graph_->createNode("aten::add", {y, x_}, {activation_});
    sum->setAttribute("alpha", Attribute::integer(1));
    sum->setModule(prefix, "bench.ResidualBlock");
    graph_->append(sum);
    x_ = sum->result();
  }

  /// Two linears of one input, cat, linear back to the hidden size, ReLU.
  void branchBlock(const std::string &prefix) {
    Value *a = linear(prefix + ".left", x_, hidden_);
    Value *b = linear(prefix + ".right", x_, hidden_);
    Type wide = Type::rankedTensor(DType::F32, {1, 2 * hidden_});
    Node *cat = graph_->createNode("aten::cat", {a, b}, {wide});
    cat->setAttribute("dim", Attribute::integer(1));
    cat->setModule(prefix, "bench.BranchBlock");
    graph_->append(cat);
    Value *m = linear(prefix + ".merge", cat->result(), 2 * hidden_);
    x_ = node("aten::relu", {m}, activation_, prefix + ".relu", "torch.nn.modules.activation.ReLU");
  }

  std::unique_ptr<Graph> finish() {
    graph_->addOutput(x_);
    return std::move(graph_);
  }
  size_t numNodes() const { return graph_->numNodes(); }

private:
  Value *node(llvm::StringRef op, std::vector<Value *> operands, const Type &type,
              llvm::StringRef module, llvm::StringRef moduleType) {
    Node *n = graph_->createNode(op, operands, {type});
    n->setModule(module, moduleType);
    graph_->append(n);
    return n->result();
  }

  Value *parameter(const std::string &name, std::vector<int64_t> shape) {
    Value *p = graph_->addParameter(name, Type::rankedTensor(DType::F32, shape));
    auto data = std::make_shared<TensorData>();
    data->shape = shape;
    std::vector<float> values(static_cast<size_t>(productOf(shape)));
    std::uniform_real_distribution<float> uniform(-0.5f, 0.5f);
    for (float &v : values)
      v = uniform(random_);
    data->mutableBytes().resize(values.size() * sizeof(float));
    std::memcpy(data->mutableBytes().data(), values.data(), data->bytes().size());
    p->setData(std::move(data));
    return p;
  }

  Value *linear(const std::string &module, Value *input, int64_t inFeatures) {
    Value *w = parameter(module + ".weight", {hidden_, inFeatures});
    Value *b = parameter(module + ".bias", {hidden_});
    return node("aten::linear", {input, w, b}, activation_, module,
                "torch.nn.modules.linear.Linear");
  }

  std::unique_ptr<Graph> graph_;
  int64_t hidden_;
  std::mt19937 random_;
  Type activation_;
  Value *x_;
};

std::unique_ptr<Graph> residualMLP(unsigned blocks) {
  GraphBuilder builder("residual_mlp", 64);
  for (unsigned b = 0; b < blocks; ++b)
    builder.residualBlock("blocks." + std::to_string(b));
  return builder.finish();
}

std::unique_ptr<Graph> generated(size_t numNodes) {
  GraphBuilder builder("generated", 4);
  for (unsigned b = 0; builder.numNodes() < numNodes; ++b) {
    if (b % 2)
      builder.branchBlock("blocks." + std::to_string(b));
    else
      builder.residualBlock("blocks." + std::to_string(b));
  }
  return builder.finish();
}

/// The static calculator for symmetric specs on f32 weights (max |w| per
/// block / (Q / 2), at least fp32 eps; zero point the range's middle), with
/// codes from the pass library's quantizeWithQParams.
class BenchWeightQuantizer : public WeightQuantizer {
public:
  llvm::Expected<QParamValues> computeQParams(const TensorData &weight,
                                              const QuantizationSpec &spec,
                                              llvm::ArrayRef<int64_t> qparamShape) override {
    size_t numBlocks = static_cast<size_t>(productOf(qparamShape));
    // Read in place (the bytes need not be float-aligned): no copy of the data.
    // bytes() is read once: per element, its check for a deferred form kept
    // the loop from being vectorized (a third of the 400-block MLP's time).
    const std::vector<uint8_t> &bytes = weight.bytes();
    size_t numValues = bytes.size() / sizeof(float);
    auto value = [&](size_t i) {
      float v;
      std::memcpy(&v, bytes.data() + i * sizeof(float), sizeof v);
      return v;
    };
    // Per-channel along axis 0 or per tensor: blocks are contiguous rows.
    size_t perBlock = numBlocks ? numValues / numBlocks : 0;
    QParamValues qparams;
    qparams.scale.reserve(numBlocks);
    qparams.zeroPoint.reserve(numBlocks);
    double half = (spec.quantMax() - spec.quantMin()) / 2;
    int64_t zeroPoint = static_cast<int64_t>((spec.quantMax() + spec.quantMin() + 1) / 2);
    for (size_t b = 0; b < numBlocks; ++b) {
      float maxAbs = 0;
      for (size_t i = 0; i < perBlock; ++i)
        maxAbs = std::max(maxAbs, std::abs(value(b * perBlock + i)));
      qparams.scale.push_back(std::max(maxAbs / half, 1.1920928955078125e-07));
      qparams.zeroPoint.push_back(zeroPoint);
    }
    return qparams;
  }
  llvm::Expected<TensorData> quantize(const TensorData &weight, const QuantizationSpec &spec,
                                      const QParamValues &qparams,
                                      llvm::ArrayRef<int64_t> qparamShape) override {
    return quantizeWithQParams(weight, spec, qparams, qparamShape);
  }
};

struct Step {
  std::string name;
  double wall, cpu;
  long faults;
};

struct PipelineResult {
  std::vector<Step> steps;
  double total = 0, totalCpu = 0;
  long faults = 0;
  size_t fakeQuants = 0, groups = 0, quantizes = 0, dequantizes = 0, quantizedWeights = 0;
};

/// Stand-in for calibration: per-tensor qparams on every activation
/// fake-quant (weights get theirs from the weight quantizer).
void setActivationQParams(Graph &graph) {
  Attribute qparams = qparamsToAttribute(QParamValues{{0.05}, {0}, {}});
  for (Node *node : graph.nodes())
    if (isFakeQuant(*node) && !node->operand(0)->isParameter())
      node->setAttribute(fqattr::kQParams, qparams);
}

PipelineResult runPipeline(Graph &graph) {
  PipelineResult result;
  DiagnosticEngine diagnostics;
  PassContext context(diagnostics);
  BenchWeightQuantizer quantizer;
  context.setService<WeightQuantizer>(&quantizer);
  auto run = [&](llvm::StringRef name) {
    std::unique_ptr<Pass> pass = builtinPassRegistry().create(name);
    if (!pass) {
      llvm::errs() << "quant_bench: no pass '" << name << "' is registered\n";
      std::exit(1);
    }
    Clock::time_point start = Clock::now();
    double cpuStart = cpuSeconds();
    long faultsStart = minorFaults();
    PassResult status = pass->run(graph, context);
    double seconds = secondsSince(start), cpu = cpuSeconds() - cpuStart;
    long faults = minorFaults() - faultsStart;
    if (status == PassResult::Failed || diagnostics.hadErrors()) {
      llvm::errs() << "quant_bench: pass '" << name << "' failed\n";
      std::exit(1);
    }
    result.steps.push_back({name.str(), seconds, cpu, faults});
    result.total += seconds;
    result.totalCpu += cpu;
    result.faults += faults;
  };
  run("annotate");
  run("share-observers");
  run("insert-fake-quant");
  run("dedup-fake-quant");
  llvm::DenseSet<int64_t> groups;
  for (Node *node : graph.nodes())
    if (isFakeQuant(*node)) {
      ++result.fakeQuants;
      groups.insert(node->attribute(fqattr::kGroup)->getInt());
    }
  result.groups = groups.size();
  Clock::time_point start = Clock::now();
  double cpuStart = cpuSeconds();
  long faultsStart = minorFaults();
  setActivationQParams(graph);
  double calibration = secondsSince(start), calibrationCpu = cpuSeconds() - cpuStart;
  long calibrationFaults = minorFaults() - faultsStart;
  result.steps.push_back(
      {"(qparams of activations)", calibration, calibrationCpu, calibrationFaults});
  result.faults += calibrationFaults;
  result.total += calibration;
  result.totalCpu += calibrationCpu;
  run("lower-to-qdq");
  for (Node *node : graph.nodes()) {
    result.quantizes += node->op().role == OpRole::Quantize;
    result.dequantizes += node->op().role == OpRole::Dequantize;
  }
  for (Value *parameter : graph.parameters())
    result.quantizedWeights += parameter->data() && parameter->data()->dtype == DType::I8;
  return result;
}

void printResult(const PipelineResult &result) {
  llvm::outs() << llvm::format("    %-26s %10s %10s %12s\n", static_cast<const char *>(""),
                               static_cast<const char *>("wall s"),
                               static_cast<const char *>("cpu s"),
                               static_cast<const char *>("page faults"));
  for (const Step &step : result.steps)
    llvm::outs() << llvm::format("    %-26s %10.4f %10.4f %12ld\n", step.name.c_str(), step.wall,
                                 step.cpu, step.faults);
  llvm::outs() << llvm::format("    %-26s %10.4f %10.4f %12ld\n",
                               static_cast<const char *>("total"), result.total, result.totalCpu,
                               result.faults);
  llvm::outs() << "    " << result.fakeQuants << " fake-quants in " << result.groups
               << " observer groups -> " << result.quantizes << " quantize, " << result.dequantizes
               << " dequantize, " << result.quantizedWeights << " int8 weights\n";
}

} // namespace

int main(int argc, char **argv) {
  llvm::cl::ParseCommandLineOptions(argc, argv, "qfx quantization pipeline benchmark\n");
  std::vector<unsigned> sizes(sizesOption.begin(), sizesOption.end());
  if (sizes.empty())
    sizes = {100000, 1000000};

  // (a) The residual MLP the peers are timed on; the median of a few runs.
  unsigned blocks = blocksOption;
  std::vector<PipelineResult> runs;
  size_t numNodes = 0;
  for (unsigned i = 0; i < std::max(1u, unsigned(repeatOption)); ++i) {
    std::unique_ptr<Graph> graph = residualMLP(blocks);
    numNodes = graph->numNodes();
    runs.push_back(runPipeline(*graph));
    DiagnosticEngine diagnostics;
    if (!verifyGraph(*graph, diagnostics)) {
      llvm::errs() << "quant_bench: the lowered graph does not verify\n";
      return 1;
    }
  }
  std::sort(runs.begin(), runs.end(),
            [](const PipelineResult &a, const PipelineResult &b) { return a.total < b.total; });
  const PipelineResult &median = runs[runs.size() / 2];
  llvm::outs() << "residual MLP, " << blocks << " blocks (" << numNodes << " nodes, " << 4 * blocks
               << " weight and bias parameters with data), median of " << runs.size() << " runs:\n";
  printResult(median);
  llvm::outs() << llvm::format("RESULT mlp_blocks=%u qfx_total_s=%.6f qfx_cpu_s=%.6f\n", blocks,
                               median.total, median.totalCpu);

  // (b) Generated graphs: one run each, nanoseconds per node.
  std::vector<std::pair<size_t, double>> perNode;
  for (unsigned size : sizes) {
    Clock::time_point start = Clock::now();
    std::unique_ptr<Graph> graph = generated(size);
    double build = secondsSince(start);
    size_t nodes = graph->numNodes();
    PipelineResult result = runPipeline(*graph);
    llvm::outs() << "generated graph, " << nodes << " nodes (built in "
                 << llvm::format("%.3f", build) << " s, not counted):\n";
    printResult(result);
    double ns = result.totalCpu / nodes * 1e9;
    perNode.push_back({nodes, ns});
    llvm::outs() << llvm::format("    %.1f ns (cpu) per node\n", ns);
    llvm::outs() << llvm::format("RESULT generated_nodes=%zu qfx_total_s=%.6f qfx_cpu_s=%.6f\n",
                                 nodes, result.total, result.totalCpu);
  }
  if (perNode.size() >= 2) {
    const auto &small = perNode.front(), &large = perNode.back();
    llvm::outs() << llvm::format("scaling: %zu -> %zu nodes (x%.1f): time per node x%.2f "
                                 "(cpu; 1.0 = linear)\n",
                                 small.first, large.first, double(large.first) / small.first,
                                 large.second / small.second);
  }
  return 0;
}
