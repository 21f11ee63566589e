//===- ir/mlir/Conversion.cc - Types, attributes and locations, both ways -===//
//
// Implements the value-level MLIR <-> qfx mapping of Conversion.h. The rule
// that makes round trips exact: every import is checked by converting back
// and comparing with the original (MLIR attributes and types are uniqued, so
// equality is pointer equality); whatever does not come back identical is
// kept as MLIR text instead.
//
//===----------------------------------------------------------------------===//
#include "ir/mlir/Conversion.h"

#include "mlir/AsmParser/AsmParser.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinDialect.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/OpImplementation.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/raw_ostream.h"

#include <cstring>

namespace qfx {

bool mlirattr::isReserved(llvm::StringRef name) { return name.startswith("mlir."); }

std::string toText(mlir::Attribute attribute) {
  std::string text;
  llvm::raw_string_ostream os(text);
  attribute.print(os);
  return os.str();
}

std::string toText(mlir::Type type) {
  std::string text;
  llvm::raw_string_ostream os(text);
  type.print(os);
  return os.str();
}

mlir::Attribute parseAttributeText(llvm::StringRef text, mlir::MLIRContext *context) {
  llvm::StringRef rest = text.trim();
  if (rest.consume_front("dense_resource<")) {
    auto [key, typeText] = rest.split('>');
    typeText = typeText.trim();
    if (typeText.consume_front(":"))
      if (auto type =
              mlir::parseType(typeText.trim(), context).dyn_cast_or_null<mlir::ShapedType>()) {
        auto &manager = mlir::DenseResourceElementsHandle::getManagerInterface(context);
        if (mlir::DialectResourceBlobManager::BlobEntry *entry =
                manager.getBlobManager().lookup(key))
          return mlir::DenseResourceElementsAttr::get(
              type, mlir::DenseResourceElementsHandle(
                        entry, context->getOrLoadDialect<mlir::BuiltinDialect>()));
        return mlir::DenseResourceElementsAttr::get(type, manager.insert(key));
      }
  }
  return mlir::parseAttribute(text, context);
}

//===----------------------------------------------------------------------===//
// Types
//===----------------------------------------------------------------------===//

std::optional<DType> importElementType(mlir::Type type) {
  if (type.isF64())
    return DType::F64;
  if (type.isF32())
    return DType::F32;
  if (type.isF16())
    return DType::F16;
  if (type.isBF16())
    return DType::BF16;
  if (type.isFloat8E4M3FN())
    return DType::F8E4M3FN;
  if (type.isFloat8E5M2())
    return DType::F8E5M2;
  // Only signless integers (and ui8, qfx's u8) are exact: si8 would come
  // back as i8.
  if (type.isSignlessInteger(64))
    return DType::I64;
  if (type.isSignlessInteger(32))
    return DType::I32;
  if (type.isSignlessInteger(16))
    return DType::I16;
  if (type.isSignlessInteger(8))
    return DType::I8;
  if (type.isSignlessInteger(1))
    return DType::I1;
  if (type.isUnsignedInteger(8))
    return DType::U8;
  return std::nullopt;
}

mlir::Type exportElementType(DType dtype, mlir::MLIRContext *context) {
  mlir::Builder builder(context);
  switch (dtype) {
  case DType::F64:
    return builder.getF64Type();
  case DType::F32:
    return builder.getF32Type();
  case DType::F16:
    return builder.getF16Type();
  case DType::BF16:
    return builder.getBF16Type();
  case DType::I64:
    return builder.getIntegerType(64);
  case DType::I32:
    return builder.getIntegerType(32);
  case DType::I16:
    return builder.getIntegerType(16);
  case DType::I8:
    return builder.getIntegerType(8);
  case DType::U8:
    return builder.getIntegerType(8, /*isSigned=*/false);
  case DType::I1:
    return builder.getI1Type();
  case DType::F8E4M3FN:
    return builder.getFloat8E4M3FNType();
  case DType::F8E5M2:
    return builder.getFloat8E5M2Type();
  case DType::F8E8M0FNU: // no such MLIR type before LLVM 20
  case DType::F4E2M1FN:
  case DType::Unknown:
    return {};
  }
  return {};
}

std::optional<Type> importType(mlir::Type type) {
  if (auto ranked = type.dyn_cast<mlir::RankedTensorType>()) {
    if (ranked.getEncoding())
      return std::nullopt;
    std::optional<DType> dtype = importElementType(ranked.getElementType());
    if (!dtype)
      return std::nullopt;
    llvm::SmallVector<int64_t, 4> shape;
    for (int64_t dim : ranked.getShape())
      shape.push_back(mlir::ShapedType::isDynamic(dim) ? Type::kDynamic : dim);
    return Type::rankedTensor(*dtype, shape);
  }
  if (auto unranked = type.dyn_cast<mlir::UnrankedTensorType>()) {
    std::optional<DType> dtype = importElementType(unranked.getElementType());
    if (!dtype)
      return std::nullopt;
    return Type::unrankedTensor(*dtype);
  }
  return std::nullopt;
}

mlir::Type exportType(const Type &type, mlir::MLIRContext *context) {
  auto torchType = [&](llvm::StringRef spelling) -> mlir::Type {
    return mlir::OpaqueType::get(mlir::StringAttr::get(context, "torch"), spelling);
  };
  switch (type.kind()) {
  case Type::Kind::Tensor: {
    mlir::Type element = exportElementType(type.dtype(), context);
    if (!element)
      // A tensor of unknown dtype is what torch-mlir calls a non-value tensor
      // without static information.
      return type.dtype() == DType::Unknown ? torchType("tensor") : mlir::Type();
    if (!type.hasRank())
      return mlir::UnrankedTensorType::get(element);
    llvm::SmallVector<int64_t, 4> shape;
    for (int64_t dim : type.shape())
      shape.push_back(dim == Type::kDynamic ? mlir::ShapedType::kDynamic : dim);
    return mlir::RankedTensorType::get(shape, element);
  }
  case Type::Kind::List:
    return torchType(("list<" + kindName(type.listElement()) + ">").str());
  default:
    return torchType(kindName(type.kind()));
  }
}

//===----------------------------------------------------------------------===//
// Attributes
//===----------------------------------------------------------------------===//

std::optional<Attribute> importAttribute(mlir::Attribute attribute) {
  if (auto boolean = attribute.dyn_cast<mlir::BoolAttr>())
    return Attribute::boolean(boolean.getValue());
  if (auto integer = attribute.dyn_cast<mlir::IntegerAttr>()) {
    const llvm::APInt &value = integer.getValue();
    bool isUnsigned = integer.getType().isUnsignedInteger();
    if (isUnsigned ? value.getActiveBits() > 63 : value.getMinSignedBits() > 64)
      return std::nullopt;
    return Attribute::integer(isUnsigned ? static_cast<int64_t>(value.getZExtValue())
                                         : value.getSExtValue());
  }
  if (auto floating = attribute.dyn_cast<mlir::FloatAttr>())
    return Attribute::floating(floating.getValueAsDouble());
  if (auto string = attribute.dyn_cast<mlir::StringAttr>())
    return Attribute::string(string.getValue().str());
  if (attribute.isa<mlir::UnitAttr>())
    return Attribute::none();
  if (auto array = attribute.dyn_cast<mlir::DenseI64ArrayAttr>())
    return Attribute::intList(array.asArrayRef());
  if (auto array = attribute.dyn_cast<mlir::DenseF64ArrayAttr>())
    return Attribute::floatList(array.asArrayRef());
  if (auto array = attribute.dyn_cast<mlir::DenseI32ArrayAttr>())
    return Attribute::intList(llvm::to_vector(llvm::map_range(
        array.asArrayRef(), [](int32_t value) { return static_cast<int64_t>(value); })));
  if (auto array = attribute.dyn_cast<mlir::DenseI16ArrayAttr>())
    return Attribute::intList(llvm::to_vector(llvm::map_range(
        array.asArrayRef(), [](int16_t value) { return static_cast<int64_t>(value); })));
  if (auto array = attribute.dyn_cast<mlir::DenseI8ArrayAttr>())
    return Attribute::intList(llvm::to_vector(llvm::map_range(
        array.asArrayRef(), [](int8_t value) { return static_cast<int64_t>(value); })));
  if (auto array = attribute.dyn_cast<mlir::DenseF32ArrayAttr>())
    return Attribute::floatList(llvm::to_vector(llvm::map_range(
        array.asArrayRef(), [](float value) { return static_cast<double>(value); })));
  if (auto array = attribute.dyn_cast<mlir::DenseBoolArrayAttr>()) {
    AttributeList elements;
    for (bool value : array.asArrayRef())
      elements.push_back(Attribute::boolean(value));
    return Attribute::list(std::move(elements));
  }
  if (auto array = attribute.dyn_cast<mlir::ArrayAttr>()) {
    AttributeList elements;
    for (mlir::Attribute element : array) {
      std::optional<Attribute> converted = importAttribute(element);
      if (!converted)
        return std::nullopt;
      elements.push_back(std::move(*converted));
    }
    return Attribute::list(std::move(elements));
  }
  if (auto dictionary = attribute.dyn_cast<mlir::DictionaryAttr>()) {
    AttributeDict entries;
    for (mlir::NamedAttribute entry : dictionary) {
      std::optional<Attribute> converted = importAttribute(entry.getValue());
      if (!converted)
        return std::nullopt;
      entries.emplace_back(entry.getName().str(), std::move(*converted));
    }
    return Attribute::dict(std::move(entries));
  }
  return std::nullopt;
}

/// The default way back (kind "").
static mlir::Attribute exportDefault(const Attribute &value, mlir::MLIRContext *context) {
  mlir::Builder builder(context);
  switch (value.kind()) {
  case Attribute::Kind::None:
    return builder.getUnitAttr();
  case Attribute::Kind::Bool:
    return builder.getBoolAttr(value.getBool());
  case Attribute::Kind::Int:
    return builder.getI64IntegerAttr(value.getInt());
  case Attribute::Kind::Float:
    return builder.getF64FloatAttr(value.getFloat());
  case Attribute::Kind::String:
    return builder.getStringAttr(value.getString());
  case Attribute::Kind::TensorRef:
    return mlir::FlatSymbolRefAttr::get(context, value.getTensorRef());
  case Attribute::Kind::List: {
    const AttributeList &elements = value.getList();
    // Dense arrays are how MLIR spells integer and float lists nowadays (tosa's
    // pad/stride/dilation, the qparams of the qfx dialect).
    if (!elements.empty() &&
        llvm::all_of(elements, [](const Attribute &element) { return element.isInt(); }))
      return builder.getDenseI64ArrayAttr(*value.asIntList());
    if (!elements.empty() &&
        llvm::all_of(elements, [](const Attribute &element) { return element.isFloat(); })) {
      llvm::SmallVector<double, 8> values;
      for (const Attribute &element : elements)
        values.push_back(element.getFloat());
      return builder.getDenseF64ArrayAttr(values);
    }
    llvm::SmallVector<mlir::Attribute, 8> converted;
    for (const Attribute &element : elements)
      converted.push_back(exportDefault(element, context));
    return builder.getArrayAttr(converted);
  }
  case Attribute::Kind::Dict: {
    llvm::SmallVector<mlir::NamedAttribute, 8> entries;
    for (const NamedAttribute &entry : value.getDict())
      entries.push_back(builder.getNamedAttr(entry.first, exportDefault(entry.second, context)));
    return builder.getDictionaryAttr(entries);
  }
  }
  return {};
}

template <typename ArrayAttrT, typename ElementT>
static mlir::Attribute denseArray(const Attribute &value, mlir::MLIRContext *context,
                                  std::string &error) {
  if (!value.isList()) {
    error = "expected a list";
    return {};
  }
  llvm::SmallVector<ElementT, 8> elements;
  for (const Attribute &element : value.getList()) {
    if (element.isBool())
      elements.push_back(static_cast<ElementT>(element.getBool()));
    else if (std::optional<double> number = element.asNumber())
      elements.push_back(element.isInt() ? static_cast<ElementT>(element.getInt())
                                         : static_cast<ElementT>(*number));
    else {
      error = "expected a list of numbers";
      return {};
    }
  }
  return ArrayAttrT::get(context, elements);
}

mlir::Attribute exportAttribute(const Attribute &value, llvm::StringRef kind,
                                mlir::MLIRContext *context, std::string &error) {
  if (kind.empty())
    return exportDefault(value, context);
  if (kind == "list") {
    if (!value.isList()) {
      error = "kind 'list' needs a list";
      return {};
    }
    llvm::SmallVector<mlir::Attribute, 8> converted;
    for (const Attribute &element : value.getList())
      converted.push_back(exportDefault(element, context));
    return mlir::ArrayAttr::get(context, converted);
  }
  if (kind == "attr" || kind == "type") {
    if (!value.isString()) {
      error = ("kind '" + kind + "' needs the MLIR text as a string").str();
      return {};
    }
    if (kind == "type") {
      mlir::Type type = mlir::parseType(value.getString(), context);
      if (!type) {
        error = "'" + value.getString() + "' is not an MLIR type";
        return {};
      }
      return mlir::TypeAttr::get(type);
    }
    mlir::Attribute attribute = parseAttributeText(value.getString(), context);
    if (!attribute)
      error = "'" + value.getString() + "' is not an MLIR attribute";
    return attribute;
  }
  if (kind == "array<i64>")
    return denseArray<mlir::DenseI64ArrayAttr, int64_t>(value, context, error);
  if (kind == "array<i32>")
    return denseArray<mlir::DenseI32ArrayAttr, int32_t>(value, context, error);
  if (kind == "array<i16>")
    return denseArray<mlir::DenseI16ArrayAttr, int16_t>(value, context, error);
  if (kind == "array<i8>")
    return denseArray<mlir::DenseI8ArrayAttr, int8_t>(value, context, error);
  if (kind == "array<i1>")
    return denseArray<mlir::DenseBoolArrayAttr, bool>(value, context, error);
  if (kind == "array<f32>")
    return denseArray<mlir::DenseF32ArrayAttr, float>(value, context, error);
  if (kind == "array<f64>")
    return denseArray<mlir::DenseF64ArrayAttr, double>(value, context, error);
  // Otherwise the kind is the type of a scalar.
  mlir::Type type = mlir::parseType(kind, context);
  if (!type) {
    error = ("unknown attribute kind '" + kind + "'").str();
    return {};
  }
  if (type.isIntOrIndex() && value.isInt())
    return mlir::IntegerAttr::get(type, value.getInt());
  if (type.isIntOrIndex() && value.isBool())
    return mlir::IntegerAttr::get(type, value.getBool() ? 1 : 0);
  if (auto floatType = type.dyn_cast<mlir::FloatType>())
    if (std::optional<double> number = value.asNumber())
      return mlir::FloatAttr::get(floatType, *number);
  error =
      ("a " + kindName(value.kind()) + " does not make an attribute of type '" + kind + "'").str();
  return {};
}

ImportedAttribute importAttributeExactly(mlir::Attribute attribute) {
  mlir::MLIRContext *context = attribute.getContext();
  auto rebuilds = [&](const Attribute &value, llvm::StringRef kind) {
    std::string error;
    return exportAttribute(value, kind, context, error) == attribute;
  };
  std::optional<Attribute> value = importAttribute(attribute);
  if (value) {
    if (rebuilds(*value, ""))
      return {*value, "", std::nullopt};
    std::string kind;
    if (attribute.isa<mlir::IntegerAttr>() && !attribute.isa<mlir::BoolAttr>())
      kind = toText(attribute.cast<mlir::IntegerAttr>().getType());
    else if (auto floating = attribute.dyn_cast<mlir::FloatAttr>())
      kind = toText(floating.getType());
    else if (attribute.isa<mlir::ArrayAttr>())
      kind = "list";
    else if (auto array = attribute.dyn_cast<mlir::DenseArrayAttr>())
      kind = "array<" + toText(array.getElementType()) + ">";
    if (!kind.empty() && rebuilds(*value, kind))
      return {*value, kind, std::nullopt};
    // Nested elements that need kinds: keep the value readable and the text
    // exact.
    if (attribute.isa<mlir::ArrayAttr, mlir::DictionaryAttr>() &&
        parseAttributeText(toText(attribute), context) == attribute)
      return {*value, "", toText(attribute)};
  }
  if (auto type = attribute.dyn_cast<mlir::TypeAttr>())
    return {Attribute::string(toText(type.getValue())), "type", std::nullopt};
  return {Attribute::string(toText(attribute)), "attr", std::nullopt};
}

llvm::StringRef schemaKind(llvm::StringRef opName, llvm::StringRef attributeName) {
  struct Entry {
    llvm::StringLiteral op, attribute, kind;
  };
  // Only the attributes whose ODS type is not the default mapping.
  static const Entry table[] = {
      {"tosa.clamp", "min_fp", "f32"},
      {"tosa.clamp", "max_fp", "f32"},
      {"tosa.mul", "shift", "i32"},
      {"tosa.rescale", "input_zp", "i32"},
      {"tosa.rescale", "output_zp", "i32"},
      {"tosa.rescale", "multiplier", "array<i32>"},
      {"tosa.rescale", "shift", "array<i32>"},
  };
  for (const Entry &entry : table)
    if (entry.op == opName && entry.attribute == attributeName)
      return entry.kind;
  if (opName == "qfx.quantize" || opName == "qfx.dequantize") {
    if (attributeName == "scale" || attributeName == "minval")
      return "array<f64>";
    if (attributeName == "zero_point" || attributeName == "qparam_shape" ||
        attributeName == "block_shape")
      return "array<i64>";
  }
  return "";
}

std::string mlirOpName(llvm::StringRef opName) {
  if (!opName.contains("::"))
    return opName.str();
  std::string name = "torch.";
  for (size_t i = 0; i < opName.size(); ++i) {
    if (opName.substr(i).startswith("::")) {
      name += '.';
      ++i;
    } else {
      name += opName[i];
    }
  }
  return name;
}

std::string qfxOpName(llvm::StringRef mlirName) {
  for (llvm::StringRef ns : {"aten", "prim"}) {
    llvm::StringRef rest = mlirName;
    if (rest.consume_front("torch.") && rest.consume_front(ns) && rest.consume_front(".") &&
        !rest.empty())
      return (ns + "::" + rest).str();
  }
  return mlirName.str();
}

Attribute annotationToAttribute(const QuantAnnotation &annotation) {
  AttributeDict entries;
  entries.emplace_back(
      "inputs", Attribute::list(AttributeList(annotation.inputs.begin(), annotation.inputs.end())));
  entries.emplace_back("output", annotation.output);
  if (annotation.hasGroups()) {
    entries.emplace_back("groups", Attribute::intList(annotation.inputGroups));
    entries.emplace_back("output_group", Attribute::integer(annotation.outputGroup));
  }
  return Attribute::dict(std::move(entries));
}

llvm::Expected<QuantAnnotation> annotationFromAttribute(const Attribute &attribute) {
  auto malformed = [](const llvm::Twine &why) {
    return llvm::createStringError(llvm::inconvertibleErrorCode(), why);
  };
  if (!attribute.isDict())
    return malformed("expected a dictionary {inputs = [...], output = ...}");
  const Attribute *inputs = attribute.lookup("inputs");
  const Attribute *output = attribute.lookup("output");
  if (!inputs || !inputs->isList() || !output)
    return malformed("expected a dictionary {inputs = [...], output = ...}");
  QuantAnnotation annotation;
  annotation.inputs.assign(inputs->getList().begin(), inputs->getList().end());
  annotation.output = *output;
  const Attribute *groups = attribute.lookup("groups");
  const Attribute *outputGroup = attribute.lookup("output_group");
  if (groups || outputGroup) {
    std::optional<std::vector<int64_t>> values = groups ? groups->asIntList() : std::nullopt;
    if (!values || !outputGroup || !outputGroup->isInt())
      return malformed("'groups' must be a list of integers and 'output_group' an integer");
    annotation.inputGroups.assign(values->begin(), values->end());
    annotation.outputGroup = outputGroup->getInt();
  }
  for (const NamedAttribute &entry : attribute.getDict())
    if (entry.first != "inputs" && entry.first != "output" && entry.first != "groups" &&
        entry.first != "output_group")
      return malformed("unknown key '" + entry.first + "'");
  return annotation;
}

//===----------------------------------------------------------------------===//
// Tensor data
//===----------------------------------------------------------------------===//

/// Bytes per element of TensorData (i1: one byte).
static size_t elementBytes(DType dtype) {
  switch (dtype) {
  case DType::F64:
  case DType::I64:
    return 8;
  case DType::F32:
  case DType::I32:
    return 4;
  case DType::F16:
  case DType::BF16:
  case DType::I16:
    return 2;
  default:
    return 1;
  }
}

std::optional<TensorData> importTensorData(mlir::DenseElementsAttr attribute) {
  if (!attribute.isa<mlir::DenseIntOrFPElementsAttr>())
    return std::nullopt;
  auto type = attribute.getType().cast<mlir::ShapedType>();
  std::optional<DType> dtype = importElementType(type.getElementType());
  if (!dtype || !type.hasStaticShape())
    return std::nullopt;
  TensorData data;
  data.dtype = *dtype;
  data.shape.assign(type.getShape().begin(), type.getShape().end());
  size_t count = static_cast<size_t>(type.getNumElements());
  if (*dtype == DType::I1) {
    // MLIR packs i1 elements into bits; TensorData keeps one byte each.
    data.mutableBytes().reserve(count);
    for (bool value : attribute.getValues<bool>())
      data.mutableBytes().push_back(value ? 1 : 0);
    return data;
  }
  size_t width = elementBytes(*dtype);
  llvm::ArrayRef<char> raw = attribute.getRawData();
  if (attribute.isSplat()) {
    if (raw.size() < width)
      return std::nullopt;
    data.mutableBytes().resize(count * width);
    for (size_t i = 0; i < count; ++i)
      std::memcpy(data.mutableBytes().data() + i * width, raw.data(), width);
  } else {
    if (raw.size() != count * width)
      return std::nullopt;
    data.mutableBytes().assign(raw.begin(), raw.end());
  }
  return data;
}

mlir::DenseElementsAttr exportTensorData(const TensorData &data, mlir::RankedTensorType type,
                                         std::string &error) {
  std::optional<DType> dtype = importElementType(type.getElementType());
  if (!dtype || *dtype != data.dtype) {
    error = ("holds " + dtypeName(data.dtype) + " data for a tensor of " +
             toText(type.getElementType()))
                .str();
    return {};
  }
  if (!type.hasStaticShape() || llvm::ArrayRef<int64_t>(data.shape) != type.getShape()) {
    error = "the shape of its data differs from its type " + toText(type);
    return {};
  }
  size_t count = static_cast<size_t>(type.getNumElements());
  if (data.bytes().size() != count * elementBytes(data.dtype)) {
    error = "its data holds " + std::to_string(data.bytes().size()) + " bytes for " +
            std::to_string(count) + " elements of " + dtypeName(data.dtype).str();
    return {};
  }
  if (data.dtype == DType::I1) {
    llvm::SmallVector<bool, 64> values;
    for (uint8_t byte : data.bytes())
      values.push_back(byte != 0);
    return mlir::DenseElementsAttr::get(type, values);
  }
  // getFromRawBuffer stores equal elements as a splat, as the parser does.
  return mlir::DenseElementsAttr::getFromRawBuffer(
      type, llvm::ArrayRef<char>(reinterpret_cast<const char *>(data.bytes().data()),
                                 data.bytes().size()));
}

//===----------------------------------------------------------------------===//
// Diagnostics
//===----------------------------------------------------------------------===//

DiagnosticForwarder::DiagnosticForwarder(mlir::MLIRContext &context, DiagnosticEngine &diagnostics)
    : handler_(&context, [this, &diagnostics](mlir::Diagnostic &diagnostic) {
        diagnostics.emit(convert(diagnostic));
        return mlir::success();
      }) {}

Location DiagnosticForwarder::location(mlir::Location location) {
  Location result;
  location->walk([&](mlir::Location nested) {
    if (auto file = nested.dyn_cast<mlir::FileLineColLoc>()) {
      files_.push_back(file.getFilename().str());
      result.file = files_.back();
      result.line = file.getLine();
      result.column = file.getColumn();
      return mlir::WalkResult::interrupt();
    }
    return mlir::WalkResult::advance();
  });
  return result;
}

Diagnostic DiagnosticForwarder::convert(mlir::Diagnostic &diagnostic) {
  Diagnostic result;
  switch (diagnostic.getSeverity()) {
  case mlir::DiagnosticSeverity::Error:
    result.severity = Severity::Error;
    break;
  case mlir::DiagnosticSeverity::Warning:
    result.severity = Severity::Warning;
    break;
  case mlir::DiagnosticSeverity::Note:
    result.severity = Severity::Note;
    break;
  case mlir::DiagnosticSeverity::Remark:
    result.severity = Severity::Remark;
    break;
  }
  result.location = location(diagnostic.getLocation());
  result.message = diagnostic.str();
  for (mlir::Diagnostic &note : diagnostic.getNotes())
    result.notes.push_back(convert(note));
  return result;
}

void emitAsMlirDiagnostic(const Diagnostic &diagnostic, mlir::Location fallback) {
  auto locationOf = [&](const Location &location) -> mlir::Location {
    if (!location.isKnown())
      return fallback;
    return mlir::FileLineColLoc::get(fallback.getContext(), location.file, location.line,
                                     location.column);
  };
  mlir::Location location = locationOf(diagnostic.location);
  mlir::InFlightDiagnostic emitted = [&] {
    switch (diagnostic.severity) {
    case Severity::Warning:
      return mlir::emitWarning(location);
    case Severity::Remark:
    case Severity::Note:
      return mlir::emitRemark(location);
    case Severity::Error:
      break;
    }
    return mlir::emitError(location);
  }();
  emitted << diagnostic.message;
  for (const Diagnostic &note : diagnostic.notes)
    emitted.attachNote(locationOf(note.location)) << note.message;
}

//===----------------------------------------------------------------------===//
// Locations
//===----------------------------------------------------------------------===//

ImportedLocation importLocation(mlir::Location location) {
  ImportedLocation imported;
  mlir::Location inner = location;
  if (auto name = location.dyn_cast<mlir::NameLoc>()) {
    imported.modulePath = name.getName().str();
    inner = name.getChildLoc();
  }
  if (auto file = inner.dyn_cast<mlir::FileLineColLoc>()) {
    imported.file = file.getFilename().str();
    imported.line = file.getLine();
    imported.column = file.getColumn();
  }
  // Rebuild it as exportLocation would and keep the text when that differs
  // (fused and call-site locations, a line 0, a name around something else).
  mlir::MLIRContext *context = location.getContext();
  mlir::Location rebuilt = mlir::UnknownLoc::get(context);
  if (imported.line != 0)
    rebuilt = mlir::FileLineColLoc::get(context, imported.file, imported.line, imported.column);
  if (!imported.modulePath.empty())
    rebuilt = mlir::NameLoc::get(mlir::StringAttr::get(context, imported.modulePath), rebuilt);
  if (rebuilt != location) {
    imported.text = toText(mlir::Attribute(mlir::LocationAttr(location)));
    if (imported.line == 0) {
      // Still point diagnostics somewhere sensible.
      location->walk([&](mlir::Location nested) {
        if (auto file = nested.dyn_cast<mlir::FileLineColLoc>()) {
          imported.file = file.getFilename().str();
          imported.line = file.getLine();
          imported.column = file.getColumn();
          return mlir::WalkResult::interrupt();
        }
        return mlir::WalkResult::advance();
      });
    }
  }
  return imported;
}

mlir::Location exportLocation(const Node &node, mlir::MLIRContext *context) {
  if (const Attribute *text = node.attribute(mlirattr::kLoc); text && text->isString())
    if (mlir::Attribute parsed = mlir::parseAttribute(text->getString(), context))
      if (auto location = parsed.dyn_cast<mlir::LocationAttr>())
        return location;
  const SourceInfo &source = node.source();
  mlir::Location location = mlir::UnknownLoc::get(context);
  if (source.line != 0)
    location = mlir::FileLineColLoc::get(context, source.file, source.line, source.column);
  else if (source.modulePath.empty() && node.textLocation().isKnown())
    location = mlir::FileLineColLoc::get(context, node.textLocation().file,
                                         node.textLocation().line, node.textLocation().column);
  if (!source.modulePath.empty())
    location = mlir::NameLoc::get(mlir::StringAttr::get(context, source.modulePath), location);
  return location;
}

Location diagnosticLocation(mlir::Location location, Graph &graph) {
  Location result;
  location->walk([&](mlir::Location nested) {
    if (auto file = nested.dyn_cast<mlir::FileLineColLoc>()) {
      result.file = graph.intern(file.getFilename().getValue());
      result.line = file.getLine();
      result.column = file.getColumn();
      return mlir::WalkResult::interrupt();
    }
    return mlir::WalkResult::advance();
  });
  return result;
}

} // namespace qfx
