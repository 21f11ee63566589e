//===- ir/Type.cc - Value types of the qfx graph IR -----------------------===//
//
// Names, comparison and text spelling of Type and DType.
//
//===----------------------------------------------------------------------===//
#include "ir/Type.h"

#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/StringSwitch.h"
#include "llvm/Support/Allocator.h"
#include "llvm/Support/raw_ostream.h"

#include <mutex>

namespace qfx {

namespace {
struct DTypeSpelling {
  DType dtype;
  const char *name;
};
// One list so dtypeName, parseDType and allDTypeNames cannot drift apart.
constexpr DTypeSpelling kDTypeSpellings[] = {
    {DType::Unknown, "?"},
    {DType::F64, "f64"},
    {DType::F32, "f32"},
    {DType::F16, "f16"},
    {DType::BF16, "bf16"},
    {DType::I64, "i64"},
    {DType::I32, "i32"},
    {DType::I16, "i16"},
    {DType::I8, "i8"},
    {DType::U8, "u8"},
    {DType::I1, "i1"},
    {DType::F8E4M3FN, "f8E4M3FN"},
    {DType::F8E5M2, "f8E5M2"},
    {DType::F8E8M0FNU, "f8E8M0FNU"},
    {DType::F4E2M1FN, "f4E2M1FN"},
};
} // namespace

llvm::StringRef dtypeName(DType dtype) {
  for (const auto &spelling : kDTypeSpellings)
    if (spelling.dtype == dtype)
      return spelling.name;
  return "?";
}

std::optional<DType> parseDType(llvm::StringRef name) {
  for (const auto &spelling : kDTypeSpellings)
    if (name == spelling.name)
      return spelling.dtype;
  return std::nullopt;
}

std::string allDTypeNames() {
  std::string out;
  for (const auto &spelling : kDTypeSpellings) {
    if (spelling.dtype == DType::Unknown)
      continue;
    if (!out.empty())
      out += ", ";
    out += spelling.name;
  }
  return out;
}

bool isFloatingPoint(DType dtype) {
  switch (dtype) {
  case DType::F64:
  case DType::F32:
  case DType::F16:
  case DType::BF16:
  case DType::F8E4M3FN:
  case DType::F8E5M2:
  case DType::F8E8M0FNU:
  case DType::F4E2M1FN:
    return true;
  default:
    return false;
  }
}

llvm::StringRef kindName(Type::Kind kind) {
  switch (kind) {
  case Type::Kind::Any:
    return "any";
  case Type::Kind::Tensor:
    return "tensor";
  case Type::Kind::Int:
    return "int";
  case Type::Kind::Float:
    return "float";
  case Type::Kind::Bool:
    return "bool";
  case Type::Kind::String:
    return "str";
  case Type::Kind::None:
    return "none";
  case Type::Kind::List:
    return "list";
  }
  return "any";
}

Type Type::list(Kind element) {
  Type type(Kind::List);
  type.element_ = element;
  return type;
}

namespace {
/// The process-wide set of distinct shapes. It only grows: it holds every
/// distinct shape any graph ever had, a few thousand even for large models
/// (a compile server sees the union over its models). One lock per new
/// Type; copies and comparisons take none.
class ShapeUniquer {
public:
  const int64_t *unique(llvm::ArrayRef<int64_t> shape) {
    if (shape.empty())
      return nullptr;
    std::lock_guard<std::mutex> lock(mutex_);
    auto found = shapes_.find(shape);
    if (found != shapes_.end())
      return found->data();
    int64_t *copy = allocator_.Allocate<int64_t>(shape.size());
    std::copy(shape.begin(), shape.end(), copy);
    shapes_.insert(llvm::ArrayRef<int64_t>(copy, shape.size()));
    return copy;
  }

private:
  std::mutex mutex_;
  llvm::BumpPtrAllocator allocator_;
  llvm::DenseSet<llvm::ArrayRef<int64_t>> shapes_;
};

ShapeUniquer &shapeUniquer() {
  // Never destroyed: types may outlive static destruction order.
  static ShapeUniquer *uniquer = new ShapeUniquer();
  return *uniquer;
}
} // namespace

Type Type::rankedTensor(DType dtype, llvm::ArrayRef<int64_t> shape) {
  Type type(Kind::Tensor);
  type.dtype_ = dtype;
  type.ranked_ = true;
  type.rank_ = static_cast<uint32_t>(shape.size());
  type.dims_ = shapeUniquer().unique(shape);
  return type;
}

Type Type::unrankedTensor(DType dtype) {
  Type type(Kind::Tensor);
  type.dtype_ = dtype;
  return type;
}

bool Type::hasStaticShape() const {
  if (!isTensor() || !ranked_)
    return false;
  for (int64_t dim : shape())
    if (dim == kDynamic)
      return false;
  return true;
}

int64_t Type::numElements() const {
  if (!hasStaticShape())
    return -1;
  int64_t count = 1;
  for (int64_t dim : shape())
    count *= dim;
  return count;
}

bool Type::operator==(const Type &other) const {
  return kind_ == other.kind_ && element_ == other.element_ && dtype_ == other.dtype_ &&
         ranked_ == other.ranked_ && rank_ == other.rank_ && dims_ == other.dims_;
}

std::string Type::str() const {
  std::string out;
  llvm::raw_string_ostream os(out);
  switch (kind_) {
  case Kind::Tensor:
    os << "tensor<";
    if (!ranked_) {
      os << "*x";
    } else {
      for (int64_t dim : shape()) {
        if (dim == kDynamic)
          os << "?";
        else
          os << dim;
        os << "x";
      }
    }
    os << dtypeName(dtype_) << ">";
    break;
  case Kind::List:
    os << "list<" << kindName(element_) << ">";
    break;
  default:
    os << kindName(kind_);
  }
  return os.str();
}

} // namespace qfx
