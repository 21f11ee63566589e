//===- ir/mlir/Export.cc - qfx Graph -> MLIR func.func --------------------===//
//
// Writes a graph as the ops of a func.func (into an existing function or a
// new one), and exportMlir() of ir/mlir/Bridge.h.
//
// Nodes become ops of the same name (aten::/prim:: ops get torch-mlir's
// `torch.` names), in generic form, with their attributes converted back
// through the kinds the importer recorded (ir/mlir/Conversion.h); nodes that
// came from ops with regions are parsed back from their text. Parameters
// become dense constants, where the importer found them, else right before
// their first use. Quantization:
//  - qfx.quantize -> quant.qcast to `!quant.uniform`, qfx.dequantize ->
//    quant.dcast, when the qparams fit the type: an integer dtype, the ZP
//    formulation, per tensor or per axis, no e8m0 scales. Narrow or sub-byte
//    ranges become storage bounds (`i8<-127:127>`, int4 as `i8<-8:7>`: the
//    codes live in their int8 container). A dequantize of integer codes that
//    no qcast produced (weights) goes through quant.scast, so weights stay
//    plain integer constants: a quantized element type inside a dense
//    constant would not survive printing in LLVM 16.
//  - otherwise (fp8, fp4, e8m0 scales, per block, MINVAL) the qfx dialect's
//    qfx.quantize / qfx.dequantize, whose verifiers check the same rules.
//  - qfx.fake_quant -> the qfx dialect's qfx.fake_quant.
//
//===----------------------------------------------------------------------===//
#include "ir/mlir/Export.h"

#include "ir/mlir/Bridge.h"
#include "ir/mlir/Conversion.h"
#include "ir/mlir/QfxDialect.h"
#include "runtime/spec/QuantTypes.h"

#include "mlir/AsmParser/AsmParser.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Quant/QuantOps.h"
#include "mlir/Dialect/Quant/QuantTypes.h"
#include "mlir/Dialect/Tosa/IR/TosaOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/TypeUtilities.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Parser/Parser.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/SmallPtrSet.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/raw_ostream.h"

#include <cmath>

namespace qfx {
namespace {

class Exporter {
public:
  Exporter(const Graph &graph, mlir::OpBuilder &builder, mlir::Location fallback)
      : graph_(graph), builder_(builder), context_(builder.getContext()), fallback_(fallback) {}

  /// Builds the graph's ops at the builder's insertion point, with `inputs`
  /// standing for the graph inputs; `outputs` receives the returned values.
  mlir::LogicalResult build(llvm::ArrayRef<mlir::Value> inputs,
                            llvm::SmallVectorImpl<mlir::Value> &outputs);

private:
  mlir::InFlightDiagnostic error(const Node &node) {
    return mlir::emitError(exportLocation(node, context_));
  }
  /// Emits `parameter` as a constant; `user` (if any) is the node it is
  /// emitted for, whose location goes into the constant's.
  mlir::LogicalResult emitParameter(const Value *parameter, const Node *user = nullptr);
  mlir::LogicalResult emitListedParameters(const Node &node, llvm::StringRef key);
  /// The MLIR value a node operand reads: codes of a qcast are read through
  /// their storage (quant.scast), so an ordinary consumer sees integers.
  mlir::FailureOr<mlir::Value> operand(const Node &user, const Value *value);
  mlir::LogicalResult exportNode(const Node &node);
  mlir::LogicalResult exportGeneric(const Node &node);
  mlir::LogicalResult exportWithRegions(const Node &node);
  mlir::LogicalResult exportQuantize(const Node &node);
  mlir::LogicalResult exportDequantize(const Node &node);
  /// The `!quant.uniform` element type of the qparams on a qfx.quantize /
  /// qfx.dequantize node applied to a tensor of `floatType`; null when the
  /// quant dialect cannot express them.
  mlir::quant::QuantizedType quantTypeOf(const Node &node, mlir::Type floatType);
  /// Integer codes as the signless storage of `quantType` (a constant in
  /// signless form for unsigned parameters, quant.scast of qcast codes).
  mlir::FailureOr<mlir::Value> storageOf(const Node &user, const Value *value,
                                         mlir::quant::QuantizedType quantType);

