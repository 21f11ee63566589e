//===- passes/quant/Calibrate.cc - The calibrate pass ----------------------===//
//
// calibrate{data=<path> num-batches=<n> seed=<s>}: runs a prepared graph
// (fake-quants inserted, reference §1.10's calibration_mode: observers on,
// fake-quant off) on calibration data and writes each observer group's
// qparams into its fake-quants' `qparams` attribute, where lower-to-qdq reads
// them. It is qfx-quantize's calibration step as a pass, so any pipeline can
// calibrate:
//
//   annotate,share-observers,insert-fake-quant,dedup-fake-quant,
//   calibrate{data=batches.pt},lower-to-qdq
//
// Without `data` the graph runs on synthetic data (normal noise shaped like
// the inputs, `num-batches` batches, default 8), which initializes every
// observer but says nothing about the real activation ranges: a warning says
// so. The execution is the Calibrator service (passes/quant/Calibrator.h),
// which //runtime/interpreter provides.
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"
#include "passes/quant/Calibrator.h"
#include "passes/quant/QuantSupport.h"

namespace qfx {

char Calibrator::ID = 0;

Calibrator::~Calibrator() = default;

namespace {

class CalibratePass : public Pass {
public:
  CalibratePass()
      : Pass("calibrate", "Run the prepared graph on calibration data (observers on, fake-quant "
                          "off) and write each observer group's qparams into its fake-quants") {}

  PassResult run(Graph &graph, PassContext &context) override;

private:
  StringOption data{*this, "data",
                    "Calibration data: a torch.save file of input tuples, a folder of one tensor "
                    "per file, or .npy files; empty: synthetic data",
                    ""};
  IntOption numBatches{*this, "num-batches",
                       "Batches to run (0: every batch of `data`; synthetic data: 8)", 0};
  IntOption seed{*this, "seed", "Seed of synthetic data", 0};
};

PassResult CalibratePass::run(Graph &graph, PassContext &context) {
  if (numBatches < 0)
    return fail(context, "num-batches must be 0 (all) or positive, got " +
                             std::to_string(static_cast<int64_t>(numBatches)));
  bool hasFakeQuant = false;
  for (const Node *node : graph.nodes())
    if (isFakeQuant(*node)) {
      hasFakeQuant = true;
      break;
    }
  if (!hasFakeQuant)
    return fail(context, "the graph has no fake quantization nodes to calibrate; run annotate, "
                         "share-observers and insert-fake-quant first");
  Calibrator *calibrator = context.getService<Calibrator>();
  if (!calibrator)
    return fail(context, "calibrating runs the graph, which needs the runtime: link "
                         "//runtime/interpreter (qfx-quantize and qfx-mlir-opt do; qfx-opt does "
                         "not), or calibrate with qfx-quantize");
  CalibrationRequest request;
  request.dataPath = data;
  request.numBatches = numBatches;
  request.seed = static_cast<uint64_t>(static_cast<int64_t>(seed));
  if (request.dataPath.empty()) {
    if (request.numBatches == 0)
      request.numBatches = 8;
    context.diagnostics().warning(
        Location(), "calibrate: no `data` given, so the observers see " +
                        std::to_string(request.numBatches) +
                        " batches of synthetic noise; the qparams do not reflect the model's "
                        "real activation ranges (pass data=<calibration data>)");
  }
  llvm::Expected<CalibrationSummary> summary = calibrator->calibrate(graph, request);
  if (!summary)
    return fail(context, errorText(summary.takeError()));
  if (summary->batches == 0)
    return fail(context, "the calibration data (" + summary->source +
                             ") has no batches; observers need at least one");
  return PassResult::Changed;
}

} // namespace

std::unique_ptr<Pass> createCalibratePass() { return std::make_unique<CalibratePass>(); }

} // namespace qfx
