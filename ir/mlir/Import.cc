//===- ir/mlir/Import.cc - MLIR func.func -> qfx Graph --------------------===//
//
// Builds a qfx graph from the body of a func.func, and importMlir() of
// ir/mlir/Bridge.h (parse MLIR text, import every function). What each
// construct becomes is documented in Import.h; the reasons for the less
// obvious choices are at the decisions below. The guiding rule: whatever
// qfx's IR cannot hold is kept in reserved node attributes, checked at import
// time to rebuild exactly what was read, so that a graph exported without
// changes gives back the same function.
//
//===----------------------------------------------------------------------===//
#include "ir/mlir/Import.h"

#include "ir/mlir/Bridge.h"
#include "ir/mlir/Conversion.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/OperationSupport.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Transforms/RegionUtils.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

#include <deque>

namespace qfx {
namespace {

class Importer {
public:
  explicit Importer(mlir::func::FuncOp func) : func_(func) {}
  std::unique_ptr<Graph> run();

private:
  /// Imports `op` as a parameter when it is a constant qfx can hold exactly;
  /// false when it is not one (it then becomes a node).
  bool importConstant(mlir::Operation *op);
  mlir::LogicalResult importOp(mlir::Operation *op);
  mlir::LogicalResult importOpWithRegions(mlir::Operation *op);
  /// Looks up the node operand of an MLIR value.
  Value *valueOf(mlir::Value value) const { return values_.lookup(value); }
  void setLocation(Node *node, mlir::Location location, AttributeDict &reserved);
  /// Appends `node`, handing it the constants read since the previous node.
  void append(Node *node, AttributeDict &reserved);
  std::string uniqueParameterName(llvm::StringRef wanted);
  /// `<prefix>.weight` / `<prefix>.bias` when `constant` is the weight or
  /// bias of a weighted op (the first in the block), else "".
  std::string stateName(mlir::Value constant) const;

