//===- runtime/spec/SpecError.h - Errors of the spec layer ----------------===//
//
// The error kinds that spec reading, validation and granularity use produce,
// as llvm::ErrorInfo classes so callers can tell them apart with
// llvm::handleErrors instead of parsing messages:
// - SpecError: a field of a spec (or of a granularity) is invalid, or a
//   granularity cannot be applied to a tensor (the reference's ValueError).
//   It carries the dotted path of the field (`granularity.block_size`) so a
//   config reader can prefix where the spec sits (`global_config.op_state_spec.
//   weight`) without rewording the message.
// - BlockSizeMismatchError: a per-block granularity does not divide the
//   tensor (the reference's _BlockSizeMismatchError). Fake-quant code treats
//   this one specially (warn and disable itself, reference §5.7), so it must be
//   distinguishable from the rest.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/ADT/Twine.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <string>
#include <vector>

namespace qfx {

class SpecError : public llvm::ErrorInfo<SpecError> {
public:
  static char ID;

  SpecError(std::string path, std::string message)
      : path_(std::move(path)), message_(std::move(message)) {}

  /// Dotted field path, e.g. `granularity.axis`; empty for the spec as a whole.
  llvm::StringRef path() const { return path_; }
  /// The message without the path (message() is the full text).
  llvm::StringRef detail() const { return message_; }

  /// `field 'granularity.axis': <message>` (or just the message without a path).
  void log(llvm::raw_ostream &os) const override;
  std::error_code convertToErrorCode() const override;

private:
  std::string path_;
  std::string message_;
};

/// Shorthand for llvm::make_error<SpecError>(path, message).
llvm::Error makeSpecError(const llvm::Twine &path, const llvm::Twine &message);

/// Joins two path components with a dot, skipping empty ones.
std::string joinSpecPath(llvm::StringRef prefix, llvm::StringRef field);

/// Rewrites every SpecError inside `error` (also inside joined error lists)
/// so its path starts with `prefix`; other errors pass through unchanged.
llvm::Error prefixSpecErrorPath(llvm::Error error, llvm::StringRef prefix);

class BlockSizeMismatchError : public llvm::ErrorInfo<BlockSizeMismatchError> {
public:
  static char ID;

  BlockSizeMismatchError(std::vector<int64_t> shape, std::string granularity, unsigned dim,
                         int64_t blockSize)
      : shape_(std::move(shape)), granularity_(std::move(granularity)), dim_(dim),
        blockSize_(blockSize) {}

  llvm::ArrayRef<int64_t> shape() const { return shape_; }
  /// The granularity as Granularity::str() prints it.
  llvm::StringRef granularity() const { return granularity_; }
  /// First dimension whose size the block size does not divide.
  unsigned dim() const { return dim_; }
  int64_t blockSize() const { return blockSize_; }

  void log(llvm::raw_ostream &os) const override;
  std::error_code convertToErrorCode() const override;

private:
  std::vector<int64_t> shape_;
  std::string granularity_;
  unsigned dim_;
  int64_t blockSize_;
};

/// `[10, 20, 30]`.
std::string formatShape(llvm::ArrayRef<int64_t> shape);

} // namespace qfx
