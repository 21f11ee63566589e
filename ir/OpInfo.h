//===- ir/OpInfo.h - Op knowledge looked up from the op table -------------===//
//
// OpInfo is one row of ir/OpTable.def: arity, the role an op plays in
// quantization patterns, its traits and weight layout. Every node points at
// an OpInfo; ops missing from the table get an interned opaque OpInfo with no
// traits, so passes treat unknown ops uniformly and conservatively.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"

#include <cstdint>

namespace qfx {

/// Trait bits. Passes test these; they never compare op names.
namespace optrait {
enum : uint32_t {
  /// Conv, linear, matmul, embedding: ops whose inputs quantization targets.
  QuantizableCompute = 1u << 0,
  /// Has a weight operand (see OpInfo::weightOperand).
  Weighted = 1u << 1,
  /// Output shares the input's observer (the MaxPool-like set).
  SharesQParams = 1u << 2,
  /// Pure data movement; sharing is optional (share-observers option).
  SameScale = 1u << 3,
  /// Moves values across the channel axis (flatten, reshape, permute...):
  /// an observer shared across it must be per-tensor.
  ChannelAltering = 1u << 4,
  /// May follow conv/linear/matmul/add/mul in a fused pattern.
  Activation = 1u << 5,
  /// Writes its first operand (the `_` variants).
  InPlace = 1u << 6,
  /// add, sub, mul, div.
  BinaryArith = 1u << 7,
  /// Joins several tensors along an axis.
  Concat = 1u << 8,
  /// Results are not tensors (sizes, lists).
  NonTensor = 1u << 9,
  /// Output range is [0, 1] whatever the input.
  FixedRangeUnit = 1u << 10,
  /// Output range is [-1, 1] whatever the input.
  FixedRangeSymmetric = 1u << 11,
  /// Returns its input unchanged.
  Identity = 1u << 12,
  /// Returns its input unchanged unless attribute `train` is true.
  IdentityInEval = 1u << 13,
  /// Batch/layer normalization.
  Normalization = 1u << 14,
  /// Only the shape changes: the result holds the operand's elements in the
  /// same row-major order (reshape, view, flatten, squeeze, unsqueeze; not
  /// permute/transpose). With equal operand and result types it is a no-op.
  ReshapeLike = 1u << 15,
  /// Output is never negative whatever the input (relu, relu6). The
  /// reference re-tags such outputs as affine (§3.4), which matters to how
  /// share-observers compares specs in its reference mode.
  NonNegative = 1u << 16,
  /// The weight is stored channels-last, [C_out, k..., C_in] (TOSA's OHWI),
  /// while quantization specs -- and this op's ChannelAxis / BlockAxis -- see
  /// it as [C_out, C_in, k...] (OIHW), so per-block axis 1 means C_in as for
  /// aten::conv2d. OpInfo::weightDim maps spec axes to the weight's dims.
  WeightChannelsLast = 1u << 17,
  /// The weight is [k..., C, M] (TOSA's depthwise HWIM), seen by specs as
  /// [C, M, k...] (PyTorch's depthwise [C * M, 1, k...] when M = 1).
  WeightKernelFirst = 1u << 18,
};
} // namespace optrait

/// The part an op plays in quantization patterns (reference §2.2).
enum class OpRole : uint8_t {
  None,
  Conv,
  ConvTranspose,
  Linear,
  Embedding,
  MatMul,
  Add,
  Sub,
  Mul,
  Div,
  BatchNorm,
  FakeQuant,
  Quantize,
  Dequantize,
};

/// Stable identifiers of the ops in the table; Unknown for everything else.
enum class OpCode : uint16_t {
#define QFX_OP(Id, ...) Id,
#include "ir/OpTable.def"
  Unknown,
};

struct OpInfo {
  OpCode code;
  llvm::StringRef name;   // `aten::conv2d`
  llvm::StringRef opType; // `conv2d`: the key of op_type configs
  int16_t minOperands;
  int16_t maxOperands; // -1: variadic
  int16_t numResults;
  OpRole role;
  uint32_t traits;
  int8_t weightOperand;          // -1: none
  int8_t biasOperand;            // -1: none
  int8_t channelAxis;            // default per-channel axis of the weight, -1: none
  int8_t blockAxis;              // default per-block axis of the weight, -1: none
  llvm::StringRef requiredAttrs; // comma separated

  bool isKnown() const { return code != OpCode::Unknown; }
  bool has(uint32_t trait) const { return (traits & trait) == trait; }
  bool isVariadic() const { return maxOperands < 0; }
  llvm::SmallVector<llvm::StringRef, 2> requiredAttributes() const;
  /// The dim of this op's weight (of rank `rank`) that quantization specs
  /// call axis `specAxis` (in [0, rank)): itself, unless a weight layout
  /// trait (WeightChannelsLast, WeightKernelFirst) says otherwise.
  int64_t weightDim(int64_t specAxis, int64_t rank) const;
};

/// The OpInfo for `name`: the table row, or an interned opaque entry.
/// Thread-safe; the returned pointer lives as long as the program.
const OpInfo *lookupOp(llvm::StringRef name);
/// The table row of a known op.
const OpInfo &opInfo(OpCode code);
/// All rows of the table, in table order.
llvm::ArrayRef<OpInfo> allKnownOps();

} // namespace qfx
