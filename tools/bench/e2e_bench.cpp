//===- tools/bench/e2e_bench.cpp - qfx's side of the end-to-end benchmark -===//
//
// Times the whole post-training quantization of one TorchScript model on
// given calibration batches, phase by phase, the way tools/bench/
// e2e_bench.py times PyTorch's quantize_jit and FX on the same model and
// data:
//   import       .pt -> Graph (types from the first batch)
//   prepare      Quantizer::prepare: fold-conv-bn, annotate, share-observers,
//                insert/dedup-fake-quant, interpreter build, init forward
//                (the forward is also reported alone: it is model execution,
//                which quantize_jit's prepare does not do)
//   calibrate    per batch, calibration mode (observers on), median
//   float        per batch, our interpreter on the float graph (after
//                fold-conv-bn, i.e. the graph calibration runs minus the
//                observers), median -- the yardstick for observer overhead
//   convert      finalize (qparams into the graph, lower-to-qdq), dce, and
//                the in-memory torch::jit::Module export (convert_jit's
//                output is a module too)
// and the output SQNR of the quantized graph against the float one over the
// batches. Prints `RESULT key=value ...` lines for the driver. Not a test.
//
//   e2e_bench --model m.pt --data batches.pt [--config w8a8]
//
//===----------------------------------------------------------------------===//
#include "ir/Graph.h"
#include "ir/torchscript/TorchScript.h"
#include "passes/BuiltinPasses.h"
#include "passes/PassManager.h"
#include "passes/PassPipeline.h"
#include "runtime/interpreter/DataLoader.h"
#include "runtime/interpreter/GraphCopy.h"
#include "runtime/interpreter/Interpreter.h"
#include "runtime/interpreter/Quantizer.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <torch/csrc/jit/api/module.h>

#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>

using namespace qfx;

