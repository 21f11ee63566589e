//===- ir/torchscript/Export.cc - qfx graph -> TorchScript module ---------===//
//
// Builds a torch::jit::Module whose `forward` computes a qfx Graph and saves
// it as a `.pt` file. Parameters and buffers are registered in nested
// submodules named after the segments of their qualified names, so the
// saved module's named_parameters() gives the qfx names back and a
// re-import reads the same names. Every node becomes one TorchScript node:
// the op's schema (looked up by name among its overloads, matched by
// argument names, operand count and types) says where each operand goes and
// which attributes become prim::Constant inputs; arguments given neither
// take their default. qfx's own ops become the `qfx::` custom ops, whose
// schemas the runtime's custom-op library registers. The file is written to
// a temporary name and renamed, so a failure never leaves a partial output.
//
//===----------------------------------------------------------------------===//
#include "ir/torchscript/TorchScript.h"
#include "ir/torchscript/TorchScriptSupport.h"

#include "ir/Graph.h"
#include "passes/quant/QuantSupport.h"
#include "runtime/spec/QuantTypes.h"
#include "runtime/spec/QuantizationSpec.h"

#include <ATen/ATen.h>
#include <torch/csrc/jit/api/module.h>
#include <torch/csrc/jit/ir/constants.h>
#include <torch/csrc/jit/ir/ir.h>
#include <torch/csrc/jit/runtime/operator.h>

#include "llvm/ADT/SmallString.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/DynamicLibrary.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Process.h"

#include <cstring>
#include <map>
#include <type_traits>
#include <unordered_map>

