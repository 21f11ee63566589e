//===- ir/torchscript/TorchScriptSupport.cc - Shared import/export helpers ===//
//
// Conversions between qfx's types, dtypes and tensor data and LibTorch's,
// used by both the importer and the exporter, and the one place that turns
// libtorch exceptions into one-line messages.
//
//===----------------------------------------------------------------------===//
#include "ir/torchscript/TorchScriptSupport.h"

#include <ATen/ATen.h>
#include <c10/util/Exception.h>

#include "llvm/ADT/StringSwitch.h"

#include <cstring>

namespace qfx {
namespace torchscript {

std::optional<DType> fromScalarType(c10::ScalarType type) {
  switch (type) {
  case c10::ScalarType::Double:
    return DType::F64;
  case c10::ScalarType::Float:
    return DType::F32;
  case c10::ScalarType::Half:
    return DType::F16;
  case c10::ScalarType::BFloat16:
    return DType::BF16;
  case c10::ScalarType::Long:
    return DType::I64;
  case c10::ScalarType::Int:
  case c10::ScalarType::QInt32:
    return DType::I32;
  case c10::ScalarType::Short:
    return DType::I16;
  case c10::ScalarType::Char:
  case c10::ScalarType::QInt8:
    return DType::I8;
  case c10::ScalarType::Byte:
  case c10::ScalarType::QUInt8:
    return DType::U8;
  case c10::ScalarType::Bool:
    return DType::I1;
  default:
    return std::nullopt;
  }
}

std::optional<c10::ScalarType> toScalarType(DType dtype) {
  switch (dtype) {
  case DType::F64:
    return c10::ScalarType::Double;
  case DType::F32:
    return c10::ScalarType::Float;
  case DType::F16:
    return c10::ScalarType::Half;
  case DType::BF16:
    return c10::ScalarType::BFloat16;
  case DType::I64:
    return c10::ScalarType::Long;
  case DType::I32:
    return c10::ScalarType::Int;
  case DType::I16:
    return c10::ScalarType::Short;
  case DType::I8:
    return c10::ScalarType::Char;
  case DType::U8:
    return c10::ScalarType::Byte;
  case DType::I1:
    return c10::ScalarType::Bool;
  default:
    return std::nullopt;
  }
}

std::optional<c10::ScalarType> parseScalarTypeName(llvm::StringRef name) {
  name.consume_front("torch.");
  using S = c10::ScalarType;
  std::optional<S> type = llvm::StringSwitch<std::optional<S>>(name)
                              .Cases("float32", "float", "Float", S::Float)
                              .Cases("float64", "double", "Double", S::Double)
                              .Cases("float16", "half", "Half", S::Half)
                              .Cases("bfloat16", "BFloat16", S::BFloat16)
                              .Cases("int64", "long", "Long", S::Long)
                              .Cases("int32", "int", "Int", S::Int)
                              .Cases("int16", "short", "Short", S::Short)
                              .Cases("int8", "Char", S::Char)
                              .Cases("uint8", "Byte", S::Byte)
                              .Cases("bool", "Bool", S::Bool)
                              .Cases("qint8", "QInt8", S::QInt8)
                              .Cases("quint8", "QUInt8", S::QUInt8)
                              .Cases("qint32", "QInt32", S::QInt32)
                              .Default(std::nullopt);
  return type;
}

Type fromTorchType(const c10::TypePtr &type) {
  if (!type)
    return Type::any();
  if (auto tensor = type->cast<c10::TensorType>()) {
    DType dtype = DType::Unknown;
    if (c10::optional<c10::ScalarType> scalar = tensor->scalarType())
      dtype = fromScalarType(*scalar).value_or(DType::Unknown);
    c10::optional<size_t> rank = tensor->sizes().size();
    if (!rank)
      return Type::unrankedTensor(dtype);
    llvm::SmallVector<int64_t, 4> shape;
    for (size_t i = 0; i < *rank; ++i) {
      c10::optional<int64_t> size = tensor->sizes()[i];
      shape.push_back(size ? *size : Type::kDynamic);
    }
    return Type::rankedTensor(dtype, shape);
  }
  switch (type->kind()) {
  case c10::TypeKind::IntType:
  case c10::TypeKind::SymIntType:
    return Type::integer();
  case c10::TypeKind::FloatType:
    return Type::floating();
  case c10::TypeKind::BoolType:
    return Type::boolean();
  case c10::TypeKind::StringType:
    return Type::string();
  case c10::TypeKind::NoneType:
    return Type::none();
  case c10::TypeKind::ListType: {
    Type element = fromTorchType(type->expectRef<c10::ListType>().getElementType());
    // Nested lists are not modelled: a list of lists is a list<list>.
    return Type::list(element.kind());
  }
  default:
    return Type::any();
  }
}

c10::TypePtr toTorchType(const Type &type) {
  switch (type.kind()) {
  case Type::Kind::Tensor:
    return c10::TensorType::get();
  case Type::Kind::Int:
    return c10::IntType::get();
  case Type::Kind::Float:
    return c10::FloatType::get();
  case Type::Kind::Bool:
    return c10::BoolType::get();
  case Type::Kind::String:
    return c10::StringType::get();
  case Type::Kind::None:
    return c10::NoneType::get();
  case Type::Kind::List: {
    Type::Kind element = type.listElement();
    if (element == Type::Kind::List || element == Type::Kind::Any)
      return c10::ListType::create(c10::AnyType::get());
    // Element types of lists are scalar kinds; build a representative.
    Type scalar = element == Type::Kind::Tensor   ? Type::unrankedTensor(DType::Unknown)
                  : element == Type::Kind::Int    ? Type::integer()
                  : element == Type::Kind::Float  ? Type::floating()
                  : element == Type::Kind::Bool   ? Type::boolean()
                  : element == Type::Kind::String ? Type::string()
                                                  : Type::none();
    return c10::ListType::create(toTorchType(scalar));
  }
  case Type::Kind::Any:
    return c10::AnyType::get();
  }
  return c10::AnyType::get();
}

llvm::Expected<TensorData> toTensorData(const at::Tensor &tensor, llvm::StringRef what) {
  if (!tensor.defined())
    return makeError(what + " is an undefined tensor");
  if (tensor.is_quantized() || tensor.is_sparse() || tensor.is_mkldnn())
    return makeError(what + " has a layout qfx cannot store (" + tensor.toString() +
                     "); only dense tensors are imported");
  std::optional<DType> dtype = fromScalarType(tensor.scalar_type());
  if (!dtype)
    return makeError(what + " has dtype " + c10::toString(tensor.scalar_type()) +
                     ", which qfx cannot store");
  at::Tensor dense = tensor.detach().to(at::kCPU).contiguous();
  TensorData data;
  data.dtype = *dtype;
  data.shape.assign(dense.sizes().begin(), dense.sizes().end());
  size_t bytes = dense.numel() * dense.element_size();
  // One pass (resize would zero the bytes first).
  const uint8_t *begin = static_cast<const uint8_t *>(dense.data_ptr());
  if (bytes)
    data.mutableBytes().assign(begin, begin + bytes);
  return data;
}

namespace {
/// The dtype storing `data` (fp8/fp4 codes have no dtype in LibTorch 1.13:
/// their bytes are kept as u8), after checking its byte count.
llvm::Expected<c10::ScalarType> checkedScalarType(const TensorData &data, llvm::StringRef what,
                                                  int64_t &bytes) {
  std::optional<c10::ScalarType> scalar = toScalarType(data.dtype);
  if (!scalar && data.dtype != DType::Unknown)
    scalar = c10::ScalarType::Byte;
  if (!scalar)
    return makeError(what + " has data of unknown dtype");
  int64_t elements = 1;
  for (int64_t dim : data.shape) {
    if (dim < 0)
      return makeError(what + " has a negative dimension");
    elements *= dim;
  }
  bytes = elements * static_cast<int64_t>(c10::elementSize(*scalar));
  if (static_cast<uint64_t>(bytes) != data.byteSize())
    return makeError(what + " holds " + llvm::Twine(data.byteSize()) + " bytes but its shape and " +
                     dtypeName(data.dtype) + " dtype need " + llvm::Twine(bytes));
  return *scalar;
}
} // namespace

llvm::Expected<at::Tensor> toTensor(const TensorData &data, llvm::StringRef what) {
  int64_t bytes = 0;
  llvm::Expected<c10::ScalarType> scalar = checkedScalarType(data, what, bytes);
  if (!scalar)
    return scalar.takeError();
  at::Tensor tensor = at::empty(data.shape, at::TensorOptions().dtype(*scalar));
  if (bytes)
    std::memcpy(tensor.data_ptr(), data.view().data(), bytes);
  return tensor;
}

llvm::Expected<at::Tensor> shareTensor(std::shared_ptr<const TensorData> data,
                                       llvm::StringRef what) {
  int64_t bytes = 0;
  llvm::Expected<c10::ScalarType> scalar = checkedScalarType(*data, what, bytes);
  if (!scalar)
    return scalar.takeError();
  // view(): the weight quantizer's codes are shared in place, not copied.
  void *begin = const_cast<uint8_t *>(data->view().data());
  if (bytes == 0 || reinterpret_cast<uintptr_t>(begin) % c10::elementSize(*scalar) != 0)
    return toTensor(*data, what);
  // The deleter owns a reference: the bytes live as long as the tensor.
  auto keepAlive = new std::shared_ptr<const TensorData>(std::move(data));
  return at::from_blob(
      begin, (*keepAlive)->shape, [keepAlive](void *) { delete keepAlive; },
      at::TensorOptions().dtype(*scalar));
}

std::string torchOpName(llvm::StringRef qfxName) {
  if (qfxName == "qfx.fake_quant")
    return "qfx::fake_quantize";
  if (qfxName.consume_front("qfx."))
    return ("qfx::" + qfxName).str();
  return qfxName.str();
}

std::string describeException(const std::exception &error) {
  std::string text;
  if (const auto *c10Error = dynamic_cast<const c10::Error *>(&error))
    text = c10Error->msg();
  else
    text = error.what();
  // An error inside the TorchScript interpreter comes with a traceback; the
  // cause (`RuntimeError: ...`) is its last line.
  llvm::StringRef all = llvm::StringRef(text).rtrim();
  if (all.startswith("The following operation failed in the TorchScript interpreter")) {
    size_t newline = all.rfind('\n');
    if (newline != llvm::StringRef::npos)
      return all.drop_front(newline + 1).trim().str();
  }
  // The first non-empty line; TorchScript reports follow it with a source
  // excerpt and c10 errors with "Exception raised from ..." context.
  llvm::StringRef rest = text;
  while (!rest.empty()) {
    auto [line, tail] = rest.split('\n');
    line = line.trim();
    if (!line.empty())
      return line.rtrim(':').str();
    rest = tail;
  }
  return "unknown error";
}

llvm::Error makeError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

} // namespace torchscript
} // namespace qfx
