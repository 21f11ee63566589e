//===- runtime/interpreter/Calibration.cc - Calibration batches and service -===//
//
// runCalibrationBatches, and the runtime's Calibrator: an interpreter over
// the graph in calibration mode (observers on, fake-quant off, eval), the
// data source the request names (a file or folder, else synthetic), the
// batches, then each observer group's qparams into its fake-quants.
//
//===----------------------------------------------------------------------===//
#include "runtime/interpreter/Calibration.h"

#include "passes/Pass.h"
#include "passes/quant/Calibrator.h"
#include "runtime/interpreter/Quantizer.h"

#include "llvm/ADT/Twine.h"

#include <ATen/ATen.h>

namespace qfx {

namespace {
llvm::Error makeError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}
} // namespace

llvm::Expected<size_t> runCalibrationBatches(Interpreter &interpreter, DataSource &data,
                                             size_t maxBatches, ProgressBar *progress) {
  size_t seen = 0;
  while (maxBatches == 0 || seen < maxBatches) {
    llvm::Expected<std::optional<Batch>> batch = data.next();
    if (!batch)
      return makeError("calibration batch " + llvm::Twine(seen) + ": " +
                       llvm::toString(batch.takeError()));
    if (!*batch)
      break;
    for (size_t i = 0; i < (*batch)->size(); ++i) {
      const at::Tensor &input = (**batch)[i];
      if (input.defined() && at::isFloatingType(input.scalar_type()) &&
          !at::isfinite(input).all().item<bool>()) {
        bool nan = at::isnan(input).any().item<bool>();
        return makeError("calibration batch " + llvm::Twine(seen) + " (" + data.describe() +
                         "), input " + llvm::Twine(i) + ", contains " + (nan ? "NaN" : "Inf") +
                         "; clean the calibration data (observers cannot use non-finite values)");
      }
    }
    llvm::Expected<std::vector<at::Tensor>> outputs = interpreter.run(**batch);
    if (!outputs)
      return makeError("calibration batch " + llvm::Twine(seen) + " (" + data.describe() +
                       "): " + llvm::toString(outputs.takeError()));
    ++seen;
    if (progress)
      progress->update(seen);
  }
  if (progress)
    progress->finish();
  return seen;
}

namespace {

class RuntimeCalibrator : public Calibrator {
public:
  llvm::Expected<CalibrationSummary> calibrate(Graph &graph,
                                               const CalibrationRequest &request) override {
    std::unique_ptr<DataSource> data;
    if (request.dataPath.empty()) {
      llvm::Expected<std::unique_ptr<DataSource>> synthetic =
          createSyntheticDataSource(graph, static_cast<size_t>(request.numBatches), request.seed);
      if (!synthetic)
        return synthetic.takeError();
      data = std::move(*synthetic);
    } else {
      llvm::Expected<std::unique_ptr<DataSource>> opened =
          openDataSource(request.dataPath, graph.inputs().size());
      if (!opened)
        return opened.takeError();
      data = std::move(*opened);
    }
    // The interpreter runs this graph (not a copy), so the fake-quants it
    // reports are the graph's own nodes.
    // The Quantizer's forwards (qfx-quantize) run 1x1 convs on oneDNN; so
    // does this one, so that the pass and the tool calibrate alike.
    InterpreterOptions options;
    options.pointwiseConvOnOneDnn = true;
    llvm::Expected<std::unique_ptr<Interpreter>> interpreter =
        Interpreter::create(graph, std::move(options));
    if (!interpreter)
      return interpreter.takeError();
    (*interpreter)->setObserversEnabled(true);
    (*interpreter)->setFakeQuantEnabled(false);
    (*interpreter)->setTraining(false);
    CalibrationSummary summary;
    summary.source = data->describe();
    llvm::Expected<size_t> batches =
        runCalibrationBatches(**interpreter, *data, static_cast<size_t>(request.numBatches));
    if (!batches)
      return batches.takeError();
    summary.batches = *batches;
    if (summary.batches == 0)
      return summary; // the pass reports it
    llvm::Expected<size_t> written = writeObserverQParams(**interpreter, graph);
    if (!written)
      return written.takeError();
    summary.fakeQuantsWritten = *written;
    return summary;
  }
};

// Linking this library makes the `calibrate` pass work.
const bool kCalibratorRegistered = [] {
  static RuntimeCalibrator calibrator;
  setDefaultPassService<Calibrator>(&calibrator);
  return true;
}();

} // namespace

} // namespace qfx
