//===- ir/Type.h - Value types of the qfx graph IR ------------------------===//
//
// A Value in the graph carries a Type: most are tensors (element dtype plus an
// optional static/dynamic shape), the rest are the scalars and lists that
// TorchScript graphs pass around (`aten::size` results, list constructs).
// Types are small value objects, compared structurally; the textual spelling
// (`tensor<1x3x?xf32>`, `int`, `list<int>`) is defined here so the parser and
// printer cannot disagree about it. A Type is 16 bytes and trivially
// copyable: shapes are uniqued once per process (like MLIR's types in their
// context) and a Type points to its shape's one copy. Every Value holds a
// Type, and a million-node graph copied millions of inline shape vectors
// (56 bytes each) into values passes created; equal shapes now compare by
// pointer too.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"

#include <cstdint>
#include <optional>
#include <string>

namespace qfx {

/// Element types of tensors. The sub-byte and fp8/fp4 names exist so that
/// quantized storage can be described; they follow MLIR's spellings.
enum class DType : uint8_t {
  Unknown, // `?`: not known at import time.
  F64,
  F32,
  F16,
  BF16,
  I64,
  I32,
  I16,
  I8,
  U8,
  I1, // bool
  F8E4M3FN,
  F8E5M2,
  F8E8M0FNU,
  F4E2M1FN,
};

/// Spelling used in the text form (`f32`, `bf16`, `i8`, ...).
llvm::StringRef dtypeName(DType dtype);
/// Inverse of dtypeName; std::nullopt for an unknown spelling.
std::optional<DType> parseDType(llvm::StringRef name);
bool isFloatingPoint(DType dtype);
/// All spellings, for "expected one of ..." diagnostics.
std::string allDTypeNames();

class Type {
public:
  enum class Kind : uint8_t { Any, Tensor, Int, Float, Bool, String, None, List };
  /// A dimension whose size is not known statically.
  static constexpr int64_t kDynamic = -1;

  Type() = default;
  static Type any() { return Type(Kind::Any); }
  static Type integer() { return Type(Kind::Int); }
  static Type floating() { return Type(Kind::Float); }
  static Type boolean() { return Type(Kind::Bool); }
  static Type string() { return Type(Kind::String); }
  static Type none() { return Type(Kind::None); }
  /// A list whose elements are of the scalar kind `element` (Int, Float,
  /// Bool, Tensor, ...). Nested lists are not modelled.
  static Type list(Kind element);
  static Type rankedTensor(DType dtype, llvm::ArrayRef<int64_t> shape);
  static Type unrankedTensor(DType dtype);

  Kind kind() const { return kind_; }
  bool isTensor() const { return kind_ == Kind::Tensor; }
  bool isFloatTensor() const { return isTensor() && isFloatingPoint(dtype_); }
  DType dtype() const { return dtype_; }
  bool hasRank() const { return ranked_; }
  llvm::ArrayRef<int64_t> shape() const { return {dims_, rank_}; }
  int64_t rank() const { return ranked_ ? static_cast<int64_t>(rank_) : -1; }
  bool hasStaticShape() const;
  /// Product of the dimensions; -1 unless the shape is static.
  int64_t numElements() const;
  Kind listElement() const { return element_; }

  bool operator==(const Type &other) const;
  bool operator!=(const Type &other) const { return !(*this == other); }

  /// Text form, e.g. `tensor<1x3x?xf32>`, `tensor<*xf16>`, `list<int>`.
  std::string str() const;

private:
  explicit Type(Kind kind) : kind_(kind) {}

  Kind kind_ = Kind::Any;
  Kind element_ = Kind::Any;
  DType dtype_ = DType::Unknown;
  bool ranked_ = false;
  uint32_t rank_ = 0;
  /// The process-wide uniqued copy of the dimensions (see the file header):
  /// equal shapes have equal pointers. Null for rank 0 and non-tensors.
  const int64_t *dims_ = nullptr;
};

static_assert(sizeof(Type) == 16, "a Type is held by every Value: keep it small");

llvm::StringRef kindName(Type::Kind kind);

} // namespace qfx
