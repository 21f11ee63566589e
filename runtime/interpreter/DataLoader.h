//===- runtime/interpreter/DataLoader.h - Calibration data sources --------===//
//
// Where calibration batches come from. A DataSource hands out one batch (one
// tensor per graph input) at a time, so calibration streams: only the
// current batch and the observers' statistics are in memory, never the
// activations of all batches. Sources:
//  - files written by PyTorch's `torch.save` (.pt / .pth): a tensor is one
//    batch of a single-input model, a tuple or list of tensors one batch, a
//    list of those many batches (that one file is read whole);
//  - NumPy `.npy` files (little-endian f2/f4/f8, i1/i2/i4/i8, u1, b1, C or
//    Fortran order): one tensor each;
//  - a directory of such files, read in name order one file at a time; with
//    a K-input model, .npy files are taken K at a time (K consecutive names
//    form one batch);
//  - synthetic data: random normal tensors shaped like the graph inputs (a
//    dynamic dim becomes 1; integer inputs are 0/1), from a fixed seed (mixed
//    with a constant, so the data never replays another generator seeded
//    with the same number, such as a model's random weights), for when the
//    user has no data at hand.
// Bad files (truncated, not a tensor, unsupported dtype) give errors naming
// the file and what was expected; the interpreter checks shapes and dtypes
// against the graph when the batch runs.
//
// ProgressBar draws `label [#####.....] 12/32` on stderr, only when stderr is
// a terminal (logs and pipes get nothing).
//
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Graph.h"

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <ATen/core/Tensor.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace qfx {

using Batch = std::vector<at::Tensor>;

class DataSource {
public:
  virtual ~DataSource();
  /// The next batch, or std::nullopt after the last one.
  virtual llvm::Expected<std::optional<Batch>> next() = 0;
  /// Starts again from the first batch (synthetic data repeats exactly).
  virtual llvm::Error reset() = 0;
  /// Number of batches when known without reading them all.
  virtual std::optional<size_t> numBatches() const { return std::nullopt; }
  /// `3 .npy files in data/`, `synthetic (seed 0)`: for reports.
  virtual std::string describe() const = 0;
};

/// Opens a .pt/.pth/.npy file or a directory of them for a model with
/// `numInputs` inputs.
llvm::Expected<std::unique_ptr<DataSource>> openDataSource(llvm::StringRef path, size_t numInputs);

/// `numBatches` batches of random normal data shaped like `graph`'s inputs.
/// Fails when an input is not a tensor of known dtype. The graph is only read
/// here (the source keeps the shapes, not the graph).
llvm::Expected<std::unique_ptr<DataSource>>
createSyntheticDataSource(const Graph &graph, size_t numBatches, uint64_t seed = 0);

/// A source over batches already in memory (tests, embedding applications).
std::unique_ptr<DataSource> createInMemoryDataSource(std::vector<Batch> batches);

/// Reads one .npy file / parses .npy bytes (`name` is used in messages).
llvm::Expected<at::Tensor> readNpyFile(llvm::StringRef path);
llvm::Expected<at::Tensor> parseNpy(llvm::StringRef bytes, llvm::StringRef name);

/// The batches a torch.save file holds (see the file comment for the shapes
/// understood). `numInputs` disambiguates a list of tensors: with one input
/// it is a list of batches, otherwise one batch.
llvm::Expected<std::vector<Batch>> loadTorchSaved(llvm::StringRef path, size_t numInputs);

class ProgressBar {
public:
  /// Draws only when `enabled` (default: stderr is a terminal).
  ProgressBar(std::string label, std::optional<size_t> total, std::optional<bool> enabled = {});
  ~ProgressBar();
  /// Redraws with `done` items finished (at most ~10 times a second).
  void update(size_t done);
  /// Draws the final state and ends the line.
  void finish();
  bool enabled() const { return enabled_; }

private:
  void draw(size_t done);
  std::string label_;
  std::optional<size_t> total_;
  bool enabled_;
  bool finished_ = false;
  size_t done_ = 0;
  std::optional<size_t> drawn_;
  std::chrono::steady_clock::time_point lastDraw_;
};

} // namespace qfx