  const Graph &graph_;
  mlir::OpBuilder &builder_;
  mlir::MLIRContext *context_;
  mlir::Location fallback_;
  llvm::DenseMap<const Value *, mlir::Value> values_;
  /// Values that are codes of a quant.qcast (quantized element type).
  llvm::DenseSet<const Value *> quantized_;
  /// Storage views: quant.scast of qcast codes, signless constants.
  llvm::DenseMap<const Value *, mlir::Value> storage_;
  /// Constant entries ({name, op, loc[, attrs]}) recorded by the importer.
  llvm::StringMap<const Attribute *> constantEntries_;
};

mlir::LogicalResult Exporter::build(llvm::ArrayRef<mlir::Value> inputs,
                                    llvm::SmallVectorImpl<mlir::Value> &outputs) {
  for (auto [input, value] : llvm::zip(graph_.inputs(), inputs))
    values_[input] = value;
  for (Node *node : graph_.nodes())
    for (llvm::StringRef key : {mlirattr::kBefore, mlirattr::kAfter})
      if (const Attribute *list = node->attribute(key); list && list->isList())
        for (const Attribute &entry : list->getList())
          if (const Attribute *name = entry.lookup("name"); name && name->isString())
            constantEntries_[name->getString()] = &entry;

  for (Node *node : graph_.nodes()) {
    // Other parameters are emitted by operand() right before their first
    // user (a dequantize may want its codes in signless form, see storageOf).
    if (failed(emitListedParameters(*node, mlirattr::kBefore)))
      return mlir::failure();
    if (failed(exportNode(*node)) || failed(emitListedParameters(*node, mlirattr::kAfter)))
      return mlir::failure();
  }
  // Parameters only returned, then unused ones, at the end.
  for (Value *value : graph_.outputs())
    if (value->isParameter() && !values_.count(value) && failed(emitParameter(value)))
      return mlir::failure();
  for (Value *parameter : graph_.parameters())
    if (!values_.count(parameter) && !storage_.lookup(parameter) &&
        failed(emitParameter(parameter)))
      return mlir::failure();

  for (Value *value : graph_.outputs()) {
    if (!values_.count(value))
      return mlir::emitError(fallback_, "graph output '%") << value->name() << "' is not defined";
    // Codes of a qcast are returned as their integer storage.
    if (quantized_.count(value)) {
      mlir::Value &view = storage_[value];
      if (!view)
        view = builder_
                   .create<mlir::quant::StorageCastOp>(
                       fallback_,
                       mlir::quant::QuantizedType::castToStorageType(values_[value].getType()),
                       values_[value])
                   .getResult();
      outputs.push_back(view);
    } else {
      outputs.push_back(values_[value]);
    }
  }
  return mlir::success();
}

mlir::LogicalResult Exporter::emitListedParameters(const Node &node, llvm::StringRef key) {
  const Attribute *list = node.attribute(key);
  if (!list || !list->isList())
    return mlir::success();
  for (const Attribute &entry : list->getList()) {
    const Attribute *name = entry.lookup("name");
    if (!name || !name->isString())
      continue;
    // A parameter a pass removed is simply not emitted.
    Value *parameter = graph_.parameter(name->getString());
    if (parameter && !values_.count(parameter) && failed(emitParameter(parameter)))
      return mlir::failure();
  }
  return mlir::success();
}

mlir::LogicalResult Exporter::emitParameter(const Value *parameter, const Node *user) {
  const Attribute *entry = constantEntries_.lookup(parameter->name());
  auto field = [&](llvm::StringRef key) -> const std::string * {
    if (!entry)
      return nullptr;
    const Attribute *value = entry->lookup(key);
    return value && value->isString() ? &value->getString() : nullptr;
  };

  // Imported constants keep their location; others take that of their
  // first user (where diagnostics about them then point) and are named by a
  // `qfx.name` attribute, which the importer reads back as the parameter name
  // and which, unlike a location, shows in MLIR printed without debug info.
  mlir::Location location =
      user ? exportLocation(*user, context_) : mlir::Location(mlir::UnknownLoc::get(context_));
  if (const std::string *text = field("loc"))
    if (mlir::Attribute parsed = mlir::parseAttribute(*text, context_))
      if (auto parsedLocation = parsed.dyn_cast<mlir::LocationAttr>())
        location = parsedLocation;

  auto type = exportType(parameter->type(), context_).dyn_cast_or_null<mlir::RankedTensorType>();
  if (!type || !type.hasStaticShape())
    return mlir::emitError(location, "parameter '%")
           << parameter->name() << "' of type " << parameter->type().str()
           << " cannot be an MLIR constant (a static tensor of an MLIR element type)";
  mlir::Attribute value;
  if (const std::shared_ptr<const TensorData> &data = parameter->data()) {
    std::string why;
    value = exportTensorData(*data, type, why);
    if (!value)
      return mlir::emitError(location, "parameter '%") << parameter->name() << "' " << why;
  } else {
    // No contents (a graph written by hand): say so the way MLIR does for
    // elided constants, rather than inventing values.
    value = parseAttributeText("dense_resource<__elided__> : " + toText(type), context_);
  }

  const std::string *opName = field("op");
  mlir::OperationState state(location, opName ? llvm::StringRef(*opName) : "arith.constant");
  state.addAttribute("value", value);
  if (!entry)
    state.addAttribute(kNameAttrName, mlir::StringAttr::get(context_, parameter->name()));
  if (const std::string *attrs = field("attrs"))
    if (auto dictionary =
            parseAttributeText(*attrs, context_).dyn_cast_or_null<mlir::DictionaryAttr>())
      for (mlir::NamedAttribute attribute : dictionary)
        state.addAttribute(attribute.getName(), attribute.getValue());
  state.addTypes(type);
  values_[parameter] = builder_.create(state)->getResult(0);
  return mlir::success();
}

mlir::FailureOr<mlir::Value> Exporter::operand(const Node &user, const Value *value) {
  if (!values_.count(value) && value->isParameter() && failed(emitParameter(value, &user)))
    return mlir::failure();
  mlir::Value mapped = values_.lookup(value);
  if (!mapped) {
    error(user) << "operand '%" << value->name() << "' of '" << user.opName()
                << "' is not defined before it";
    return mlir::failure();
  }
  if (!quantized_.count(value))
    return mapped;
  mlir::Value &view = storage_[value];
  if (!view)
    view = builder_
               .create<mlir::quant::StorageCastOp>(
                   mapped.getLoc(), mlir::quant::QuantizedType::castToStorageType(mapped.getType()),
                   mapped)
               .getResult();
  return view;
}

mlir::LogicalResult Exporter::exportNode(const Node &node) {
  if (node.hasAttribute(mlirattr::kOpaque))
    return exportWithRegions(node);
  if (node.opName() == "qfx.quantize")
    return exportQuantize(node);
  if (node.opName() == "qfx.dequantize")
    return exportDequantize(node);
  return exportGeneric(node);
}

mlir::LogicalResult Exporter::exportGeneric(const Node &node) {
  std::string opName = mlirOpName(node.opName());
  mlir::OperationState state(exportLocation(node, context_), opName);
  for (Value *value : node.operands()) {
    mlir::FailureOr<mlir::Value> mapped = operand(node, value);
    if (failed(mapped))
      return mlir::failure();
    state.addOperands(*mapped);
  }

  const Attribute *typeTexts = node.attribute(mlirattr::kResultTypes);
  for (unsigned i = 0; i < node.numResults(); ++i) {
    mlir::Type type;
    if (typeTexts && typeTexts->isList() && i < typeTexts->getList().size() &&
        typeTexts->getList()[i].isString() && !typeTexts->getList()[i].getString().empty())
      type = mlir::parseType(typeTexts->getList()[i].getString(), context_);
    else
      type = exportType(node.result(i)->type(), context_);
    if (!type)
      return error(node) << "result " << i << " of '" << node.opName() << "' has type "
                         << node.result(i)->type().str() << ", which has no MLIR form";
    state.addTypes(type);
  }

  const Attribute *kinds = node.attribute(mlirattr::kKinds);
  const Attribute *texts = node.attribute(mlirattr::kTexts);
  for (const NamedAttribute &entry : node.attributes()) {
    if (mlirattr::isReserved(entry.first))
      continue;
    // The MLIR text the importer kept, while the value is what it was.
    if (const Attribute *text = texts ? texts->lookup(entry.first) : nullptr;
        text && text->isString()) {
      mlir::Attribute original = parseAttributeText(text->getString(), context_);
      std::optional<Attribute> originalValue = original ? importAttribute(original) : std::nullopt;
      if (originalValue && *originalValue == entry.second) {
        state.addAttribute(entry.first, original);
        continue;
      }
    }
    llvm::StringRef kind = schemaKind(opName, entry.first);
    if (kinds)
      if (const Attribute *recorded = kinds->lookup(entry.first); recorded && recorded->isString())
        kind = recorded->getString();
    std::string why;
    mlir::Attribute attribute = exportAttribute(entry.second, kind, context_, why);
    if (!attribute)
      return error(node) << "attribute '" << entry.first.ref() << "' of '" << node.opName()
                         << "' has no MLIR form: " << why;
    state.addAttribute(entry.first, attribute);
  }
  if (const QuantAnnotation *annotation = node.quant()) {
    std::string why;
    state.addAttribute(kAnnotationAttrName,
                       exportAttribute(annotationToAttribute(*annotation), "", context_, why));
  }
  if (!node.source().moduleType.empty())
    state.addAttribute(kModuleTypeAttrName,
                       mlir::StringAttr::get(context_, node.source().moduleType));

  mlir::Operation *op = builder_.create(state);
  for (unsigned i = 0; i < node.numResults(); ++i)
    values_[node.result(i)] = op->getResult(i);
  return mlir::success();
}

mlir::LogicalResult Exporter::exportWithRegions(const Node &node) {
  const Attribute *text = node.attribute(mlirattr::kOpaque);
  if (!text->isString())
    return error(node) << "'" << mlirattr::kOpaque << "' of '" << node.opName()
                       << "' must be the op's MLIR text";
  // The text is a function `qfx_opaque` whose arguments are the node's
  // operands and whose body is the op (see Import.cc). Parse it unverified
  // (it has no terminator) and clone the op with the arguments mapped.
  mlir::Block scratch;
  mlir::ParserConfig config(context_, /*verifyAfterParse=*/false);
  std::string parseError;
  {
    // Parser errors point into the text (a buffer without a name): fold them
    // into the error about the node. Other diagnostics pass on.
    mlir::ScopedDiagnosticHandler capture(context_, [&](mlir::Diagnostic &diagnostic) {
      auto file = diagnostic.getLocation().dyn_cast<mlir::FileLineColLoc>();
      llvm::StringRef name = file ? file.getFilename().getValue() : "<not a file>";
      if (!name.empty() && name != "-")
        return mlir::failure();
      if (parseError.empty())
        parseError = diagnostic.str();
      return mlir::success();
    });
    if (mlir::failed(mlir::parseSourceString(text->getString(), &scratch, config)))
      return error(node) << "the MLIR text of '" << node.opName()
                         << "' does not parse: " << parseError;
  }
  auto wrapper =
      llvm::dyn_cast_or_null<mlir::func::FuncOp>(scratch.empty() ? nullptr : &scratch.front());
  mlir::LogicalResult result = mlir::success();
  if (!wrapper || wrapper.getBody().empty() || wrapper.getBody().front().empty() ||
      wrapper.getNumArguments() != node.numOperands()) {
    result = error(node) << "the MLIR text of '" << node.opName()
                         << "' is not a function of its operands holding one op";
  } else {
    mlir::Operation &op = wrapper.getBody().front().front();
    mlir::IRMapping mapping;
    for (unsigned i = 0; i < node.numOperands() && succeeded(result); ++i) {
      mlir::FailureOr<mlir::Value> value = operand(node, node.operand(i));
      if (failed(value)) {
        result = mlir::failure();
      } else if (value->getType() != wrapper.getArgument(i).getType()) {
        result = error(node) << "operand " << i << " of '" << node.opName() << "' is now "
                             << value->getType() << " but the op was written for "
                             << wrapper.getArgument(i).getType();
      } else {
        mapping.map(wrapper.getArgument(i), *value);
      }
    }
    if (succeeded(result)) {
      if (op.getNumResults() != node.numResults()) {
        result = error(node) << "'" << node.opName() << "' has " << node.numResults()
                             << " results but its MLIR text " << op.getNumResults();
      } else {
        mlir::Operation *clone = builder_.clone(op, mapping);
        for (unsigned i = 0; i < node.numResults(); ++i)
          values_[node.result(i)] = clone->getResult(i);
      }
    }
  }
  // Free the parsed ops (they reference nothing outside the scratch block).
  for (mlir::Operation &op : scratch)
    op.dropAllReferences();
  while (!scratch.empty())
    scratch.back().erase();
  return result;
}

mlir::quant::QuantizedType Exporter::quantTypeOf(const Node &node, mlir::Type floatType) {
  auto shaped = floatType.dyn_cast<mlir::TensorType>();
  if (!shaped || !shaped.getElementType().isa<mlir::FloatType>())
    return {};
  auto string = [&](llvm::StringRef key) -> const std::string * {
    const Attribute *value = node.attribute(key);
    return value && value->isString() ? &value->getString() : nullptr;
  };
  const std::string *dtypeName = string("dtype");
  std::optional<QuantDType> dtype = dtypeName ? lookupQuantDType(*dtypeName) : std::nullopt;
  // The quant dialect of LLVM 16 has integer storage, one scale and zero
  // point per tensor or per axis: no fp8/fp4, blocks, MINVAL or e8m0 marker.
  if (!dtype || !isIntegerQuantDType(*dtype) || node.hasAttribute("minval") ||
      node.hasAttribute("block_shape") || node.hasAttribute("scale_dtype"))
    return {};
  const Attribute *quantMin = node.attribute("quant_min");
  const Attribute *quantMax = node.attribute("quant_max");
  const Attribute *scaleAttr = node.attribute("scale");
  const Attribute *zeroPointAttr = node.attribute("zero_point");
  if (!quantMin || !quantMin->isInt() || !quantMax || !quantMax->isInt() || !scaleAttr ||
      !scaleAttr->isList() || !zeroPointAttr)
    return {};
  std::optional<std::vector<int64_t>> zeroPoints = zeroPointAttr->asIntList();
  std::vector<double> scales;
  for (const Attribute &scale : scaleAttr->getList()) {
    std::optional<double> number = scale.asNumber();
    if (!number)
      return {};
    scales.push_back(*number);
  }
  if (!zeroPoints || zeroPoints->size() != scales.size() || scales.empty())
    return {};
  for (int64_t zeroPoint : *zeroPoints)
    if (zeroPoint < quantMin->getInt() || zeroPoint > quantMax->getInt())
      return {};

  QuantDType container = containerDType(*dtype);
  bool isSigned = isSignedQuantDType(*dtype);
  unsigned width = quantDTypeBits(container);
  // What the type's own verifier demands (checked here rather than through
  // getChecked, whose diagnostics would reach the user): storage of 1 to 32
  // bits, bounds inside it, positive finite scales.
  if (width == 0 || width > 32)
    return {};
  int64_t storageMin = isSigned ? -(int64_t(1) << (width - 1)) : 0;
  int64_t storageMax = isSigned ? (int64_t(1) << (width - 1)) - 1 : (int64_t(1) << width) - 1;
  if (quantMin->getInt() < storageMin || quantMax->getInt() > storageMax ||
      quantMin->getInt() >= quantMax->getInt())
    return {};
  for (double scale : scales)
    if (!(scale > 0) || !std::isfinite(scale))
      return {};
  unsigned flags = isSigned ? mlir::quant::QuantizationFlags::Signed : 0;
  mlir::Type storage = mlir::IntegerType::get(context_, width);
  mlir::Type expressed = shaped.getElementType();
  if (const Attribute *axis = node.attribute("axis")) {
    if (!axis->isInt() || !shaped.hasRank() || axis->getInt() < 0 ||
        axis->getInt() >= shaped.getRank())
      return {};
    int64_t dim = shaped.getDimSize(axis->getInt());
    if (!mlir::ShapedType::isDynamic(dim) && dim != static_cast<int64_t>(scales.size()))
      return {};
    return mlir::quant::UniformQuantizedPerAxisType::get(
        flags, storage, expressed, scales, *zeroPoints, static_cast<int32_t>(axis->getInt()),
        quantMin->getInt(), quantMax->getInt());
  }
  if (scales.size() != 1)
    return {};
  return mlir::quant::UniformQuantizedType::get(flags, storage, expressed, scales[0],
                                                (*zeroPoints)[0], quantMin->getInt(),
                                                quantMax->getInt());
}

static mlir::Type withElement(mlir::Type type, mlir::Type element) {
  if (auto ranked = type.dyn_cast<mlir::RankedTensorType>())
    return mlir::RankedTensorType::get(ranked.getShape(), element);
  return mlir::UnrankedTensorType::get(element);
}

mlir::LogicalResult Exporter::exportQuantize(const Node &node) {
  if (node.numOperands() != 1 || node.numResults() != 1)
    return exportGeneric(node);
  mlir::FailureOr<mlir::Value> input = operand(node, node.operand(0));
  if (failed(input))
    return mlir::failure();
  mlir::quant::QuantizedType quantType = quantTypeOf(node, input->getType());
  if (!quantType)
    return exportGeneric(node); // the qfx dialect's op
  auto cast = builder_.create<mlir::quant::QuantizeCastOp>(
      exportLocation(node, context_), withElement(input->getType(), quantType), *input);
  values_[node.result(0)] = cast.getResult();
  quantized_.insert(node.result(0));
  return mlir::success();
}

mlir::FailureOr<mlir::Value> Exporter::storageOf(const Node &user, const Value *value,
                                                 mlir::quant::QuantizedType quantType) {
  mlir::Type storage = quantType.getStorageType();
  if (value->isParameter() && !values_.count(value) && value->type().isTensor() &&
      value->type().dtype() == DType::U8 && storage.isSignlessInteger(8)) {
    // u8 codes (a uint8 weight) seen first here: emit the constant directly
    // in the signless form storage needs; the bytes are the same.
    mlir::Value &view = storage_[value];
    if (!view) {
      auto type = exportType(value->type(), context_).dyn_cast_or_null<mlir::RankedTensorType>();
      if (!type || !type.hasStaticShape())
        return error(user) << "codes '%" << value->name() << "' need a static shape";
      type = mlir::RankedTensorType::get(type.getShape(), storage);
      mlir::Attribute attribute;
      if (value->data()) {
        TensorData data = *value->data();
        data.dtype = DType::I8;
        std::string why;
        attribute = exportTensorData(data, type, why);
        if (!attribute)
          return error(user) << "parameter '%" << value->name() << "' " << why;
      } else {
        attribute = parseAttributeText("dense_resource<__elided__> : " + toText(type), context_);
      }
      mlir::OperationState state(exportLocation(user, context_), "arith.constant");
      state.addAttribute("value", attribute);
      state.addAttribute(kNameAttrName, mlir::StringAttr::get(context_, value->name()));
      state.addTypes(type);
      view = builder_.create(state)->getResult(0);
    }
    return view;
  }
  mlir::FailureOr<mlir::Value> mapped = operand(user, value);
  if (failed(mapped))
    return mlir::failure();
  if (mlir::getElementTypeOrSelf(mapped->getType()) != storage) {
    error(user) << "'" << user.opName() << "' reads codes of type " << mapped->getType() << ", but "
                << quantType << " is stored as " << storage;
    return mlir::failure();
  }
  return mapped;
}

mlir::LogicalResult Exporter::exportDequantize(const Node &node) {
  if (node.numOperands() != 1 || node.numResults() != 1)
    return exportGeneric(node);
  mlir::Type resultType = exportType(node.result(0)->type(), context_);
  mlir::quant::QuantizedType quantType =
      resultType ? quantTypeOf(node, resultType) : mlir::quant::QuantizedType();
  if (!quantType)
    return exportGeneric(node); // the qfx dialect's op
  const Value *input = node.operand(0);
  mlir::Location location = exportLocation(node, context_);
  mlir::Value codes;
  if (quantized_.count(input) &&
      mlir::getElementTypeOrSelf(values_[input].getType()) == quantType) {
    codes = values_[input];
  } else {
    mlir::FailureOr<mlir::Value> storage = storageOf(node, input, quantType);
    if (failed(storage))
      return mlir::failure();
    codes = builder_
                .create<mlir::quant::StorageCastOp>(
                    location, withElement(storage->getType(), quantType), *storage)
                .getResult();
  }
  auto cast = builder_.create<mlir::quant::DequantizeCastOp>(location, resultType, codes);
  values_[node.result(0)] = cast.getResult();
  return mlir::success();
}

} // namespace

mlir::LogicalResult exportIntoFunction(const Graph &graph, mlir::func::FuncOp func) {
  if (!func.getBody().hasOneBlock())
    return func.emitError("qfx exports into functions of one block");
  mlir::Block &block = func.getBody().front();
  auto ret = llvm::dyn_cast<mlir::func::ReturnOp>(block.getTerminator());
  if (!ret)
    return func.emitError("qfx exports into functions that end in 'func.return'");
  if (graph.inputs().size() != block.getNumArguments())
    return func.emitError("the graph has ") << graph.inputs().size() << " inputs but the function "
                                            << block.getNumArguments() << " arguments";
  for (auto [input, argument] : llvm::zip(graph.inputs(), block.getArguments())) {
    std::optional<Type> argumentType = importType(argument.getType());
    bool matches = argumentType ? *argumentType == input->type() : input->type() == Type::any();
    if (!matches)
      return func.emitError("graph input '%")
             << input->name() << "' has type " << input->type().str() << " but argument "
             << argument.getArgNumber() << " of the function is " << argument.getType();
  }

  // Build the new body in front of the terminator, then drop the old ops; on
  // failure drop the new ones instead, leaving the function as it was.
  llvm::SmallVector<mlir::Operation *, 64> oldOps;
  for (mlir::Operation &op : block.without_terminator())
    oldOps.push_back(&op);
  mlir::OpBuilder builder(ret);
  Exporter exporter(graph, builder, ret.getLoc());
  llvm::SmallVector<mlir::Value, 4> outputs;
  llvm::SmallVector<mlir::Value, 64> arguments(block.getArguments().begin(),
                                               block.getArguments().end());
  mlir::LogicalResult result = exporter.build(arguments, outputs);
  if (succeeded(result)) {
    mlir::TypeRange expected = func.getFunctionType().getResults();
    if (outputs.size() != expected.size()) {
      result = func.emitError("the graph returns ")
               << outputs.size() << " values but the function " << expected.size();
    } else {
      for (unsigned i = 0; i < outputs.size() && succeeded(result); ++i)
        if (outputs[i].getType() != expected[i])
          result = func.emitError("graph output ") << i << " is now " << outputs[i].getType()
                                                   << " but the function returns " << expected[i];
    }
  }
  llvm::SmallVector<mlir::Operation *, 64> dropped;
  if (succeeded(result)) {
    ret->setOperands(outputs);
    dropped = std::move(oldOps);
  } else {
    llvm::SmallPtrSet<mlir::Operation *, 16> old(oldOps.begin(), oldOps.end());
    for (mlir::Operation &op : block.without_terminator())
      if (!old.count(&op))
        dropped.push_back(&op);
  }
  for (mlir::Operation *op : dropped)
    op->dropAllReferences();
  for (mlir::Operation *op : dropped)
    op->erase();
  return result;
}

mlir::func::FuncOp exportToModule(const Graph &graph, mlir::ModuleOp module) {
  mlir::MLIRContext *context = module.getContext();
  mlir::Location location = mlir::UnknownLoc::get(context);
  llvm::SmallVector<mlir::Type, 4> inputTypes;
  for (Value *input : graph.inputs()) {
    mlir::Type type = exportType(input->type(), context);
    if (!type) {
      mlir::emitError(location, "graph input '%")
          << input->name() << "' has type " << input->type().str() << ", which has no MLIR form";
      return {};
    }
    inputTypes.push_back(type);
  }
  mlir::OpBuilder builder = mlir::OpBuilder::atBlockEnd(module.getBody());
  auto func = builder.create<mlir::func::FuncOp>(location, graph.name(),
                                                 builder.getFunctionType(inputTypes, {}));
  mlir::Block *entry = func.addEntryBlock();
  builder.setInsertionPointToEnd(entry);
  Exporter exporter(graph, builder, location);
  llvm::SmallVector<mlir::Value, 4> outputs;
  llvm::SmallVector<mlir::Value, 8> arguments(entry->getArguments().begin(),
                                              entry->getArguments().end());
  if (failed(exporter.build(arguments, outputs))) {
    func.erase();
    return {};
  }
  builder.create<mlir::func::ReturnOp>(location, outputs);
  llvm::SmallVector<mlir::Type, 4> outputTypes;
  for (mlir::Value output : outputs)
    outputTypes.push_back(output.getType());
  func.setFunctionType(builder.getFunctionType(inputTypes, outputTypes));
  return func;
}

bool exportMlir(const Graph &graph, llvm::raw_ostream &os, DiagnosticEngine &diagnostics,
                const MlirExportOptions &options) {
  mlir::DialectRegistry registry;
  registerQfxDialects(registry);
  mlir::MLIRContext context(registry);
  context.loadAllAvailableDialects();
  // aten ops become ops of torch-mlir's `torch` dialect, which is not linked.
  context.allowUnregisteredDialects(true);
  DiagnosticForwarder forwarder(context, diagnostics);
  mlir::OwningOpRef<mlir::ModuleOp> module =
      mlir::ModuleOp::create(mlir::UnknownLoc::get(&context));
  if (!exportToModule(graph, *module) || failed(mlir::verify(*module)))
    return false;
  mlir::OpPrintingFlags flags;
  if (options.printDebugInfo)
    flags.enableDebugInfo(true, false);
  module->print(os, flags);
  return true;
}

} // namespace qfx
