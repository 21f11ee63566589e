//===- ir/Graph.h - The FX-like graph: Graph, Node, Value -----------------===//
//
// qfx's one IR. A Graph holds its inputs (placeholders), named parameters and
// buffers (FX's get_attr targets), a topologically ordered list of Nodes and
// its outputs. A Node is one op application: an OpInfo, operand Values, result
// Values, attributes, where it came from (module path and type, source
// location) and, once annotated, its quantization specs. Every Value knows its
// uses, so replace-all-uses and erase cost O(uses); inserting before or after
// a node is O(1). Graph outputs are uses too (with a null user), so rewrites
// that replace a value also update what the graph returns. The Graph owns
// the storage of its Nodes and Values: they come from a bump allocator with
// free lists (an erased node's memory serves the next one created), because
// one heap allocation per node and per value was the largest cost of passes
// that rewrite million-node graphs, and nodes created one after another
// then sit next to each other in memory. Quantization annotations come from
// the same storage.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Attribute.h"
#include "ir/Diagnostics.h"
#include "ir/OpInfo.h"
#include "ir/TensorData.h"
#include "ir/Type.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/iterator_range.h"
#include "llvm/Support/Allocator.h"
#include "llvm/Support/StringSaver.h"

#include <cstdint>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

namespace qfx {

class Graph;
class Node;

/// One use of a Value: operand `operandIndex` of `user`, or, when `user` is
/// null, graph output number `operandIndex`.
struct Use {
  Node *user;
  unsigned operandIndex;
  bool isGraphOutput() const { return user == nullptr; }
};

class Value {
public:
  enum class Kind : uint8_t { Input, Parameter, Result };

  Kind kind() const { return kind_; }
  bool isInput() const { return kind_ == Kind::Input; }
  bool isParameter() const { return kind_ == Kind::Parameter; }
  bool isResult() const { return kind_ == Kind::Result; }

  const Type &type() const { return type_; }
  void setType(Type type) { type_ = std::move(type); }

  /// Inputs and parameters have names (parameters: the qualified name such as
  /// `layer1.0.conv1.weight`). Results may carry a name hint; the printer
  /// numbers the rest.
  llvm::StringRef name() const { return name_; }
  /// The text is copied into the graph's string storage.
  void setName(llvm::StringRef name);

  /// The node defining this result; null for inputs and parameters.
  Node *producer() const { return producer_; }
  unsigned resultIndex() const { return index_; }
  /// Position among the graph inputs or parameters.
  unsigned position() const { return index_; }
  Graph *graph() const { return graph_; }

  // Parameters only.
  bool isBuffer() const { return isBuffer_; }
  /// The contents of a parameter or buffer (null when the graph has only
  /// its type); always null for inputs and results.
  inline const std::shared_ptr<const TensorData> &data() const;
  /// Parameters only: the graph keeps the contents beside its parameter
  /// list, not in every value (a result has none, and results are most
  /// values).
  void setData(std::shared_ptr<const TensorData> data);

  llvm::ArrayRef<Use> uses() const { return uses_; }
  bool hasUses() const { return !uses_.empty(); }
  size_t numUses() const { return uses_.size(); }
  /// Redirects every use (operands and graph outputs) to `replacement`.
  /// O(number of uses).
  void replaceAllUsesWith(Value *replacement);

private:
  friend class Graph;
  friend class Node;
  Value(Graph *graph, Kind kind, const Type &type, unsigned index)
      : graph_(graph), type_(type), kind_(kind), index_(index) {}
  ~Value() = default;
  /// Appends `use` and returns its slot in the use list; the user keeps the
  /// slot so that removing the use is O(1) (see Node::useSlots_).
  unsigned addUse(Use use) {
    uses_.push_back(use);
    return static_cast<unsigned>(uses_.size() - 1);
  }
  /// Removes the use at `slot` by moving the last use into it.
  void removeUseAt(unsigned slot);
  /// Where the use `use` records its slot (in its node or in the graph).
  unsigned &slotOf(const Use &use) const;

