//===- ir/torchscript/Import.cc - TorchScript -> qfx graph ----------------===//
//
// Turns a TorchScript method into a qfx Graph in three steps:
//  1. Prepare a private copy of the TorchScript graph: inline every call,
//     tagging each inlined node with the path and type of the module whose
//     method it came from; resolve `prim::GetAttr` chains from `self` into
//     parameters, buffers and (for everything that is not a tensor or a
//     module) constants; then let TorchScript's own passes fold what became
//     constant (exception checks, `if self.training:` branches, dead code).
//  2. Optionally run the prepared graph once on example inputs to learn the
//     type of every value (a `.pt` file stores no shapes).
//  3. Convert node by node following the operand/attribute convention of
//     docs/TorchScript.md: constant schema arguments become attributes named
//     after the argument, the rest operands in schema order.
// Whatever cannot be expressed (control flow left after folding, calls that
// could not be inlined, attribute writes) is reported as an llvm::Error
// naming the node kind, module and model source line; libtorch exceptions
// never escape.
//
//===----------------------------------------------------------------------===//
#include "ir/torchscript/TorchScript.h"
#include "ir/torchscript/TorchScriptSupport.h"

#include "ir/Graph.h"
#include "ir/Verifier.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Parallel.h>
#include <torch/csrc/jit/api/function_impl.h>
#include <torch/csrc/jit/api/module.h>
#include <torch/csrc/jit/ir/constants.h>
#include <torch/csrc/jit/ir/ir.h>
#include <torch/csrc/jit/ir/irparser.h>
#include <torch/csrc/jit/passes/constant_propagation.h>
#include <torch/csrc/jit/passes/dead_code_elimination.h>
#include <torch/csrc/jit/passes/inliner.h>
#include <torch/csrc/jit/passes/lower_tuples.h>
#include <torch/csrc/jit/passes/remove_exceptions.h>
#include <torch/csrc/jit/runtime/interpreter.h>
#include <torch/csrc/jit/serialization/import.h>

#include "llvm/ADT/ScopeExit.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"

#include <fstream>
#include <unordered_map>

namespace qfx {

using namespace torchscript;

namespace {

namespace tj = torch::jit;

// Provenance travels on the TorchScript nodes themselves as string
// attributes: node copies made by inlining and by TorchScript's passes keep
// them, and no side table can go stale when a pass frees a node.
c10::Symbol modulePathKey() { return c10::Symbol::attr("qfx_module_path"); }
c10::Symbol moduleTypeKey() { return c10::Symbol::attr("qfx_module_type"); }

/// Python's name of a TorchScript class: `__torch__.torch.nn.modules.conv.
/// ___torch_mangle_5.Conv2d` -> `torch.nn.modules.conv.Conv2d`.
std::string pythonTypeName(llvm::StringRef qualified) {
  llvm::SmallVector<llvm::StringRef, 8> atoms;
  qualified.split(atoms, '.');
  std::string name;
  for (size_t i = 0; i < atoms.size(); ++i) {
    if ((i == 0 && atoms[i] == "__torch__") || atoms[i].startswith("___torch_mangle_"))
      continue;
    if (!name.empty())
      name += '.';
    name += atoms[i].str();
  }
  return name;
}

/// `x.1` -> `x`: TorchScript's SSA suffixes mean nothing to a reader.
std::string baseName(llvm::StringRef debugName) {
  size_t dot = debugName.rfind('.');
  if (dot != llvm::StringRef::npos && dot > 0) {
    llvm::StringRef suffix = debugName.drop_front(dot + 1);
    if (!suffix.empty() && llvm::all_of(suffix, llvm::isDigit))
      return debugName.take_front(dot).str();
  }
  return debugName.str();
}

bool isAllDigits(llvm::StringRef text) {
  return !text.empty() && llvm::all_of(text, llvm::isDigit);
}

/// A constant IValue as an attribute; nullopt for tensors and for kinds an
/// attribute cannot hold (objects, functions, ...).
std::optional<Attribute> attributeOf(const c10::IValue &value) {
  if (value.isNone())
    return Attribute::none();
  if (value.isBool())
    return Attribute::boolean(value.toBool());
  if (value.isInt())
    return Attribute::integer(value.toInt());
  if (value.isDouble())
    return Attribute::floating(value.toDouble());
  if (value.isString())
    return Attribute::string(value.toStringRef());
  if (value.isDevice())
    return Attribute::string(value.toDevice().str());
  if (value.isList() || value.isTuple()) {
    AttributeList elements;
    const std::vector<c10::IValue> items =
        value.isList() ? value.toListRef().vec() : value.toTupleRef().elements().vec();
    for (const c10::IValue &item : items) {
      std::optional<Attribute> element = attributeOf(item);
      if (!element)
        return std::nullopt;
      elements.push_back(std::move(*element));
    }
    return Attribute::list(std::move(elements));
  }
  return std::nullopt;
}

bool isOptionalTensor(const c10::TypePtr &type) {
  if (auto optional = type->cast<c10::OptionalType>())
    return optional->getElementType()->kind() == c10::TypeKind::TensorType;
  return false;
}

bool isTensorList(const c10::TypePtr &type) {
  if (auto list = type->cast<c10::ListType>())
    return list->getElementType()->kind() == c10::TypeKind::TensorType;
  return false;
}

bool isTensorLike(const c10::TypePtr &type) {
  if (type->kind() == c10::TypeKind::TensorType)
    return true;
  return isOptionalTensor(type);
}

/// What a resolved `prim::GetAttr` reads.
struct AttributeRead {
  std::string path; // qualified name from self: `layer1.0.conv1.weight`
  c10::IValue value;
  bool isBuffer = false;
};

class Importer {
public:
  explicit Importer(const TorchScriptImportOptions &options) : options_(options) {}

