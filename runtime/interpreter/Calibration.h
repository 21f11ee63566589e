//===- runtime/interpreter/Calibration.h - Calibration batches and service -===//
//
// The calibration loop qfx-quantize's Quantizer and the `calibrate` pass
// share: feed batches to an interpreter whose observers are on, refusing
// NaN and Inf inputs by batch and input number. This library also provides
// the Calibrator service (passes/quant/Calibrator.h) and registers it as the
// process-wide default, so that linking //runtime/interpreter is enough for
// `calibrate` to work in any pipeline.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/interpreter/DataLoader.h"
#include "runtime/interpreter/Interpreter.h"

#include "llvm/Support/Error.h"

namespace qfx {

/// Runs up to `maxBatches` batches of `data` (0: all) through `interpreter`
/// in its current mode; shows `progress` if given. Returns the number of
/// batches run. A NaN or Inf in a float input is an error naming the batch,
/// the data source and the input.
llvm::Expected<size_t> runCalibrationBatches(Interpreter &interpreter, DataSource &data,
                                             size_t maxBatches, ProgressBar *progress = nullptr);

} // namespace qfx