  Graph *graph_;
  Node *producer_ = nullptr;
  Type type_;
  /// Graph-owned text (Graph::saveString): names are set once, and a
  /// std::string per value allocated for every qualified parameter name.
  llvm::StringRef name_;
  Kind kind_;
  bool isBuffer_ = false;
  unsigned index_;
  /// Most values have one or two uses; those stay inline.
  llvm::SmallVector<Use, 2> uses_;
};

/// Quantization specs attached to a node by the annotate pass. A spec is an
/// Attribute dictionary (see the quantization spec model); a none Attribute
/// means "explicitly not quantized".
/// Annotation entries kept inline for the usual operand counts (most nodes
/// have at most three operands): an annotation costs no heap allocation.
using QuantEntryList = llvm::SmallVector<Attribute, 3>;
using QuantGroupList = llvm::SmallVector<int64_t, 3>;

struct QuantAnnotation {
  /// One entry per operand.
  QuantEntryList inputs;
  /// Spec of result 0.
  Attribute output;
  /// Observer groups assigned by share-observers: one per operand and one
  /// for the output, -1 where not quantized. Empty until grouped; values
  /// (or edges) in one group share one observer, hence one set of qparams.
  QuantGroupList inputGroups;
  int64_t outputGroup = -1;
  bool hasGroups() const { return !inputGroups.empty(); }
};

/// Where a node came from in the user's model.
struct SourceInfo {
  llvm::StringRef modulePath; // `layer1.0.conv1`; empty at top level
  llvm::StringRef moduleType; // `torch.nn.modules.conv.Conv2d`
  llvm::StringRef file;       // source file of the model
  unsigned line = 0;
  unsigned column = 0;
};

/// A node's provenance: where it came from in the model and where it was
/// written in IR text. Graph-owned and shared: nodes with equal provenance
/// (every node a pass creates on behalf of another, every node of one module
/// line) point to one record, which keeps 80 bytes out of every node.
struct Provenance {
  SourceInfo source;
  Location text;
};

/// Hashing of Provenance records by contents (strings by identity) for the
/// graph's record set.
struct ProvenanceInfo {
  static const Provenance *getEmptyKey() {
    return llvm::DenseMapInfo<const Provenance *>::getEmptyKey();
  }
  static const Provenance *getTombstoneKey() {
    return llvm::DenseMapInfo<const Provenance *>::getTombstoneKey();
  }
  static unsigned getHashValue(const Provenance *provenance);
  static bool isEqual(const Provenance *a, const Provenance *b);
};

class Node {
public:
  const OpInfo &op() const { return *op_; }
  /// Makes the node an application of `op`, keeping its operands, results
  /// (and their uses), attributes and provenance: a lowering that turns an
  /// op into another with the same results rewrites it in place instead of
  /// creating a node, rerouting the uses and erasing the old one
  /// (lower-to-qdq does this for millions of fake-quants). The caller makes
  /// operands and attributes right for `op`.
  void setOp(const OpInfo &op) { op_ = &op; }
  llvm::StringRef opName() const { return op_->name; }
  /// Unique within the graph, increasing in creation order. Use it for
  /// deterministic ordering in maps, never for program order.
  uint64_t id() const { return id_; }
  Graph *graph() const { return graph_; }

  // Operands.
  llvm::ArrayRef<Value *> operands() const { return operands_; }
  unsigned numOperands() const { return operands_.size(); }
  Value *operand(unsigned index) const { return operands_[index]; }
  void setOperand(unsigned index, Value *value);
  void addOperand(Value *value);
  /// Removes operand `index`; later operands shift down (their uses are
  /// renumbered, O(operands + their uses)).
  void eraseOperand(unsigned index);

  // Results.
  unsigned numResults() const { return results_.size(); }
  Value *result(unsigned index = 0) const { return results_[index]; }
  bool hasUsedResults() const;

  // Attributes, in insertion order (the printer keeps that order).
  const AttributeDict &attributes() const {
    return sharedAttributes_ ? *sharedAttributes_ : attributes_;
  }
  const Attribute *attribute(llvm::StringRef name) const;
  bool hasAttribute(llvm::StringRef name) const { return attribute(name) != nullptr; }
  /// An AttributeKey constant as `name` costs no key interning (hot loops
  /// that set one key on many nodes keep one).
  void setAttribute(AttributeKey name, Attribute value);
  /// Replaces all attributes at once (keys must be unique): O(attributes),
  /// where setAttribute per key would be quadratic for large dictionaries.
  void setAttributes(AttributeDict attributes) {
    sharedAttributes_.reset();
    attributes_ = std::move(attributes);
  }
  /// Gives the node a dictionary other nodes share, without copying it (a
  /// pass that makes many nodes with equal attributes builds them once).
  /// The first change through setAttribute/removeAttribute copies it.
  void shareAttributes(std::shared_ptr<const AttributeDict> attributes) {
    // Releases the own storage too (clear() would keep its capacity: a node
    // rewritten in place would hold its old dictionary's memory forever).
    AttributeDict().swap(attributes_);
    sharedAttributes_ = std::move(attributes);
  }
  bool removeAttribute(llvm::StringRef name);