  /// Imports `graph` (owned copy; modified). `self` is the module object
  /// when the first graph input is the module.
  llvm::Expected<std::unique_ptr<Graph>>
  run(std::shared_ptr<tj::Graph> graph, c10::optional<c10::IValue> self, std::string defaultName);

private:
  // Step 1: preparation on the TorchScript graph.
  void inlineCalls(tj::Block *block);
  void resolveAttributes(tj::Block *block);
  void foldNoneChecks(tj::Block *block);
  std::optional<std::string> modulePathOf(tj::Value *value);

  // Step 2: types from an example run.
  llvm::Error probeTypes();

  // Step 3: conversion.
  llvm::Error convertNodes();
  llvm::Error convertSchemaNode(tj::Node *node, const c10::FunctionSchema &schema);
  llvm::Error convertGenericNode(tj::Node *node);
  bool convertQuantNode(tj::Node *node);
  llvm::Expected<Value *> valueFor(tj::Value *value, const tj::Node *user);
  llvm::Expected<Value *> parameterFor(const std::string &name, const at::Tensor &tensor,
                                       bool isBuffer);
  Node *emit(const tj::Node *source, llvm::StringRef op, llvm::ArrayRef<Value *> operands,
             llvm::ArrayRef<tj::Value *> results, AttributeDict attributes);
  Type typeOf(const tj::Value *value) const;
  std::optional<Attribute> constantAttribute(const tj::Value *value) const;
  void setProvenance(Node *node, const tj::Node *source);
  std::string describe(const tj::Node *node) const;
  llvm::Error nodeError(const tj::Node *node, const llvm::Twine &message) const;

