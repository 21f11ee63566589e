//===- tests/unit/VerifierTest.cpp - Structural checks of a Graph ---------===//
//
// Unit tests of ir/Verifier: graphs that parse (or that the API builds) but
// break a rule passes rely on. Each rule is checked on its own, with the
// exact message and location; several problems in one graph are all
// reported; well-formed graphs produce no diagnostics at all.
//
//===----------------------------------------------------------------------===//
#include "ir/Verifier.h"
#include "ir/Parser.h"

#include "gtest/gtest.h"

#include <string>
#include <vector>

using namespace qfx;

namespace {

/// Runs the verifier; returns `line:col: message` per error ("?" when the
/// location is unknown).
std::vector<std::string> verify(const Graph &graph) {
  std::vector<std::string> errors;
  DiagnosticEngine diagnostics;
  diagnostics.setHandler([&](const Diagnostic &d) {
    EXPECT_EQ(d.severity, Severity::Error);
    errors.push_back((d.location.isKnown() ? std::to_string(d.location.line) + ":" +
                                                 std::to_string(d.location.column)
                                           : std::string("?")) +
                     ": " + d.message);
  });
  bool ok = verifyGraph(graph, diagnostics);
  EXPECT_EQ(ok, errors.empty());
  EXPECT_EQ(diagnostics.numErrors(), errors.size());
  return errors;
}

std::unique_ptr<Graph> parse(llvm::StringRef text) {
  DiagnosticEngine diagnostics;
  std::string error;
  diagnostics.setHandler([&](const Diagnostic &d) { error = d.message; });
  std::unique_ptr<Graph> graph = parseGraph(text, diagnostics, "v.qfx");
  EXPECT_TRUE(graph) << error;
  return graph;
}

using Errors = std::vector<std::string>;

Type f32() { return Type::rankedTensor(DType::F32, {4}); }

TEST(VerifierTest, WellFormedGraphHasNoDiagnostics) {
  std::unique_ptr<Graph> graph =
      parse("graph @g(%x: tensor<1x3x8x8xf32>) {\n"
            "  param %w : tensor<4x3x3x3xf32>\n"
            "  param %b : tensor<4xf32>\n"
            "  %0 = aten::conv2d(%x, %w, %b) {stride = [1, 1]} : tensor<1x4x6x6xf32>\n"
            "  %1 = aten::relu(%0) : tensor<1x4x6x6xf32> quant(inputs = [none], output = none)\n"
            "  %2 = aten::cat(%1, %1, %1) {dim = 1} : tensor<1x12x6x6xf32>\n"
            "  %3 = my.anything(%2, %x, %w) {ref = [@w, {b = @b}]} : int\n"
            "  %4, %5 = my.two() : int, int\n"
            "  my.sink()\n"
            "  return %2, %2, %x, %w\n"
            "}\n");
  ASSERT_TRUE(graph);
  EXPECT_EQ(verify(*graph), Errors{});
}

TEST(VerifierTest, OperandCountAgainstTheOpTable) {
  std::unique_ptr<Graph> graph = parse("graph @g(%x: tensor<4xf32>) {\n"
                                       "  %0 = aten::relu(%x, %x) : tensor<4xf32>\n"
                                       "  %1 = aten::conv2d(%x) : tensor<4xf32>\n"
                                       "  %2 = aten::conv2d(%x, %x, %x, %x) : tensor<4xf32>\n"
                                       "  %3 = aten::cat() {dim = 0} : tensor<4xf32>\n"
                                       "  %4 = aten::add(%x, %x, %x) : tensor<4xf32>\n"
                                       "  return\n"
                                       "}\n");
  ASSERT_TRUE(graph);
  EXPECT_EQ(verify(*graph), (Errors{
                                "2:3: 'aten::relu' takes 1 operand but has 2",
                                "3:3: 'aten::conv2d' takes 2 to 3 operands but has 1",
                                "4:3: 'aten::conv2d' takes 2 to 3 operands but has 4",
                                "5:3: 'aten::cat' takes at least 1 operands but has 0",
                                "6:3: 'aten::add' takes 1 to 2 operands but has 3",
                            }));
}

TEST(VerifierTest, ResultCountAgainstTheOpTable) {
  std::unique_ptr<Graph> graph = parse("graph @g(%x: tensor<4xf32>) {\n"
                                       "  %0, %1 = aten::relu(%x) : tensor<4xf32>, tensor<4xf32>\n"
                                       "  aten::sigmoid(%x)\n"
                                       "  return\n"
                                       "}\n");
  ASSERT_TRUE(graph);
  EXPECT_EQ(verify(*graph), (Errors{
                                "2:3: 'aten::relu' defines 1 result but has 2",
                                "3:3: 'aten::sigmoid' defines 1 result but has 0",
                            }));
}

TEST(VerifierTest, RequiredAttributesAreNamed) {
  std::unique_ptr<Graph> graph = parse("graph @g(%x: tensor<4xf32>) {\n"
                                       "  %0 = aten::cat(%x, %x) : tensor<8xf32>\n"
                                       "  %1 = aten::transpose(%x) {dim1 = 0} : tensor<4xf32>\n"
                                       "  %2 = aten::transpose(%x) : tensor<4xf32>\n"
                                       "  return\n"
                                       "}\n");
  ASSERT_TRUE(graph);
  EXPECT_EQ(verify(*graph), (Errors{
                                "2:3: 'aten::cat' requires attribute 'dim'",
                                "3:3: 'aten::transpose' requires attribute 'dim0'",
                                "4:3: 'aten::transpose' requires attribute 'dim0'",
                                "4:3: 'aten::transpose' requires attribute 'dim1'",
                            }));
}

TEST(VerifierTest, UnknownOpsAreOnlyCheckedStructurally) {
  std::unique_ptr<Graph> graph = parse("graph @g(%x: tensor<4xf32>) {\n"
                                       "  %0, %1, %2 = my.op(%x, %x, %x, %x) : int, int, int\n"
                                       "  my.op()\n"
                                       "  return\n"
                                       "}\n");
  ASSERT_TRUE(graph);
  EXPECT_EQ(verify(*graph), Errors{});
}

TEST(VerifierTest, QuantAnnotationNeedsOneSpecPerOperand) {
  std::unique_ptr<Graph> graph =
      parse("graph @g(%x: tensor<4xf32>) {\n"
            "  %0 = aten::add(%x, %x) : tensor<4xf32> quant(inputs = [none], output = none)\n"
            "  %1 = aten::relu(%0) : tensor<4xf32> quant(inputs = [], output = none)\n"
            "  return\n"
            "}\n");
  ASSERT_TRUE(graph);
  EXPECT_EQ(verify(*graph),
            (Errors{
                "2:3: the quant annotation of 'aten::add' has 1 input spec but the node has 2 "
                "operands; give one spec (or none) per operand",
                "3:3: the quant annotation of 'aten::relu' has 0 input specs but the node has 1 "
                "operand; give one spec (or none) per operand",
            }));
}

TEST(VerifierTest, TensorReferencesMustNameParameters) {
  std::unique_ptr<Graph> graph = parse("graph @g(%x: tensor<4xf32>) {\n"
                                       "  param %w : tensor<4xf32>\n"
                                       "  my.op() {a = @w, b = [@missing], c = {d = @gone}}\n"
                                       "  return\n"
                                       "}\n");
  ASSERT_TRUE(graph);
  EXPECT_EQ(verify(*graph), (Errors{
                                "3:3: 'my.op' attribute 'b' refers to '@missing', which is not a "
                                "parameter or buffer of the graph",
                                "3:3: 'my.op' attribute 'c' refers to '@gone', which is not a "
                                "parameter or buffer of the graph",
                            }));
}

TEST(VerifierTest, MessagesDescribeTheNodeWithProvenance) {
  std::unique_ptr<Graph> graph =
      parse("graph @g(%x: tensor<4xf32>) {\n"
            "  %0 = aten::cat(%x) : tensor<4xf32> module(\"layer1.0\", \"M\") loc(\"m.py\":7:3)\n"
            "  return\n"
            "}\n");
  ASSERT_TRUE(graph);
  EXPECT_EQ(verify(*graph),
            Errors{"2:3: 'aten::cat' in module 'layer1.0' (M) at m.py:7:3 requires attribute "
                   "'dim'"});
}

TEST(VerifierTest, OperandUsedBeforeItsDefinition) {
  // Passes that insert nodes in the wrong place produce this; the parser
  // cannot (it rejects such text), so build it through the API.
  Graph graph("g");
  Value *x = graph.addInput("x", f32());
  Node *first = graph.createNode("aten::relu", {x}, {f32()});
  graph.append(first);
  Node *second = graph.createNode("aten::sigmoid", {first->result()}, {f32()});
  second->setSourceLocation("m.py", 3, 1);
  graph.insertBefore(first, second); // uses %first before it is computed
  graph.addOutput(second->result());
  EXPECT_EQ(verify(graph),
            Errors{"?: operand #0 (result #0 of 'aten::relu') of 'aten::sigmoid' at m.py:3:1 is "
                   "used before it is defined: its producer 'aten::relu' comes later in the "
                   "graph; move the producer before its users"});
}

TEST(VerifierTest, NodeUsingItsOwnResult) {
  Graph graph("g");
  Value *x = graph.addInput("x", f32());
  Node *node = graph.createNode("aten::relu", {x}, {f32()});
  graph.append(node);
  node->setOperand(0, node->result());
  node->result()->setName("loop");
  EXPECT_EQ(verify(graph),
            Errors{"?: operand #0 ('%loop') of 'aten::relu' is a result of the node itself"});
}

TEST(VerifierTest, ValuesFromElsewhere) {
  Graph other("other");
  Value *foreign = other.addInput("foreign", f32());

  Graph graph("g");
  Value *x = graph.addInput("x", f32());
  Node *detached = graph.createNode("aten::relu", {x}, {f32()}); // never inserted
  Node *user = graph.createNode("aten::add", {foreign, detached->result()}, {f32()});
  graph.append(user);
  graph.addOutput(detached->result());
  graph.addOutput(foreign);
  EXPECT_EQ(verify(graph),
            (Errors{
                "?: operand #0 of 'aten::add' is a value of another graph; clone or import it "
                "into this graph",
                "?: operand #1 (result #0 of a node not in the graph) of 'aten::add' is produced "
                "by a node that is not in the graph (erased, or created but never inserted)",
                "?: graph output #0 (result #0 of a node not in the graph) is produced by a node "
                "that is not in the graph (erased, or created but never inserted)",
                "?: graph output #1 is a value of another graph; clone or import it into this "
                "graph",
                // The never-inserted node still holds a use of %x.
                "?: the use list of '%x' names a node that is not in the graph (erased without "
                "dropping its operands?)",
            }));
  // Destroying the never-inserted node is the caller's business.
  user->setOperand(1, x);
  graph.setOutput(0, x);
  graph.erase(detached);
}

TEST(VerifierTest, AllProblemsAreReported) {
  std::unique_ptr<Graph> graph =
      parse("graph @g(%x: tensor<4xf32>) {\n"
            "  %0 = aten::cat(%x) : tensor<4xf32>\n"
            "  %1 = aten::relu() : tensor<4xf32>\n"
            "  %2 = aten::softmax(%1, %0) : tensor<4xf32> quant(inputs = [], output = none)\n"
            "  return %2\n"
            "}\n");
  ASSERT_TRUE(graph);
  EXPECT_EQ(verify(*graph).size(), 5u);
}

TEST(VerifierTest, RewritesThroughTheApiStayValid) {
  std::unique_ptr<Graph> graph = parse("graph @g(%x: tensor<4xf32>) {\n"
                                       "  %a = aten::relu(%x) : tensor<4xf32>\n"
                                       "  %b = aten::add(%a, %a) : tensor<4xf32>\n"
                                       "  %c = aten::mul(%b, %a) : tensor<4xf32>\n"
                                       "  return %c, %b\n"
                                       "}\n");
  ASSERT_TRUE(graph);
  Node *relu = graph->front();
  Node *add = relu->next();
  Node *mul = add->next();
  // Insert a detach between relu and its users, then fold it away again.
  Node *detach = graph->createNode("aten::detach", {relu->result()}, {f32()});
  graph->insertAfter(relu, detach);
  add->setOperand(0, detach->result());
  add->setOperand(1, detach->result());
  mul->setOperand(1, detach->result());
  EXPECT_EQ(verify(*graph), Errors{});
  detach->result()->replaceAllUsesWith(relu->result());
  graph->erase(detach);
  EXPECT_EQ(verify(*graph), Errors{});
  // Drop the add: the graph output moves to the relu.
  add->result()->replaceAllUsesWith(relu->result());
  graph->erase(add);
  EXPECT_EQ(verify(*graph), Errors{});
  EXPECT_EQ(graph->outputs()[1], relu->result());
}

} // namespace