namespace qfx {

using namespace torchscript;

namespace {

namespace tj = torch::jit;

/// Element types of quantized weight codes (the 8-bit integers and the
/// float8/float4 formats, stored as bytes).
bool isCodeDType(DType dtype) {
  switch (dtype) {
  case DType::I8:
  case DType::U8:
  case DType::F8E4M3FN:
  case DType::F8E5M2:
  case DType::F8E8M0FNU:
  case DType::F4E2M1FN:
    return true;
  default:
    return false;
  }
}

/// `name` with every character other than [A-Za-z0-9_] replaced by `_`,
/// never empty and never starting with a digit when `identifier` is set.
std::string sanitize(llvm::StringRef name, bool identifier) {
  std::string result;
  for (char c : name)
    result += llvm::isAlnum(c) || c == '_' ? c : '_';
  if (result.empty() || (identifier && llvm::isDigit(result[0])))
    result = "_" + result;
  return result;
}

/// A TorchScript debug name for a qfx value name: an identifier, keeping a
/// numeric `.N` suffix (`input.1`), which TorchScript itself uses for
/// versions of a name; the printed code turns other dots into syntax.
std::string debugName(llvm::StringRef name) {
  auto [base, suffix] = name.rsplit('.');
  if (!suffix.empty() && suffix != name && llvm::all_of(suffix, llvm::isDigit))
    return sanitize(base, true) + "." + suffix.str();
  return sanitize(name, true);
}

bool isTensorList(const c10::TypePtr &type) {
  if (auto list = type->cast<c10::ListType>())
    return list->getElementType()->kind() == c10::TypeKind::TensorType;
  return false;
}

/// An attribute as the IValue an argument of type `type` takes, with a cost:
/// 0 for an exact kind, more for conversions a hand-written graph may need
/// (an int for a float, a list for a Tensor argument). nullopt when the
/// attribute cannot be passed there.
std::optional<std::pair<c10::IValue, int>>
toArgument(const Attribute &attribute, const c10::TypePtr &type, c10::optional<int32_t> length) {
  using Result = std::pair<c10::IValue, int>;
  if (auto optional = type->cast<c10::OptionalType>()) {
    if (attribute.isNone())
      return Result(c10::IValue(), 0);
    return toArgument(attribute, optional->getElementType(), length);
  }
  c10::TypeKind kind = type->kind();
  if (attribute.isNone()) {
    if (kind == c10::TypeKind::NoneType || kind == c10::TypeKind::AnyType)
      return Result(c10::IValue(), 0);
    return std::nullopt;
  }
  switch (kind) {
  case c10::TypeKind::IntType:
  case c10::TypeKind::SymIntType:
    if (attribute.isInt())
      return Result(attribute.getInt(), 0);
    // ScalarType arguments are ints; lower-to-qdq writes them by name.
    if (attribute.isString())
      if (std::optional<c10::ScalarType> scalar = parseScalarTypeName(attribute.getString()))
        return Result(static_cast<int64_t>(*scalar), 0);
    return std::nullopt;
  case c10::TypeKind::FloatType:
    if (attribute.isFloat())
      return Result(attribute.getFloat(), 0);
    if (attribute.isInt())
      return Result(static_cast<double>(attribute.getInt()), 1);
    return std::nullopt;
  case c10::TypeKind::NumberType:
    if (attribute.isInt())
      return Result(attribute.getInt(), 0);
    if (attribute.isFloat())
      return Result(attribute.getFloat(), 0);
    if (attribute.isBool())
      return Result(attribute.getBool(), 0);
    return std::nullopt;
  case c10::TypeKind::BoolType:
    if (attribute.isBool())
      return Result(attribute.getBool(), 0);
    return std::nullopt;
  case c10::TypeKind::StringType:
    if (attribute.isString())
      return Result(attribute.getString(), 0);
    return std::nullopt;
  case c10::TypeKind::DeviceObjType:
    if (attribute.isString()) {
      try {
        return Result(c10::Device(attribute.getString()), 0);
      } catch (const std::exception &) {
        return std::nullopt;
      }
    }
    return std::nullopt;
  case c10::TypeKind::ListType: {
    c10::TypePtr element = type->expectRef<c10::ListType>().getElementType();
    AttributeList items;
    int cost = 0;
    if (attribute.isList()) {
      items = attribute.getList();
    } else if (attribute.isInt() && length && element->kind() == c10::TypeKind::IntType) {
      // `int[2] stride` also takes one int, as in TorchScript source.
      items.assign(static_cast<size_t>(*length), attribute);
      cost = 1;
    } else {
      return std::nullopt;
    }
    c10::impl::GenericList list(element);
    for (const Attribute &item : items) {
      std::optional<Result> converted = toArgument(item, element, c10::nullopt);
      if (!converted)
        return std::nullopt;
      list.push_back(std::move(converted->first));
      cost += converted->second;
    }
    return Result(c10::IValue(std::move(list)), cost);
  }
  case c10::TypeKind::TensorType: {
    // Qparams written as numbers where the op takes tensors
    // (aten::quantize_per_channel's scales): a constant tensor, but only as
    // the last resort when choosing among overloads.
    if (std::optional<std::vector<int64_t>> ints = attribute.asIntList())
      return Result(at::tensor(*ints, at::kLong), 10);
    if (attribute.isInt())
      return Result(at::scalar_tensor(attribute.getInt(), at::kLong), 10);
    if (std::optional<double> number = attribute.asNumber())
      return Result(at::scalar_tensor(*number, at::kDouble), 10);
    if (attribute.isList()) {
      std::vector<double> values;
      for (const Attribute &item : attribute.getList()) {
        std::optional<double> number = item.asNumber();
        if (!number)
          return std::nullopt;
        values.push_back(*number);
      }
      return Result(at::tensor(values, at::kDouble), 10);
    }
    return std::nullopt;
  }
  case c10::TypeKind::AnyType:
    if (attribute.isInt())
      return Result(attribute.getInt(), 0);
    if (attribute.isFloat())
      return Result(attribute.getFloat(), 0);
    if (attribute.isBool())
      return Result(attribute.getBool(), 0);
    if (attribute.isString())
      return Result(attribute.getString(), 0);
    return std::nullopt;
  default:
    return std::nullopt;
  }
}

/// An attribute as a constant of the qfx type `type` (prim::Constant nodes).
std::optional<c10::IValue> toConstant(const Attribute &attribute, const Type &type) {
  c10::TypePtr torchType = toTorchType(type);
  if (type.kind() == Type::Kind::Any) {
    // Lists of unknown element type: take the elements' own kind.
    if (std::optional<std::vector<int64_t>> ints = attribute.asIntList())
      torchType = c10::ListType::ofInts();
    else if (attribute.isList() && !attribute.getList().empty() &&
             attribute.getList().front().isFloat())
      torchType = c10::ListType::ofFloats();
  }
  std::optional<std::pair<c10::IValue, int>> value = toArgument(attribute, torchType, c10::nullopt);
  if (!value)
    return std::nullopt;
  return value->first;
}

/// Where one schema argument's value comes from.
struct ArgumentSource {
  enum Kind { Operand, OperandList, Attribute, Default, None } kind = None;
  size_t operand = 0;
  c10::IValue constant;
};

struct Match {
  const c10::FunctionSchema *schema = nullptr;
  std::vector<ArgumentSource> sources;
  int cost = 0;
};

class Exporter {
public:
  Exporter(const Graph &graph, const TorchScriptExportOptions &options)
      : graph_(graph), options_(options) {}