  const TorchScriptImportOptions &options_;
  std::shared_ptr<tj::Graph> tsGraph_;
  tj::Value *selfValue_ = nullptr;
  c10::optional<c10::IValue> self_;
  std::unordered_map<const tj::Value *, AttributeRead> attributes_;
  std::unordered_map<const tj::Value *, Type> probedTypes_;
  std::unordered_map<const tj::Value *, Value *> values_;
  std::unique_ptr<Graph> graph_;
  unsigned nextTensorConstant_ = 0;
};

//===----------------------------------------------------------------------===//
// Step 1: preparing the TorchScript graph
//===----------------------------------------------------------------------===//

void tagModule(tj::Node *node, const std::string &path, const std::string &type) {
  node->s_(modulePathKey(), path);
  node->s_(moduleTypeKey(), type);
  for (tj::Block *block : node->blocks())
    for (tj::Node *inner : block->nodes())
      tagModule(inner, path, type);
}

/// The attribute path from `self` to `value` (`layer1.0`), "" for self,
/// nullopt when `value` is not reached from self by attribute reads.
std::optional<std::string> Importer::modulePathOf(tj::Value *value) {
  if (value == selfValue_)
    return std::string();
  tj::Node *producer = value->node();
  if (producer->kind() != c10::prim::GetAttr)
    return std::nullopt;
  std::optional<std::string> parent = modulePathOf(producer->input());
  if (!parent)
    return std::nullopt;
  std::string name = producer->s(c10::attr::name);
  return parent->empty() ? name : *parent + "." + name;
}

// We inline call by call instead of with torch::jit::Inline because a call's
// receiver is, in the partly inlined graph, an attribute chain from the root
// `self` (`self.layer1[0]`), which gives the full module path; the call
// stacks Inline records only hold the last attribute name (`0`).
void Importer::inlineCalls(tj::Block *block) {
  for (tj::Node *node = block->param_node()->next(); node != block->return_node();) {
    bool isMethod = node->kind() == c10::prim::CallMethod;
    if (!isMethod && node->kind() != c10::prim::CallFunction) {
      for (tj::Block *inner : node->blocks())
        inlineCalls(inner);
      node = node->next();
      continue;
    }
    tj::GraphFunction *callee = tj::tryToGraphFunction(node);
    if (!callee) { // e.g. an interface call: reported by the conversion
      node = node->next();
      continue;
    }
    // Nodes of a method of submodule `path` belong to it; nodes of a free
    // function or of a method of the caller's own module keep the caller's.
    std::string path, type;
    if (node->hasAttribute(modulePathKey())) {
      path = node->s(modulePathKey());
      type = node->s(moduleTypeKey());
    }
    if (isMethod) {
      std::optional<std::string> receiver = modulePathOf(node->input(0));
      if (receiver && !receiver->empty()) {
        path = *receiver;
        if (auto cls = node->input(0)->type()->cast<c10::ClassType>())
          if (cls->name())
            type = pythonTypeName(cls->name()->qualifiedName());
      }
    }
    // A function call's first input is the function itself, not an argument.
    if (!isMethod)
      node->removeInput(0);
    tj::Node *before = node->prev();
    tj::Node *after = node->next();
    // The callee's own graph, not its optimized (already inlined) one: its
    // calls must stay calls so that their receivers give module paths.
    tj::inlineCallTo(node, callee, callee->graph().get());
    for (tj::Node *inlined = before->next(); inlined != after; inlined = inlined->next())
      tagModule(inlined, path, type);
    // Continue with the first inlined node: the callee's own calls.
    node = before->next();
  }
}

void Importer::resolveAttributes(tj::Block *block) {
  for (tj::Node *node = block->param_node()->next(); node != block->return_node();) {
    tj::Node *next = node->next();
    for (tj::Block *inner : node->blocks())
      resolveAttributes(inner);
    if (node->kind() != c10::prim::GetAttr) {
      node = next;
      continue;
    }
    tj::Value *receiver = node->input();
    c10::intrusive_ptr<c10::ivalue::Object> object;
    std::string base;
    if (receiver == selfValue_ && self_) {
      object = self_->toObject();
    } else if (auto it = attributes_.find(receiver);
               it != attributes_.end() && it->second.value.isObject()) {
      object = it->second.value.toObject();
      base = it->second.path;
    }
    const std::string name = node->s(c10::attr::name);
    c10::ClassTypePtr cls = object ? object->type() : nullptr;
    c10::optional<size_t> slot = cls ? cls->findAttributeSlot(name) : c10::nullopt;
    if (!slot) { // not reached from self: reported if something uses it
      node = next;
      continue;
    }
    AttributeRead read;
    read.path = base.empty() ? name : base + "." + name;
    read.value = object->getSlot(*slot);
    if (read.value.isObject() || read.value.isTensor()) {
      read.isBuffer = read.value.isTensor() && !(cls->is_module() && cls->is_parameter(*slot));
      attributes_[node->output()] = std::move(read);
      node = next;
      continue;
    }
    // Plain data (flags, sizes, strings, None): a constant, so that the
    // checks and branches that read it fold away.
    c10::IValue constant = read.value;
    if (name == "training" && constant.isBool())
      constant = options_.training;
    tj::WithInsertPoint guard(node);
    if (c10::optional<tj::Value *> replacement =
            tj::tryInsertConstant(*tsGraph_, constant, node->sourceRange())) {
      if (node->hasAttribute(modulePathKey())) {
        (*replacement)->node()->s_(modulePathKey(), node->s(modulePathKey()));
        (*replacement)->node()->s_(moduleTypeKey(), node->s(moduleTypeKey()));
      }
      node->output()->replaceAllUsesWith(*replacement);
      node->destroy();
    }
    node = next;
  }
}

/// `x is None` / `x is not None` where x cannot be None (a parameter, a
/// list of ints): known at import, though TorchScript's constant
/// propagation leaves such checks on mutable types alone.
void Importer::foldNoneChecks(tj::Block *block) {
  auto isNone = [](tj::Value *v) { return v->type()->kind() == c10::TypeKind::NoneType; };
  auto neverNone = [&](tj::Value *v) {
    c10::TypeKind kind = v->type()->kind();
    if (kind == c10::TypeKind::OptionalType || kind == c10::TypeKind::NoneType ||
        kind == c10::TypeKind::AnyType)
      return attributes_.count(v) && attributes_.at(v).value.isTensor();
    return true;
  };
  for (tj::Node *node = block->param_node()->next(); node != block->return_node();) {
    tj::Node *next = node->next();
    for (tj::Block *inner : node->blocks())
      foldNoneChecks(inner);
    bool is = node->kind() == c10::aten::__is__;
    if ((is || node->kind() == c10::aten::__isnot__) && node->inputs().size() == 2) {
      tj::Value *a = node->input(0), *b = node->input(1);
      std::optional<bool> same;
      if (isNone(a) && isNone(b))
        same = true;
      else if ((isNone(a) && neverNone(b)) || (neverNone(a) && isNone(b)))
        same = false;
      if (same) {
        tj::WithInsertPoint guard(node);
        node->output()->replaceAllUsesWith(tsGraph_->insertConstant(is ? *same : !*same));
        node->destroy();
      }
    }
    node = next;
  }
}

//===----------------------------------------------------------------------===//
// Step 2: types from one run on example inputs
//===----------------------------------------------------------------------===//

llvm::Error Importer::probeTypes() {
  auto inputs = tsGraph_->inputs();
  size_t first = selfValue_ ? 1 : 0;
  size_t expected = inputs.size() - first;
  if (options_.inputTypes.size() != expected)
    return makeError(llvm::Twine(options_.inputTypes.size()) + " input type" +
                     (options_.inputTypes.size() == 1 ? " is" : "s are") +
                     " given but the method takes " + llvm::Twine(expected) + " input" +
                     (expected == 1 ? "" : "s"));

  tj::Stack stack;
  if (self_) {
    // A graph that writes module state (`running_mean.add_` when imported
    // for training) runs on a copy: looking at a model must not change it.
    bool writesState = false;
    for (tj::Node *node : tsGraph_->nodes())
      if (const c10::FunctionSchema *schema = node->maybeSchema(); schema && schema->is_mutable())
        for (tj::Value *input : node->inputs())
          writesState |= attributes_.count(input) != 0;
    stack.push_back(writesState ? c10::IValue(self_->toObject()->deepcopy()) : *self_);
  }
  at::Generator generator = at::make_generator<at::CPUGeneratorImpl>(/*seed_in=*/0x9f1);
  for (size_t i = 0; i < options_.inputTypes.size(); ++i) {
    const Type &type = options_.inputTypes[i];
    if (type.kind() == Type::Kind::Int) {
      stack.emplace_back(int64_t(1));
      continue;
    }
    if (type.kind() == Type::Kind::Float) {
      stack.emplace_back(1.0);
      continue;
    }
    if (type.kind() == Type::Kind::Bool) {
      stack.emplace_back(false);
      continue;
    }
    if (!type.isTensor() || !type.hasRank())
      return makeError("input type " + type.str() + " of input " + llvm::Twine(i) +
                       " cannot be run: give a ranked tensor type or int, float or bool");
    std::vector<int64_t> shape;
    for (int64_t size : type.shape())
      shape.push_back(size == Type::kDynamic ? 1 : size);
    c10::ScalarType scalar = toScalarType(type.dtype()).value_or(c10::ScalarType::Float);
    at::TensorOptions tensorOptions = at::TensorOptions().dtype(scalar);
    stack.emplace_back(c10::isFloatingType(scalar) ? at::randn(shape, generator, tensorOptions)
                                                   : at::zeros(shape, tensorOptions));
  }

  // Run a copy that returns every tensor the method computes.
  std::shared_ptr<tj::Graph> probe = tsGraph_->copy();
  std::vector<const tj::Value *> originals;
  std::vector<tj::Value *> copies;
  auto originalNodes = tsGraph_->nodes();
  auto copyNodes = probe->nodes();
  for (auto o = originalNodes.begin(), c = copyNodes.begin(); o != originalNodes.end(); ++o, ++c)
    for (size_t i = 0; i < o->outputs().size(); ++i)
      if (isTensorLike(o->output(i)->type()) && o->kind() != c10::prim::GetAttr) {
        originals.push_back(o->output(i));
        copies.push_back(c->output(i));
      }
  while (!probe->outputs().empty())
    probe->eraseOutput(0);
  probe->registerOutput(probe->insertNode(probe->createTuple(copies))->output());

  int threads = at::get_num_threads();
  if (options_.minProbeThreads > threads)
    at::set_num_threads(options_.minProbeThreads);
  auto restoreThreads = llvm::make_scope_exit([&] {
    if (at::get_num_threads() != threads)
      at::set_num_threads(threads);
  });
  try {
    tj::Code code(probe, "qfx_probe");
    tj::InterpreterState state(code);
    state.run(stack);
  } catch (const std::exception &error) {
    return makeError("running the model on inputs of the given types failed: " +
                     describeException(error));
  }
  const auto &results = stack.back().toTupleRef().elements();
  for (size_t i = 0; i < originals.size(); ++i) {
    if (!results[i].isTensor())
      continue;
    const at::Tensor &tensor = results[i].toTensor();
    std::optional<DType> dtype = fromScalarType(tensor.scalar_type());
    probedTypes_[originals[i]] =
        Type::rankedTensor(dtype.value_or(DType::Unknown),
                           llvm::ArrayRef<int64_t>(tensor.sizes().data(), tensor.sizes().size()));
  }
  for (size_t i = 0; i < options_.inputTypes.size(); ++i)
    probedTypes_[inputs[first + i]] = options_.inputTypes[i];
  return llvm::Error::success();
}

//===----------------------------------------------------------------------===//
// Step 3: conversion
//===----------------------------------------------------------------------===//

Type Importer::typeOf(const tj::Value *value) const {
  auto it = probedTypes_.find(value);
  if (it != probedTypes_.end())
    return it->second;
  return fromTorchType(value->type());
}

std::string Importer::describe(const tj::Node *node) const {
  std::string text = "'" + std::string(node->kind().toQualString()) + "'";
  tj::SourceRange range = node->sourceRange();
  if (c10::optional<tj::SourceRange> original = range.findSourceRangeThatGenerated())
    range = *original;
  if (auto location = range.file_line_col()) {
    if (!std::get<0>(*location).empty())
      text += " at " + std::get<0>(*location) + ":" + std::to_string(std::get<1>(*location)) + ":" +
              std::to_string(std::get<2>(*location) + 1);
  }
  if (node->hasAttribute(modulePathKey()) && !node->s(modulePathKey()).empty()) {
    text += " in module '" + node->s(modulePathKey()) + "'";
    if (!node->s(moduleTypeKey()).empty())
      text += " (" + node->s(moduleTypeKey()) + ")";
  }
  return text;
}

llvm::Error Importer::nodeError(const tj::Node *node, const llvm::Twine &message) const {
  return makeError(describe(node) + ": " + message);
}

void Importer::setProvenance(Node *node, const tj::Node *source) {
  if (source->hasAttribute(modulePathKey())) {
    node->setModule(graph_->intern(source->s(modulePathKey())),
                    graph_->intern(source->s(moduleTypeKey())));
  } else if (tj::ScopePtr scope = const_cast<tj::Node *>(source)->scope();
             scope && !scope->isRoot()) {
    // Graphs traced with inlining carry scopes `__module.layer1.0.conv1`.
    llvm::StringRef name = scope->name().toUnqualString();
    if (name.consume_front("__module."))
      node->setModule(graph_->intern(name), "");
  }
  tj::SourceRange range = source->sourceRange();
  if (c10::optional<tj::SourceRange> original = range.findSourceRangeThatGenerated())
    range = *original;
  if (auto location = range.file_line_col()) {
    // Columns are 0-based in TorchScript, 1-based in qfx.
    if (!std::get<0>(*location).empty())
      node->setSourceLocation(graph_->intern(std::get<0>(*location)),
                              static_cast<unsigned>(std::get<1>(*location)),
                              static_cast<unsigned>(std::get<2>(*location) + 1));
  }
}

Node *Importer::emit(const tj::Node *source, llvm::StringRef op, llvm::ArrayRef<Value *> operands,
                     llvm::ArrayRef<tj::Value *> results, AttributeDict attributes) {
  std::vector<Type> types;
  for (const tj::Value *result : results)
    types.push_back(typeOf(result));
  Node *node = graph_->createNode(op, operands, types);
  node->setAttributes(std::move(attributes));
  setProvenance(node, source);
  graph_->append(node);
  for (size_t i = 0; i < results.size(); ++i) {
    values_[results[i]] = node->result(i);
    if (results[i]->hasDebugName())
      node->result(i)->setName(results[i]->debugName());
  }
  return node;
}

/// The attribute form of a value that is constant and holds no tensor: a
/// prim::Constant or a prim::ListConstruct of such (`[1, 1]`, `[]`).
std::optional<Attribute> Importer::constantAttribute(const tj::Value *value) const {
  const tj::Node *producer = value->node();
  if (producer->kind() == c10::prim::unchecked_cast) // Optional[T] refined to T
    return constantAttribute(producer->input());
  if (producer->kind() == c10::prim::Constant) {
    c10::optional<c10::IValue> constant = tj::toIValue(value);
    if (!constant)
      return std::nullopt;
    return attributeOf(*constant);
  }
  if (producer->kind() == c10::prim::ListConstruct) {
    AttributeList elements;
    for (const tj::Value *input : producer->inputs()) {
      std::optional<Attribute> element = constantAttribute(input);
      if (!element)
        return std::nullopt;
      elements.push_back(std::move(*element));
    }
    return Attribute::list(std::move(elements));
  }
  return std::nullopt;
}

llvm::Expected<Value *> Importer::parameterFor(const std::string &name, const at::Tensor &tensor,
                                               bool isBuffer) {
  if (Value *existing = graph_->parameter(name))
    return existing;
  llvm::Expected<TensorData> data =
      toTensorData(tensor, (isBuffer ? "buffer '" : "parameter '") + name + "'");
  if (!data)
    return data.takeError();
  Value *parameter =
      graph_->addParameter(name, Type::rankedTensor(data->dtype, data->shape), isBuffer);
  parameter->setData(std::make_shared<TensorData>(std::move(*data)));
  return parameter;
}

// Values that need no node of their own until something uses them as an
// operand are materialized here, right before their first user: constants
// (which attribute conversion usually absorbs), parameters, and list and
// tuple constructions (a list of tensors feeding `aten::cat` becomes cat's
// operands instead).
llvm::Expected<Value *> Importer::valueFor(tj::Value *value, const tj::Node *user) {
  auto found = values_.find(value);
  if (found != values_.end())
    return found->second;
  tj::Node *producer = value->node();
  c10::Symbol kind = producer->kind();

  if (kind == c10::prim::Constant) {
    c10::optional<c10::IValue> constant = tj::toIValue(value);
    if (constant && constant->isTensor()) {
      std::string name;
      do
        name = "_tensor_constant" + std::to_string(nextTensorConstant_++);
      while (graph_->parameter(name));
      llvm::Expected<Value *> parameter =
          parameterFor(name, constant->toTensor(), /*isBuffer=*/true);
      if (parameter)
        values_[value] = *parameter;
      return parameter;
    }
    std::optional<Attribute> attribute = constant ? attributeOf(*constant) : std::nullopt;
    if (!attribute)
      return nodeError(user, "uses a constant of type '" + value->type()->repr_str() +
                                 "', which qfx cannot represent");
    AttributeDict attributes;
    attributes.emplace_back("value", std::move(*attribute));
    return emit(producer, "prim::Constant", {}, {value}, std::move(attributes))->result(0);
  }

  if (kind == c10::prim::GetAttr) {
    auto it = attributes_.find(value);
    if (it == attributes_.end())
      return nodeError(user, "reads attribute '" + producer->s(c10::attr::name) +
                                 "' of something other than the module and its submodules");
    if (!it->second.value.isTensor())
      return nodeError(user, "uses module attribute '" + it->second.path + "' of type '" +
                                 it->second.value.type()->repr_str() +
                                 "' as a value; only tensors and calls of submodules are "
                                 "supported");
    llvm::Expected<Value *> parameter =
        parameterFor(it->second.path, it->second.value.toTensor(), it->second.isBuffer);
    if (parameter)
      values_[value] = *parameter;
    return parameter;
  }

  if (kind == c10::prim::unchecked_cast) {
    llvm::Expected<Value *> input = valueFor(producer->input(), user);
    if (input)
      values_[value] = *input;
    return input;
  }

  if (kind == c10::prim::ListConstruct) {
    if (std::optional<Attribute> constant = constantAttribute(value)) {
      AttributeDict attributes;
      attributes.emplace_back("value", std::move(*constant));
      return emit(producer, "prim::Constant", {}, {value}, std::move(attributes))->result(0);
    }
  }
  if (kind == c10::prim::ListConstruct || kind == c10::prim::TupleConstruct) {
    llvm::SmallVector<Value *, 4> operands;
    for (tj::Value *input : producer->inputs()) {
      llvm::Expected<Value *> operand = valueFor(input, producer);
      if (!operand)
        return operand.takeError();
      operands.push_back(*operand);
    }
    return emit(producer, kind.toQualString(), operands, {value}, {})->result(0);
  }

  if (value == selfValue_)
    return nodeError(user, "uses the module itself as a value");
  return nodeError(user,
                   "uses a value produced by " + describe(producer) + ", which was not imported");
}

llvm::Error Importer::convertSchemaNode(tj::Node *node, const c10::FunctionSchema &schema) {
  const std::vector<c10::Argument> &arguments = schema.arguments();
  auto inputs = node->inputs();
  enum class Slot { Operand, Attribute, NoneTensor };
  std::vector<Slot> slots(arguments.size());
  std::vector<std::optional<Attribute>> constants(arguments.size());
  int lastOperand = -1, numOperandSlots = 0;
  for (size_t i = 0; i < arguments.size(); ++i) {
    std::optional<Attribute> constant = constantAttribute(inputs[i]);
    if (constant && constant->isNone() && isOptionalTensor(arguments[i].type())) {
      slots[i] = Slot::NoneTensor;
    } else if (constant) {
      slots[i] = Slot::Attribute;
      constants[i] = std::move(constant);
    } else {
      slots[i] = Slot::Operand;
      lastOperand = static_cast<int>(i);
      ++numOperandSlots;
    }
  }
  // A list of tensors that is the only operand argument (aten::cat) is
  // flattened into the operands, as the op table expects.
  bool flatten = numOperandSlots == 1 && isTensorList(arguments[lastOperand].type()) &&
                 inputs[lastOperand]->node()->kind() == c10::prim::ListConstruct;

  AttributeDict attributes;
  llvm::SmallVector<Value *, 4> operands;
  for (size_t i = 0; i < arguments.size(); ++i) {
    switch (slots[i]) {
    case Slot::Attribute:
      attributes.emplace_back(arguments[i].name(), std::move(*constants[i]));
      break;
    case Slot::NoneTensor:
      // Omitted unless an operand follows: operands fill the arguments
      // without attributes in order, so a None before an operand must say
      // which argument it is.
      if (static_cast<int>(i) < lastOperand)
        attributes.emplace_back(arguments[i].name(), Attribute::none());
      break;
    case Slot::Operand: {
      llvm::SmallVector<tj::Value *, 4> sources;
      if (flatten)
        sources.append(inputs[i]->node()->inputs().begin(), inputs[i]->node()->inputs().end());
      else
        sources.push_back(inputs[i]);
      for (tj::Value *source : sources) {
        llvm::Expected<Value *> operand = valueFor(source, node);
        if (!operand)
          return operand.takeError();
        operands.push_back(*operand);
      }
      break;
    }
    }
  }

  std::string op = node->kind().toQualString();
  if (op == "aten::_convolution") {
    // Traced convolutions: name the op by its spatial rank and direction,
    // keeping only the arguments the named op takes (the cuDNN flags do not
    // change CPU results).
    auto find = [&](llvm::StringRef key) -> const Attribute * {
      for (const NamedAttribute &entry : attributes)
        if (entry.first == key)
          return &entry.second;
      return nullptr;
    };
    const Attribute *stride = find("stride"), *padding = find("padding"),
                    *dilation = find("dilation"), *transposed = find("transposed"),
                    *outputPadding = find("output_padding"), *groups = find("groups");
    bool complete = stride && stride->isList() && padding && dilation && transposed &&
                    transposed->isBool() && outputPadding && outputPadding->asIntList() && groups &&
                    operands.size() >= 2 && !find("bias");
    size_t rank = complete ? stride->getList().size() : 0;
    const Type &weightType = complete ? operands[1]->type() : Type();
    if (complete && rank >= 1 && rank <= 3 &&
        (!weightType.hasRank() || weightType.rank() == static_cast<int64_t>(rank) + 2)) {
      std::vector<int64_t> outputPaddingValues = *outputPadding->asIntList();
      bool zeroOutputPadding = llvm::all_of(outputPaddingValues, [](int64_t v) { return !v; });
      AttributeDict normalized;
      if (!transposed->getBool() && zeroOutputPadding) {
        op = "aten::conv" + std::to_string(rank) + "d";
        normalized = {{"stride", *stride},
                      {"padding", *padding},
                      {"dilation", *dilation},
                      {"groups", *groups}};
      } else if (transposed->getBool()) {
        op = "aten::conv_transpose" + std::to_string(rank) + "d";
        normalized = {{"stride", *stride},
                      {"padding", *padding},
                      {"output_padding", *outputPadding},
                      {"groups", *groups},
                      {"dilation", *dilation}};
      }
      if (!normalized.empty())
        attributes = std::move(normalized);
    }
  }
  emit(node, op, operands, node->outputs().vec(), std::move(attributes));
  return llvm::Error::success();
}

llvm::Error Importer::convertGenericNode(tj::Node *node) {
  llvm::SmallVector<Value *, 4> operands;
  for (tj::Value *input : node->inputs()) {
    llvm::Expected<Value *> operand = valueFor(input, node);
    if (!operand)
      return operand.takeError();
    operands.push_back(*operand);
  }
  AttributeDict attributes;
  for (c10::Symbol name : node->attributeNames()) {
    if (name == modulePathKey() || name == moduleTypeKey())
      continue;
    std::string key = name.toUnqualString();
    switch (node->kindOf(name)) {
    case tj::AttributeKind::i:
      attributes.emplace_back(key, Attribute::integer(node->i(name)));
      break;
    case tj::AttributeKind::f:
      attributes.emplace_back(key, Attribute::floating(node->f(name)));
      break;
    case tj::AttributeKind::s:
      attributes.emplace_back(key, Attribute::string(node->s(name)));
      break;
    case tj::AttributeKind::is:
      attributes.emplace_back(key, Attribute::intList(node->is(name)));
      break;
    case tj::AttributeKind::fs:
      attributes.emplace_back(key, Attribute::floatList(node->fs(name)));
      break;
    default:
      return nodeError(node, "has attribute '" + key + "' of a kind qfx cannot represent");
    }
  }
  emit(node, node->kind().toQualString(), operands, node->outputs().vec(), std::move(attributes));
  return llvm::Error::success();
}

// What export writes for qfx.quantize / qfx.dequantize comes back in their
// attribute form when the qparams are constants: the codes' container
// follows the range (int8 when quant_min < 0, else uint8; the kernels store
// codes so), float formats name their dtype. Otherwise the custom op stays
// an ordinary schema op.
bool Importer::convertQuantNode(tj::Node *node) {
  auto inputs = node->inputs();
  bool dequantize = node->kind() == c10::Symbol::fromQualString("qfx::dequantize");
  if (inputs.size() != (dequantize ? 8u : 7u))
    return false;
  c10::optional<c10::IValue> scale = tj::toIValue(inputs[1]), zeroPoint = tj::toIValue(inputs[2]),
                             minval = tj::toIValue(inputs[3]), quantMin = tj::toIValue(inputs[4]),
                             quantMax = tj::toIValue(inputs[5]), format = tj::toIValue(inputs[6]);
  if (!scale || !scale->isTensor() || !zeroPoint || !minval || !quantMin || !quantMin->isInt() ||
      !quantMax || !quantMax->isInt() || !format || !format->isString())
    return false;
  auto values = [](const at::Tensor &tensor) {
    at::Tensor flat = tensor.to(at::kDouble).contiguous().flatten();
    return std::vector<double>(flat.data_ptr<double>(), flat.data_ptr<double>() + flat.numel());
  };
  AttributeDict attributes;
  std::string formatName = format->toStringRef();
  bool isInt = formatName == "int";
  attributes.emplace_back(
      "dtype", Attribute::string(isInt ? (quantMin->toInt() < 0 ? "int8" : "uint8") : formatName));
  if (isInt) {
    attributes.emplace_back("quant_min", Attribute::integer(quantMin->toInt()));
    attributes.emplace_back("quant_max", Attribute::integer(quantMax->toInt()));
  }
  const at::Tensor &scaleTensor = scale->toTensor();
  attributes.emplace_back("scale", Attribute::floatList(values(scaleTensor)));
  if (zeroPoint->isTensor()) {
    std::vector<int64_t> points;
    for (double point : values(zeroPoint->toTensor()))
      points.push_back(static_cast<int64_t>(point));
    attributes.emplace_back("zero_point", Attribute::intList(points));
  } else if (minval->isTensor()) {
    attributes.emplace_back("minval", Attribute::floatList(values(minval->toTensor())));
  } else if (!zeroPoint->isNone() || !minval->isNone()) {
    return false;
  }
  attributes.emplace_back("qparam_shape", Attribute::intList(scaleTensor.sizes().vec()));
  llvm::Expected<Value *> input = valueFor(inputs[0], node);
  if (!input) {
    llvm::consumeError(input.takeError());
    return false;
  }
  emit(node, dequantize ? "qfx.dequantize" : "qfx.quantize", {*input}, node->outputs().vec(),
       std::move(attributes));
  return true;
}

llvm::Error Importer::convertNodes() {
  for (tj::Node *node : tsGraph_->nodes()) {
    c10::Symbol kind = node->kind();
    if (kind == c10::prim::If || kind == c10::prim::Loop)
      return nodeError(node, std::string("unsupported control flow: ") +
                                 (kind == c10::prim::If
                                      ? "the condition depends on the input, so the branch "
                                        "cannot be chosen at import"
                                      : "loops are not unrolled") +
                                 "; qfx imports straight-line graphs (trace the model, or make "
                                 "the condition a constant)");
    if (!node->blocks().empty())
      return nodeError(node, "has nested blocks, which qfx does not support");
    if (kind == c10::prim::Constant || kind == c10::prim::GetAttr ||
        kind == c10::prim::ListConstruct || kind == c10::prim::TupleConstruct ||
        kind == c10::prim::unchecked_cast)
      continue; // materialized at their first use (valueFor)
    if (kind == c10::prim::CallMethod || kind == c10::prim::CallFunction)
      return nodeError(node, "is a call that cannot be inlined (an interface or a function "
                             "without a graph)");
    if (kind == c10::prim::SetAttr)
      return nodeError(node, "writes module attribute '" + node->s(c10::attr::name) +
                                 "'; qfx graphs do not change module state");
    if (kind == c10::prim::RaiseException)
      return nodeError(node, "always raises an exception");
    if ((kind == c10::Symbol::fromQualString("qfx::quantize") ||
         kind == c10::Symbol::fromQualString("qfx::dequantize")) &&
        convertQuantNode(node))
      continue;
    if (!kind.is_prim()) {
      const c10::FunctionSchema *schema = node->maybeSchema();
      if (schema && !schema->is_vararg() && schema->arguments().size() == node->inputs().size()) {
        if (llvm::Error error = convertSchemaNode(node, *schema))
          return error;
        continue;
      }
    }
    if (llvm::Error error = convertGenericNode(node))
      return error;
  }
  return llvm::Error::success();
}

llvm::Expected<std::unique_ptr<Graph>> Importer::run(std::shared_ptr<tj::Graph> graph,
                                                     c10::optional<c10::IValue> self,
                                                     std::string defaultName) {
  tsGraph_ = std::move(graph);
  self_ = std::move(self);
  if (self_ && !tsGraph_->inputs().empty())
    selfValue_ = tsGraph_->inputs()[0];

  inlineCalls(tsGraph_->block());
  resolveAttributes(tsGraph_->block());
  foldNoneChecks(tsGraph_->block());
  // Treat failed checks as unreachable (the model is valid on the inputs it
  // is given), then fold what became constant and drop what is dead.
  tj::EliminateExceptions(tsGraph_);
  tj::ConstantPropagationImmutableTypes(tsGraph_);
  tj::LowerSimpleTuples(tsGraph_);
  tj::EliminateDeadCode(tsGraph_);

  if (!options_.inputTypes.empty())
    if (llvm::Error error = probeTypes())
      return std::move(error);

  graph_ = std::make_unique<Graph>(options_.graphName.empty() ? defaultName : options_.graphName);
  llvm::StringSet<> inputNames;
  for (tj::Value *input : tsGraph_->inputs()) {
    if (input == selfValue_)
      continue;
    std::string name = input->hasDebugName() ? baseName(input->debugName())
                                             : "input" + std::to_string(input->offset());
    if (isAllDigits(name) || !inputNames.insert(name).second)
      name = input->hasDebugName() ? input->debugName() : "input" + std::to_string(input->offset());
    inputNames.insert(name);
    values_[input] = graph_->addInput(name, typeOf(input));
  }
  if (llvm::Error error = convertNodes())
    return std::move(error);

  // A tuple returned by the method becomes the graph's outputs.
  llvm::SmallVector<tj::Value *, 4> outputs(tsGraph_->outputs().begin(), tsGraph_->outputs().end());
  if (outputs.size() == 1 && outputs[0]->node()->kind() == c10::prim::TupleConstruct)
    outputs.assign(outputs[0]->node()->inputs().begin(), outputs[0]->node()->inputs().end());
  for (tj::Value *output : outputs) {
    llvm::Expected<Value *> value = valueFor(output, tsGraph_->return_node());
    if (!value)
      return value.takeError();
    graph_->addOutput(*value);
  }

  std::string problems;
  DiagnosticEngine diagnostics;
  diagnostics.setHandler([&](const Diagnostic &d) { problems += "\n  " + d.message; });
  if (!verifyGraph(*graph_, diagnostics))
    return makeError("the imported graph does not verify:" + problems);
  return std::move(graph_);
}

/// Runs `import`, turning every exception libtorch throws into an error.
template <typename Fn>
llvm::Expected<std::unique_ptr<Graph>> guarded(llvm::StringRef what, Fn &&import) {
  try {
    return import();
  } catch (const std::exception &error) {
    return makeError(what + ": " + describeException(error));
  }
}

} // namespace

llvm::Expected<std::unique_ptr<Graph>>
importTorchScriptModule(const torch::jit::Module &module, const TorchScriptImportOptions &options) {
  return guarded(
      "cannot import the TorchScript module", [&]() -> llvm::Expected<std::unique_ptr<Graph>> {
        c10::optional<tj::Method> method = module.find_method(options.methodName);
        if (!method)
          return makeError("the module has no method '" + options.methodName + "'");
        std::string name = "main";
        if (c10::optional<c10::QualifiedName> qualified = module.type()->name())
          name = qualified->name();
        Importer importer(options);
        return importer.run(method->graph()->copy(), c10::IValue(module._ivalue()), name);
      });
}

llvm::Expected<std::unique_ptr<Graph>>
importTorchScriptIR(llvm::StringRef text, const TorchScriptImportOptions &options) {
  return guarded("cannot import TorchScript IR", [&]() -> llvm::Expected<std::unique_ptr<Graph>> {
    auto graph = std::make_shared<tj::Graph>();
    tj::parseIR(text.str(), graph.get());
    Importer importer(options);
    return importer.run(graph, c10::nullopt, "main");
  });
}

llvm::Expected<std::unique_ptr<Graph>>
importTorchScriptFile(llvm::StringRef path, const TorchScriptImportOptions &options) {
  // A TorchScript archive is a zip file (tj::load reads it); anything else
  // is read as IR text. Only text is read here: reading an archive whole to
  // look at its first two bytes was a second pass over a 100 MB file.
  if (!isTorchScriptArchive(path)) {
    llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> buffer =
        llvm::MemoryBuffer::getFile(path, /*IsText=*/false, /*RequiresNullTerminator=*/false);
    if (!buffer)
      return makeError("cannot read '" + path + "': " + buffer.getError().message());
    llvm::Expected<std::unique_ptr<Graph>> graph =
        importTorchScriptIR((*buffer)->getBuffer(), options);
    if (!graph)
      return makeError("'" + path + "': " + llvm::toString(graph.takeError()));
    return graph;
  }
  llvm::Expected<std::unique_ptr<tj::Module>> module = loadTorchScriptArchive(path);
  if (!module)
    return module.takeError();
  llvm::Expected<std::unique_ptr<Graph>> graph = importTorchScriptModule(**module, options);
  if (!graph)
    return makeError("'" + path + "': " + llvm::toString(graph.takeError()));
  return graph;
}

bool isTorchScriptArchive(llvm::StringRef path) {
  std::ifstream file(path.str(), std::ios::binary);
  char magic[2] = {0, 0};
  return file.read(magic, 2) && magic[0] == 'P' && magic[1] == 'K';
}

llvm::Expected<std::unique_ptr<tj::Module>> loadTorchScriptArchive(llvm::StringRef path) {
  try {
    return std::make_unique<tj::Module>(tj::load(path.str()));
  } catch (const std::exception &error) {
    return makeError("cannot load TorchScript file '" + path + "': " + describeException(error));
  }
}

llvm::Error attachParameterData(Graph &graph, llvm::StringRef path) {
  llvm::Expected<std::unique_ptr<Graph>> source = importTorchScriptFile(path);
  if (!source)
    return source.takeError();
  std::string missing, mismatched;
  for (Value *parameter : graph.parameters()) {
    if (parameter->data())
      continue;
    Value *match = (*source)->parameter(parameter->name());
    if (!match || !match->data()) {
      missing += (missing.empty() ? "'" : ", '") + parameter->name().str() + "'";
      continue;
    }
    const Type &type = parameter->type();
    const TensorData &data = *match->data();
    if (type.isTensor() && ((type.dtype() != DType::Unknown && type.dtype() != data.dtype) ||
                            (type.hasRank() && type.hasStaticShape() &&
                             type.shape() != llvm::ArrayRef<int64_t>(data.shape)))) {
      mismatched += (mismatched.empty() ? "'" : ", '") + parameter->name().str() + "' (" +
                    type.str() + " vs " + match->type().str() + ")";
      continue;
    }
    parameter->setData(match->data());
  }
  if (!missing.empty())
    return makeError("'" + path + "' has no parameter " + missing);
  if (!mismatched.empty())
    return makeError("parameters of '" + path + "' differ in type: " + mismatched);
  return llvm::Error::success();
}

} // namespace qfx
