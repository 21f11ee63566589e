//===- runtime/interpreter/Quantizer.h - prepare / calibrate / finalize ---===//
//
// The reference's graph-mode workflow (§1.10, §1.7, §6) in C++:
//
//   Quantizer quantizer(std::move(graph), {.config = "w8a8"});
//   quantizer.prepare(exampleInputs);          // passes + init forward
//   { auto mode = quantizer.calibrationMode();  // observers on, FQ off
//     quantizer.forward(batch); ... }           // or quantizer.calibrate(data)
//   { auto mode = quantizer.trainingMode();     // QAT: both on, STE autograd
//     loss(quantizer.forward(batch)).backward(); optimizer step;
//     quantizer.step(); }                        // QAT schedule
//   std::unique_ptr<Graph> q = quantizer.finalize();  // qparams + lower-to-qdq
//
// prepare runs the pass pipeline from builtinPassRegistry() -- fold-conv-bn
// (post-training only; QAT keeps batch norms), annotate{config}, share-
// observers, insert-fake-quant, dedup-fake-quant -- builds the Interpreter,
// runs one forward with the example inputs with observers on and fake-quant
// off (every qparam initialized, §1.10), removes the fake-quants that the
// forward disabled (block size not dividing a dynamic shape, §5.7) and leaves
// observers off, fake-quant on. Modes are RAII objects: leaving calibration
// turns observers off and fake-quant on; leaving training does the same and
// restores the previous train flag; nesting is an error, as the reference's
// RuntimeError. finalize writes each observer group's qparams into its
// fake-quants' `qparams` attribute (docs/Quantization.md), stores trained
// parameters back into the graph, and runs lower-to-qdq with the runtime's
// WeightQuantizer (linked with this library, registered as the process-wide
// PassContext service).
//
// Every failure is an llvm::Error whose text names the pass / node and the
// fix; pass diagnostics (errors and warnings) are collected into it.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Graph.h"
#include "runtime/interpreter/DataLoader.h"
#include "runtime/interpreter/Interpreter.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/Support/Error.h"

#include <ATen/core/Tensor.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace qfx {

struct QuantizerOptions {
  /// annotate's `config`: a preset (w8a8, w8, w4, w4_per_block, none) or a
  /// .yaml/.yml/.json config file.
  std::string config = "w8a8";
  /// Quantization-aware training: batch norms are not folded, parameters are
  /// copied so they can train.
  bool qat = false;
  /// lower-to-qdq{stock-ops=true}: aten::quantize_per_tensor/per_channel +
  /// aten::dequantize where the spec allows.
  bool stockOps = false;
  /// Warnings from passes and the interpreter; default: stderr.
  std::function<void(const std::string &)> warningHandler;
};

/// What prepare did, for reports.
struct PrepareReport {
  size_t nodesBefore = 0;
  size_t nodesAfter = 0;
  /// Nodes with a quantization annotation after annotate.
  size_t annotatedNodes = 0;
  size_t fakeQuantsInserted = 0; // by insert-fake-quant
  size_t fakeQuantsRemoved = 0;  // by dedup-fake-quant
  size_t fakeQuantsDisabled = 0; // by the init forward (block-size mismatch)
  size_t fakeQuants = 0;         // in the prepared graph
  size_t observerGroups = 0;
  size_t batchNormsFolded = 0;
  /// Seconds per pass, in pipeline order, then "build-interpreter" and
  /// "init-forward" (the forward with the example inputs, plus the rebuild
  /// when it disabled fake-quants).
  std::vector<std::pair<std::string, double>> phaseSeconds;
};

class Quantizer {
public:
  Quantizer(std::unique_ptr<Graph> graph, QuantizerOptions options = {});
  ~Quantizer();
  Quantizer(const Quantizer &) = delete;
  Quantizer &operator=(const Quantizer &) = delete;

  llvm::Error prepare(llvm::ArrayRef<at::Tensor> exampleInputs);
  bool isPrepared() const { return prepared_; }
  bool isFinalized() const { return finalized_; }

  /// The prepared graph in the current mode (after prepare: fake-quant on).
  llvm::Expected<std::vector<at::Tensor>> forward(llvm::ArrayRef<at::Tensor> inputs);

  /// An active mode; leaving its scope (or exit()) restores the default.
  class Mode {
  public:
    Mode(Mode &&other) noexcept : quantizer_(other.quantizer_), kind_(other.kind_) {
      other.quantizer_ = nullptr;
    }
    Mode &operator=(Mode &&) = delete;
    ~Mode() { exit(); }
    void exit();

  private:
    friend class Quantizer;
    enum class Kind { Calibration, Training };
    Mode(Quantizer *quantizer, Kind kind) : quantizer_(quantizer), kind_(kind) {}
    Quantizer *quantizer_;
    Kind kind_;
  };
  /// Observers on, fake-quant off, eval (train flags false).
  llvm::Expected<Mode> calibrationMode();
  /// Observers and fake-quant on, training (STE autograd, train flags true),
  /// then the QAT schedule at the current step.
  llvm::Expected<Mode> trainingMode();
  /// Only inside trainingMode(): advances the step counter and applies the
  /// schedule (warns when there is none).
  llvm::Error step();
  int64_t stepCount() const { return steps_; }

  /// Manual switches for every group; an error when a QAT schedule is
  /// configured (the schedule owns the switches then), as in the reference.
  llvm::Error enableObserver(bool enabled);
  llvm::Error enableFakeQuant(bool enabled);

  /// Runs up to `maxBatches` batches of `data` (0: all) in calibration mode;
  /// shows `progress` if given. Returns the number of batches seen. A NaN or
  /// Inf in a batch is an error naming the batch and input.
  llvm::Expected<size_t> calibrate(DataSource &data, size_t maxBatches = 0,
                                   ProgressBar *progress = nullptr);

  /// Writes qparams, stores trained parameters, runs lower-to-qdq; hands the
  /// graph over. The quantizer is unusable afterwards.
  llvm::Expected<std::unique_ptr<Graph>> finalize();

  const Graph &graph() const { return *graph_; }
  Interpreter *interpreter() { return interpreter_.get(); }
  const PrepareReport &report() const { return report_; }
  const QuantizerOptions &options() const { return options_; }

private:
  llvm::Error runPass(llvm::StringRef name,
                      llvm::ArrayRef<std::pair<std::string, std::string>> options);
  llvm::Error buildInterpreter();
  void warn(const std::string &message) const;
  void exitMode(Mode::Kind kind);

  std::unique_ptr<Graph> graph_;
  QuantizerOptions options_;
  std::unique_ptr<Interpreter> interpreter_;
  PrepareReport report_;
  bool prepared_ = false;
  bool finalized_ = false;
  std::optional<Mode::Kind> activeMode_;
  std::optional<bool> trainingBeforeMode_;
  int64_t steps_ = 0;
};

/// Writes the qparams of every initialized observer group of `interpreter`
/// into the `qparams` attribute of its fake-quants in `graph` (the graph the
/// interpreter runs). Returns the number of fake-quants written.
llvm::Expected<size_t> writeObserverQParams(const Interpreter &interpreter, Graph &graph);

} // namespace qfx