  llvm::Expected<std::unique_ptr<tj::Module>> run();

private:
  llvm::Error registerState();
  tj::Module &submodule(tj::Module &parent, const std::string &path, const std::string &name);
  llvm::Expected<tj::Value *> valueFor(const Value *value, const Node *user);
  llvm::Error emitNode(const Node &node);
  llvm::Error emitGenericNode(const Node &node, c10::Symbol symbol);
  llvm::Error emitQuantNode(const Node &node, c10::Symbol symbol);
  llvm::Error emitSchemaNode(const Node &node, c10::Symbol symbol,
                             const std::vector<std::shared_ptr<tj::Operator>> &operators);
  std::optional<Match> match(const Node &node, const c10::FunctionSchema &schema,
                             const llvm::StringSet<> &argumentNames,
                             const std::vector<tj::Value *> &operands) const;
  void setResultTypes(const Node &node, tj::Node *emitted, const c10::FunctionSchema *schema);
  llvm::Error nodeError(const Node &node, const llvm::Twine &message) const {
    return makeError("cannot export " + node.describe() + ": " + message);
  }

  const Graph &graph_;
  const TorchScriptExportOptions &options_;
  std::shared_ptr<tj::CompilationUnit> unit_ = std::make_shared<tj::CompilationUnit>();
  std::string classPrefix_;
  llvm::StringSet<> classNames_;
  std::unique_ptr<tj::Module> root_;
  /// Submodules by their path from the root (`layer1.0`).
  std::map<std::string, tj::Module> modules_;
  /// Attribute path of each parameter from the root.
  std::unordered_map<const Value *, std::vector<std::string>> statePaths_;
  /// prim::GetAttr results by joined path, emitted once at first use.
  std::map<std::string, tj::Value *> attributeReads_;
  std::shared_ptr<tj::Graph> tsGraph_ = std::make_shared<tj::Graph>();
  tj::Value *self_ = nullptr;
  std::unordered_map<const Value *, tj::Value *> values_;
  /// The scalar constants quantize / dequantize nodes take (None, quant
  /// range, format, out dtype), emitted once and shared: a lowered model
  /// repeats the same few (the graph is straight-line, so the first
  /// definition dominates every later use).
  std::map<std::string, tj::Value *> sharedConstants_;
  tj::Value *sharedConstant(const c10::IValue &value);
  /// A qparam tensor constant of `shape` (float32 or int32 `values`),
  /// emitted once per distinct content, as TorchScript's constant pooling
  /// would: a quantize and its dequantize carry the same qparams and most
  /// zero points are the same zeros, so a lowered resnet50 needs about half
  /// the tensor constants it has nodes. Built at its shape in one step
  /// (at::tensor + reshape was a fifth of export).
  template <typename T>
  tj::Value *qparamConstant(llvm::ArrayRef<T> values, llvm::ArrayRef<int64_t> shape);
  std::unordered_map<std::string, tj::Value *> qparamConstants_;
};

tj::Value *Exporter::sharedConstant(const c10::IValue &value) {
  std::string key = value.isNone()     ? std::string("n")
                    : value.isInt()    ? "i" + std::to_string(value.toInt())
                    : value.isString() ? "s" + value.toStringRef()
                                       : std::string();
  if (key.empty())
    return tsGraph_->insertConstant(value);
  tj::Value *&constant = sharedConstants_[key];
  if (!constant)
    constant = tsGraph_->insertConstant(value);
  return constant;
}

template <typename T>
tj::Value *Exporter::qparamConstant(llvm::ArrayRef<T> values, llvm::ArrayRef<int64_t> shape) {
  static_assert(std::is_same_v<T, float> || std::is_same_v<T, int32_t>);
  std::string key(std::is_same_v<T, float> ? "f" : "i");
  key.append(reinterpret_cast<const char *>(shape.data()), shape.size() * sizeof(int64_t));
  key += '|';
  key.append(reinterpret_cast<const char *>(values.data()), values.size() * sizeof(T));
  tj::Value *&constant = qparamConstants_[key];
  if (!constant) {
    at::Tensor tensor =
        at::empty(at::IntArrayRef(shape.data(), shape.size()),
                  at::TensorOptions().dtype(std::is_same_v<T, float> ? at::kFloat : at::kInt));
    if (!values.empty())
      std::memcpy(tensor.data_ptr(), values.data(), values.size() * sizeof(T));
    constant = tsGraph_->insertConstant(tensor);
  }
  return constant;
}

tj::Module &Exporter::submodule(tj::Module &parent, const std::string &path,
                                const std::string &name) {
  auto found = modules_.find(path);
  if (found != modules_.end())
    return found->second;
  std::string className = sanitize(classPrefix_ + "_" + path, true);
  for (unsigned i = 1; !classNames_.insert(className).second; ++i)
    className = sanitize(classPrefix_ + "_" + path, true) + "_" + std::to_string(i);
  tj::Module module(c10::QualifiedName("__torch__.qfx." + className), unit_);
  module.register_attribute("training", c10::BoolType::get(), false);
  parent.register_module(name, module);
  return modules_.emplace(path, module).first->second;
}

// Nested submodules keep qualified names recoverable: the saved module's
// named_parameters() yields `layer1.0.conv1.weight` again. A name that
// clashes with a submodule of the same path (`a` as a tensor and `a.b`) or
// that has odd characters falls back to a flattened, sanitized attribute of
// the root.
llvm::Error Exporter::registerState() {
  for (const Value *parameter : graph_.parameters()) {
    std::string name = parameter->name().str();
    if (!parameter->data())
      return makeError("cannot export parameter '" + name +
                       "': it has no data (graphs read from IR text carry none; take the "
                       "parameters from a module)");
    // Quantized weight codes (most of a lowered model's bytes) are shared
    // with the graph, not copied: they are buffers no forward or optimizer
    // writes to. Float parameters and buffers (trained in place, batch-norm
    // statistics) and wider integers (num_batches_tracked) are copied, so
    // the module never writes into the graph's data.
    llvm::Expected<at::Tensor> tensor =
        parameter->isBuffer() && isCodeDType(parameter->data()->dtype)
            ? shareTensor(parameter->data(), "parameter '" + name + "'")
            : toTensor(*parameter->data(), "parameter '" + name + "'");
    if (!tensor)
      return tensor.takeError();
    if (!parameter->isBuffer() && tensor->is_floating_point())
      tensor->set_requires_grad(true); // as nn.Parameter

    llvm::SmallVector<llvm::StringRef, 6> segments;
    llvm::StringRef(name).split(segments, '.');
    bool nested = llvm::all_of(segments, [](llvm::StringRef segment) {
      return !segment.empty() && sanitize(segment, false) == segment;
    });
    tj::Module *owner = root_.get();
    std::string path;
    for (size_t i = 0; nested && i + 1 < segments.size(); ++i) {
      std::string segment = segments[i].str();
      std::string childPath = path.empty() ? segment : path + "." + segment;
      if (!modules_.count(childPath) && owner->type()->hasAttribute(segment))
        nested = false;
      else
        owner = &submodule(*owner, childPath, segment);
      path = childPath;
    }
    std::string leaf = segments.back().str();
    if (nested && owner->type()->hasAttribute(leaf))
      nested = false;
    std::vector<std::string> access;
    if (nested) {
      access.assign(segments.begin(), segments.end());
    } else {
      owner = root_.get();
      leaf = sanitize(name, true);
      for (unsigned i = 1; owner->type()->hasAttribute(leaf); ++i)
        leaf = sanitize(name, true) + "_" + std::to_string(i);
      access = {leaf};
    }
    if (parameter->isBuffer())
      owner->register_buffer(leaf, *tensor);
    else
      owner->register_parameter(leaf, *tensor, /*is_buffer=*/false);
    statePaths_[parameter] = std::move(access);
  }
  return llvm::Error::success();
}

llvm::Expected<tj::Value *> Exporter::valueFor(const Value *value, const Node *user) {
  auto found = values_.find(value);
  if (found != values_.end())
    return found->second;
  auto path = statePaths_.find(value);
  if (path == statePaths_.end()) {
    std::string what = "value '%" + value->name().str() + "'";
    return user ? nodeError(*user, what + " is used before it is defined")
                : makeError("cannot export: graph output " + what + " is not defined");
  }
  tj::Value *current = self_;
  std::string joined;
  for (const std::string &segment : path->second) {
    joined += (joined.empty() ? "" : ".") + segment;
    tj::Value *&read = attributeReads_[joined];
    if (!read)
      read = tsGraph_->insertGetAttr(current, segment);
    current = read;
  }
  values_[value] = current;
  return current;
}

void Exporter::setResultTypes(const Node &node, tj::Node *emitted,
                              const c10::FunctionSchema *schema) {
  for (unsigned i = 0; i < node.numResults(); ++i) {
    c10::TypePtr type = schema ? schema->returns()[i].type() : nullptr;
    if (!type || type->hasFreeVariables())
      type = toTorchType(node.result(i)->type());
    emitted->output(i)->setType(type);
    llvm::StringRef name = node.result(i)->name();
    // Debug names only help a reader of the saved code; numbers would clash
    // with TorchScript's own numbering, so those stay unnamed.
    if (!name.empty() && !llvm::isDigit(name[0]))
      emitted->output(i)->setDebugName(debugName(name));
    values_[node.result(i)] = emitted->output(i);
  }
}

llvm::Error Exporter::emitGenericNode(const Node &node, c10::Symbol symbol) {
  std::vector<tj::Value *> inputs;
  for (const Value *operand : node.operands()) {
    llvm::Expected<tj::Value *> input = valueFor(operand, &node);
    if (!input)
      return input.takeError();
    inputs.push_back(*input);
  }
  tj::Node *emitted = tsGraph_->create(symbol, inputs, node.numResults());
  for (const NamedAttribute &entry : node.attributes()) {
    c10::Symbol key = c10::Symbol::attr(entry.first);
    const Attribute &value = entry.second;
    if (value.isInt())
      emitted->i_(key, value.getInt());
    else if (value.isFloat())
      emitted->f_(key, value.getFloat());
    else if (value.isString())
      emitted->s_(key, value.getString());
    else if (std::optional<std::vector<int64_t>> ints = value.asIntList())
      emitted->is_(key, *ints);
    else
      return nodeError(node, "attribute '" + entry.first + "' has no TorchScript form on '" +
                                 node.opName() + "'");
  }
  tsGraph_->insertNode(emitted);
  setResultTypes(node, emitted, nullptr);
  return llvm::Error::success();
}

std::optional<Match> Exporter::match(const Node &node, const c10::FunctionSchema &schema,
                                     const llvm::StringSet<> &argumentNames,
                                     const std::vector<tj::Value *> &operands) const {
  const std::vector<c10::Argument> &arguments = schema.arguments();
  if (schema.is_vararg() || schema.is_varret() || schema.returns().size() != node.numResults())
    return std::nullopt;
  Match result;
  result.schema = &schema;
  result.sources.resize(arguments.size());
  std::vector<bool> given(arguments.size(), false);
  for (const NamedAttribute &entry : node.attributes()) {
    c10::optional<int> index = schema.argumentIndexWithName(entry.first.str());
    if (!index) {
      // Another overload's argument means another overload; a name no
      // overload has is metadata of a pass (e.g. `qat_schedule`).
      if (argumentNames.count(entry.first))
        return std::nullopt;
      continue;
    }
    std::optional<std::pair<c10::IValue, int>> value =
        toArgument(entry.second, arguments[*index].type(), arguments[*index].N());
    if (!value)
      return std::nullopt;
    result.sources[*index] = {ArgumentSource::Attribute, 0, std::move(value->first)};
    result.cost += value->second;
    given[*index] = true;
  }

  // Operands fill the arguments without attributes in order; a list of
  // tensors among those takes all the operands (aten::cat), unless the one
  // operand is itself a list.
  std::optional<size_t> listArgument;
  for (size_t i = 0; i < arguments.size() && !listArgument; ++i)
    if (!given[i] && isTensorList(arguments[i].type()))
      listArgument = i;
  bool flatten = listArgument &&
                 !(operands.size() == 1 && operands[0]->type()->kind() == c10::TypeKind::ListType);
  size_t next = 0;
  for (size_t i = 0; i < arguments.size(); ++i) {
    if (given[i])
      continue;
    const c10::Argument &argument = arguments[i];
    if (flatten && i == *listArgument) {
      for (tj::Value *operand : operands)
        if (operand->type()->kind() != c10::TypeKind::AnyType &&
            !operand->type()->isSubtypeOf(*c10::TensorType::get()))
          return std::nullopt;
      result.sources[i].kind = ArgumentSource::OperandList;
      next = operands.size();
    } else if (!flatten && next < operands.size()) {
      const c10::TypePtr &type = operands[next]->type();
      if (type->kind() != c10::TypeKind::AnyType && !argument.type()->hasFreeVariables() &&
          !type->isSubtypeOf(*argument.type()))
        return std::nullopt;
      result.sources[i] = {ArgumentSource::Operand, next++, c10::IValue()};
    } else if (argument.default_value()) {
      result.sources[i] = {ArgumentSource::Default, 0, *argument.default_value()};
    } else if (argument.type()->kind() == c10::TypeKind::OptionalType) {
      result.sources[i].kind = ArgumentSource::None; // an omitted `Tensor? bias`
      result.cost += 1;
    } else {
      return std::nullopt;
    }
  }
  if (next != operands.size())
    return std::nullopt;
  return result;
}

llvm::Error Exporter::emitSchemaNode(const Node &node, c10::Symbol symbol,
                                     const std::vector<std::shared_ptr<tj::Operator>> &operators) {
  std::vector<tj::Value *> operands;
  for (const Value *operand : node.operands()) {
    llvm::Expected<tj::Value *> input = valueFor(operand, &node);
    if (!input)
      return input.takeError();
    operands.push_back(*input);
  }
  llvm::StringSet<> argumentNames;
  for (const auto &op : operators)
    for (const c10::Argument &argument : op->schema().arguments())
      argumentNames.insert(argument.name());

  std::optional<Match> best;
  for (const auto &op : operators) {
    std::optional<Match> candidate = match(node, op->schema(), argumentNames, operands);
    if (candidate && (!best || candidate->cost < best->cost))
      best = std::move(candidate);
  }
  if (!best) {
    std::string overloads;
    for (const auto &op : operators)
      overloads += "\n  " + c10::toString(op->schema());
    return nodeError(node, "its operands and attributes match no overload of '" +
                               std::string(symbol.toQualString()) + "':" + overloads);
  }

  const std::vector<c10::Argument> &arguments = best->schema->arguments();
  std::vector<tj::Value *> inputs;
  for (size_t i = 0; i < arguments.size(); ++i) {
    ArgumentSource &source = best->sources[i];
    switch (source.kind) {
    case ArgumentSource::Operand:
      inputs.push_back(operands[source.operand]);
      break;
    case ArgumentSource::OperandList:
      inputs.push_back(
          tsGraph_->insertNode(tsGraph_->createList(c10::TensorType::get(), operands))->output());
      break;
    case ArgumentSource::Attribute:
    case ArgumentSource::Default:
    case ArgumentSource::None:
      inputs.push_back(tsGraph_->insertConstant(source.constant));
      break;
    }
  }
  tj::Node *emitted = tsGraph_->create(symbol, inputs, node.numResults());
  tsGraph_->insertNode(emitted);
  setResultTypes(node, emitted, best->schema);
  return llvm::Error::success();
}

/// The element format argument of the qfx:: custom ops for a dtype name.
std::string elementFormat(QuantDType dtype) {
  switch (dtype) {
  case QuantDType::Float8E4M3FN:
    return "float8_e4m3fn";
  case QuantDType::Float8E5M2:
    return "float8_e5m2";
  case QuantDType::Float4E2M1FNx2:
    return "float4_e2m1fn_x2";
  default:
    return "int";
  }
}

// qfx.quantize / qfx.dequantize carry their qparams as attributes (see
// passes/quant/LowerToQDQ.cc); qfx.fake_quant carries a spec and, once
// calibrated, `qparams`. All become the custom ops' flat arguments: qparam
// tensors of the qparam shape (float32 scale and minval, int32 zero point,
// as the interpreter builds them, so both compute the same bits), the
// integer range and the element format.
llvm::Error Exporter::emitQuantNode(const Node &node, c10::Symbol symbol) {
  if (node.numOperands() != 1 || node.numResults() != 1)
    return nodeError(node, "takes one operand and has one result");
  bool isFakeQuant = node.op().role == OpRole::FakeQuant;
  QuantDType dtype;
  double quantMin, quantMax;
  QParamValues qparams;
  std::vector<int64_t> shape;
  if (isFakeQuant) {
    const Attribute *specAttribute = node.attribute(fqattr::kSpec);
    const Attribute *qparamsAttribute = node.attribute(fqattr::kQParams);
    if (!specAttribute)
      return nodeError(node, "a fake-quant needs a 'spec' attribute");
    if (!qparamsAttribute)
      return nodeError(node, "it has no qparams yet: calibrate the graph (or lower it with "
                             "lower-to-qdq) before exporting");
    llvm::Expected<QuantizationSpec> spec = QuantizationSpec::fromAttribute(*specAttribute);
    if (!spec)
      return nodeError(node, "invalid spec: " + errorText(spec.takeError()));
    llvm::Expected<QParamValues> values = parseQParams(*qparamsAttribute);
    if (!values)
      return nodeError(node, "invalid qparams: " + errorText(values.takeError()));
    llvm::Expected<std::vector<int64_t>> qparamShape =
        qparamShapeOf(*spec, node.operand(0)->type());
    if (!qparamShape)
      return nodeError(node, errorText(qparamShape.takeError()));
    dtype = spec->dtype();
    quantMin = spec->quantMin();
    quantMax = spec->quantMax();
    qparams = std::move(*values);
    shape = std::move(*qparamShape);
  } else {
    const Attribute *dtypeAttribute = node.attribute("dtype");
    std::optional<QuantDType> parsed = dtypeAttribute && dtypeAttribute->isString()
                                           ? lookupQuantDType(dtypeAttribute->getString())
                                           : std::nullopt;
    if (!parsed)
      return nodeError(node, "needs a 'dtype' attribute naming a quantized dtype");
    dtype = *parsed;
    QuantRange range = quantRange(dtype, QScheme::Asymmetric);
    quantMin = range.min;
    quantMax = range.max;
    if (const Attribute *attribute = node.attribute("quant_min"))
      quantMin = attribute->asNumber().value_or(quantMin);
    if (const Attribute *attribute = node.attribute("quant_max"))
      quantMax = attribute->asNumber().value_or(quantMax);
    AttributeDict entries;
    for (const char *key : {"scale", "zero_point", "minval"})
      if (const Attribute *attribute = node.attribute(key))
        entries.emplace_back(key, *attribute);
    llvm::Expected<QParamValues> values = parseQParams(Attribute::dict(entries));
    if (!values)
      return nodeError(node, "invalid qparams: " + errorText(values.takeError()));
    qparams = std::move(*values);
    if (const Attribute *attribute = node.attribute("qparam_shape")) {
      if (!attribute->asIntList())
        return nodeError(node, "'qparam_shape' must be a list of integers");
      shape = *attribute->asIntList();
    } else {
      shape = {static_cast<int64_t>(qparams.scale.size())};
    }
  }
  int64_t count = productOf(shape);
  auto wrongCount = [&](size_t size) { return size != 0 && static_cast<int64_t>(size) != count; };
  if (qparams.scale.empty() || wrongCount(qparams.scale.size()) ||
      wrongCount(qparams.zeroPoint.size()) || wrongCount(qparams.minval.size()))
    return nodeError(node, "its qparams do not have " + llvm::Twine(count) +
                               " entries each, as their shape needs");

  std::string format = elementFormat(dtype);
  std::vector<float> scale(qparams.scale.begin(), qparams.scale.end());
  tj::Value *zeroPoint = nullptr, *minval = nullptr;
  if (!qparams.minval.empty()) {
    std::vector<float> values(qparams.minval.begin(), qparams.minval.end());
    minval = qparamConstant<float>(values, shape);
  } else if (format == "int") {
    std::vector<int32_t> values(qparams.zeroPoint.begin(), qparams.zeroPoint.end());
    if (values.empty())
      values.assign(static_cast<size_t>(count), 0);
    zeroPoint = qparamConstant<int32_t>(values, shape);
  }
  llvm::Expected<tj::Value *> input = valueFor(node.operand(0), &node);
  if (!input)
    return input.takeError();
  std::vector<tj::Value *> inputs = {*input,
                                     qparamConstant<float>(scale, shape),
                                     zeroPoint ? zeroPoint : sharedConstant(c10::IValue()),
                                     minval ? minval : sharedConstant(c10::IValue()),
                                     sharedConstant(static_cast<int64_t>(quantMin)),
                                     sharedConstant(static_cast<int64_t>(quantMax)),
                                     sharedConstant(format)};
  if (node.op().role == OpRole::Dequantize) {
    c10::IValue outDtype;
    const Type &type = node.result(0)->type();
    if (std::optional<c10::ScalarType> scalar =
            type.isTensor() ? toScalarType(type.dtype()) : std::nullopt;
        scalar && c10::isFloatingType(*scalar))
      outDtype = static_cast<int64_t>(*scalar);
    inputs.push_back(sharedConstant(outDtype));
  }
  tj::Node *emitted = tsGraph_->create(symbol, inputs, 1);
  tsGraph_->insertNode(emitted);
  const c10::FunctionSchema *schema = emitted->maybeSchema();
  if (!schema)
    return nodeError(node, "the registered '" + std::string(symbol.toQualString()) +
                               "' does not take (x, scale, zero_point, minval, quant_min, "
                               "quant_max, format" +
                               (node.op().role == OpRole::Dequantize ? ", out_dtype" : "") +
                               "); is libqfx_torch_ops.so from this qfx?");
  setResultTypes(node, emitted, schema);
  return llvm::Error::success();
}

llvm::Error Exporter::emitNode(const Node &node) {
  llvm::StringRef op = node.opName();
  if (op == "prim::Constant") {
    const Attribute *value = node.attribute("value");
    std::optional<c10::IValue> constant =
        value && node.numResults() == 1 ? toConstant(*value, node.result(0)->type()) : std::nullopt;
    if (!constant)
      return nodeError(node, "a prim::Constant needs a `value` attribute of its result's type");
    tj::Value *emitted = tsGraph_->insertConstant(*constant);
    values_[node.result(0)] = emitted;
    return llvm::Error::success();
  }
  std::string name = torchOpName(op);
  if (!llvm::StringRef(name).contains("::"))
    return nodeError(node, "'" + op + "' has no TorchScript form");
  c10::Symbol symbol = c10::Symbol::fromQualString(name);
  if (symbol == c10::prim::ListConstruct || symbol == c10::prim::TupleConstruct) {
    std::vector<tj::Value *> inputs;
    for (const Value *operand : node.operands()) {
      llvm::Expected<tj::Value *> input = valueFor(operand, &node);
      if (!input)
        return input.takeError();
      inputs.push_back(*input);
    }
    tj::Node *emitted;
    if (symbol == c10::prim::TupleConstruct) {
      emitted = tsGraph_->createTuple(inputs);
    } else {
      c10::TypePtr element = inputs.empty() ? c10::TensorType::get() : inputs[0]->type();
      const Type &type = node.result(0)->type();
      if (type.kind() == Type::Kind::List && type.listElement() != Type::Kind::Any)
        element = toTorchType(type)->expectRef<c10::ListType>().getElementType();
      for (tj::Value *input : inputs)
        if (!input->type()->isSubtypeOf(*element))
          element = c10::AnyType::get();
      emitted = tsGraph_->createList(element, inputs);
    }
    tsGraph_->insertNode(emitted);
    values_[node.result(0)] = emitted->output();
    return llvm::Error::success();
  }
  const std::vector<std::shared_ptr<tj::Operator>> &operators = tj::getAllOperatorsFor(symbol);
  if (!symbol.is_prim() && operators.empty()) {
    if (llvm::StringRef(name).startswith("qfx::"))
      return nodeError(node, "the custom op '" + name +
                                 "' is not registered in this process: load "
                                 "libqfx_torch_ops.so first (loadTorchLibrary, ts2qfx "
                                 "--load-library)");
    return nodeError(node, "no TorchScript operator '" + name + "' is registered");
  }
  if (symbol.is_prim())
    return emitGenericNode(node, symbol);
  OpRole role = node.op().role;
  if (role == OpRole::Quantize || role == OpRole::Dequantize || role == OpRole::FakeQuant)
    return emitQuantNode(node, symbol);
  return emitSchemaNode(node, symbol, operators);
}

llvm::Expected<std::unique_ptr<tj::Module>> Exporter::run() {
  std::string className = options_.className;
  if (className.empty()) {
    classPrefix_ = sanitize(graph_.name().empty() ? "main" : graph_.name(), true);
    className = "__torch__.qfx." + classPrefix_;
  } else {
    classPrefix_ = sanitize(c10::QualifiedName(className).name(), true);
  }
  classNames_.insert(classPrefix_);
  root_ = std::make_unique<tj::Module>(c10::QualifiedName(className), unit_);
  root_->register_attribute("training", c10::BoolType::get(), false);
  if (llvm::Error error = registerState())
    return std::move(error);

  self_ = tsGraph_->addInput("self")->setType(root_->type());
  for (const Value *input : graph_.inputs()) {
    tj::Value *value = tsGraph_->addInput()->setType(toTorchType(input->type()));
    value->setDebugName(debugName(input->name()));
    values_[input] = value;
  }
  for (const Node *node : graph_.nodes())
    if (llvm::Error error = emitNode(*node))
      return std::move(error);

  std::vector<tj::Value *> outputs;
  for (const Value *output : graph_.outputs()) {
    llvm::Expected<tj::Value *> value = valueFor(output, nullptr);
    if (!value)
      return value.takeError();
    outputs.push_back(*value);
  }
  // One output is returned as it is, several as a tuple (what a traced
  // module returning a tuple had), none as None.
  if (outputs.size() == 1)
    tsGraph_->registerOutput(outputs[0]);
  else if (outputs.empty())
    tsGraph_->registerOutput(tsGraph_->insertConstant(c10::IValue()));
  else
    tsGraph_->registerOutput(tsGraph_->insertNode(tsGraph_->createTuple(outputs))->output());
#ifndef NDEBUG
  // A check of the graph just built (a third of export's time on a resnet):
  // debug builds only; the tests load every exported kind in PyTorch.
  tsGraph_->lint();
#endif

  tj::Function *forward =
      unit_->create_function(c10::QualifiedName(*root_->type()->name(), "forward"), tsGraph_);
  root_->type()->addMethod(forward);
  return std::move(root_);
}

} // namespace

llvm::Expected<std::unique_ptr<torch::jit::Module>>
exportTorchScriptModule(const Graph &graph, const TorchScriptExportOptions &options) {
  try {
    Exporter exporter(graph, options);
    return exporter.run();
  } catch (const std::exception &error) {
    return makeError("cannot export graph '" + graph.name() +
                     "' to TorchScript: " + describeException(error));
  }
}

llvm::Error exportTorchScript(const Graph &graph, llvm::StringRef path,
                              const TorchScriptExportOptions &options) {
  llvm::Expected<std::unique_ptr<tj::Module>> module = exportTorchScriptModule(graph, options);
  if (!module)
    return module.takeError();
  // Write next to the destination (same file system, so the rename is
  // atomic), then rename: a failure leaves neither a partial file nor a
  // changed destination.
  llvm::SmallString<256> temporary;
  int fd = -1;
  if (std::error_code error = llvm::sys::fs::createUniqueFile(path + ".tmp-%%%%%%", fd, temporary))
    return makeError("cannot write '" + path + "': " + error.message());
  llvm::sys::Process::SafelyCloseFileDescriptor(fd);
  try {
    (*module)->save(std::string(temporary.str()));
  } catch (const std::exception &error) {
    llvm::sys::fs::remove(temporary);
    return makeError("cannot write '" + path + "': " + describeException(error));
  }
  if (std::error_code error = llvm::sys::fs::rename(temporary, path)) {
    llvm::sys::fs::remove(temporary);
    return makeError("cannot write '" + path + "': " + error.message());
  }
  return llvm::Error::success();
}

llvm::Error loadTorchLibrary(llvm::StringRef path) {
  std::string error;
  // RTLD_GLOBAL, like torch.ops.load_library: the library's static
  // initializers register its operators with the dispatcher.
  llvm::sys::DynamicLibrary library =
      llvm::sys::DynamicLibrary::getPermanentLibrary(path.str().c_str(), &error);
  if (!library.isValid())
    return makeError("cannot load operator library '" + path + "': " + error);
  return llvm::Error::success();
}

} // namespace qfx
