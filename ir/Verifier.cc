//===- ir/Verifier.cc - Structural checks of a Graph ----------------------===//
//
// One walk over the node list records each node's position; a second checks
// every node (operands defined earlier, arity, results, required attributes,
// annotation size, parameter references) and counts how many operand and
// output slots name each value; a last pass over every value's use list
// checks that each use points back at a slot naming that value and that the
// counts agree. Everything is linear in the size of the graph (the verifier
// runs after every pass under --verify-each). All problems are reported, each
// at the node's text location and naming the node, with the fix where there
// is an obvious one.
//
//===----------------------------------------------------------------------===//
#include "ir/Verifier.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/Twine.h"

#include <algorithm>
#include <utility>

namespace qfx {

namespace {

class Verifier {
public:
  Verifier(const Graph &graph, DiagnosticEngine &diagnostics)
      : graph_(graph), diagnostics_(diagnostics) {}

  bool run();

private:
  void error(const Node *node, const llvm::Twine &message) {
    ++numErrors_;
    diagnostics_.error(node ? node->textLocation() : Location(), message);
  }
  void error(const Value *value, const llvm::Twine &message) {
    Node *producer = value->producer();
    error(producer && positions_.count(producer) ? producer : nullptr, message);
  }

  bool walkNodeList();
  void verifyNode(const Node *node, unsigned position);
  /// Checks that `value`, operand `index` of `user` at `position` (or, with a
  /// null user, graph output `index`, past the last node), is a value of this
  /// graph defined before that point.
  void verifyDefinedBefore(const Value *value, unsigned position, const Node *user, unsigned index);
  /// "operand #1 ('%x') of 'aten::add'" or "graph output #0 ('%y')": built
  /// only when there is an error to report.
  std::string describeSlot(const Value *value, const Node *user, unsigned index) const;
  void verifyArity(const Node *node);
  void verifyTensorRefs(const Node *node, const Attribute &attribute, llvm::StringRef key);
  void verifyUseLists();
  void verifyUses(const Value *value);
  void reportMissingUses();
  /// `'%name'`, or `result #i of <node>`, for messages.
  std::string describe(const Value *value) const;