namespace {

using Clock = std::chrono::steady_clock;

double since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

double median(std::vector<double> values) {
  if (values.empty())
    return 0;
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

[[noreturn]] void die(const llvm::Twine &message) {
  llvm::errs() << "e2e_bench: error: " << message << "\n";
  std::exit(1);
}

template <typename T> T check(llvm::Expected<T> value, const char *what) {
  if (!value)
    die(llvm::Twine(what) + ": " + llvm::toString(value.takeError()));
  return std::move(*value);
}

void check(llvm::Error error, const char *what) {
  if (error)
    die(llvm::Twine(what) + ": " + llvm::toString(std::move(error)));
}

void runPipeline(Graph &graph, llvm::StringRef pipeline) {
  DiagnosticEngine diagnostics;
  std::string errors;
  diagnostics.setHandler([&](const Diagnostic &d) {
    if (d.severity == Severity::Error)
      errors += d.message + "\n";
  });
  PassList passes;
  if (!parsePassPipeline(pipeline, builtinPassRegistry(), passes, diagnostics))
    die("pipeline: " + errors);
  PassManager manager(diagnostics);
  manager.addPasses(std::move(passes));
  if (manager.run(graph) == PassResult::Failed)
    die(pipeline + ": " + errors);
}

} // namespace

int main(int argc, char **argv) {
  llvm::InitLLVM initLLVM(argc, argv);
  llvm::cl::opt<std::string> modelPath("model", llvm::cl::desc("TorchScript .pt"),
                                       llvm::cl::Required);
  llvm::cl::opt<std::string> dataPath("data", llvm::cl::desc("torch.save list of batches"),
                                      llvm::cl::Required);
  llvm::cl::opt<std::string> config("config", llvm::cl::init("w8a8"),
                                    llvm::cl::desc("Quantization config"));
  llvm::cl::opt<unsigned> repeat("repeat", llvm::cl::init(5),
                                 llvm::cl::desc("Rounds of prepare + convert (median)"));
  llvm::cl::opt<unsigned> threads(
      "num-threads", llvm::cl::init(0),
      llvm::cl::desc("Intra-op threads (at::set_num_threads; libLLVM already owns --threads): "
                     "the kernels' and the weight "
                     "quantizer's parallel loops; 0 keeps libtorch's default (OMP_NUM_THREADS, "
                     "else the hardware threads)"));
  llvm::cl::ParseCommandLineOptions(argc, argv, "qfx end-to-end benchmark (one model)\n");
  if (threads > 0)
    at::set_num_threads(static_cast<int>(threads));

  // Batches are loaded up front: the benchmark times compute, not reading.
  llvm::Expected<std::unique_ptr<Graph>> probe = importTorchScriptFile(modelPath);
  std::unique_ptr<Graph> probed = check(std::move(probe), "import");
  std::vector<Batch> batches =
      check(loadTorchSaved(dataPath, probed->inputs().size()), "calibration data");
  if (batches.empty())
    die("no calibration batches");

  Clock::time_point start = Clock::now();
  TorchScriptImportOptions importOptions;
  importOptions.minProbeThreads = 2; // as qfx-quantize's import
  for (const at::Tensor &tensor : batches[0])
    importOptions.inputTypes.push_back(
        Type::rankedTensor(fromScalarType(tensor.scalar_type()),
                           std::vector<int64_t>(tensor.sizes().begin(), tensor.sizes().end())));
  std::unique_ptr<Graph> graph =
      check(importTorchScriptFile(modelPath, importOptions), "typed import");
  double importSeconds = since(start);
  size_t nodes = graph->numNodes();

  // The float yardstick: the graph calibration runs, without observers.
  std::unique_ptr<Graph> folded = copyGraph(*graph);
  runPipeline(*folded, "fold-conv-bn");
  // With the Quantizer's kernel choice (Interpreter.h): a yardstick for the
  // observers, not for the kernels.
  InterpreterOptions floatOptions;
  floatOptions.pointwiseConvOnOneDnn = true;
  std::unique_ptr<Interpreter> floatRun =
      check(Interpreter::create(*folded, floatOptions), "float interpreter");

  // Prepare + convert are repeated on fresh copies of the imported graph
  // (medians: the machine is shared); calibration is timed in the first
  // round, whose quantized graph is the one evaluated.
  QuantizerOptions options;
  options.config = config;
  options.warningHandler = [](const std::string &) {};
  std::vector<double> prepareRuns, initForwardRuns, passesRuns, finalizeRuns, exportRuns,
      convertRuns;
  // Median time of each phase over the rounds (QFX_BENCH_PHASES=1 prints them).
  std::map<std::string, std::vector<double>> phaseRuns;
  std::vector<double> calibrate, floatForward, calibrateOverFloat;
  std::unique_ptr<Graph> quantized;
  size_t fakeQuants = 0;
  for (unsigned round = 0; round < std::max(1u, repeat.getValue()); ++round) {
    Quantizer quantizer(copyGraph(*graph), options);
    start = Clock::now();
    check(quantizer.prepare(batches[0]), "prepare");
    prepareRuns.push_back(since(start));
    fakeQuants = quantizer.report().fakeQuants;
    for (const auto &phase : quantizer.report().phaseSeconds)
      if (phase.first == "init-forward") {
        initForwardRuns.push_back(phase.second);
        // Per round: the difference of two medians would mix rounds.
        passesRuns.push_back(prepareRuns.back() - phase.second);
      }
    if (round == 0) {
      Quantizer::Mode mode = check(quantizer.calibrationMode(), "calibration mode");
      // For profiling the calibration forward alone (perf record ...).
      if (const char *loops = std::getenv("QFX_BENCH_CALIBRATION_LOOPS"))
        for (int i = 0, e = std::atoi(loops); i < e; ++i)
          check(quantizer.forward(batches[i % batches.size()]), "calibration forward");
      // Each calibration forward is followed by our float forward on the
      // same batch: on a shared machine, pairs measured back to back give a
      // ratio that drifting load does not bias.
      for (const Batch &batch : batches) {
        Clock::time_point t = Clock::now();
        check(quantizer.forward(batch), "calibration forward");
        calibrate.push_back(since(t));
        t = Clock::now();
        check(floatRun->run(batch), "float forward");
        floatForward.push_back(since(t));
        calibrateOverFloat.push_back(calibrate.back() / floatForward.back());
      }
    }
    start = Clock::now();
    std::unique_ptr<Graph> lowered = check(quantizer.finalize(), "finalize");
    runPipeline(*lowered, "dce{remove-unused-parameters=true}");
    finalizeRuns.push_back(since(start));
    for (const auto &phase : quantizer.report().phaseSeconds)
      phaseRuns[phase.first].push_back(phase.second);
    phaseRuns["finalize+dce"].push_back(finalizeRuns.back());
    start = Clock::now();
    std::unique_ptr<torch::jit::Module> module = check(exportTorchScriptModule(*lowered), "export");
    exportRuns.push_back(since(start));
    phaseRuns["export"].push_back(exportRuns.back());
    convertRuns.push_back(finalizeRuns.back() + exportRuns.back());
    if (round == 0)
      quantized = std::move(lowered);
  }
  // For profiling export alone (perf record ...): the first round's graph.
  if (const char *loops = std::getenv("QFX_BENCH_EXPORT_LOOPS"))
    for (int i = 0, e = std::atoi(loops); i < e; ++i)
      check(exportTorchScriptModule(*quantized), "export");
  double prepareSeconds = median(prepareRuns), initForwardSeconds = median(initForwardRuns);
  double finalizeSeconds = median(finalizeRuns), exportSeconds = median(exportRuns);

  std::unique_ptr<Interpreter> quantRun =
      check(Interpreter::create(*quantized, floatOptions), "quantized interpreter");
  double signal = 0, noise = 0;
  for (const Batch &batch : batches) {
    at::Tensor expected = check(floatRun->run(batch), "float forward")[0].to(at::kDouble);
    at::Tensor actual = check(quantRun->run(batch), "quantized forward")[0].to(at::kDouble);
    signal += expected.pow(2).sum().item<double>();
    noise += (expected - actual).pow(2).sum().item<double>();
  }
  double sqnr = noise == 0 ? INFINITY : 10 * std::log10(signal / noise);

  if (std::getenv("QFX_BENCH_PHASES"))
    for (const auto &phase : phaseRuns)
      llvm::errs() << "  phase " << phase.first << " " << median(phase.second) << " s\n";

  // The first batch includes one-time allocations on both sides; medians
  // describe the steady state.
  llvm::outs() << "RESULT threads=" << at::get_num_threads() << " nodes=" << nodes
               << " fake_quants=" << fakeQuants << " batches=" << batches.size()
               << " import_s=" << importSeconds << " prepare_s=" << prepareSeconds
               << " init_forward_s=" << initForwardSeconds
               << " prepare_passes_s=" << median(passesRuns) << " finalize_s=" << finalizeSeconds
               << " export_s=" << exportSeconds << " convert_s=" << median(convertRuns)
               << " calibrate_batch_s=" << median(calibrate)
               << " float_batch_s=" << median(floatForward)
               << " calibrate_over_float=" << median(calibrateOverFloat) << " sqnr_db=" << sqnr
               << "\n";
  return 0;
}
