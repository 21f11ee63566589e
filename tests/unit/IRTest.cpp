//===- tests/unit/IRTest.cpp - Graph, Node and Value API ------------------===//
//
// Unit tests of the in-memory IR that passes build on: use lists kept in step
// with operands and graph outputs through every mutation (setOperand,
// addOperand, eraseOperand, replaceAllUsesWith, erase), node list surgery,
// attributes, parameters and annotations. After each mutation the verifier
// cross-checks the use lists, so these tests also pin down what it accepts.
//
//===----------------------------------------------------------------------===//
#include "ir/Graph.h"
#include "ir/Printer.h"
#include "ir/Verifier.h"

#include "gtest/gtest.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

using namespace qfx;

namespace {

Type f32(std::initializer_list<int64_t> shape) {
  return Type::rankedTensor(DType::F32, llvm::ArrayRef<int64_t>(shape.begin(), shape.size()));
}

/// Verifies `graph`, returning the messages (empty when well formed).
std::vector<std::string> verify(const Graph &graph) {
  std::vector<std::string> messages;
  DiagnosticEngine diagnostics;
  diagnostics.setHandler([&](const Diagnostic &d) { messages.push_back(d.message); });
  bool ok = verifyGraph(graph, diagnostics);
  EXPECT_EQ(ok, messages.empty());
  return messages;
}

bool hasUse(const Value *value, const Node *user, unsigned index) {
  return std::any_of(value->uses().begin(), value->uses().end(),
                     [&](const Use &use) { return use.user == user && use.operandIndex == index; });
}

std::vector<std::string> opNames(const Graph &graph) {
  std::vector<std::string> names;
  for (const Node *node : graph.nodes())
    names.push_back(node->opName().str());
  return names;
}

/// x -> relu -> sigmoid -> add(relu, sigmoid) -> output.
struct Chain {
  Graph graph{"chain"};
  Value *x;
  Node *relu, *sigmoid, *add;