  const Graph &graph_;
  DiagnosticEngine &diagnostics_;
  unsigned numErrors_ = 0;
  /// Program order of the nodes in the list.
  llvm::DenseMap<const Node *, unsigned> positions_;
  /// Operand and output slots naming values whose use lists are checked
  /// (inputs, parameters, results of listed nodes), and the distinct uses
  /// that point back at such a slot. Each such use matches one slot, so
  /// equal counts mean no slot lacks its use; only when they differ are the
  /// slots searched one by one.
  size_t numSlots_ = 0;
  size_t numMatchedUses_ = 0;
};

std::string Verifier::describe(const Value *value) const {
  if (!value->name().empty())
    return "'%" + value->name().str() + "'";
  switch (value->kind()) {
  case Value::Kind::Input:
    return "input #" + std::to_string(value->position());
  case Value::Kind::Parameter:
    return "parameter #" + std::to_string(value->position());
  case Value::Kind::Result:
    break;
  }
  Node *producer = value->producer();
  if (producer && positions_.count(producer))
    return "result #" + std::to_string(value->resultIndex()) + " of " + producer->describe();
  return "result #" + std::to_string(value->resultIndex()) + " of a node not in the graph";
}

bool Verifier::walkNodeList() {
  // A corrupt list may loop: stop at the first node seen twice.
  const Node *previous = nullptr;
  unsigned position = 0;
  for (const Node *node : graph_.nodes()) {
    if (!positions_.try_emplace(node, position).second) {
      error(node, "node " + node->describe() +
                      " appears twice in the node list (the list is cyclic); insert nodes "
                      "with Graph::append/insertBefore/insertAfter only");
      return false;
    }
    if (node->graph() != &graph_)
      error(node, "node " + node->describe() + " belongs to another graph");
    if (!node->isLinked())
      error(node, "node " + node->describe() + " is in the node list but marked unlinked");
    if (node->prev() != previous)
      error(node, "node " + node->describe() + " has a wrong 'prev' link in the node list");
    previous = node;
    ++position;
  }
  if (graph_.back() != previous)
    error(previous, llvm::Twine("the graph's last node is not the end of its node list"));
  if (position != graph_.numNodes())
    error(static_cast<const Node *>(nullptr), "the node list holds " + llvm::Twine(position) +
                                                  " nodes but the graph counts " +
                                                  llvm::Twine(graph_.numNodes()));
  return true;
}

std::string Verifier::describeSlot(const Value *value, const Node *user, unsigned index) const {
  std::string text = (user ? "operand #" : "graph output #") + std::to_string(index);
  if (value && value->graph() == &graph_)
    text += " (" + describe(value) + ")";
  if (user)
    text += " of " + user->describe();
  return text;
}

void Verifier::verifyDefinedBefore(const Value *value, unsigned position, const Node *user,
                                   unsigned index) {
  auto what = [&] { return describeSlot(value, user, index); };
  if (!value) {
    error(user, what() + " is null");
    return;
  }
  if (value->graph() != &graph_) {
    error(user, what() + " is a value of another graph; clone or import it into this graph");
    return;
  }
  switch (value->kind()) {
  case Value::Kind::Input: {
    llvm::ArrayRef<Value *> inputs = graph_.inputs();
    if (value->position() >= inputs.size() || inputs[value->position()] != value)
      error(user, what() + " is not an input of the graph");
    else
      ++numSlots_;
    return;
  }
  case Value::Kind::Parameter: {
    llvm::ArrayRef<Value *> parameters = graph_.parameters();
    if (value->position() >= parameters.size() || parameters[value->position()] != value)
      error(user, what() + " is a parameter that is no longer in the graph");
    else
      ++numSlots_;
    return;
  }
  case Value::Kind::Result:
    break;
  }
  const Node *producer = value->producer();
  auto it = producer ? positions_.find(producer) : positions_.end();
  if (it == positions_.end()) {
    error(user, what() + " is produced by a node that is not in the graph (erased, or created "
                         "but never inserted)");
    return;
  }
  // Its use list is checked (the producer is listed), whatever the order.
  ++numSlots_;
  if (it->second < position)
    return;
  if (producer == user)
    error(user, what() + " is a result of the node itself");
  else
    error(user, what() + " is used before it is defined: its producer " + producer->describe() +
                    " comes later in the graph; move the producer before its users");
}

void Verifier::verifyArity(const Node *node) {
  const OpInfo &op = node->op();
  unsigned numOperands = node->numOperands();
  bool tooFew = numOperands < static_cast<unsigned>(std::max<int>(op.minOperands, 0));
  bool tooMany = op.maxOperands >= 0 && numOperands > static_cast<unsigned>(op.maxOperands);
  if (tooFew || tooMany) {
    std::string expected;
    if (op.maxOperands < 0)
      expected = "at least " + std::to_string(op.minOperands);
    else if (op.minOperands == op.maxOperands)
      expected = std::to_string(op.minOperands);
    else
      expected = std::to_string(op.minOperands) + " to " + std::to_string(op.maxOperands);
    error(node, node->describe() + " takes " + expected + " operand" +
                    (op.maxOperands == 1 ? "" : "s") + " but has " + llvm::Twine(numOperands));
  }
  if (op.numResults >= 0 && node->numResults() != static_cast<unsigned>(op.numResults))
    error(node, node->describe() + " defines " + llvm::Twine(op.numResults) + " result" +
                    (op.numResults == 1 ? "" : "s") + " but has " +
                    llvm::Twine(node->numResults()));
  for (llvm::StringRef name : op.requiredAttributes())
    if (!node->hasAttribute(name))
      error(node, node->describe() + " requires attribute '" + name + "'");
}

void Verifier::verifyTensorRefs(const Node *node, const Attribute &attribute, llvm::StringRef key) {
  switch (attribute.kind()) {
  case Attribute::Kind::TensorRef:
    if (!graph_.parameter(attribute.getTensorRef()))
      error(node, node->describe() + " attribute '" + key + "' refers to '@" +
                      attribute.getTensorRef() +
                      "', which is not a parameter or buffer of the graph");
    return;
  case Attribute::Kind::List:
    for (const Attribute &element : attribute.getList())
      verifyTensorRefs(node, element, key);
    return;
  case Attribute::Kind::Dict:
    for (const NamedAttribute &entry : attribute.getDict())
      verifyTensorRefs(node, entry.second, key);
    return;
  default:
    return;
  }
}

void Verifier::verifyNode(const Node *node, unsigned position) {
  for (unsigned i = 0, e = node->numResults(); i != e; ++i) {
    const Value *result = node->result(i);
    if (result->producer() != node || result->resultIndex() != i || !result->isResult() ||
        result->graph() != &graph_)
      error(node, "result #" + llvm::Twine(i) + " of " + node->describe() +
                      " does not record this node as its producer at that index");
  }
  for (unsigned i = 0, e = node->numOperands(); i != e; ++i)
    verifyDefinedBefore(node->operand(i), position, node, i);
  verifyArity(node);
  if (const QuantAnnotation *quant = node->quant()) {
    if (quant->inputs.size() != node->numOperands())
      error(node, "the quant annotation of " + node->describe() + " has " +
                      llvm::Twine(quant->inputs.size()) + " input spec" +
                      (quant->inputs.size() == 1 ? "" : "s") + " but the node has " +
                      llvm::Twine(node->numOperands()) + " operand" +
                      (node->numOperands() == 1 ? "" : "s") +
                      "; give one spec (or none) per operand");
    if (quant->hasGroups() && quant->inputGroups.size() != node->numOperands())
      error(node, "the quant annotation of " + node->describe() + " has " +
                      llvm::Twine(quant->inputGroups.size()) +
                      " observer groups but the node has " + llvm::Twine(node->numOperands()) +
                      " operands; give one group (or -1) per " + "operand");
  }
  for (const NamedAttribute &entry : node->attributes())
    verifyTensorRefs(node, entry.second, entry.first);
}

void Verifier::verifyUses(const Value *value) {
  llvm::ArrayRef<Value *> outputs = graph_.outputs();
  // Uses that point back at a slot naming this value.
  llvm::SmallVector<std::pair<const Node *, unsigned>, 4> valid;
  for (const Use &use : value->uses()) {
    if (use.isGraphOutput()) {
      if (use.operandIndex < outputs.size() && outputs[use.operandIndex] == value)
        valid.emplace_back(nullptr, use.operandIndex);
      else
        error(value, "the use list of " + describe(value) + " names graph output #" +
                         llvm::Twine(use.operandIndex) +
                         ", which is not this value; update outputs with Graph::setOutput");
      continue;
    }
    // Never dereference a user that is not in the list: it may be gone.
    if (!positions_.count(use.user)) {
      error(value, "the use list of " + describe(value) +
                       " names a node that is not in the graph (erased without dropping "
                       "its operands?)");
      continue;
    }
    if (use.operandIndex < use.user->numOperands() && use.user->operand(use.operandIndex) == value)
      valid.emplace_back(use.user, use.operandIndex);
    else
      error(value, "the use list of " + describe(value) + " names operand #" +
                       llvm::Twine(use.operandIndex) + " of " + use.user->describe() +
                       ", which is not this value; change operands with Node::setOperand");
  }
  size_t distinct = valid.size();
  if (valid.size() > 1) {
    // Sorting finds duplicates in O(u log u) however many uses there are.
    std::sort(valid.begin(), valid.end());
    for (size_t i = 1, e = valid.size(); i < e; ++i) {
      if (valid[i] != valid[i - 1])
        continue;
      error(value, "the use list of " + describe(value) + " holds the same use twice");
      --distinct;
    }
  }
  numMatchedUses_ += distinct;
}

void Verifier::reportMissingUses() {
  if (numMatchedUses_ == numSlots_)
    return;
  // Rare (a corrupted graph): index every use once and look each slot up.
  llvm::DenseSet<std::pair<const Node *, std::pair<const Value *, unsigned>>> uses;
  llvm::DenseSet<const Value *> checked;
  auto indexUses = [&](const Value *value) {
    checked.insert(value);
    for (const Use &use : value->uses())
      uses.insert({use.user, {value, use.operandIndex}});
  };
  for (const Value *input : graph_.inputs())
    indexUses(input);
  for (const Value *parameter : graph_.parameters())
    indexUses(parameter);
  for (const Node *node : graph_.nodes())
    for (unsigned i = 0, e = node->numResults(); i != e; ++i)
      indexUses(node->result(i));
  for (const Node *node : graph_.nodes()) {
    for (unsigned i = 0, e = node->numOperands(); i != e; ++i) {
      const Value *operand = node->operand(i);
      if (checked.count(operand) && !uses.count({node, {operand, i}}))
        error(node, describeSlot(operand, node, i) +
                        " is missing from its value's use list; set operands with "
                        "Node::setOperand/addOperand, never behind the graph's back");
    }
  }
  llvm::ArrayRef<Value *> outputs = graph_.outputs();
  for (unsigned i = 0, e = outputs.size(); i != e; ++i)
    if (checked.count(outputs[i]) && !uses.count({nullptr, {outputs[i], i}}))
      error(static_cast<const Node *>(nullptr),
            describeSlot(outputs[i], nullptr, i) +
                " is missing from its value's use list; set outputs with "
                "Graph::addOutput/setOutput");
}

void Verifier::verifyUseLists() {
  for (const Value *input : graph_.inputs())
    verifyUses(input);
  for (const Value *parameter : graph_.parameters())
    verifyUses(parameter);
  for (const Node *node : graph_.nodes())
    for (unsigned i = 0, e = node->numResults(); i != e; ++i)
      verifyUses(node->result(i));
  reportMissingUses();
}

bool Verifier::run() {
  // Inputs and parameters must know their graph and position: operands are
  // checked against those.
  for (unsigned i = 0, e = graph_.inputs().size(); i != e; ++i) {
    const Value *input = graph_.inputs()[i];
    if (input->graph() != &graph_ || !input->isInput() || input->position() != i)
      error(static_cast<const Node *>(nullptr),
            "graph input #" + llvm::Twine(i) + " does not record this graph and position");
  }
  for (unsigned i = 0, e = graph_.parameters().size(); i != e; ++i) {
    const Value *parameter = graph_.parameters()[i];
    if (parameter->graph() != &graph_ || !parameter->isParameter() || parameter->position() != i)
      error(static_cast<const Node *>(nullptr), "parameter #" + llvm::Twine(i) + " ('%" +
                                                    parameter->name() +
                                                    "') does not record this graph and position");
  }

  positions_.reserve(graph_.numNodes());
  // A cyclic node list makes every later walk endless: stop there.
  if (!walkNodeList())
    return false;
  unsigned position = 0;
  for (const Node *node : graph_.nodes())
    verifyNode(node, position++);

  llvm::ArrayRef<Value *> outputs = graph_.outputs();
  for (unsigned i = 0, e = outputs.size(); i != e; ++i)
    verifyDefinedBefore(outputs[i], position, nullptr, i);

  verifyUseLists();
  return numErrors_ == 0;
}

} // namespace

bool verifyGraph(const Graph &graph, DiagnosticEngine &diagnostics) {
  return Verifier(graph, diagnostics).run();
}

} // namespace qfx
