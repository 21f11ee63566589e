//===- runtime/spec/Granularity.h - Quantization granularity and blocks ---===//
//
// How finely a tensor is quantized (reference §1.2) and what that means for a
// concrete shape (§5.4). Every granularity is a *block shape*: per-tensor is
// one block covering the tensor, per-channel a block of size 1 on the channel
// axis and full size elsewhere, per-block explicit sizes. Quantization
// parameters then have one entry per block: shape D[d] / B[d] in every dim,
// the same rank as the tensor (per-tensor = all ones). The runtime kernels,
// observers and the lowering passes all use this one convention.
//
// Granularity values are immutable. The factory functions do not validate so
// that readers can build what the user wrote and report every problem;
// QuantizationSpec::create() calls verify(). Applying a granularity to a shape
// (computeBlockShape) checks the use-time rules: the axis must be resolved and
// in range, ranks must agree, and block sizes must divide the dims -- the last
// failure is a BlockSizeMismatchError, the others SpecErrors.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Attribute.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace qfx {

class Granularity {
public:
  enum class Kind : uint8_t { PerTensor, PerChannel, PerBlock };

  /// Per-tensor is the default granularity of a spec.
  Granularity() = default;
  static Granularity perTensor() { return Granularity(); }
  /// `axis` may be negative (python style) or unset ("resolve later": weight
  /// axes are filled in from the consuming op by the annotate pass).
  static Granularity perChannel(std::optional<int64_t> axis = std::nullopt);
  /// Single-axis blocks: `blockSize` elements along `axis` (0 or 1, or unset
  /// to resolve later); the other of dims 0/1 gets block 1, dims >= 2 are
  /// covered whole.
  static Granularity perBlock(std::optional<int64_t> axis, int64_t blockSize);
  /// Multi-axis blocks: one size per tensor dim, -1 = the whole dim.
  static Granularity perBlock(llvm::ArrayRef<int64_t> blockSizes);
  /// A per-block granularity exactly as written (a block-size list *with* an
  /// axis, which verify() rejects); for readers that report such input.
  static Granularity perBlockUnchecked(std::optional<int64_t> axis,
                                       llvm::ArrayRef<int64_t> blockSizes, bool isList);

  Kind kind() const { return kind_; }
  bool isPerTensor() const { return kind_ == Kind::PerTensor; }
  bool isPerChannel() const { return kind_ == Kind::PerChannel; }
  bool isPerBlock() const { return kind_ == Kind::PerBlock; }
  std::optional<int64_t> axis() const { return axis_; }
  /// Per-channel, or single-axis per-block, without an axis yet.
  bool needsAxis() const;
  /// Per-block given as a list (multi-axis mode).
  bool hasBlockSizeList() const { return isPerBlock() && isList_; }
  /// The single-axis block size (per-block, not list mode).
  int64_t blockSize() const { return blockSizes_.empty() ? 0 : blockSizes_.front(); }
  /// The multi-axis sizes (list mode), or {blockSize} in single-axis mode.
  llvm::ArrayRef<int64_t> blockSizes() const { return blockSizes_; }

  /// The same granularity with `axis` filled in (per-channel / single-axis
  /// per-block); other granularities are returned unchanged.
  Granularity withAxis(int64_t axis) const;

  /// Construction rules of reference §1.2 / §7: per-block axis in {0, 1} or
  /// unset, block size > 0, list entries > 0 or -1, a list only without axis.
  /// Errors name `path` + `.axis` / `.block_size`.
  llvm::Error verify(llvm::StringRef path = "granularity") const;

  /// `per_tensor`, `per_channel(axis=0)`, `per_channel(axis=None)`,
  /// `per_block(axis=1, block_size=32)`, `per_block(block_size=[4, 2, -1, 1])`.
  std::string str() const;

  /// The reference's dict form: `{type = "per_tensor"}`, `{type =
  /// "per_channel", axis = 0}`, `{type = "per_block", axis = none, block_size
  /// = 32}`. Per-channel and per-block always carry `axis` (none when unset).
  Attribute toAttribute() const;
  /// Reads the dict form. Rejects a bare string (the reference does too), a
  /// missing or unknown `type`, extra keys (block_size on per_channel), wrong
  /// value kinds; then verify(). Errors carry `path`.
  static llvm::Expected<Granularity> fromAttribute(const Attribute &attr,
                                                   llvm::StringRef path = "granularity");

  bool operator==(const Granularity &other) const {
    return kind_ == other.kind_ && axis_ == other.axis_ && isList_ == other.isList_ &&
           blockSizes_ == other.blockSizes_;
  }
  bool operator!=(const Granularity &other) const { return !(*this == other); }

private:
  Kind kind_ = Kind::PerTensor;
  bool isList_ = false;
  std::optional<int64_t> axis_;
  std::vector<int64_t> blockSizes_;
};

/// Python-style axis in [-rank, rank) to [0, rank); SpecError (path
/// `granularity.axis`) when out of range.
llvm::Expected<int64_t> normalizeAxis(int64_t axis, int64_t rank);

/// Reference §5.4: the block shape of `granularity` on a tensor of static
/// `shape` (every dim >= 0). Errors: unresolved or out-of-range axis, block
/// list of the wrong rank or with an axis (SpecError); a block size that does
/// not divide its dim (BlockSizeMismatchError).
llvm::Expected<std::vector<int64_t>> computeBlockShape(const Granularity &granularity,
                                                       llvm::ArrayRef<int64_t> shape);

/// Number of blocks per dim, D[d] / B[d] (same rank). An empty dim covered
/// whole (block 0) counts as one block, so per-tensor is all ones even then. `block` must come from
/// computeBlockShape for `shape`.
std::vector<int64_t> numBlocksPerDim(llvm::ArrayRef<int64_t> shape, llvm::ArrayRef<int64_t> block);

/// Shape of scale / zero_point / minval for `granularity` on `shape`:
/// numBlocksPerDim(shape, computeBlockShape(...)).
llvm::Expected<std::vector<int64_t>> computeQParamShape(const Granularity &granularity,
                                                        llvm::ArrayRef<int64_t> shape);

} // namespace qfx
