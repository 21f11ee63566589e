//===- ir/Graph.cc - The FX-like graph: Graph, Node, Value ----------------===//
//
// Use-list maintenance, node list surgery and ownership. Nodes and values
// live in the graph's bump allocator; erased ones go on free lists that the
// next createNode / addParameter take from, so a pass that erases and
// creates as many nodes as it lowers (lower-to-qdq) reuses memory instead of
// growing it.
//
//===----------------------------------------------------------------------===//
#include "ir/Graph.h"

#include "llvm/ADT/Hashing.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallPtrSet.h"
#include "llvm/Support/ErrorHandling.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>

namespace qfx {

//===----------------------------------------------------------------------===//
// Value
//===----------------------------------------------------------------------===//

unsigned &Value::slotOf(const Use &use) const {
  if (use.isGraphOutput())
    return graph_->outputUseSlots_[use.operandIndex];
  return use.user->useSlots_[use.operandIndex];
}

void Value::removeUseAt(unsigned slot) {
  // Swap-and-pop: use order is not meaningful; the moved use learns its new
  // slot, so removal is O(1).
  unsigned last = static_cast<unsigned>(uses_.size() - 1);
  if (slot != last) {
    uses_[slot] = uses_[last];
    slotOf(uses_[slot]) = slot;
  }
  uses_.pop_back();
}

void Value::setName(llvm::StringRef name) { name_ = graph_->saveString(name); }

void Value::setData(std::shared_ptr<const TensorData> data) {
  if (!isParameter())
    llvm::report_fatal_error(llvm::Twine("qfx: setting tensor data on '") + name() +
                             "', which is not a parameter or buffer");
  graph_->parameterData_[index_] = std::move(data);
}

void Value::replaceAllUsesWith(Value *replacement) {
  if (replacement == this)
    return;
  for (const Use &use : uses_) {
    if (use.isGraphOutput())
      graph_->outputs_[use.operandIndex] = replacement;
    else
      use.user->operands_[use.operandIndex] = replacement;
    slotOf(use) = replacement->addUse(use);
  }
  uses_.clear();
}

//===----------------------------------------------------------------------===//
// Node
//===----------------------------------------------------------------------===//

void Node::setOperand(unsigned index, Value *value) {
  Value *old = operands_[index];
  if (old == value)
    return;
  old->removeUseAt(useSlots_[index]);
  operands_[index] = value;
  useSlots_[index] = value->addUse({this, index});
}

void Node::addOperand(Value *value) {
  operands_.push_back(value);
  useSlots_.push_back(value->addUse({this, static_cast<unsigned>(operands_.size() - 1)}));
}

void Node::eraseOperand(unsigned index) {
  operands_[index]->removeUseAt(useSlots_[index]);
  // Later operands move down one position; their uses say so.
  for (unsigned i = index + 1, e = operands_.size(); i != e; ++i)
    operands_[i]->uses_[useSlots_[i]].operandIndex = i - 1;
  operands_.erase(operands_.begin() + index);
  useSlots_.erase(useSlots_.begin() + index);
  if (quant_ && index < quant_->inputs.size())
    quant_->inputs.erase(quant_->inputs.begin() + index);
}

bool Node::hasUsedResults() const {
  for (const Value *result : results_)
    if (result->hasUses())
      return true;
  return false;
}

const Attribute *Node::attribute(llvm::StringRef name) const {
  for (const NamedAttribute &entry : attributes())
    if (entry.first == name)
      return &entry.second;
  return nullptr;
}

void Node::setAttribute(AttributeKey name, Attribute value) {
  unshareAttributes();
  for (NamedAttribute &entry : attributes_) {
    if (entry.first == name) {
      entry.second = std::move(value);
      return;
    }
  }
  attributes_.emplace_back(name, std::move(value));
}

bool Node::removeAttribute(llvm::StringRef name) {
  unshareAttributes();
  auto it = std::find_if(attributes_.begin(), attributes_.end(),
                         [&](const NamedAttribute &entry) { return entry.first == name; });
  if (it == attributes_.end())
    return false;
  attributes_.erase(it);
  return true;
}

namespace {
/// Provenance of nodes that have none: shared by all graphs.
const Provenance kNoProvenance{};

bool sameString(llvm::StringRef a, llvm::StringRef b) {
  return a.data() == b.data() && a.size() == b.size();
}
} // namespace

unsigned ProvenanceInfo::getHashValue(const Provenance *provenance) {
  const SourceInfo &source = provenance->source;
  const Location &text = provenance->text;
  return static_cast<unsigned>(llvm::hash_combine(
      source.modulePath.data(), source.modulePath.size(), source.moduleType.data(),
      source.moduleType.size(), source.file.data(), source.file.size(), source.line, source.column,
      text.file.data(), text.file.size(), text.line, text.column));
}

bool ProvenanceInfo::isEqual(const Provenance *a, const Provenance *b) {
  if (a == b)
    return true;
  if (a == getEmptyKey() || a == getTombstoneKey() || b == getEmptyKey() || b == getTombstoneKey())
    return false;
  return sameString(a->source.modulePath, b->source.modulePath) &&
         sameString(a->source.moduleType, b->source.moduleType) &&
         sameString(a->source.file, b->source.file) && a->source.line == b->source.line &&
         a->source.column == b->source.column && sameString(a->text.file, b->text.file) &&
         a->text.line == b->text.line && a->text.column == b->text.column;
}

Node::Node(Graph *graph, const OpInfo *op, uint32_t id)
    : graph_(graph), op_(op), id_(id), provenance_(&kNoProvenance) {}

void Node::setModule(llvm::StringRef path, llvm::StringRef type) {
  Provenance changed = *provenance_;
  changed.source.modulePath = graph_->intern(path);
  changed.source.moduleType = graph_->intern(type);
  provenance_ = graph_->provenance(changed);
}

void Node::setSourceLocation(llvm::StringRef file, unsigned line, unsigned column) {
  Provenance changed = *provenance_;
  changed.source.file = graph_->intern(file);
  changed.source.line = line;
  changed.source.column = column;
  provenance_ = graph_->provenance(changed);
}

void Node::setTextLocation(Location location) {
  // Passes copy a node's provenance and then the text location of another
  // node, mostly the same one (or none): that costs no record lookup.
  const Location &text = provenance_->text;
  if (sameString(text.file, location.file) && text.line == location.line &&
      text.column == location.column)
    return;
  Provenance changed = *provenance_;
  changed.text = location;
  provenance_ = graph_->provenance(changed);
}

void Node::copyProvenance(const Node &other) {
  if (other.graph_ == graph_) {
    provenance_ = other.provenance_; // the record is this graph's already
    return;
  }
  const SourceInfo &source = other.source();
  Provenance changed = *provenance_;
  if (!source.modulePath.empty() || !source.moduleType.empty()) {
    changed.source.modulePath = graph_->intern(source.modulePath);
    changed.source.moduleType = graph_->intern(source.moduleType);
  }
  if (source.line != 0) {
    changed.source.file = graph_->intern(source.file);
    changed.source.line = source.line;
    changed.source.column = source.column;
  }
  changed.text = other.textLocation();
  provenance_ = graph_->provenance(changed);
}

std::string Node::describe() const {
  const SourceInfo &info = source();
  std::string text;
  llvm::raw_string_ostream os(text);
  os << "'" << opName() << "'";
  if (!info.modulePath.empty())
    os << " in module '" << info.modulePath << "'";
  if (!info.moduleType.empty())
    os << " (" << info.moduleType << ")";
  if (info.line != 0)
    os << " at " << info.file << ":" << info.line << ":" << info.column;
  return os.str();
}

QuantAnnotation &Node::getOrCreateQuant() {
  if (!quant_) {
    quant_ = graph_->newQuant();
    quant_->inputs.resize(operands_.size());
  }
  return *quant_;
}

void Node::clearQuant() {
  if (quant_)
    graph_->destroyQuant(quant_);
  quant_ = nullptr;
}

//===----------------------------------------------------------------------===//
// Graph
//===----------------------------------------------------------------------===//

Graph::Graph(llvm::StringRef name) : name_(name.str()) {}

const Provenance *Graph::provenance(const Provenance &provenance) {
  if ((provenance.source.modulePath.empty() && provenance.source.moduleType.empty() &&
       provenance.source.file.empty() && provenance.source.line == 0 &&
       provenance.source.column == 0 && provenance.text.file.empty() && provenance.text.line == 0 &&
       provenance.text.column == 0))
    return &kNoProvenance;
  auto found = provenances_.find(&provenance);
  if (found != provenances_.end())
    return *found;
  const Provenance *record = new (allocator_.Allocate<Provenance>()) Provenance(provenance);
  provenances_.insert(record);
  return record;
}

Graph::~Graph() {
  // Operands point into other nodes, so destroy everything without touching
  // use lists; the allocator then releases the memory at once. Nodes created
  // but never linked are not reachable here: their memory goes with the
  // allocator, as unlinked nodes have no owner.
  for (Node *node = head_; node;) {
    Node *next = node->next_;
    for (Value *result : node->results_)
      result->~Value();
    if (node->quant_)
      node->quant_->~QuantAnnotation();
    node->~Node();
    node = next;
  }
  for (Value *value : inputs_)
    value->~Value();
  for (Value *value : parameters_)
    value->~Value();
}

// Every node and value of a graph is one of these: their size is most of a
// large graph's memory, and memory first touched costs a page fault per
// 4 KiB (a quarter of the quantization pipeline's time at a million nodes).
static_assert(sizeof(Value) <= 104, "keep Value small (see the comment above)");
static_assert(sizeof(Node) <= 192, "keep Node small (see the comment above)");

Value *Graph::newValue(Value::Kind kind, const Type &type, unsigned index) {
  void *memory;
  // A value fits in a released annotation's slot (104 and 128 bytes):
  // insert-fake-quant releases an annotation per node as it creates the
  // fake-quants, whose results take that memory instead of growing the
  // graph's. (Whichever of Node and Value fits takes the slot.)
  constexpr bool kValueFitsQuantSlot =
      sizeof(Value) <= sizeof(QuantAnnotation) && alignof(Value) <= alignof(QuantAnnotation);
  if (freeValues_) {
    memory = freeValues_;
    freeValues_ = freeValues_->next;
  } else if (kValueFitsQuantSlot && freeQuants_) {
    memory = freeQuants_;
    freeQuants_ = freeQuants_->next;
  } else {
    memory = allocator_.Allocate<Value>();
  }
  return new (memory) Value(this, kind, type, index);
}

void Graph::destroyValue(Value *value) {
  value->~Value();
  static_assert(sizeof(Value) >= sizeof(FreeSlot), "a free slot must fit in a Value");
  FreeSlot *slot = new (static_cast<void *>(value)) FreeSlot{freeValues_};
  freeValues_ = slot;
}

QuantAnnotation *Graph::newQuant() {
  void *memory;
  if (freeQuants_) {
    memory = freeQuants_;
    freeQuants_ = freeQuants_->next;
  } else {
    memory = allocator_.Allocate<QuantAnnotation>();
  }
  return new (memory) QuantAnnotation();
}

void Graph::destroyQuant(QuantAnnotation *quant) {
  quant->~QuantAnnotation();
  freeQuants_ = new (static_cast<void *>(quant)) FreeSlot{freeQuants_};
}

void Graph::destroyNode(Node *node) {
  for (Value *result : node->results_)
    destroyValue(result);
  if (node->quant_)
    destroyQuant(node->quant_);
  node->~Node();
  FreeSlot *slot = new (static_cast<void *>(node)) FreeSlot{freeNodes_};
  freeNodes_ = slot;
}

Value *Graph::addInput(llvm::StringRef name, Type type) {
  Value *value = newValue(Value::Kind::Input, type, static_cast<unsigned>(inputs_.size()));
  value->name_ = saveString(name);
  inputs_.push_back(value);
  return value;
}

Value *Graph::addParameter(llvm::StringRef name, Type type, bool isBuffer) {
  // One lookup: the key is the graph's copy of the name, saved first (a
  // refused name leaves its copy in the allocator; refusals are rare).
  llvm::StringRef saved = saveString(name);
  auto [entry, inserted] = parametersByName_.try_emplace(saved, nullptr);
  if (!inserted)
    return nullptr;
  Value *value = newValue(Value::Kind::Parameter, type, static_cast<unsigned>(parameters_.size()));
  value->name_ = saved;
  entry->second = value;
  value->isBuffer_ = isBuffer;
  parameters_.push_back(value);
  parameterData_.emplace_back();
  return value;
}

Value *Graph::parameter(llvm::StringRef name) const {
  auto it = parametersByName_.find(name);
  return it == parametersByName_.end() ? nullptr : it->second;
}

void Graph::eraseParameter(Value *parameter) {
  if (parameter->hasUses())
    llvm::report_fatal_error(llvm::Twine("qfx: erasing parameter '") + parameter->name() +
                             "' that has uses");
  parametersByName_.erase(parameter->name());
  parameterData_.erase(parameterData_.begin() + parameter->index_);
  parameters_.erase(parameters_.begin() + parameter->index_);
  for (unsigned i = 0, e = parameters_.size(); i != e; ++i)
    parameters_[i]->index_ = i;
  destroyValue(parameter);
}

void Graph::eraseParameters(llvm::ArrayRef<Value *> parameters) {
  if (parameters.empty())
    return;
  llvm::SmallPtrSet<Value *, 16> doomed;
  for (Value *parameter : parameters) {
    if (parameter->hasUses())
      llvm::report_fatal_error(llvm::Twine("qfx: erasing parameter '") + parameter->name() +
                               "' that has uses");
    doomed.insert(parameter);
    parametersByName_.erase(parameter->name());
  }
  // Compacts parameters and their contents together, in order.
  unsigned kept = 0;
  for (unsigned i = 0, e = parameters_.size(); i != e; ++i) {
    if (doomed.count(parameters_[i]))
      continue;
    parameters_[kept] = parameters_[i];
    parameterData_[kept] = std::move(parameterData_[i]);
    parameters_[kept]->index_ = kept;
    ++kept;
  }
  parameters_.resize(kept);
  parameterData_.resize(kept);
  for (Value *parameter : doomed)
    destroyValue(parameter);
}

void Graph::addOutput(Value *value) {
  outputs_.push_back(value);
  outputUseSlots_.push_back(value->addUse({nullptr, static_cast<unsigned>(outputs_.size() - 1)}));
}

void Graph::setOutput(unsigned index, Value *value) {
  Value *old = outputs_[index];
  if (old == value)
    return;
  old->removeUseAt(outputUseSlots_[index]);
  outputs_[index] = value;
  outputUseSlots_[index] = value->addUse({nullptr, index});
}

Node *Graph::createNode(const OpInfo *op, llvm::ArrayRef<Value *> operands,
                        llvm::ArrayRef<Type> resultTypes) {
  void *memory;
  // Released annotation slots serve nodes when a node fits (see newValue;
  // today the values fit and take them).
  constexpr bool kNodeFitsQuantSlot =
      sizeof(Node) <= sizeof(QuantAnnotation) && alignof(Node) <= alignof(QuantAnnotation);
  if (freeNodes_) {
    memory = freeNodes_;
    freeNodes_ = freeNodes_->next;
  } else if (kNodeFitsQuantSlot && freeQuants_) {
    memory = freeQuants_;
    freeQuants_ = freeQuants_->next;
  } else {
    memory = allocator_.Allocate<Node>();
  }
  if (nextNodeId_ > UINT32_MAX)
    llvm::report_fatal_error("qfx: more than 2^32 nodes created in one graph");
  Node *node = new (memory) Node(this, op, static_cast<uint32_t>(nextNodeId_++));
  node->operands_.reserve(operands.size());
  node->useSlots_.reserve(operands.size());
  for (Value *operand : operands)
    node->addOperand(operand);
  node->results_.reserve(resultTypes.size());
  for (unsigned i = 0, e = resultTypes.size(); i != e; ++i) {
    node->results_.push_back(newValue(Value::Kind::Result, resultTypes[i], i));
    node->results_.back()->producer_ = node;
  }
  return node;
}

void Graph::append(Node *node) {
  node->prev_ = tail_;
  node->next_ = nullptr;
  if (tail_)
    tail_->next_ = node;
  else
    head_ = node;
  tail_ = node;
  node->linked_ = true;
  ++numNodes_;
}

void Graph::insertBefore(Node *position, Node *node) {
  node->next_ = position;
  node->prev_ = position->prev_;
  if (position->prev_)
    position->prev_->next_ = node;
  else
    head_ = node;
  position->prev_ = node;
  node->linked_ = true;
  ++numNodes_;
}

void Graph::insertAfter(Node *position, Node *node) {
  if (!position->next_) {
    append(node);
    return;
  }
  insertBefore(position->next_, node);
}

void Graph::unlink(Node *node) {
  if (!node->linked_)
    return;
  if (node->prev_)
    node->prev_->next_ = node->next_;
  else
    head_ = node->next_;
  if (node->next_)
    node->next_->prev_ = node->prev_;
  else
    tail_ = node->prev_;
  node->prev_ = node->next_ = nullptr;
  node->linked_ = false;
  --numNodes_;
}

void Graph::erase(Node *node) {
  if (node->hasUsedResults())
    llvm::report_fatal_error(llvm::Twine("qfx: erasing node ") + node->describe() +
                             " whose results are used");
  for (unsigned i = 0, e = node->operands_.size(); i != e; ++i)
    node->operands_[i]->removeUseAt(node->useSlots_[i]);
  unlink(node);
  destroyNode(node);
}

} // namespace qfx