  mlir::func::FuncOp func_;
  std::unique_ptr<Graph> graph_;
  llvm::DenseMap<mlir::Value, Value *> values_;
  /// {name, op, loc[, attrs]} of the constants since the last node.
  AttributeList pendingConstants_;
  Node *lastNode_ = nullptr;
  unsigned nextConstant_ = 0;
  /// The module-like name of each weighted op, for naming its state.
  llvm::DenseMap<mlir::Operation *, std::string> statePrefixes_;
};

std::unique_ptr<Graph> Importer::run() {
  mlir::Region &body = func_.getBody();
  if (!body.hasOneBlock()) {
    func_.emitError("qfx imports functions of one block; '@")
        << func_.getSymName() << "' has " << body.getBlocks().size()
        << " (control flow between blocks is not supported)";
    return nullptr;
  }
  mlir::Block &block = body.front();
  auto ret = llvm::dyn_cast<mlir::func::ReturnOp>(block.getTerminator());
  if (!ret) {
    block.getTerminator()->emitError("qfx imports functions that end in 'func.return', not '")
        << block.getTerminator()->getName() << "'";
    return nullptr;
  }

  graph_ = std::make_unique<Graph>(func_.getSymName());
  for (mlir::BlockArgument argument : block.getArguments()) {
    // An argument type qfx cannot spell becomes `any`: the function keeps its
    // arguments when exported back (exportIntoFunction), so nothing is lost.
    Type type = importType(argument.getType()).value_or(Type::any());
    values_[argument] =
        graph_->addInput("arg" + std::to_string(argument.getArgNumber()), std::move(type));
  }

  // Weighted ops get a module-like name for their state: their NameLoc's
  // name, else <op type><N> (conv2d0, linear0, ...).
  llvm::StringMap<unsigned> opTypeCounts;
  for (mlir::Operation &op : block.without_terminator()) {
    const OpInfo *info = lookupOp(qfxOpName(op.getName().getStringRef()));
    if (!info->has(optrait::Weighted))
      continue;
    std::string prefix = importLocation(op.getLoc()).modulePath;
    if (prefix.empty())
      prefix = info->opType.str() + std::to_string(opTypeCounts[info->opType]++);
    statePrefixes_[&op] = prefix;
  }

  // Imported constants are remembered by the node that follows them. In a
  // function of nothing but constants there is no such node, so there they
  // stay ops (nodes) to come back as they were.
  bool onlyConstants = llvm::all_of(block.without_terminator(), [](mlir::Operation &op) {
    return llvm::isa<mlir::arith::ConstantOp>(op) || op.getName().getStringRef() == "tosa.const";
  });
  for (mlir::Operation &op : block.without_terminator()) {
    if (!onlyConstants && importConstant(&op))
      continue;
    mlir::LogicalResult imported =
        op.getNumRegions() != 0 ? importOpWithRegions(&op) : importOp(&op);
    if (failed(imported))
      return nullptr;
  }
  // Constants after the last op are emitted after it again.
  if (!pendingConstants_.empty() && lastNode_)
    lastNode_->setAttribute(mlirattr::kAfter, Attribute::list(std::move(pendingConstants_)));

  for (mlir::Value result : ret.getOperands())
    graph_->addOutput(valueOf(result));
  return std::move(graph_);
}

std::string Importer::stateName(mlir::Value constant) const {
  mlir::Operation *user = nullptr;
  llvm::StringRef role;
  // A weight may reach its op through the fake-quant an earlier qfx pass
  // put on it.
  llvm::SmallVector<mlir::OpOperand *, 4> uses;
  for (mlir::OpOperand &use : constant.getUses()) {
    if (use.getOwner()->getName().getStringRef() == "qfx.fake_quant")
      for (mlir::OpOperand &next : use.getOwner()->getResult(0).getUses())
        uses.push_back(&next);
    else
      uses.push_back(&use);
  }
  for (mlir::OpOperand *usePointer : uses) {
    mlir::OpOperand &use = *usePointer;
    mlir::Operation *owner = use.getOwner();
    auto prefix = statePrefixes_.find(owner);
    if (prefix == statePrefixes_.end() || (user && user->isBeforeInBlock(owner)))
      continue;
    const OpInfo *info = lookupOp(qfxOpName(owner->getName().getStringRef()));
    if (static_cast<int>(use.getOperandNumber()) == info->weightOperand)
      role = "weight";
    else if (static_cast<int>(use.getOperandNumber()) == info->biasOperand)
      role = "bias";
    else
      continue;
    user = owner;
  }
  if (!user)
    return "";
  return statePrefixes_.lookup(user) + "." + role.str();
}

std::string Importer::uniqueParameterName(llvm::StringRef wanted) {
  if (wanted.empty()) {
    std::string name;
    do
      name = "const" + std::to_string(nextConstant_++);
    while (graph_->parameter(name));
    return name;
  }
  std::string name = wanted.str();
  for (unsigned suffix = 1; graph_->parameter(name); ++suffix)
    name = wanted.str() + "_" + std::to_string(suffix);
  return name;
}

bool Importer::importConstant(mlir::Operation *op) {
  llvm::StringRef opName = op->getName().getStringRef();
  if ((opName != "arith.constant" && opName != "tosa.const") || op->getNumOperands() != 0 ||
      op->getNumResults() != 1 || op->getNumRegions() != 0)
    return false;
  auto value = op->getAttrOfType<mlir::DenseElementsAttr>("value");
  auto type = op->getResult(0).getType().dyn_cast<mlir::RankedTensorType>();
  if (!value || !type || value.getType() != type || !type.hasStaticShape())
    return false;
  std::optional<Type> qfxType = importType(type);
  std::optional<TensorData> data = importTensorData(value);
  if (!qfxType || !data)
    return false;
  // Only what comes back bit for bit becomes a parameter; anything else (a
  // dense_resource, a string tensor) stays an op.
  std::string error;
  if (exportTensorData(*data, type, error) != value)
    return false;

  // The name: an explicit qfx.name; else, for the weight or bias of a
  // weighted op, `<module>.weight` / `<module>.bias` as TorchScript names
  // module state -- quantization configs address weights by that local name
  // (op_state_spec `weight`); else the name of a NameLoc (how TFLite and our
  // exporter name constants); else const<N>.
  std::string wanted;
  if (auto name = op->getAttrOfType<mlir::StringAttr>(kNameAttrName))
    wanted = name.getValue().str();
  else if (std::string role = stateName(op->getResult(0)); !role.empty())
    wanted = role;
  else if (auto location = op->getLoc().dyn_cast<mlir::NameLoc>())
    wanted = location.getName().getValue().str();
  std::string name = uniqueParameterName(wanted);
  Value *parameter = graph_->addParameter(name, *qfxType);
  parameter->setData(std::make_shared<TensorData>(std::move(*data)));
  values_[op->getResult(0)] = parameter;

  // Where it was, what op it was, its location and other attributes: a
  // parameter has no attributes of its own, so the next node keeps them.
  AttributeDict entry;
  entry.emplace_back("name", Attribute::string(name));
  entry.emplace_back("op", Attribute::string(opName.str()));
  entry.emplace_back("loc", Attribute::string(toText(mlir::LocationAttr(op->getLoc()))));
  llvm::SmallVector<mlir::NamedAttribute, 2> others;
  for (mlir::NamedAttribute attribute : op->getAttrs())
    if (attribute.getName() != "value")
      others.push_back(attribute);
  if (!others.empty())
    entry.emplace_back(
        "attrs", Attribute::string(toText(mlir::DictionaryAttr::get(op->getContext(), others))));
  pendingConstants_.push_back(Attribute::dict(std::move(entry)));
  return true;
}

void Importer::setLocation(Node *node, mlir::Location location, AttributeDict &reserved) {
  ImportedLocation imported = importLocation(location);
  if (imported.line != 0)
    node->setSourceLocation(graph_->intern(imported.file), imported.line, imported.column);
  if (!imported.modulePath.empty())
    node->setModule(graph_->intern(imported.modulePath), node->source().moduleType);
  if (imported.text)
    reserved.emplace_back(mlirattr::kLoc, Attribute::string(*imported.text));
  // Diagnostics of qfx passes about this node point at the op in the MLIR
  // file, so `qfx-mlir-opt --verify-diagnostics` can check them.
  node->setTextLocation(diagnosticLocation(location, *graph_));
}

void Importer::append(Node *node, AttributeDict &reserved) {
  if (!pendingConstants_.empty())
    reserved.emplace_back(mlirattr::kBefore, Attribute::list(std::move(pendingConstants_)));
  pendingConstants_.clear();
  AttributeDict attributes = node->attributes();
  for (NamedAttribute &entry : reserved)
    attributes.push_back(std::move(entry));
  node->setAttributes(std::move(attributes));
  graph_->append(node);
  lastNode_ = node;
}

mlir::LogicalResult Importer::importOp(mlir::Operation *op) {
  llvm::StringRef opName = op->getName().getStringRef();
  if (op->getNumSuccessors() != 0)
    return op->emitError("qfx cannot import '")
           << opName << "': ops with successors are not supported";

  // Weighted ops (tosa.conv2d, tosa.fully_connected, ...) get their weights
  // quantized per channel: that needs their shape.
  const OpInfo *info = lookupOp(qfxOpName(opName));
  if (info->has(optrait::Weighted))
    for (int index : {static_cast<int>(info->weightOperand), static_cast<int>(info->biasOperand)}) {
      if (index < 0 || index >= static_cast<int>(op->getNumOperands()))
        continue;
      mlir::Type type = op->getOperand(index).getType();
      auto ranked = type.dyn_cast<mlir::RankedTensorType>();
      if (!ranked || !ranked.hasStaticShape())
        return op->emitError("'") << opName << "' needs a static shape for its "
                                  << (index == info->weightOperand ? "weight" : "bias")
                                  << " (operand " << index << ") to be quantized, found " << type;
    }

  llvm::SmallVector<Value *, 4> operands;
  for (mlir::Value operand : op->getOperands())
    operands.push_back(valueOf(operand));
  llvm::SmallVector<Type, 2> resultTypes;
  AttributeList resultTypeTexts;
  bool anyTypeText = false;
  for (mlir::Type type : op->getResultTypes()) {
    std::optional<Type> converted = importType(type);
    resultTypes.push_back(converted.value_or(Type::any()));
    resultTypeTexts.push_back(Attribute::string(converted ? "" : toText(type)));
    anyTypeText |= !converted;
  }
  std::string qfxName = qfxOpName(opName);
  Node *node = graph_->createNode(qfxName, operands, resultTypes);
  for (unsigned i = 0; i < op->getNumResults(); ++i)
    values_[op->getResult(i)] = node->result(i);

  AttributeDict attributes;
  AttributeDict kinds;
  AttributeDict texts;
  for (mlir::NamedAttribute attribute : op->getAttrs()) {
    llvm::StringRef name = attribute.getName().getValue();
    if (mlirattr::isReserved(name))
      return op->emitError("attribute name '") << name << "' is reserved by qfx's MLIR importer";
    if (name == kAnnotationAttrName) {
      std::optional<Attribute> value = importAttribute(attribute.getValue());
      llvm::Expected<QuantAnnotation> annotation =
          value ? annotationFromAttribute(*value)
                : llvm::createStringError(llvm::inconvertibleErrorCode(),
                                          "it holds attributes qfx cannot read");
      if (!annotation)
        return op->emitError("malformed '")
               << kAnnotationAttrName << "': " << llvm::toString(annotation.takeError());
      node->getOrCreateQuant() = std::move(*annotation);
      continue;
    }
    if (name == kModuleTypeAttrName) {
      if (auto moduleType = attribute.getValue().dyn_cast<mlir::StringAttr>()) {
        node->setModule(node->source().modulePath, graph_->intern(moduleType.getValue()));
        continue;
      }
    }
    ImportedAttribute imported = importAttributeExactly(attribute.getValue());
    // Record the kind only when the exporter's own choice (the op's schema
    // kind) would not rebuild the attribute; an explicit "" overrides it.
    std::string why;
    if (imported.text)
      texts.emplace_back(name.str(), Attribute::string(*imported.text));
    else if (exportAttribute(imported.value, schemaKind(qfxName, name), op->getContext(), why) !=
             attribute.getValue())
      kinds.emplace_back(name.str(), Attribute::string(imported.kind));
    attributes.emplace_back(name.str(), std::move(imported.value));
  }
  // After qfx.module_type: setLocation adds the NameLoc's module path to it.
  AttributeDict reserved;
  setLocation(node, op->getLoc(), reserved);
  if (!kinds.empty())
    reserved.emplace_back(mlirattr::kKinds, Attribute::dict(std::move(kinds)));
  if (!texts.empty())
    reserved.emplace_back(mlirattr::kTexts, Attribute::dict(std::move(texts)));
  if (anyTypeText)
    reserved.emplace_back(mlirattr::kResultTypes, Attribute::list(std::move(resultTypeTexts)));
  node->setAttributes(std::move(attributes));
  append(node, reserved);
  return mlir::success();
}

mlir::LogicalResult Importer::importOpWithRegions(mlir::Operation *op) {
  if (op->getNumSuccessors() != 0)
    return op->emitError("qfx cannot import '")
           << op->getName() << "': ops with successors are not supported";
  // Regions may use values defined outside the op. They become operands of
  // the node after the op's own, so liveness (dce) and rewrites
  // (replace-all-uses) see them.
  llvm::SetVector<mlir::Value> captured;
  mlir::getUsedValuesDefinedAbove(op->getRegions(), captured);
  llvm::SmallVector<mlir::Value, 8> inputs(op->getOperands().begin(), op->getOperands().end());
  inputs.append(captured.begin(), captured.end());

  // The op is kept as text: a detached function whose arguments stand for
  // the node's operands, holding a clone of the op. Printing the function
  // (generic form, with locations) rather than the op alone keeps the
  // location aliases resolvable.
  mlir::MLIRContext *context = op->getContext();
  llvm::SmallVector<mlir::Type, 8> inputTypes;
  for (mlir::Value input : inputs)
    inputTypes.push_back(input.getType());
  mlir::OpBuilder builder(context);
  auto wrapper = builder.create<mlir::func::FuncOp>(op->getLoc(), "qfx_opaque",
                                                    builder.getFunctionType(inputTypes, {}));
  mlir::Block *entry = wrapper.addEntryBlock();
  mlir::IRMapping mapping;
  for (auto [input, argument] : llvm::zip(inputs, entry->getArguments()))
    mapping.map(input, argument);
  builder.setInsertionPointToEnd(entry);
  builder.clone(*op, mapping);
  std::string text;
  llvm::raw_string_ostream os(text);
  wrapper->print(os, mlir::OpPrintingFlags().printGenericOpForm().enableDebugInfo(true, false));
  wrapper->erase();

  llvm::SmallVector<Value *, 8> operands;
  for (mlir::Value input : inputs)
    operands.push_back(valueOf(input));
  llvm::SmallVector<Type, 2> resultTypes;
  for (mlir::Type type : op->getResultTypes())
    resultTypes.push_back(importType(type).value_or(Type::any()));
  Node *node = graph_->createNode(op->getName().getStringRef(), operands, resultTypes);
  for (unsigned i = 0; i < op->getNumResults(); ++i)
    values_[op->getResult(i)] = node->result(i);
  ImportedLocation location = importLocation(op->getLoc());
  if (location.line != 0)
    node->setSourceLocation(graph_->intern(location.file), location.line, location.column);
  node->setTextLocation(diagnosticLocation(op->getLoc(), *graph_));
  AttributeDict reserved;
  reserved.emplace_back(mlirattr::kOpaque, Attribute::string(os.str()));
  append(node, reserved);
  return mlir::success();
}

} // namespace

std::unique_ptr<Graph> importFunction(mlir::func::FuncOp func) { return Importer(func).run(); }

//===----------------------------------------------------------------------===//
// importMlir
//===----------------------------------------------------------------------===//

std::vector<std::unique_ptr<Graph>> importMlir(llvm::StringRef text, llvm::StringRef bufferName,
                                               DiagnosticEngine &diagnostics,
                                               const MlirImportOptions &options) {
  mlir::DialectRegistry registry;
  registerQfxDialects(registry);
  mlir::MLIRContext context(registry);
  context.allowUnregisteredDialects(options.allowUnregisteredDialects);
  DiagnosticForwarder forwarder(context, diagnostics);

  llvm::SourceMgr sourceMgr;
  sourceMgr.AddNewSourceBuffer(llvm::MemoryBuffer::getMemBufferCopy(text, bufferName),
                               llvm::SMLoc());
  mlir::ParserConfig config(&context);
  mlir::OwningOpRef<mlir::ModuleOp> module =
      mlir::parseSourceFile<mlir::ModuleOp>(sourceMgr, config);
  if (!module)
    return {};
  std::vector<std::unique_ptr<Graph>> graphs;
  for (mlir::func::FuncOp func : module->getOps<mlir::func::FuncOp>()) {
    if (func.isExternal())
      continue;
    std::unique_ptr<Graph> graph = importFunction(func);
    if (!graph)
      return {};
    graphs.push_back(std::move(graph));
  }
  return graphs;
}

} // namespace qfx