  // Provenance.
  const SourceInfo &source() const { return provenance_->source; }
  void setModule(llvm::StringRef path, llvm::StringRef type);
  void setSourceLocation(llvm::StringRef file, unsigned line, unsigned column);
  /// Module, source location and text location of `other` (a node of any
  /// graph). Within one graph the strings are shared, not interned again:
  /// passes that create nodes on behalf of others call this per new node.
  void copyProvenance(const Node &other);
  /// Where this node was written in the IR text it was parsed from (unknown
  /// for nodes created by passes); diagnostics point there.
  const Location &textLocation() const { return provenance_->text; }
  void setTextLocation(Location location);
  /// `aten::conv2d` at module `layer1.0.conv1` (model.py:12:5): for messages.
  std::string describe() const;

  // Quantization annotation (null until annotated).
  const QuantAnnotation *quant() const { return quant_; }
  QuantAnnotation &getOrCreateQuant();
  void clearQuant();

  // Position in the graph's node list.
  Node *prev() const { return prev_; }
  Node *next() const { return next_; }
  bool isLinked() const { return linked_; }

private:
  friend class Graph;
  friend class Value;
  /// Makes a shared dictionary the node's own before a change.
  void unshareAttributes() {
    if (sharedAttributes_) {
      attributes_ = *sharedAttributes_;
      sharedAttributes_.reset();
    }
  }
  Node(Graph *graph, const OpInfo *op, uint32_t id);
  ~Node() = default;

  Graph *graph_;
  const OpInfo *op_;
  /// 32 bits, beside linked_ in one word: a graph of 2^32 nodes would not
  /// fit in memory (createNode checks).
  uint32_t id_;
  bool linked_ = false;
  Node *prev_ = nullptr;
  Node *next_ = nullptr;
  llvm::SmallVector<Value *, 3> operands_;
  /// useSlots_[i]: position of this node's use of operand i in that operand's
  /// use list, so setOperand and erase never search a use list (a value with
  /// many users would make that quadratic).
  llvm::SmallVector<unsigned, 3> useSlots_;
  /// Owned: allocated and destroyed by the graph with the node.
  llvm::SmallVector<Value *, 1> results_;
  /// Own attributes, unless sharedAttributes_ is set (copy on write).
  AttributeDict attributes_;
  std::shared_ptr<const AttributeDict> sharedAttributes_;
  /// Graph-owned and shared (Graph::provenance); never null.
  const Provenance *provenance_;
  /// Owned; from the graph's storage like nodes (annotate gives most nodes
  /// one, insert-fake-quant clears them all).
  QuantAnnotation *quant_ = nullptr;
};

/// Forward iterator over a graph's nodes. Safe to erase the *current* node
/// only through llvm::make_early_inc_range.
class NodeIterator {
public:
  using iterator_category = std::forward_iterator_tag;
  using value_type = Node *;
  using difference_type = std::ptrdiff_t;
  using pointer = Node **;
  using reference = Node *;

  explicit NodeIterator(Node *node = nullptr) : node_(node) {}
  Node *operator*() const { return node_; }
  NodeIterator &operator++() {
    node_ = node_->next();
    return *this;
  }
  NodeIterator operator++(int) {
    NodeIterator old = *this;
    ++*this;
    return old;
  }
  bool operator==(const NodeIterator &other) const { return node_ == other.node_; }
  bool operator!=(const NodeIterator &other) const { return node_ != other.node_; }

private:
  Node *node_;
};

class Graph {
public:
  explicit Graph(llvm::StringRef name = "main");
  ~Graph();
  Graph(const Graph &) = delete;
  Graph &operator=(const Graph &) = delete;

  llvm::StringRef name() const { return name_; }
  void setName(llvm::StringRef name) { name_ = name.str(); }

  // Inputs (placeholders).
  Value *addInput(llvm::StringRef name, Type type);
  llvm::ArrayRef<Value *> inputs() const { return inputs_; }

  // Parameters and buffers, by qualified name.
  /// Returns null if a parameter of that name exists already.
  Value *addParameter(llvm::StringRef name, Type type, bool isBuffer = false);
  Value *parameter(llvm::StringRef name) const;
  /// Makes room for `count` more parameters, so a pass that adds many (a
  /// buffer per quantized weight) does not rehash the name index as it goes.
  void reserveParameters(size_t count) {
    parameters_.reserve(parameters_.size() + count);
    parameterData_.reserve(parameterData_.size() + count);
    parametersByName_.reserve(parametersByName_.size() + count);
  }
  llvm::ArrayRef<Value *> parameters() const { return parameters_; }
  /// Removes an unused parameter. O(parameters): to remove many, use
  /// eraseParameters.
  void eraseParameter(Value *parameter);
  /// Removes several unused parameters at once, keeping the order of the
  /// rest. O(parameters + removed).
  void eraseParameters(llvm::ArrayRef<Value *> parameters);