  Chain() {
    x = graph.addInput("x", f32({4}));
    relu = graph.createNode("aten::relu", {x}, {f32({4})});
    graph.append(relu);
    sigmoid = graph.createNode("aten::sigmoid", {relu->result()}, {f32({4})});
    graph.append(sigmoid);
    add = graph.createNode("aten::add", {relu->result(), sigmoid->result()}, {f32({4})});
    graph.append(add);
    graph.addOutput(add->result());
  }
};

TEST(IRTest, CreateNodeRecordsUsesAndProducers) {
  Chain c;
  EXPECT_TRUE(verify(c.graph).empty());
  EXPECT_EQ(c.graph.numNodes(), 3u);
  EXPECT_EQ(c.relu->result()->producer(), c.relu);
  EXPECT_EQ(c.relu->result()->resultIndex(), 0u);
  EXPECT_TRUE(c.relu->result()->isResult());
  EXPECT_EQ(c.x->numUses(), 1u);
  EXPECT_TRUE(hasUse(c.x, c.relu, 0));
  EXPECT_EQ(c.relu->result()->numUses(), 2u);
  EXPECT_TRUE(hasUse(c.relu->result(), c.sigmoid, 0));
  EXPECT_TRUE(hasUse(c.relu->result(), c.add, 0));
  // Graph outputs are uses with a null user.
  ASSERT_EQ(c.add->result()->numUses(), 1u);
  EXPECT_TRUE(c.add->result()->uses()[0].isGraphOutput());
  EXPECT_EQ(c.add->result()->uses()[0].operandIndex, 0u);
  EXPECT_EQ(c.relu->op().code, OpCode::Relu);
  EXPECT_TRUE(c.relu->op().has(optrait::Activation));
}

TEST(IRTest, NodeIdsIncreaseInCreationOrder) {
  Chain c;
  EXPECT_LT(c.relu->id(), c.sigmoid->id());
  EXPECT_LT(c.sigmoid->id(), c.add->id());
}

TEST(IRTest, SetOperandMovesTheUse) {
  Chain c;
  c.add->setOperand(1, c.x);
  EXPECT_TRUE(hasUse(c.x, c.add, 1));
  EXPECT_FALSE(hasUse(c.sigmoid->result(), c.add, 1));
  EXPECT_FALSE(c.sigmoid->result()->hasUses());
  EXPECT_TRUE(verify(c.graph).empty());
  // Setting the same value again changes nothing.
  c.add->setOperand(1, c.x);
  EXPECT_EQ(c.x->numUses(), 2u);
  EXPECT_TRUE(verify(c.graph).empty());
}

TEST(IRTest, SameValueTwiceHasTwoUses) {
  Graph graph;
  Value *x = graph.addInput("x", f32({4}));
  Node *mul = graph.createNode("aten::mul", {x, x}, {f32({4})});
  graph.append(mul);
  graph.addOutput(mul->result());
  EXPECT_EQ(x->numUses(), 2u);
  EXPECT_TRUE(hasUse(x, mul, 0));
  EXPECT_TRUE(hasUse(x, mul, 1));
  EXPECT_TRUE(verify(graph).empty());
}

TEST(IRTest, AddOperandAppendsAUse) {
  Chain c;
  Node *cat = c.graph.createNode("aten::cat", {c.x}, {f32({8})});
  cat->setAttribute("dim", Attribute::integer(0));
  c.graph.insertAfter(c.add, cat);
  cat->addOperand(c.add->result());
  EXPECT_EQ(cat->numOperands(), 2u);
  EXPECT_TRUE(hasUse(c.add->result(), cat, 1));
  EXPECT_TRUE(verify(c.graph).empty());
}

TEST(IRTest, EraseOperandRenumbersLaterUses) {
  Graph graph;
  Value *a = graph.addInput("a", f32({4}));
  Value *b = graph.addInput("b", f32({4}));
  Value *c = graph.addInput("c", f32({4}));
  Node *cat = graph.createNode("aten::cat", {a, b, c, b}, {f32({16})});
  cat->setAttribute("dim", Attribute::integer(0));
  graph.append(cat);
  graph.addOutput(cat->result());
  QuantAnnotation &quant = cat->getOrCreateQuant();
  quant.inputs = {Attribute::integer(0), Attribute::integer(1), Attribute::integer(2),
                  Attribute::integer(3)};

  cat->eraseOperand(1);
  ASSERT_EQ(cat->numOperands(), 3u);
  EXPECT_EQ(cat->operand(0), a);
  EXPECT_EQ(cat->operand(1), c);
  EXPECT_EQ(cat->operand(2), b);
  EXPECT_TRUE(hasUse(c, cat, 1));
  EXPECT_TRUE(hasUse(b, cat, 2));
  EXPECT_EQ(b->numUses(), 1u);
  // The annotation keeps one spec per operand.
  ASSERT_EQ(cat->quant()->inputs.size(), 3u);
  EXPECT_EQ(cat->quant()->inputs[1], Attribute::integer(2));
  EXPECT_TRUE(verify(graph).empty());
}

TEST(IRTest, ReplaceAllUsesWithUpdatesOperandsAndOutputs) {
  Chain c;
  // Replace the add (a graph output) with the relu.
  c.add->result()->replaceAllUsesWith(c.relu->result());
  EXPECT_EQ(c.graph.outputs()[0], c.relu->result());
  EXPECT_FALSE(c.add->result()->hasUses());
  EXPECT_EQ(c.relu->result()->numUses(), 3u);
  EXPECT_TRUE(verify(c.graph).empty());

  // Replace relu everywhere with the input.
  c.relu->result()->replaceAllUsesWith(c.x);
  EXPECT_EQ(c.graph.outputs()[0], c.x);
  EXPECT_EQ(c.sigmoid->operand(0), c.x);
  EXPECT_EQ(c.add->operand(0), c.x);
  EXPECT_FALSE(c.relu->result()->hasUses());
  EXPECT_TRUE(verify(c.graph).empty());

  // Replacing a value with itself is a no-op.
  c.x->replaceAllUsesWith(c.x);
  EXPECT_EQ(c.x->numUses(), 4u);
  EXPECT_TRUE(verify(c.graph).empty());
}

TEST(IRTest, EraseNodeDropsItsOperandUses) {
  Chain c;
  c.add->result()->replaceAllUsesWith(c.sigmoid->result());
  c.graph.erase(c.add);
  EXPECT_EQ(c.graph.numNodes(), 2u);
  EXPECT_EQ(c.relu->result()->numUses(), 1u);
  EXPECT_EQ(c.sigmoid->result()->numUses(), 1u); // the graph output
  EXPECT_EQ(c.graph.back(), c.sigmoid);
  EXPECT_EQ(c.sigmoid->next(), nullptr);
  EXPECT_TRUE(verify(c.graph).empty());
}

TEST(IRTest, EraseFirstAndOnlyNodes) {
  Graph graph;
  Value *x = graph.addInput("x", f32({4}));
  Node *a = graph.createNode("aten::relu", {x}, {f32({4})});
  graph.append(a);
  graph.addOutput(x);
  graph.erase(a);
  EXPECT_TRUE(graph.empty());
  EXPECT_EQ(graph.front(), nullptr);
  EXPECT_EQ(graph.back(), nullptr);
  EXPECT_EQ(x->numUses(), 1u);
  EXPECT_TRUE(verify(graph).empty());
}

TEST(IRTest, ErasedNodesAndValuesAreRecycled) {
  // The graph keeps erased nodes and values on free lists: creating after
  // erasing reuses their memory, and the reused objects start clean (no
  // stale uses, attributes, annotation or data).
  Graph graph;
  Value *x = graph.addInput("x", f32({4}));
  graph.addOutput(x);
  std::vector<const void *> seen;
  std::weak_ptr<const TensorData> lastData;
  for (int round = 0; round < 1000; ++round) {
    Value *w = graph.addParameter("w" + std::to_string(round), f32({4}));
    auto data = std::make_shared<TensorData>();
    data->shape = {4};
    data->mutableBytes().resize(16);
    lastData = data;
    w->setData(std::move(data));
    Node *relu = graph.createNode("aten::relu", {x}, {f32({4})});
    graph.append(relu);
    Node *add = graph.createNode("aten::add", {relu->result(), w}, {f32({4})});
    graph.append(add);
    EXPECT_EQ(add->attributes().size(), 0u);
    EXPECT_EQ(add->quant(), nullptr);
    EXPECT_FALSE(add->result()->hasUses());
    add->setAttribute("alpha", Attribute::integer(round));
    add->getOrCreateQuant().output = Attribute::integer(round);
    graph.setOutput(0, add->result());
    ASSERT_EQ(x->numUses(), 1u);
    ASSERT_EQ(relu->result()->numUses(), 1u);
    ASSERT_TRUE(verify(graph).empty());
    if (round < 4)
      for (const void *p : {(const void *)relu, (const void *)add, (const void *)w,
                            (const void *)relu->result(), (const void *)add->result()})
        seen.push_back(p);
    else
      EXPECT_NE(std::find(seen.begin(), seen.end(), (const void *)add), seen.end());
    graph.setOutput(0, x);
    graph.erase(add);
    graph.erase(relu);
    graph.eraseParameter(w);
    EXPECT_TRUE(lastData.expired()); // the parameter's data went with it
    ASSERT_EQ(x->numUses(), 1u);     // the graph output only
    ASSERT_TRUE(graph.empty());
  }
  EXPECT_EQ(graph.parameters().size(), 0u);
  EXPECT_EQ(graph.parameter("w999"), nullptr);
}

TEST(IRTest, SharedAttributesAreCopiedOnWrite) {
  Chain c;
  auto shared = std::make_shared<const AttributeDict>(
      AttributeDict{{"scale", Attribute::floatList({0.5})}, {"dtype", Attribute::string("int8")}});
  c.relu->shareAttributes(shared);
  c.sigmoid->shareAttributes(shared);
  EXPECT_EQ(&c.relu->attributes(), shared.get()); // no copy
  ASSERT_NE(c.relu->attribute("dtype"), nullptr);
  c.relu->setAttribute("dtype", Attribute::string("uint8"));
  EXPECT_EQ(c.relu->attribute("dtype")->getString(), "uint8");
  EXPECT_EQ(c.sigmoid->attribute("dtype")->getString(), "int8"); // the other still shares
  EXPECT_EQ(shared->at(1).second.getString(), "int8");
  EXPECT_TRUE(c.sigmoid->removeAttribute("scale"));
  EXPECT_EQ(c.sigmoid->attributes().size(), 1u);
  EXPECT_EQ(shared->size(), 2u);
  c.relu->setAttributes({{"z", Attribute::none()}});
  EXPECT_EQ(c.relu->attributes().size(), 1u);
  EXPECT_TRUE(verify(c.graph).empty());
}

TEST(IRTest, ManyUsesOfOneValueStayRight) {
  // Use lists keep two uses inline and spill beyond: removing uses in any
  // order keeps every user's slot right.
  Graph graph;
  Value *x = graph.addInput("x", f32({4}));
  std::vector<Node *> users;
  for (int i = 0; i < 50; ++i) {
    Node *user = graph.createNode("aten::add", {x, x}, {f32({4})});
    graph.append(user);
    users.push_back(user);
  }
  graph.addOutput(users.back()->result());
  EXPECT_EQ(x->numUses(), 100u);
  for (size_t i = 0; i + 1 < users.size(); i += 2) {
    graph.erase(users[i]);
    ASSERT_TRUE(verify(graph).empty());
  }
  EXPECT_EQ(x->numUses(), 50u);
  for (size_t i = 1; i < users.size(); i += 2)
    EXPECT_TRUE(hasUse(x, users[i], 0) && hasUse(x, users[i], 1));
}

TEST(IRTest, NamesAreCopiedIntoTheGraph) {
  Graph graph;
  Value *x;
  {
    std::string name = "a_rather_long_input_name_beyond_any_small_string";
    x = graph.addInput(name, f32({4}));
    Node *relu = graph.createNode("aten::relu", {x}, {f32({4})});
    graph.append(relu);
    relu->result()->setName(name + ".relu");
    graph.addOutput(relu->result());
    name.assign(name.size(), 'z');
  }
  EXPECT_EQ(x->name(), "a_rather_long_input_name_beyond_any_small_string");
  EXPECT_EQ(graph.back()->result()->name(),
            "a_rather_long_input_name_beyond_any_small_string.relu");
}

TEST(IRTest, InsertBeforeAndAfter) {
  Chain c;
  Node *first = c.graph.createNode("aten::detach", {c.x}, {f32({4})});
  c.graph.insertBefore(c.relu, first);
  Node *middle = c.graph.createNode("aten::tanh", {c.relu->result()}, {f32({4})});
  c.graph.insertAfter(c.relu, middle);
  Node *last = c.graph.createNode("aten::sigmoid", {c.add->result()}, {f32({4})});
  c.graph.insertAfter(c.add, last);
  EXPECT_EQ(opNames(c.graph),
            (std::vector<std::string>{"aten::detach", "aten::relu", "aten::tanh", "aten::sigmoid",
                                      "aten::add", "aten::sigmoid"}));
  EXPECT_EQ(c.graph.front(), first);
  EXPECT_EQ(c.graph.back(), last);
  EXPECT_EQ(first->prev(), nullptr);
  EXPECT_EQ(middle->prev(), c.relu);
  EXPECT_EQ(middle->next(), c.sigmoid);
  EXPECT_EQ(c.graph.numNodes(), 6u);
  EXPECT_TRUE(first->isLinked());
  EXPECT_TRUE(verify(c.graph).empty());
}

TEST(IRTest, EarlyIncRangeAllowsErasingWhileIterating) {
  Chain c;
  c.add->result()->replaceAllUsesWith(c.x);
  // Erase users before producers: walk and erase every node without uses.
  bool changed = true;
  while (changed) {
    changed = false;
    for (Node *node : llvm::make_early_inc_range(c.graph.nodes())) {
      if (!node->hasUsedResults()) {
        c.graph.erase(node);
        changed = true;
      }
    }
  }
  EXPECT_TRUE(c.graph.empty());
  EXPECT_TRUE(verify(c.graph).empty());
}

TEST(IRTest, AttributesKeepInsertionOrder) {
  Chain c;
  c.relu->setAttribute("b", Attribute::integer(1));
  c.relu->setAttribute("a", Attribute::floating(0.5));
  c.relu->setAttribute("c", Attribute::string("x"));
  ASSERT_EQ(c.relu->attributes().size(), 3u);
  EXPECT_EQ(c.relu->attributes()[0].first, "b");
  EXPECT_EQ(c.relu->attributes()[1].first, "a");
  // Overwriting keeps the position.
  c.relu->setAttribute("b", Attribute::boolean(true));
  EXPECT_EQ(c.relu->attributes()[0].first, "b");
  EXPECT_EQ(*c.relu->attribute("b"), Attribute::boolean(true));
  EXPECT_TRUE(c.relu->hasAttribute("a"));
  EXPECT_EQ(c.relu->attribute("zzz"), nullptr);
  EXPECT_TRUE(c.relu->removeAttribute("a"));
  EXPECT_FALSE(c.relu->removeAttribute("a"));
  ASSERT_EQ(c.relu->attributes().size(), 2u);
  EXPECT_EQ(c.relu->attributes()[1].first, "c");

  c.relu->setAttributes({{"z", Attribute::none()}, {"y", Attribute::intList({1, 2})}});
  ASSERT_EQ(c.relu->attributes().size(), 2u);
  EXPECT_EQ(c.relu->attributes()[0].first, "z");
  EXPECT_EQ(c.relu->attribute("y")->asIntList(), (std::vector<int64_t>{1, 2}));
}

TEST(IRTest, AttributeValues) {
  Attribute list = Attribute::list({Attribute::integer(1), Attribute::floating(2.5)});
  EXPECT_FALSE(list.asIntList());
  EXPECT_EQ(Attribute::intList({3, 4}).asIntList(), (std::vector<int64_t>{3, 4}));
  EXPECT_EQ(Attribute::integer(3).asNumber(), 3.0);
  EXPECT_FALSE(Attribute::string("3").asNumber());
  Attribute dict = Attribute::dict({{"dtype", Attribute::string("int8")}});
  ASSERT_NE(dict.lookup("dtype"), nullptr);
  EXPECT_EQ(dict.lookup("dtype")->getString(), "int8");
  EXPECT_EQ(dict.lookup("missing"), nullptr);
  // Structural equality; floats compare bitwise (NaN == NaN, 0.0 != -0.0).
  EXPECT_EQ(Attribute::floating(std::nan("")), Attribute::floating(std::nan("")));
  EXPECT_NE(Attribute::floating(0.0), Attribute::floating(-0.0));
  EXPECT_NE(Attribute::integer(1), Attribute::floating(1.0));
  EXPECT_EQ(Attribute::tensorRef("w").str(), "@w");
  EXPECT_EQ(Attribute::string("a\"b\\c\n\x01").str(), "\"a\\\"b\\\\c\\n\\x01\"");
  EXPECT_EQ(dict.str(), "{dtype = \"int8\"}");
  EXPECT_EQ(Attribute::dict({{"a b", Attribute::none()}}).str(), "{\"a b\" = none}");
}

TEST(IRTest, FormatFloatIsShortestAndReadsAsFloat) {
  EXPECT_EQ(formatFloat(1.0), "1.0");
  EXPECT_EQ(formatFloat(0.1), "0.1");
  EXPECT_EQ(formatFloat(-2.5e-10), "-2.5e-10");
  EXPECT_EQ(formatFloat(1e300), "1e+300");
  EXPECT_EQ(formatFloat(HUGE_VAL), "inf");
  EXPECT_EQ(formatFloat(-HUGE_VAL), "-inf");
  EXPECT_EQ(formatFloat(std::nan("")), "nan");
  EXPECT_EQ(std::strtod(formatFloat(0.1 + 0.2).c_str(), nullptr), 0.1 + 0.2);
}

TEST(IRTest, Parameters) {
  Graph graph;
  Value *w = graph.addParameter("conv.weight", f32({8, 4, 3, 3}));
  Value *m = graph.addParameter("bn.running_mean", f32({8}), /*isBuffer=*/true);
  EXPECT_EQ(graph.addParameter("conv.weight", f32({1})), nullptr);
  EXPECT_EQ(graph.parameter("conv.weight"), w);
  EXPECT_EQ(graph.parameter("nope"), nullptr);
  EXPECT_TRUE(w->isParameter());
  EXPECT_FALSE(w->isBuffer());
  EXPECT_TRUE(m->isBuffer());
  EXPECT_EQ(m->position(), 1u);
  graph.eraseParameter(w);
  EXPECT_EQ(graph.parameters().size(), 1u);
  EXPECT_EQ(graph.parameter("conv.weight"), nullptr);
  EXPECT_EQ(m->position(), 0u); // positions are renumbered
  graph.addOutput(m);
  EXPECT_TRUE(verify(graph).empty());
}

TEST(IRTest, ParameterDataFollowsItsParameter) {
  // The graph keeps contents beside its parameter list: erasing others
  // renumbers positions, and the contents must move with their parameter.
  Graph graph;
  std::vector<Value *> parameters;
  for (int i = 0; i < 5; ++i) {
    Value *p = graph.addParameter("p" + std::to_string(i), f32({1}));
    p->setData(std::make_shared<TensorData>(DType::F32, std::vector<int64_t>{i + 1}));
    parameters.push_back(p);
  }
  Value *input = graph.addInput("x", f32({1}));
  EXPECT_EQ(input->data(), nullptr); // inputs and results have none
  graph.eraseParameters({parameters[0], parameters[2]});
  graph.eraseParameter(parameters[3]);
  ASSERT_EQ(graph.parameters().size(), 2u);
  EXPECT_EQ(parameters[1]->position(), 0u);
  EXPECT_EQ(parameters[1]->data()->shape, std::vector<int64_t>{2});
  EXPECT_EQ(parameters[4]->position(), 1u);
  EXPECT_EQ(parameters[4]->data()->shape, std::vector<int64_t>{5});
  Value *added = graph.addParameter("q", f32({1}));
  EXPECT_EQ(added->data(), nullptr);
}

TEST(IRTest, SetOutputMovesTheOutputUse) {
  Chain c;
  c.graph.addOutput(c.relu->result());
  c.graph.setOutput(0, c.sigmoid->result());
  EXPECT_FALSE(c.add->result()->hasUses());
  EXPECT_EQ(c.graph.outputs()[0], c.sigmoid->result());
  EXPECT_TRUE(verify(c.graph).empty());
}

TEST(IRTest, DescribeNamesOpModuleAndLocation) {
  Chain c;
  EXPECT_EQ(c.relu->describe(), "'aten::relu'");
  c.relu->setModule("layer1.0.relu", "torch.nn.modules.activation.ReLU");
  c.relu->setSourceLocation("model.py", 12, 5);
  EXPECT_EQ(c.relu->describe(),
            "'aten::relu' in module 'layer1.0.relu' (torch.nn.modules.activation.ReLU) at "
            "model.py:12:5");
}

TEST(IRTest, UnknownOpsAreOpaque) {
  const OpInfo *info = lookupOp("my.custom_op");
  EXPECT_FALSE(info->isKnown());
  EXPECT_EQ(info->opType, "custom_op");
  EXPECT_EQ(info->minOperands, 0);
  EXPECT_EQ(info->maxOperands, -1);
  EXPECT_EQ(info->numResults, -1);
  EXPECT_EQ(lookupOp("my.custom_op"), info); // interned
  EXPECT_EQ(lookupOp("aten::cat")->requiredAttributes().size(), 1u);
}

TEST(IRTest, TypeSpellings) {
  EXPECT_EQ(f32({1, 3}).str(), "tensor<1x3xf32>");
  EXPECT_EQ(Type::rankedTensor(DType::BF16, {Type::kDynamic, 3}).str(), "tensor<?x3xbf16>");
  EXPECT_EQ(Type::rankedTensor(DType::Unknown, {}).str(), "tensor<?>");
  EXPECT_EQ(Type::unrankedTensor(DType::I8).str(), "tensor<*xi8>");
  EXPECT_EQ(Type::list(Type::Kind::Tensor).str(), "list<tensor>");
  EXPECT_EQ(Type::string().str(), "str");
  EXPECT_EQ(f32({2, 3}).numElements(), 6);
  EXPECT_EQ(Type::rankedTensor(DType::F32, {Type::kDynamic}).numElements(), -1);
  EXPECT_NE(f32({2}), f32({3}));
}

TEST(IRTest, PrinterNamesAndUniquifiesValues) {
  Graph graph("names");
  Value *x = graph.addInput("x", f32({4}));
  Node *a = graph.createNode("aten::relu", {x}, {f32({4})});
  graph.append(a);
  a->result()->setName("x"); // collides with the input
  Node *b = graph.createNode("aten::relu", {a->result()}, {f32({4})});
  graph.append(b); // unnamed
  Node *c = graph.createNode("aten::relu", {b->result()}, {f32({4})});
  graph.append(c);
  c->result()->setName("x"); // collides again
  Node *d = graph.createNode("aten::relu", {c->result()}, {f32({4})});
  graph.append(d);
  d->result()->setName("bad name!"); // not a valid name: sanitized
  graph.addOutput(d->result());
  EXPECT_EQ(printGraphToString(graph), "graph @names(%x: tensor<4xf32>) {\n"
                                       "  %x_1 = aten::relu(%x) : tensor<4xf32>\n"
                                       "  %0 = aten::relu(%x_1) : tensor<4xf32>\n"
                                       "  %x_2 = aten::relu(%0) : tensor<4xf32>\n"
                                       "  %bad_name_ = aten::relu(%x_2) : tensor<4xf32>\n"
                                       "  return %bad_name_\n"
                                       "}\n");
}

} // namespace
