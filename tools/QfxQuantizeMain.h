//===- tools/QfxQuantizeMain.h - The qfx-quantize tool as a library -------===//
//
// qfx-quantize does the whole post-training quantization job in one command:
//
//   qfx-quantize model.pt -o model_q.pt [--config w8a8|w8|w4|w4_per_block|cfg.yaml]
//                [--data DIR|FILE] [--num-batches N] [--input-type T]...
//                [--mlir out.mlir] [--emit-qfx out.qfx] [--stock-ops]
//
// import (ir/torchscript) -> prepare (Quantizer: fold-conv-bn, annotate,
// share-observers, insert/dedup fake-quants, init forward) -> calibrate
// (streamed batches) -> finalize (qparams, lower-to-qdq) -> export
// (TorchScript with qfx:: custom ops, optionally MLIR and qfx IR text), then
// a report: nodes, fake-quants inserted / deduplicated / observer groups,
// time per phase, and the SQNR of the quantized model against the float one
// on the calibration batches, per output and per layer. Without any
// argument it quantizes an embedded default model (a small CNN feeding a
// transformer encoder block, defined in TorchScript source with random
// weights from a fixed seed) on synthetic data.
//
// A `.mlir` model (one func.func of tosa ops) goes through the same job and
// comes out as MLIR (`-o model_q.mlir`, default `<stem>_q.mlir`): quantize /
// dequantize as the quant dialect's qcast / dcast with calibrated scales,
// weights as integer constants (docs/MLIR.md).
//
// Outputs are written to temporary files renamed into place at the end: on
// any error the tool prints one message and exits 1, leaving no partial
// file. runQuantizeJob is the whole job without the command line, for tests.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "llvm/Support/Error.h"

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace llvm {
class raw_ostream;
}
namespace torch {
namespace jit {
struct Module;
}
} // namespace torch

namespace qfx {

class Graph;

struct QuantizeJobOptions {
  /// A TorchScript .pt file or an MLIR .mlir file; empty: `module`, else the
  /// embedded default model.
  std::string input;
  /// An in-memory model (not owned; used when `input` is empty); give its
  /// input types in `inputTypes` or pass `data`.
  const torch::jit::Module *module = nullptr;
  /// The quantized .pt; empty: `<input stem>_q.pt` next to the input, or
  /// `qfx_default_model_q.pt` in the system temp directory for the default
  /// model.
  std::string output;
  /// annotate's config: preset or .yaml/.yml/.json file.
  std::string config = "w8a8";
  /// Calibration data (.pt/.pth/.npy file or directory); empty: synthetic.
  std::string data;
  /// Batches to calibrate with; 0: all of `data`, or 8 synthetic batches.
  size_t numBatches = 0;
  /// Graph input types (`tensor<1x3x224x224xf32>` or `1x3x224x224`) when
  /// there is no data to take them from.
  std::vector<std::string> inputTypes;
  /// Also write the quantized graph as MLIR / as qfx IR text.
  std::string mlirOutput;
  std::string qfxOutput;
  /// Also export the float model (after import, before any pass) as .pt.
  std::string floatOutput;
  /// lower-to-qdq{stock-ops=true}.
  bool stockOps = false;
  /// Seed of synthetic data (and of the default model's weights).
  uint64_t seed = 0;
  /// Progress bars on stderr (only drawn when it is a terminal).
  bool progress = true;
};

struct LayerSQNR {
  std::string name; // module path, or the node when it has none
  std::string op;
  double sqnr = 0;
};

struct QuantizeJobResult {
  std::string output;
  size_t nodesImported = 0;
  size_t nodesQuantized = 0; // in the final graph
  size_t batchNormsFolded = 0;
  size_t fakeQuants = 0;
  size_t observerGroups = 0;
  size_t quantizePairs = 0;    // qfx.quantize (or aten::quantize_per_*) nodes
  size_t quantizedWeights = 0; // weights stored as codes
  size_t calibrationBatches = 0;
  /// SQNR (dB) of each graph output over all calibration batches.
  std::vector<double> outputSQNR;
  /// Per quantized compute node (conv, linear, matmul...), graph order.
  std::vector<LayerSQNR> layers;
  /// Seconds per phase: import, prepare, calibrate, finalize, evaluate,
  /// export.
  std::vector<std::pair<std::string, double>> phaseSeconds;
  /// The float reference (after fold-conv-bn) and the quantized graph.
  std::shared_ptr<Graph> floatGraph;
  std::shared_ptr<Graph> quantizedGraph;
};

/// The whole job; the report goes to `out`, warnings to `err`. On error no
/// output file is left behind.
llvm::Expected<QuantizeJobResult> runQuantizeJob(const QuantizeJobOptions &options,
                                                 llvm::raw_ostream &out, llvm::raw_ostream &err);

/// The command line: parses `argv`, runs the job, prints `qfx-quantize:
/// error: ...` on failure. Returns the exit status.
int qfxQuantizeMain(int argc, char **argv);

/// The embedded default model: conv-bn-relu stem, a strided conv-bn-relu, max
/// pool, a residual conv block, then the 8x8 feature map as 64 tokens of
/// width 32 through a transformer encoder block (4-head self-attention,
/// layer norms, GELU MLP), mean over tokens and a 10-way linear classifier.
/// Input [1, 3, 32, 32]. Weights are random (He-scaled normal) from `seed`.
std::unique_ptr<torch::jit::Module> buildDefaultModel(uint64_t seed = 0);

} // namespace qfx
