//===- passes/quant/Calibrator.h - Running a graph to calibrate its observers -===//
//
// The `calibrate` pass gives every observer group of a prepared graph (one
// with fake-quants) its qparams from data, so that lower-to-qdq can follow it
// in the same pipeline -- in qfx-mlir-opt, in a compiler's own pass manager,
// wherever a pipeline runs. Calibrating means executing the graph, which
// takes the interpreter and LibTorch; the pass libraries must not link them,
// so the pass asks for this interface through PassContext::getService, and
// //runtime/interpreter implements it and registers it as the process-wide
// default when it is linked (as with WeightQuantizer). Without it the pass
// fails, naming the library to link.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Graph.h"

#include "llvm/Support/Error.h"

#include <cstdint>
#include <string>

namespace qfx {

/// What to calibrate on.
struct CalibrationRequest {
  /// A calibration data path (a torch.save file of input tuples, one tensor
  /// per file, or .npy files; see runtime/interpreter/DataLoader.h); empty
  /// means synthetic data shaped like the graph inputs.
  std::string dataPath;
  /// Batches to run; 0 means every batch of the data (synthetic data needs
  /// a count).
  int64_t numBatches = 0;
  /// Seed of synthetic data.
  uint64_t seed = 0;
};

/// What a calibration did, for the pass's report.
struct CalibrationSummary {
  size_t batches = 0;
  /// Fake-quants that received a `qparams` attribute.
  size_t fakeQuantsWritten = 0;
  /// `synthetic (seed 0)`, `3 .npy files in data/`, ...
  std::string source;
};

class Calibrator {
public:
  /// Service key for PassContext::getService<Calibrator>().
  static char ID;

  virtual ~Calibrator();

  /// Runs `graph` on the request's data with observers on and fake-quant
  /// off, then writes each observer group's qparams into the `qparams`
  /// attribute of its fake-quants. Errors name the batch, the input or the
  /// node, and the fix.
  virtual llvm::Expected<CalibrationSummary> calibrate(Graph &graph,
                                                       const CalibrationRequest &request) = 0;
};

} // namespace qfx
