//===- passes/quant/QuantSupport.h - What the quantization passes share ---===//
//
// The vocabulary share-observers, insert-fake-quant, dedup-fake-quant and
// lower-to-qdq have in common: the attribute names of `qfx.fake_quant`, the
// three kinds of annotation entry (none, a spec dictionary, `{shared_with =
// k}`; see docs/Quantization.md), a table that parses each distinct spec
// dictionary once and gives equal specs one id (graphs carry the same few
// specs on millions of edges, as equal but separate dictionaries), the
// `qparams = {scale, zero_point, minval}` attribute that calibration writes
// on fake-quants, and the qparam shape of a spec on a value (the full-rank
// block convention of runtime/spec/Granularity.h).
//
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Attribute.h"
#include "ir/Graph.h"
#include "ir/Type.h"
#include "runtime/spec/QuantizationSpec.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace qfx {

/// Attribute names of `qfx.fake_quant`, `qfx.quantize` and `qfx.dequantize`,
/// as interned keys: passes that set them on a million nodes intern nothing.
namespace fqattr {
/// Observer group: fake-quants with one group share one observer.
inline const AttributeKey kGroup{"group"};
/// The group's spec, a spec dictionary.
inline const AttributeKey kSpec{"spec"};
/// Concrete qparams, set by calibration or written by hand:
/// `{scale = [...], zero_point = [...]}` or `{scale = [...], minval = [...]}`.
inline const AttributeKey kQParams{"qparams"};
/// Copied from the node a fake-quant is attributed to (reference §1.7).
inline const AttributeKey kQatSchedule{"qat_schedule"};
} // namespace fqattr

/// One entry of QuantAnnotation::inputs or ::output.
struct AnnotationEntry {
  enum class Kind : uint8_t { None, Spec, Shared };
  Kind kind = Kind::None;
  /// Kind::Shared: the operand index of this node whose observer is shared.
  int64_t sharedWith = -1;
  bool isNone() const { return kind == Kind::None; }
  bool isSpec() const { return kind == Kind::Spec; }
  bool isShared() const { return kind == Kind::Shared; }
};

/// Tells the three kinds apart. `{shared_with = k}` must have exactly that
/// key with an integer value; any other dictionary is a spec (validated by
/// SpecTable); anything but none or a dictionary is an error.
llvm::Expected<AnnotationEntry> classifyAnnotationEntry(const Attribute &entry);

/// `{shared_with = operand}`.
Attribute sharedWithEntry(int64_t operand);

/// A hash consistent with Attribute::operator== (equal attributes hash
/// equally); dictionaries hash their entries in order, as == compares them.
uint64_t hashAttribute(const Attribute &attribute);

/// Interned quantization specs. Each distinct dictionary is parsed once;
/// specs that are equal as QuantizationSpecs share one id even when spelled
/// differently (with or without default fields). Linear in the number of
/// lookups: dictionaries are found by storage address first (copies of one
/// Attribute share storage), then by content hash.
class SpecTable {
public:
  /// The id of the spec `dictionary` spells, or the spec's validation error.
  llvm::Expected<uint32_t> intern(const Attribute &dictionary);
  /// The id of `spec`.
  uint32_t intern(const QuantizationSpec &spec);
  /// The id of a dictionary whose storage this table has seen (a copy of
  /// one interned before); nullopt otherwise. One hash lookup, no parsing.
  std::optional<uint32_t> find(const Attribute &dictionary) const {
    if (!dictionary.isDict())
      return std::nullopt;
    auto found = byStorage_.find(&dictionary.getDict());
    if (found == byStorage_.end())
      return std::nullopt;
    return found->second;
  }

  const QuantizationSpec &spec(uint32_t id) const { return specs_[id]; }
  /// The compact form, toAttribute({omitDefaults = true}).
  const Attribute &attribute(uint32_t id) const { return attributes_[id]; }
  size_t size() const { return specs_.size(); }

private:
  llvm::DenseMap<const void *, uint32_t> byStorage_;
  std::vector<Attribute> retained_;
  llvm::DenseMap<uint64_t, llvm::SmallVector<std::pair<Attribute, uint32_t>, 1>> byContent_;
  llvm::DenseMap<uint64_t, llvm::SmallVector<uint32_t, 1>> bySpec_;
  std::vector<QuantizationSpec> specs_;
  std::vector<Attribute> attributes_;
};

/// Concrete qparams, flattened in row-major order of the qparam shape.
/// Integer specs carry zeroPoint (ZP formulation) or minval (MINVAL); float
/// specs carry neither.
struct QParamValues {
  std::vector<double> scale;
  std::vector<int64_t> zeroPoint;
  std::vector<double> minval;
};

/// Reads `{scale = [...], zero_point = [...], minval = [...]}` (a number is
/// taken as a one-element list; zero points must be integers).
llvm::Expected<QParamValues> parseQParams(const Attribute &attribute);
Attribute qparamsToAttribute(const QParamValues &qparams);

/// Checks `qparams` against `spec` and the qparam shape: as many scales as
/// the shape has elements, every scale finite and > 0, the offset the
/// formulation needs (and no other) of the same length, zero points in
/// [quant_min, quant_max], finite minvals. The message says what is wrong.
llvm::Error checkQParams(const QParamValues &qparams, const QuantizationSpec &spec,
                         llvm::ArrayRef<int64_t> qparamShape);

/// The shape of the qparams of `spec` on a value of type `type` (the
/// tensor's rank, one entry per block; reference §5.4). Static shapes use
/// computeQParamShape; with dynamic dims, per-tensor is all ones and
/// per-channel needs only its own axis static; per-block needs a static
/// shape. Unranked per-tensor values get [1].
llvm::Expected<std::vector<int64_t>> qparamShapeOf(const QuantizationSpec &spec, const Type &type);

/// Product of the dims.
int64_t productOf(llvm::ArrayRef<int64_t> dims);

inline bool isFakeQuant(const Node &node) { return node.op().role == OpRole::FakeQuant; }

/// Per-node data in a vector indexed by Node::id(). Ids are unique and
/// increase in creation order, so lookups cost an index instead of a hash
/// (on million-node graphs hash maps keyed by node were the passes' main
/// cost). The vector grows on demand, so no extra walk over the graph is
/// needed to size it; nodes never written read as the default value.
template <typename T> class NodeMap {
public:
  explicit NodeMap(T defaultValue = T()) : default_(defaultValue) {}
  void clear(T defaultValue) {
    data_.clear();
    default_ = defaultValue;
  }
  void reserve(size_t size) { data_.reserve(size); }
  T &operator[](const Node *node) {
    uint64_t id = node->id();
    if (id >= data_.size())
      data_.resize(std::max<size_t>(id + 1, data_.size() + data_.size() / 2), default_);
    return data_[id];
  }
  T lookup(const Node *node) const {
    return node->id() < data_.size() ? data_[node->id()] : default_;
  }

private:
  std::vector<T> data_;
  T default_;
};

/// The string of an llvm::Error (consumed).
std::string errorText(llvm::Error error);

} // namespace qfx