  // Outputs.
  llvm::ArrayRef<Value *> outputs() const { return outputs_; }
  void addOutput(Value *value);
  void setOutput(unsigned index, Value *value);

  // Nodes.
  /// Creates a node that is not yet in the node list; link it with
  /// append/insertBefore/insertAfter. Result types are given here.
  Node *createNode(const OpInfo *op, llvm::ArrayRef<Value *> operands,
                   llvm::ArrayRef<Type> resultTypes);
  Node *createNode(llvm::StringRef opName, llvm::ArrayRef<Value *> operands,
                   llvm::ArrayRef<Type> resultTypes) {
    return createNode(lookupOp(opName), operands, resultTypes);
  }
  void append(Node *node);
  void insertBefore(Node *position, Node *node);
  void insertAfter(Node *position, Node *node);
  /// Unlinks and destroys `node`. Its results must have no uses left.
  void erase(Node *node);

  NodeIterator begin() const { return NodeIterator(head_); }
  NodeIterator end() const { return NodeIterator(nullptr); }
  llvm::iterator_range<NodeIterator> nodes() const { return {begin(), end()}; }
  Node *front() const { return head_; }
  Node *back() const { return tail_; }
  size_t numNodes() const { return numNodes_; }
  /// Every node id is below this bound (ids of erased nodes count too):
  /// the size of tables indexed by node id.
  uint64_t nodeIdBound() const { return nextNodeId_; }
  bool empty() const { return numNodes_ == 0; }

  /// Interned copy of `text`, alive as long as the graph (module paths,
  /// file names and other strings repeated across many nodes).
  llvm::StringRef intern(llvm::StringRef text) { return strings_.save(text); }
  /// Copy of `text`, alive as long as the graph, without the interning hash
  /// lookup (for strings that are mostly distinct, such as value names).
  llvm::StringRef saveString(llvm::StringRef text) { return names_.save(text); }
  /// The graph's record equal to `provenance` (created on first use). Its
  /// strings must be this graph's (intern) or outlive it (text locations).
  /// Strings compare by identity, not contents.
  const Provenance *provenance(const Provenance &provenance);

private:
  friend class Value;
  friend class Node;
  void unlink(Node *node);
  /// Node and Value storage: from the free lists when they are not empty,
  /// else from allocator_. Destroying runs the destructor and pushes the
  /// memory on the free list.
  Value *newValue(Value::Kind kind, const Type &type, unsigned index);
  void destroyValue(Value *value);
  void destroyNode(Node *node);
  QuantAnnotation *newQuant();
  void destroyQuant(QuantAnnotation *quant);

  /// A recycled Node or Value slot.
  struct FreeSlot {
    FreeSlot *next;
  };

  std::string name_;
  std::vector<Value *> inputs_;
  std::vector<Value *> parameters_;
  /// parameterData_[i]: the contents of parameters_[i] (see Value::data).
  std::vector<std::shared_ptr<const TensorData>> parameterData_;
  /// Keys are the parameters' graph-owned names.
  llvm::DenseMap<llvm::StringRef, Value *> parametersByName_;
  std::vector<Value *> outputs_;
  std::vector<unsigned> outputUseSlots_; // as Node::useSlots_, for outputs
  Node *head_ = nullptr;
  Node *tail_ = nullptr;
  size_t numNodes_ = 0;
  uint64_t nextNodeId_ = 0;
  llvm::BumpPtrAllocator allocator_;
  llvm::UniqueStringSaver strings_{allocator_};
  llvm::StringSaver names_{allocator_};
  FreeSlot *freeNodes_ = nullptr;
  FreeSlot *freeValues_ = nullptr;
  FreeSlot *freeQuants_ = nullptr;
  /// Distinct provenance records, from allocator_.
  llvm::DenseSet<const Provenance *, ProvenanceInfo> provenances_;
};

inline const std::shared_ptr<const TensorData> &Value::data() const {
  static const std::shared_ptr<const TensorData> kNoData;
  return isParameter() ? graph_->parameterData_[index_] : kNoData;
}

} // namespace qfx
