//===- runtime/interpreter/GraphCopy.cc - Deep copies of a Graph ----------===//
//
// One pass over inputs, parameters and nodes with a value map; nodes are
// appended in order, so every operand is mapped before it is used.
//
//===----------------------------------------------------------------------===//
#include "runtime/interpreter/GraphCopy.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/SmallVector.h"

namespace qfx {

std::unique_ptr<Graph> copyGraph(const Graph &graph) {
  auto copy = std::make_unique<Graph>(graph.name());
  llvm::DenseMap<const Value *, Value *> map;
  for (const Value *input : graph.inputs())
    map[input] = copy->addInput(input->name(), input->type());
  for (const Value *parameter : graph.parameters()) {
    Value *value = copy->addParameter(parameter->name(), parameter->type(), parameter->isBuffer());
    value->setData(parameter->data());
    map[parameter] = value;
  }
  for (const Node *node : graph.nodes()) {
    llvm::SmallVector<Value *, 4> operands;
    for (const Value *operand : node->operands())
      operands.push_back(map.lookup(operand));
    llvm::SmallVector<Type, 1> resultTypes;
    for (unsigned i = 0; i < node->numResults(); ++i)
      resultTypes.push_back(node->result(i)->type());
    Node *clone = copy->createNode(&node->op(), operands, resultTypes);
    for (unsigned i = 0; i < node->numResults(); ++i) {
      clone->result(i)->setName(node->result(i)->name());
      map[node->result(i)] = clone->result(i);
    }
    clone->setAttributes(node->attributes());
    const SourceInfo &source = node->source();
    clone->setModule(source.modulePath, source.moduleType);
    if (source.line != 0)
      clone->setSourceLocation(source.file, source.line, source.column);
    Location location = node->textLocation();
    location.file = copy->intern(location.file); // the original's strings may die first
    clone->setTextLocation(location);
    if (const QuantAnnotation *quant = node->quant())
      clone->getOrCreateQuant() = *quant;
    copy->append(clone);
  }
  for (const Value *output : graph.outputs())
    copy->addOutput(map.lookup(output));
  return copy;
}

} // namespace qfx
