//===- passes/quant/QuantSupport.cc - What the quantization passes share --===//
//
// Annotation entries, the spec table, qparams attributes and qparam shapes
// (see QuantSupport.h).
//
//===----------------------------------------------------------------------===//
#include "passes/quant/QuantSupport.h"

#include "runtime/spec/Granularity.h"
#include "runtime/spec/SpecError.h"

#include "llvm/ADT/Hashing.h"
#include "llvm/Support/raw_ostream.h"

#include <cmath>
#include <cstring>

namespace qfx {

std::string errorText(llvm::Error error) { return llvm::toString(std::move(error)); }

static llvm::Error makeError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

//===----------------------------------------------------------------------===//
// Annotation entries
//===----------------------------------------------------------------------===//

llvm::Expected<AnnotationEntry> classifyAnnotationEntry(const Attribute &entry) {
  AnnotationEntry result;
  if (entry.isNone())
    return result;
  if (!entry.isDict())
    return makeError("expected none, a spec dictionary or {shared_with = k}, found " + entry.str());
  if (const Attribute *shared = entry.lookup("shared_with")) {
    if (entry.getDict().size() != 1 || !shared->isInt())
      return makeError("{shared_with = k} takes exactly one integer key, found " + entry.str());
    result.kind = AnnotationEntry::Kind::Shared;
    result.sharedWith = shared->getInt();
    return result;
  }
  result.kind = AnnotationEntry::Kind::Spec;
  return result;
}

Attribute sharedWithEntry(int64_t operand) {
  return Attribute::dict({{"shared_with", Attribute::integer(operand)}});
}

//===----------------------------------------------------------------------===//
// Hashing
//===----------------------------------------------------------------------===//

uint64_t hashAttribute(const Attribute &attribute) {
  using llvm::hash_combine;
  llvm::hash_code code = llvm::hash_value(static_cast<unsigned>(attribute.kind()));
  switch (attribute.kind()) {
  case Attribute::Kind::None:
    break;
  case Attribute::Kind::Int:
    code = hash_combine(code, attribute.getInt());
    break;
  case Attribute::Kind::Float: {
    // Bitwise, as Attribute::operator== compares floats.
    double value = attribute.getFloat();
    uint64_t bits;
    std::memcpy(&bits, &value, sizeof bits);
    code = hash_combine(code, bits);
    break;
  }
  case Attribute::Kind::Bool:
    code = hash_combine(code, attribute.getBool());
    break;
  case Attribute::Kind::String:
    code = hash_combine(code, llvm::StringRef(attribute.getString()));
    break;
  case Attribute::Kind::List:
    for (const Attribute &element : attribute.getList())
      code = hash_combine(code, hashAttribute(element));
    break;
  case Attribute::Kind::Dict:
    for (const NamedAttribute &entry : attribute.getDict())
      code = hash_combine(code, llvm::StringRef(entry.first), hashAttribute(entry.second));
    break;
  case Attribute::Kind::TensorRef:
    code = hash_combine(code, llvm::StringRef(attribute.getTensorRef()));
    break;
  }
  return static_cast<uint64_t>(code);
}

//===----------------------------------------------------------------------===//
// SpecTable
//===----------------------------------------------------------------------===//

llvm::Expected<uint32_t> SpecTable::intern(const Attribute &dictionary) {
  // Fast path: a copy of a dictionary seen before shares its storage. The
  // table keeps a copy of every dictionary whose address it records, so an
  // address in byStorage_ is never reused by another dictionary.
  const void *storage = dictionary.isDict() ? &dictionary.getDict() : nullptr;
  if (storage) {
    auto found = byStorage_.find(storage);
    if (found != byStorage_.end())
      return found->second;
  }
  uint64_t hash = hashAttribute(dictionary);
  auto &bucket = byContent_[hash];
  for (const auto &entry : bucket)
    if (entry.first == dictionary) {
      if (storage) {
        // Keep this copy alive too, so its address stays its own.
        retained_.push_back(dictionary);
        byStorage_[storage] = entry.second;
      }
      return entry.second;
    }
  llvm::Expected<QuantizationSpec> spec = QuantizationSpec::fromAttribute(dictionary);
  if (!spec)
    return spec.takeError();
  uint32_t id = intern(*spec);
  bucket.push_back({dictionary, id});
  if (storage)
    byStorage_[storage] = id;
  return id;
}

uint32_t SpecTable::intern(const QuantizationSpec &spec) {
  Attribute compact = spec.toAttribute(SpecWriteOptions{/*omitDefaults=*/true});
  auto &bucket = bySpec_[hashAttribute(compact)];
  for (uint32_t id : bucket)
    if (specs_[id] == spec)
      return id;
  uint32_t id = static_cast<uint32_t>(specs_.size());
  specs_.push_back(spec);
  attributes_.push_back(compact);
  bucket.push_back(id);
  return id;
}

//===----------------------------------------------------------------------===//
// QParams
//===----------------------------------------------------------------------===//

static llvm::Error readNumbers(const Attribute &value, llvm::StringRef key,
                               std::vector<double> &out) {
  if (std::optional<double> number = value.asNumber()) {
    out.push_back(*number);
    return llvm::Error::success();
  }
  if (!value.isList())
    return makeError("qparams." + key + " must be a list of numbers, found " + value.str());
  // Per-channel qparams are tens of thousands of numbers per model, read at
  // every lowering and export: the kind checks inline (asNumber is a call
  // returning an optional), one allocation.
  const AttributeList &list = value.getList();
  out.reserve(out.size() + list.size());
  for (const Attribute &element : list) {
    if (element.isFloat())
      out.push_back(element.getFloat());
    else if (element.isInt())
      out.push_back(static_cast<double>(element.getInt()));
    else
      return makeError("qparams." + key + " must be a list of numbers, found " + value.str());
  }
  return llvm::Error::success();
}

llvm::Expected<QParamValues> parseQParams(const Attribute &attribute) {
  if (!attribute.isDict())
    return makeError("qparams must be a dictionary {scale = [...], zero_point = [...] or "
                     "minval = [...]}, found " +
                     attribute.str());
  QParamValues result;
  bool hasScale = false;
  for (const NamedAttribute &entry : attribute.getDict()) {
    const Attribute &value = entry.second;
    if (entry.first == "scale") {
      hasScale = true;
      if (llvm::Error error = readNumbers(value, "scale", result.scale))
        return std::move(error);
    } else if (entry.first == "minval") {
      if (llvm::Error error = readNumbers(value, "minval", result.minval))
        return std::move(error);
    } else if (entry.first == "zero_point") {
      std::vector<double> numbers;
      if (llvm::Error error = readNumbers(value, "zero_point", numbers))
        return std::move(error);
      result.zeroPoint.reserve(numbers.size());
      for (double number : numbers) {
        if (number != std::trunc(number) || std::abs(number) > 9.0e15)
          return makeError("qparams.zero_point must hold integers, found " + value.str());
        result.zeroPoint.push_back(static_cast<int64_t>(number));
      }
    } else {
      return makeError("unknown key '" + entry.first +
                       "' in qparams (expected scale, zero_point, minval)");
    }
  }
  if (!hasScale)
    return makeError("qparams has no 'scale'");
  return result;
}

Attribute qparamsToAttribute(const QParamValues &qparams) {
  AttributeDict entries;
  entries.emplace_back("scale", Attribute::floatList(qparams.scale));
  if (!qparams.zeroPoint.empty())
    entries.emplace_back("zero_point", Attribute::intList(qparams.zeroPoint));
  if (!qparams.minval.empty())
    entries.emplace_back("minval", Attribute::floatList(qparams.minval));
  return Attribute::dict(std::move(entries));
}

static std::string shapeText(llvm::ArrayRef<int64_t> shape) {
  std::string text = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    text += (i ? ", " : "") + std::to_string(shape[i]);
  return text + "]";
}

int64_t productOf(llvm::ArrayRef<int64_t> dims) {
  int64_t product = 1;
  for (int64_t dim : dims)
    product *= dim;
  return product;
}

llvm::Error checkQParams(const QParamValues &qparams, const QuantizationSpec &spec,
                         llvm::ArrayRef<int64_t> qparamShape) {
  size_t expected = static_cast<size_t>(productOf(qparamShape));
  if (qparams.scale.size() != expected)
    return makeError("qparams has " + llvm::Twine(qparams.scale.size()) + " scale" +
                     (qparams.scale.size() == 1 ? "" : "s") + " but the qparam shape " +
                     shapeText(qparamShape) + " of " + spec.granularity().str() + " needs " +
                     llvm::Twine(expected));
  for (double scale : qparams.scale)
    if (!std::isfinite(scale) || scale <= 0)
      return makeError("qparams.scale must be finite and > 0, found " + formatFloat(scale));
  bool wantZeroPoint = spec.hasOffsets() && spec.qformulation() == QFormulation::ZP;
  bool wantMinval = spec.hasOffsets() && spec.qformulation() == QFormulation::MinVal;
  auto describeNeed = [&]() -> std::string {
    if (wantZeroPoint)
      return "zero_point (formulation zp)";
    if (wantMinval)
      return "minval (formulation minval)";
    return "neither zero_point nor minval (" + quantDTypeName(spec.dtype()).str() + ")";
  };
  if (!qparams.zeroPoint.empty() != wantZeroPoint || !qparams.minval.empty() != wantMinval)
    return makeError("qparams for a " + quantDTypeName(spec.dtype()) + " " +
                     qformulationName(spec.qformulation()) + " spec need " + describeNeed());
  if (wantZeroPoint) {
    if (qparams.zeroPoint.size() != expected)
      return makeError("qparams has " + llvm::Twine(qparams.zeroPoint.size()) +
                       " zero points but " + llvm::Twine(expected) + " scales");
    for (int64_t zeroPoint : qparams.zeroPoint)
      if (zeroPoint < spec.quantMin() || zeroPoint > spec.quantMax())
        return makeError("qparams.zero_point " + llvm::Twine(zeroPoint) + " is outside [" +
                         llvm::Twine(static_cast<int64_t>(spec.quantMin())) + ", " +
                         llvm::Twine(static_cast<int64_t>(spec.quantMax())) + "]");
  }
  if (wantMinval) {
    if (qparams.minval.size() != expected)
      return makeError("qparams has " + llvm::Twine(qparams.minval.size()) + " minvals but " +
                       llvm::Twine(expected) + " scales");
    for (double minval : qparams.minval)
      if (!std::isfinite(minval))
        return makeError("qparams.minval must be finite, found " + formatFloat(minval));
  }
  return llvm::Error::success();
}

llvm::Expected<std::vector<int64_t>> qparamShapeOf(const QuantizationSpec &spec, const Type &type) {
  const Granularity &granularity = spec.granularity();
  if (!type.isTensor())
    return makeError("a quantized value must be a tensor, found " + type.str());
  if (!type.hasRank()) {
    if (granularity.isPerTensor())
      return std::vector<int64_t>{1};
    return makeError(granularity.str() + " needs a ranked tensor, found " + type.str());
  }
  if (type.hasStaticShape()) {
    llvm::Expected<std::vector<int64_t>> shape = computeQParamShape(granularity, type.shape());
    if (!shape)
      return shape.takeError();
    return std::move(*shape);
  }
  std::vector<int64_t> shape(type.shape().size(), 1);
  if (granularity.isPerTensor())
    return shape;
  if (granularity.isPerChannel() && granularity.axis()) {
    llvm::Expected<int64_t> axis = normalizeAxis(*granularity.axis(), type.rank());
    if (!axis)
      return axis.takeError();
    int64_t channels = type.shape()[*axis];
    if (channels == Type::kDynamic)
      return makeError("per-channel axis " + llvm::Twine(*axis) + " of " + type.str() +
                       " is dynamic");
    shape[*axis] = channels;
    return shape;
  }
  if (granularity.needsAxis())
    return makeError(granularity.str() + " has an unresolved axis");
  return makeError(granularity.str() + " needs a static shape, found " + type.str());
}

} // namespace qfx
