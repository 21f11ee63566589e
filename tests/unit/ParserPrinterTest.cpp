//===- tests/unit/ParserPrinterTest.cpp - The IR text form ----------------===//
//
// Unit tests of ir/Parser and ir/Printer: a rich graph printed in canonical
// form parses to the expected structure and prints back byte for byte; the
// printer's naming rules hold under reparsing; every parse error comes with
// its file:line:col and message (and notes where there are any); and no
// input — prefixes of valid text, mutations, binary junk, pathological
// nesting — crashes the parser or makes it return a graph with an error.
//
//===----------------------------------------------------------------------===//
#include "ir/Parser.h"
#include "ir/Printer.h"
#include "ir/Verifier.h"

#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

#include "gtest/gtest.h"

#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

using namespace qfx;

namespace {

/// Collects diagnostics (as `line:col: message`) instead of printing them.
struct Collector {
  DiagnosticEngine engine;
  std::vector<Diagnostic> diagnostics;
  Collector() {
    engine.setHandler([this](const Diagnostic &d) { diagnostics.push_back(d); });
  }
  static std::string render(const Diagnostic &d) {
    return std::to_string(d.location.line) + ":" + std::to_string(d.location.column) + ": " +
           d.message;
  }
  std::string first() const { return diagnostics.empty() ? "" : render(diagnostics[0]); }
};

std::unique_ptr<Graph> parse(llvm::StringRef text, Collector &collector) {
  return parseGraph(text, collector.engine, "test.qfx");
}

/// Parses `text`, which must be valid, and returns the graph.
std::unique_ptr<Graph> parseOk(llvm::StringRef text) {
  Collector collector;
  std::unique_ptr<Graph> graph = parse(text, collector);
  EXPECT_TRUE(graph) << collector.first();
  EXPECT_TRUE(collector.diagnostics.empty()) << collector.first();
  return graph;
}

/// The canonical printed form of a graph using every feature of the format.
const char *const kRich =
    R"(graph @resnet_block(%x: tensor<1x64x56x56xf32>, %input.1: tensor<?x3xf32>, %n: int, %u: tensor<*x?>) {
  param %conv1.weight : tensor<64x64x3x3xf32>
  buffer %bn1.running_mean : tensor<64xf32>
  param %scalar : tensor<f32>
  %0 = aten::conv2d(%x, %conv1.weight) {stride = [1, 1], padding = [1, 1], groups = 1} : tensor<1x64x56x56xf32> module("conv1", "torch.nn.modules.conv.Conv2d") loc("model.py":12:5)
  %out, %1 = foo::split(%0) : tensor<1x32x56x56xf32>, tensor<1x32x56x56xf32>
  %2 = aten::relu(%out) : tensor<1x32x56x56xf32> quant(inputs = [{dtype = "int8"}], output = none)
  foo::sink(%2) {a = -3, b = 2.5, c = true, d = false, e = none, f = "tab\there \"q\" \\ \x01", g = [], h = [1, 2.0, "s", [none]], i = {}, j = {k = {l = @conv1.weight}}, "odd key" = inf, m = -inf, n = nan, o = 1e-300, p = -9223372036854775808, q = 9223372036854775807}
  %sizes = prim::ListConstruct(%n, %n) : list<int>
  %3 = tosa.add(%input.1, %input.1) : tensor<?x3xf32> module("", "T") loc("a \"b\".py":1:2) quant(inputs = [none, {scheme = "symmetric", bits = 8}], output = {dtype = "uint8"})
  %s = aten::size(%3) {dim = 0} : int module("head.fc", "")
  %flags = foo::flags() : bool
  %strs = foo::strs() : str
  return %2, %1, %s
}
)";

TEST(ParserPrinterTest, RichGraphRoundTripsByteForByte) {
  std::string text = kRich;
  std::unique_ptr<Graph> graph = parseOk(text);
  ASSERT_TRUE(graph);
  std::string printed = printGraphToString(*graph);
  EXPECT_EQ(printed, text);

  std::unique_ptr<Graph> reparsed = parseOk(printed);
  ASSERT_TRUE(reparsed);
  EXPECT_EQ(printGraphToString(*reparsed), printed);
}

TEST(ParserPrinterTest, RichGraphStructure) {
  std::unique_ptr<Graph> graph = parseOk(kRich);
  ASSERT_TRUE(graph);
  EXPECT_EQ(graph->name(), "resnet_block");
  ASSERT_EQ(graph->inputs().size(), 4u);
  EXPECT_EQ(graph->inputs()[1]->name(), "input.1");
  EXPECT_EQ(graph->inputs()[1]->type(), Type::rankedTensor(DType::F32, {Type::kDynamic, 3}));
  EXPECT_EQ(graph->inputs()[2]->type(), Type::integer());
  EXPECT_EQ(graph->inputs()[3]->type(), Type::unrankedTensor(DType::Unknown));
  ASSERT_EQ(graph->parameters().size(), 3u);
  EXPECT_FALSE(graph->parameter("conv1.weight")->isBuffer());
  EXPECT_TRUE(graph->parameter("bn1.running_mean")->isBuffer());
  EXPECT_EQ(graph->parameter("scalar")->type().rank(), 0);
  EXPECT_EQ(graph->numNodes(), 9u);

  Node *conv = graph->front();
  EXPECT_EQ(conv->op().code, OpCode::Conv2d);
  EXPECT_EQ(conv->operand(1), graph->parameter("conv1.weight"));
  EXPECT_EQ(conv->attribute("stride")->asIntList(), (std::vector<int64_t>{1, 1}));
  EXPECT_EQ(conv->attributes()[2].first, "groups");
  EXPECT_EQ(conv->source().modulePath, "conv1");
  EXPECT_EQ(conv->source().moduleType, "torch.nn.modules.conv.Conv2d");
  EXPECT_EQ(conv->source().file, "model.py");
  EXPECT_EQ(conv->source().line, 12u);
  EXPECT_EQ(conv->source().column, 5u);
  // Numbers are not name hints; other names are.
  EXPECT_EQ(conv->result()->name(), "");
  Node *split = conv->next();
  EXPECT_EQ(split->result(0)->name(), "out");
  EXPECT_EQ(split->result(1)->name(), "");
  EXPECT_FALSE(split->op().isKnown());
  // Text locations: the first token of the statement, in the buffer named.
  EXPECT_EQ(conv->textLocation().file, "test.qfx");
  EXPECT_EQ(conv->textLocation().line, 5u);
  EXPECT_EQ(conv->textLocation().column, 3u);
  Node *relu = split->next();
  ASSERT_TRUE(relu->quant());
  ASSERT_EQ(relu->quant()->inputs.size(), 1u);
  EXPECT_EQ(relu->quant()->inputs[0].lookup("dtype")->getString(), "int8");
  EXPECT_TRUE(relu->quant()->output.isNone());
  EXPECT_EQ(relu->source().line, 0u);

  Node *sink = relu->next();
  EXPECT_EQ(sink->numResults(), 0u);
  EXPECT_EQ(sink->textLocation().column, 3u);
  const AttributeDict &attrs = sink->attributes();
  EXPECT_EQ(*sink->attribute("a"), Attribute::integer(-3));
  EXPECT_EQ(*sink->attribute("b"), Attribute::floating(2.5));
  EXPECT_EQ(*sink->attribute("c"), Attribute::boolean(true));
  EXPECT_TRUE(sink->attribute("e")->isNone());
  EXPECT_EQ(sink->attribute("f")->getString(), "tab\there \"q\" \\ \x01");
  EXPECT_TRUE(sink->attribute("g")->getList().empty());
  EXPECT_EQ(sink->attribute("h")->getList().size(), 4u);
  EXPECT_TRUE(sink->attribute("i")->getDict().empty());
  EXPECT_EQ(sink->attribute("j")->lookup("k")->lookup("l")->getTensorRef(), "conv1.weight");
  EXPECT_EQ(sink->attribute("odd key")->getFloat(), HUGE_VAL);
  EXPECT_EQ(sink->attribute("m")->getFloat(), -HUGE_VAL);
  EXPECT_TRUE(std::isnan(sink->attribute("n")->getFloat()));
  EXPECT_EQ(sink->attribute("o")->getFloat(), 1e-300);
  EXPECT_EQ(sink->attribute("p")->getInt(), INT64_MIN);
  EXPECT_EQ(sink->attribute("q")->getInt(), INT64_MAX);
  EXPECT_EQ(attrs.back().first, "q");

  Node *list = sink->next();
  EXPECT_EQ(list->result()->type(), Type::list(Type::Kind::Int));
  Node *add = list->next();
  EXPECT_EQ(add->source().modulePath, "");
  EXPECT_EQ(add->source().moduleType, "T");
  EXPECT_EQ(add->source().file, "a \"b\".py");
  EXPECT_EQ(add->quant()->inputs[1].lookup("bits")->getInt(), 8);

  ASSERT_EQ(graph->outputs().size(), 3u);
  EXPECT_EQ(graph->outputs()[2]->name(), "s");
  EXPECT_EQ(graph->outputs()[1], split->result(1));
  // Parsed graphs have consistent use lists.
  Collector collector;
  EXPECT_TRUE(verifyGraph(*graph, collector.engine)) << collector.first();
}

TEST(ParserPrinterTest, PrintOptionsDropProvenanceAndAnnotations) {
  std::unique_ptr<Graph> graph = parseOk(kRich);
  ASSERT_TRUE(graph);
  PrintOptions options;
  options.printSourceInfo = false;
  options.printAnnotations = false;
  std::string printed = printGraphToString(*graph, options);
  EXPECT_EQ(printed.find("module("), std::string::npos);
  EXPECT_EQ(printed.find("loc("), std::string::npos);
  EXPECT_EQ(printed.find("quant("), std::string::npos);
  EXPECT_NE(printed.find("  %0 = aten::conv2d(%x, %conv1.weight) {stride = [1, 1], padding = "
                         "[1, 1], groups = 1} : tensor<1x64x56x56xf32>\n"),
            std::string::npos);
  // The trimmed text still parses.
  EXPECT_TRUE(parseOk(printed));
}

TEST(ParserPrinterTest, ObserverGroupsRoundTrip) {
  const char *text =
      "graph @g(%x: tensor<4xf32>) {\n"
      "  %0 = aten::add(%x, %x) : tensor<4xf32> quant(inputs = [none, none], output = none, "
      "groups = [0, -1], output_group = 1)\n"
      "  %1 = my.source() : tensor<4xf32> quant(inputs = [], output = none, groups = [], "
      "output_group = 4)\n"
      "  %2 = aten::relu(%1) : tensor<4xf32> quant(inputs = [none], output = none)\n"
      "  return %0, %2\n"
      "}\n";
  std::unique_ptr<Graph> graph = parseOk(text);
  ASSERT_TRUE(graph);
  const QuantAnnotation *add = graph->front()->quant();
  EXPECT_EQ(add->inputGroups, (QuantGroupList{0, -1}));
  EXPECT_EQ(add->outputGroup, 1);
  EXPECT_EQ(graph->front()->next()->quant()->outputGroup, 4);
  EXPECT_FALSE(graph->back()->quant()->hasGroups());
  EXPECT_EQ(printGraphToString(*graph), text);
}

TEST(ParserPrinterTest, PrintToStream) {
  std::unique_ptr<Graph> graph = parseOk("graph @g() {\n  return\n}\n");
  ASSERT_TRUE(graph);
  std::string text;
  llvm::raw_string_ostream os(text);
  printGraph(*graph, os);
  EXPECT_EQ(os.str(), "graph @g() {\n  return\n}\n");
}

TEST(ParserPrinterTest, CommentsAndWhitespaceAreFree) {
  std::unique_ptr<Graph> graph = parseOk("// header\n"
                                         "graph   @g ( %x :tensor<2xf32> ) { // body\n"
                                         "%y=aten::relu(  %x  ):tensor<2xf32>\r\n"
                                         "\t// between\n"
                                         "return %y   }  // trailing\n"
                                         "// end");
  ASSERT_TRUE(graph);
  EXPECT_EQ(printGraphToString(*graph), "graph @g(%x: tensor<2xf32>) {\n"
                                        "  %y = aten::relu(%x) : tensor<2xf32>\n"
                                        "  return %y\n"
                                        "}\n");
}

TEST(ParserPrinterTest, NumberingSkipsNumbersTakenByNames) {
  // Inputs may be named by digits; results numbered by the printer skip them.
  std::unique_ptr<Graph> graph = parseOk("graph @g(%0: tensor<2xf32>, %2: tensor<2xf32>) {\n"
                                         "  %7 = aten::relu(%0) : tensor<2xf32>\n"
                                         "  %5 = aten::relu(%7) : tensor<2xf32>\n"
                                         "  %9 = aten::add(%5, %2) : tensor<2xf32>\n"
                                         "  return %9\n"
                                         "}\n");
  ASSERT_TRUE(graph);
  std::string printed = printGraphToString(*graph);
  EXPECT_EQ(printed, "graph @g(%0: tensor<2xf32>, %2: tensor<2xf32>) {\n"
                     "  %1 = aten::relu(%0) : tensor<2xf32>\n"
                     "  %3 = aten::relu(%1) : tensor<2xf32>\n"
                     "  %4 = aten::add(%3, %2) : tensor<2xf32>\n"
                     "  return %4\n"
                     "}\n");
  std::unique_ptr<Graph> reparsed = parseOk(printed);
  ASSERT_TRUE(reparsed);
  EXPECT_EQ(printGraphToString(*reparsed), printed);
}

TEST(ParserPrinterTest, ParametersWinNameCollisions) {
  Graph graph("g");
  Value *input = graph.addInput("w", Type::integer());
  Value *weight = graph.addParameter("w", Type::integer());
  Node *node = graph.createNode("foo::use", {input, weight}, {Type::integer()});
  graph.append(node);
  node->result()->setName("w");
  graph.addOutput(node->result());
  std::string printed = printGraphToString(graph);
  EXPECT_EQ(printed, "graph @g(%w_1: int) {\n"
                     "  param %w : int\n"
                     "  %w_2 = foo::use(%w_1, %w) : int\n"
                     "  return %w_2\n"
                     "}\n");
  std::unique_ptr<Graph> reparsed = parseOk(printed);
  ASSERT_TRUE(reparsed);
  EXPECT_EQ(printGraphToString(*reparsed), printed);
}

TEST(ParserPrinterTest, UnnamedInputsAndDigitHintsAreNumbered) {
  Graph graph("");
  Value *input = graph.addInput("", Type::integer());
  Node *node = graph.createNode("foo::use", {input}, {Type::integer()});
  graph.append(node);
  node->result()->setName("12"); // digits: no hint
  graph.addOutput(node->result());
  std::string printed = printGraphToString(graph);
  EXPECT_EQ(printed, "graph @main(%0: int) {\n"
                     "  %1 = foo::use(%0) : int\n"
                     "  return %1\n"
                     "}\n");
  std::unique_ptr<Graph> reparsed = parseOk(printed);
  ASSERT_TRUE(reparsed);
  EXPECT_EQ(printGraphToString(*reparsed), printed);
}

TEST(ParserPrinterTest, ManyValuesSharingAHintStayDistinct) {
  Graph graph("g");
  Value *previous = graph.addInput("x", Type::integer());
  for (int i = 0; i < 1000; ++i) {
    Node *node = graph.createNode("foo::step", {previous}, {Type::integer()});
    graph.append(node);
    node->result()->setName("x");
    previous = node->result();
  }
  graph.addOutput(previous);
  std::string printed = printGraphToString(graph);
  EXPECT_NE(printed.find("  %x_1000 = foo::step(%x_999) : int\n"), std::string::npos);
  std::unique_ptr<Graph> reparsed = parseOk(printed);
  ASSERT_TRUE(reparsed);
  EXPECT_EQ(printGraphToString(*reparsed), printed);
}

TEST(ParserPrinterTest, FloatsRoundTripExactly) {
  std::mt19937_64 rng(7);
  std::string text = "graph @g() {\n  foo::f() {";
  std::vector<double> values = {
      0.0,      -0.0,  0.1,  1.0 / 3.0,          5e-324, 1.7976931348623157e308,
      -2.5e-10, 123.0, 1e21, 0.30000000000000004};
  for (int i = 0; i < 200; ++i) {
    double value;
    uint64_t bits = rng();
    std::memcpy(&value, &bits, sizeof value);
    if (std::isfinite(value))
      values.push_back(value);
  }
  for (size_t i = 0; i < values.size(); ++i)
    text += (i ? ", v" : "v") + std::to_string(i) + " = " + formatFloat(values[i]);
  text += "}\n  return\n}\n";
  std::unique_ptr<Graph> graph = parseOk(text);
  ASSERT_TRUE(graph);
  for (size_t i = 0; i < values.size(); ++i) {
    const Attribute *attr = graph->front()->attribute("v" + std::to_string(i));
    ASSERT_TRUE(attr && attr->isFloat());
    EXPECT_EQ(*attr, Attribute::floating(values[i])) << formatFloat(values[i]);
  }
  EXPECT_EQ(printGraphToString(*graph), text);
}

TEST(ParserPrinterTest, SourceMgrBufferNamesLocations) {
  llvm::SourceMgr sourceMgr;
  unsigned id = sourceMgr.AddNewSourceBuffer(
      llvm::MemoryBuffer::getMemBufferCopy("graph @g() {\n  %0 = foo::x() : int\n  return\n}\n",
                                           "from_mgr.qfx"),
      llvm::SMLoc());
  Collector collector;
  std::unique_ptr<Graph> graph = parseGraph(sourceMgr, id, collector.engine);
  ASSERT_TRUE(graph);
  EXPECT_EQ(graph->front()->textLocation().file, "from_mgr.qfx");
  EXPECT_EQ(graph->front()->textLocation().line, 2u);

  // A bad buffer id is an error, not a crash.
  EXPECT_FALSE(parseGraph(sourceMgr, 7, collector.engine));
  EXPECT_EQ(collector.diagnostics.size(), 1u);
}

TEST(ParserPrinterTest, LocationFileOutlivesTheNameAndTheGraph) {
  Collector collector;
  {
    std::string name = "temporary-name.qfx";
    EXPECT_FALSE(parseGraph("graph", collector.engine, name));
    name.assign(name.size(), 'X'); // the parser must not have kept a view of it
  }
  ASSERT_EQ(collector.diagnostics.size(), 1u);
  EXPECT_EQ(collector.diagnostics[0].location.file, "temporary-name.qfx");

  std::unique_ptr<Graph> graph;
  {
    std::string name = "node-name.qfx";
    graph = parseGraph("graph @g() {\n  foo::x()\n  return\n}", collector.engine, name);
    name.assign(name.size(), 'X');
  }
  ASSERT_TRUE(graph);
  EXPECT_EQ(graph->front()->textLocation().file, "node-name.qfx");
}

//===----------------------------------------------------------------------===//
// Errors: one per input, at line:col, with the message.
//===----------------------------------------------------------------------===//

struct ErrorCase {
  const char *text;
  const char *expected; // "line:col: message"
};

class ParseErrorTest : public ::testing::TestWithParam<ErrorCase> {};

TEST_P(ParseErrorTest, ReportsOneErrorAtItsLocation) {
  Collector collector;
  std::unique_ptr<Graph> graph = parse(GetParam().text, collector);
  EXPECT_FALSE(graph);
  ASSERT_EQ(collector.engine.numErrors(), 1u) << GetParam().text;
  EXPECT_EQ(collector.first(), GetParam().expected) << GetParam().text;
  EXPECT_EQ(collector.diagnostics[0].location.file, "test.qfx");
}

#define G(body) "graph @g(%x: tensor<2xf32>) {\n" body
const ErrorCase kErrorCases[] = {
    // Structure.
    {"", "1:1: expected 'graph', found end of input"},
    {"  // only a comment\n", "2:1: expected 'graph', found end of input"},
    {"grph @g() {}", "1:1: expected 'graph', found 'grph'"},
    {"graph g() {}", "1:7: expected graph name (like '@main') after 'graph', found 'g'"},
    {"graph @g {}", "1:10: expected '(' to begin the input list, found '{'"},
    {"graph @g(%x: int %y: int) {}", "1:18: expected ',' or ')' after graph input, found '%y'"},
    {"graph @g(x: int) {}", "1:10: expected graph input name (like '%x'), found 'x'"},
    {"graph @g(%x int) {}", "1:13: expected ':' and a type after input '%x', found 'int'"},
    {"graph @g() return }", "1:12: expected '{' to begin the graph body, found 'return'"},
    {"graph @g() {\n}", "2:1: expected 'return' before '}': a graph body ends with 'return'"},
    {"graph @g() {\n  return\n", "3:1: expected '}' to end the graph after 'return', found end "
                                 "of input"},
    {G("  %0 = aten::relu(%x) : tensor<2xf32>"),
     "2:38: expected an operation, 'param', 'buffer' or 'return', found end of input"},
    {G("  return %x\n}\ngraph @h() {\n  return\n}"),
     "4:1: expected end of input after the graph's closing '}' (one graph per buffer), found "
     "'graph'"},
    {G("  return %x %x\n}"), "2:13: expected '}' to end the graph after 'return', found '%x'"},
    {G("  relu(%x)\n  return\n}"),
     "2:3: expected an operation (a name with a dialect prefix, like 'aten::relu'), 'param', "
     "'buffer' or 'return', found 'relu'"},
    {G("  %0 = relu(%x) : tensor<2xf32>\n  return\n}"),
     "2:8: expected operation name with a dialect prefix (like 'aten::relu'), found 'relu'"},
    {G("  %0 aten::relu(%x) : tensor<2xf32>\n  return\n}"),
     "2:6: expected ',' or '=' after result name, found 'aten::relu'"},
    {G("  %0, = aten::relu(%x) : tensor<2xf32>\n  return\n}"),
     "2:7: expected result name after ',', found '='"},
    {G("  %0 = aten::relu %x : tensor<2xf32>\n  return\n}"),
     "2:19: expected '(' to begin the operand list of 'aten::relu', found '%x'"},
    {G("  %0 = aten::relu(%x : tensor<2xf32>\n  return\n}"),
     "2:22: expected ')' to close operand list, found ':'"},
    {G("  %0 = aten::relu(x) : tensor<2xf32>\n  return\n}"),
     "2:19: expected operand (like '%x'), found 'x'"},
    {G("  %0 = aten::relu(%x)\n  return %0\n}"),
     "3:3: expected ':' and 1 result type(s) after 'aten::relu', found 'return'"},
    {G("  %0 = aten::relu(%x) : tensor<2xf32>, tensor<2xf32>\n  return\n}"),
     "2:40: 'aten::relu' defines 1 result but 2 result types are given; write one type per "
     "result"},
    {G("  %a, %b = foo::split(%x) : tensor<2xf32>\n  return\n}"),
     "2:27: 'foo::split' defines 2 results but 1 result type is given; write one type per "
     "result"},
    {G("  foo::sink(%x) : tensor<2xf32>\n  return\n}"),
     "2:17: unexpected ':': 'foo::sink' defines no results, so it takes no result types"},
    {G("  foo::sink(%x) loc(\"f\":1:2) module(\"a\", \"b\")\n  return\n}"),
     "2:30: unexpected 'module' clause: a node's clauses come in the order module(...), "
     "loc(...), quant(...), each at most once"},
    // Values.
    {G("  %0 = aten::relu(%y) : tensor<2xf32>\n  return %0\n}"),
     "2:19: use of undefined value '%y'"},
    {G("  return %y\n}"), "2:10: use of undefined value '%y'"},
    {G("  %x = aten::relu(%x) : tensor<2xf32>\n  return\n}"), "2:3: redefinition of value '%x'"},
    {G("  %a, %a = foo::split(%x) : int, int\n  return\n}"),
     "2:7: result '%a' appears twice in the result list of one node"},
    {"graph @g(%x: int, %x: int) {\n  return\n}", "1:19: redefinition of value '%x'"},
    {G("  param %w : int\n  buffer %w : int\n  return\n}"), "3:10: duplicate parameter name '%w'"},
    {G("  param %x : int\n  return\n}"), "2:9: redefinition of value '%x'"},
    {G("  %0 = aten::relu(%1) : tensor<2xf32>\n  %1 = aten::relu(%x) : tensor<2xf32>\n  "
       "return %0\n}"),
     "2:19: value '%1' is used before it is defined"},
    {G("  %0 = aten::relu(%0) : tensor<2xf32>\n  return %0\n}"),
     "2:19: value '%0' is used before it is defined"},
    {G("  %0 = aten::relu(%w) : tensor<2xf32>\n  param %w : tensor<2xf32>\n  return %0\n}"),
     "2:19: value '%w' is used before it is defined"},
    {G("  param : int\n  return\n}"),
     "2:9: expected name (like '%conv1.weight') after 'param', found ':'"},
    {G("  param %w int\n  return\n}"),
     "2:12: expected ':' and a type after param '%w', found 'int'"},
    // Types.
    {"graph @g(%x: tensor<1xf33>) {}",
     "1:23: unknown element type 'f33'; expected one of f64, f32, f16, bf16, i64, i32, i16, i8, "
     "u8, i1, f8E4M3FN, f8E5M2, f8E8M0FNU, f4E2M1FN or '?'"},
    {"graph @g(%x: tensor <1xf32>) {}", "1:20: expected '<' right after 'tensor', found ' '"},
    {"graph @g(%x: tensor<1x2>) {}",
     "1:24: expected 'x' after dimension in tensor type, found '>'"},
    {"graph @g(%x: tensor<1xf32) {}", "1:26: expected '>' to close tensor type, found ')'"},
    {"graph @g(%x: tensor<1x>) {}", "1:23: expected element type in tensor type, found '>'"},
    {"graph @g(%x: tensor<1,2xf32>) {}",
     "1:22: expected 'x' after dimension in tensor type, found ','"},
    {"graph @g(%x: tensor<*f32>) {}",
     "1:22: expected 'x' after '*' in unranked tensor type, found 'f'"},
    {"graph @g(%x: tensor<-1xf32>) {}", "1:21: expected element type in tensor type, found '-'"},
    {"graph @g(%x: tensor<99999999999999999999xf32>) {}",
     "1:21: tensor dimension is too large (must fit in int64)"},
    {"graph @g(%x: tensor<1xf32", "1:26: expected '>' to close tensor type, found end of input"},
    {"graph @g(%x: tensor<1xf32\n>) {}", "1:26: expected '>' to close tensor type, found end of "
                                         "line"},
    {"graph @g(%x: int32) {}",
     "1:14: expected type (tensor<...>, int, float, bool, str, none, any or list<...>), found "
     "'int32'"},
    {"graph @g(%x: list<i32>) {}",
     "1:19: expected list element kind (tensor, int, float, bool, str, none, any or list), "
     "found 'i32'"},
    {"graph @g(%x: list<int) {}", "1:22: expected '>' to close list type, found ')'"},
    // Attributes.
    {G("  foo::f() {a = 1, a = 2}\n  return\n}"),
     "2:20: duplicate attribute 'a': each key may appear once"},
    {G("  foo::f() {a = {b = 1, \"b\" = 2}}\n  return\n}"),
     "2:25: duplicate attribute 'b': each key may appear once"},
    {G("  foo::f() {a = 99999999999999999999}\n  return\n}"),
     "2:17: integer '99999999999999999999' is out of range for int64"},
    {G("  foo::f() {a = -9223372036854775809}\n  return\n}"),
     "2:17: integer '-9223372036854775809' is out of range for int64"},
    {G("  foo::f() {a = 1e999}\n  return\n}"), "2:17: float '1e999' is out of range for a double"},
    {G("  foo::f() {a = 1.5e}\n  return\n}"),
     "2:21: expected exponent digits in number, found '}'"},
    {G("  foo::f() {a = 12abc}\n  return\n}"), "2:19: unexpected character 'a' in number"},
    {G("  foo::f() {a = 1.2.3}\n  return\n}"), "2:20: unexpected character '.' in number"},
    {G("  foo::f() {a = -x}\n  return\n}"), "2:17: expected a digit or 'inf' after '-', found 'x'"},
    {G("  foo::f() {a = int8}\n  return\n}"),
     "2:17: expected attribute value (none, true, false, a number, a \"string\", [list], "
     "{dict} or @parameter), found 'int8'"},
    {G("  foo::f() {a = \"abc}\n  return\n}"),
     "2:17: unterminated string: missing closing '\"' before the end of the line"},
    {G("  foo::f() {a = \"abc"), "2:17: unterminated string: missing closing '\"'"},
    {G("  foo::f() {a = \"a\\qb\"}\n  return\n}"),
     "2:19: unknown escape sequence '\\q' in string (valid: \\\" \\\\ \\n \\t \\xNN)"},
    {G("  foo::f() {a = \"a\\x4\"}\n  return\n}"),
     "2:19: expected two hex digits after '\\x' in string"},
    {G("  foo::f() {a = [1, 2}\n  return\n}"), "2:22: expected ',' or ']' in list, found '}'"},
    {G("  foo::f() {a = {b = 1]\n  return\n}"),
     "2:23: expected ',' or '}' in attribute dictionary, found ']'"},
    {G("  foo::f() {a 1}\n  return\n}"), "2:15: expected '=' after attribute name 'a', found '1'"},
    {G("  foo::f() {1 = 1}\n  return\n}"),
     "2:13: expected attribute name (an identifier or a \"string\"), found '1'"},
    {G("  foo::f() {a::b = 1}\n  return\n}"),
     "2:13: expected attribute name (an identifier or a \"string\"), found 'a::b'"},
    {G("  foo::f() {a = @}\n  return\n}"),
     "2:17: expected a name after '@' (letters, digits, '_', '.', '$' or '-'), found '}'"},
    // Clauses.
    {G("  foo::f() module(\"a\")\n  return\n}"),
     "2:22: expected ',' after the module path, found ')'"},
    {G("  foo::f() module(a, \"b\")\n  return\n}"), "2:19: expected module path string, found 'a'"},
    {G("  foo::f() loc(\"f\":1)\n  return\n}"),
     "2:21: expected ':' after the line number, found ')'"},
    {G("  foo::f() loc(\"f\":-1:2)\n  return\n}"),
     "2:20: line number '-1' is out of range (0 to 4294967295)"},
    {G("  foo::f() loc(\"f\":1:4294967296)\n  return\n}"),
     "2:22: column number '4294967296' is out of range (0 to 4294967295)"},
    {G("  foo::f(%x) quant(input = [none], output = none)\n  return\n}"),
     "2:20: expected 'inputs' in quant(...), found 'input'"},
    {G("  foo::f(%x) quant(inputs = none, output = none)\n  return\n}"),
     "2:29: expected '[' to begin the list of input specs, found 'none'"},
    {G("  foo::f(%x) quant(inputs = [none])\n  return\n}"),
     "2:35: expected ',' and 'output' after the input specs, found ')'"},
    {G("  foo::f(%x) quant(inputs = [none], output = none\n  return\n}"),
     "3:3: expected ')' to close quant(...), found 'return'"},
    // Junk.
    {"graph @g() {\n  \x01\n", "2:3: unexpected character '\\x01'"},
    {"\xff\xfe", "1:1: unexpected character '\\xff'"},
    {"graph @g() {\n  / return\n}", "2:3: unexpected character '/' (comments start with '//')"},
    {"graph @g(%: int) {}",
     "1:10: expected a name after '%' (letters, digits, '_', '.', '$' or '-'), found ':'"},
    {"graph @g() {\n  return\n} }", "3:3: expected end of input after the graph's closing '}' "
                                    "(one graph per buffer), found '}'"},
};
#undef G

INSTANTIATE_TEST_SUITE_P(Errors, ParseErrorTest, ::testing::ValuesIn(kErrorCases));

TEST(ParserPrinterTest, NotesPointAtTheOtherDefinition) {
  Collector collector;
  EXPECT_FALSE(parse("graph @g(%x: int) {\n"
                     "  %0 = foo::f(%1) : int\n"
                     "  %1 = foo::f(%x) : int\n"
                     "  return\n"
                     "}\n",
                     collector));
  ASSERT_EQ(collector.diagnostics.size(), 1u);
  ASSERT_EQ(collector.diagnostics[0].notes.size(), 1u);
  const Diagnostic &note = collector.diagnostics[0].notes[0];
  EXPECT_EQ(note.severity, Severity::Note);
  EXPECT_EQ(Collector::render(note), "3:3: '%1' is defined here");

  Collector redefinition;
  EXPECT_FALSE(parse("graph @g(%x: int) {\n"
                     "  %y = foo::f(%x) : int\n"
                     "  %y = foo::f(%x) : int\n"
                     "  return\n"
                     "}\n",
                     redefinition));
  ASSERT_EQ(redefinition.diagnostics.size(), 1u);
  EXPECT_EQ(redefinition.first(), "3:3: redefinition of value '%y'");
  ASSERT_EQ(redefinition.diagnostics[0].notes.size(), 1u);
  EXPECT_EQ(Collector::render(redefinition.diagnostics[0].notes[0]),
            "2:3: previous definition of '%y' is here");
}

TEST(ParserPrinterTest, LongTokensAreShortenedInMessages) {
  Collector collector;
  std::string name(100, 'a');
  EXPECT_FALSE(parse("graph @g() {\n  " + name + "\n", collector));
  EXPECT_EQ(collector.first(),
            "2:3: expected an operation (a name with a dialect prefix, like 'aten::relu'), "
            "'param', 'buffer' or 'return', found '" +
                std::string(37, 'a') + "...'");
}

//===----------------------------------------------------------------------===//
// Robustness.
//===----------------------------------------------------------------------===//

/// Parses `text` from an exactly sized heap copy (so that sanitizers see any
/// read past the end): a graph and no diagnostic, or null and exactly one
/// error with a location.
void parseSafely(const std::string &text) {
  std::unique_ptr<char[]> copy(new char[text.size() + 1]);
  std::memcpy(copy.get(), text.data(), text.size());
  Collector collector;
  std::unique_ptr<Graph> graph =
      parseGraph(llvm::StringRef(copy.get(), text.size()), collector.engine, "fuzz");
  if (graph) {
    EXPECT_TRUE(collector.diagnostics.empty()) << text;
    std::string printed = printGraphToString(*graph);
    std::unique_ptr<Graph> reparsed = parseOk(printed);
    ASSERT_TRUE(reparsed) << text;
    EXPECT_EQ(printGraphToString(*reparsed), printed) << text;
  } else {
    ASSERT_EQ(collector.diagnostics.size(), 1u) << text;
    EXPECT_TRUE(collector.diagnostics[0].location.isKnown()) << text;
    EXPECT_FALSE(collector.diagnostics[0].message.empty()) << text;
  }
}

TEST(ParserPrinterTest, EveryPrefixParsesOrFailsCleanly) {
  std::string text = kRich;
  for (size_t length = 0; length <= text.size(); ++length)
    parseSafely(text.substr(0, length));
}

TEST(ParserPrinterTest, MutationsParseOrFailCleanly) {
  std::string text = kRich;
  std::mt19937 rng(1234);
  const char alphabet[] = "%@\"\\[]{}(),:=<>x?*-.0123456789aeE/\n \t\x01\x7f\xff";
  for (int iteration = 0; iteration < 3000; ++iteration) {
    std::string mutated = text;
    for (int edits = 1 + rng() % 3; edits > 0; --edits) {
      size_t position = rng() % (mutated.size() + 1);
      char c = alphabet[rng() % (sizeof(alphabet) - 1)];
      switch (rng() % 3) {
      case 0:
        mutated.erase(position, 1 + rng() % 8);
        break;
      case 1:
        mutated.insert(position, 1, c);
        break;
      default:
        if (position < mutated.size())
          mutated[position] = c;
      }
    }
    parseSafely(mutated);
  }
}

TEST(ParserPrinterTest, BinaryJunkFailsCleanly) {
  std::mt19937 rng(99);
  for (int iteration = 0; iteration < 200; ++iteration) {
    std::string junk(rng() % 64, '\0');
    for (char &c : junk)
      c = static_cast<char>(rng());
    parseSafely(junk);
    parseSafely("graph @g(" + junk);
    parseSafely("graph @g() {\n  foo::f() {a = " + junk);
  }
  parseSafely(std::string("graph @g() {\0 return }", 22));
}

TEST(ParserPrinterTest, DeepNestingIsAnErrorNotACrash) {
  Collector collector;
  std::string deep = "graph @g() {\n  foo::f() {a = " + std::string(100000, '[');
  EXPECT_FALSE(parse(deep, collector));
  EXPECT_NE(collector.first().find("attribute nesting is deeper than 256 levels"),
            std::string::npos)
      << collector.first();

  // Within the limit it works, and round trips.
  std::string ok = "graph @g() {\n  foo::f() {a = " + std::string(200, '[') +
                   std::string(200, ']') + "}\n  return\n}\n";
  std::unique_ptr<Graph> graph = parseOk(ok);
  ASSERT_TRUE(graph);
  EXPECT_EQ(printGraphToString(*graph), ok);
}

TEST(ParserPrinterTest, HugeSsaNumbersDoNotAllocate) {
  // SSA numbers index a table bounded by the buffer size: a huge number in a
  // small file must neither allocate much nor confuse lookups.
  std::unique_ptr<Graph> graph = parseOk("graph @g(%x: int) {\n"
                                         "  %999999999999 = foo::f(%x) : int\n"
                                         "  %3 = foo::f(%999999999999) : int\n"
                                         "  %007 = foo::f(%3) : int\n"
                                         "  %7 = foo::f(%007) : int\n"
                                         "  return %7\n"
                                         "}\n");
  ASSERT_TRUE(graph);
  EXPECT_EQ(graph->back()->operand(0)->producer()->operand(0), graph->front()->next()->result());
}

TEST(ParserPrinterTest, CachedListsAreStillCorrect) {
  // The same list spelling maps to equal attributes; different spellings
  // (including ones that only differ after a comment) do not mix.
  std::unique_ptr<Graph> graph = parseOk("graph @g() {\n"
                                         "  foo::f() {a = [1, 2], b = [1, 2], c = [1, // x ]\n"
                                         "  3], d = [1, // x ]\n"
                                         "  4]}\n"
                                         "  return\n"
                                         "}\n");
  ASSERT_TRUE(graph);
  const Node *node = graph->front();
  EXPECT_EQ(*node->attribute("a"), *node->attribute("b"));
  EXPECT_EQ(node->attribute("c")->asIntList(), (std::vector<int64_t>{1, 3}));
  EXPECT_EQ(node->attribute("d")->asIntList(), (std::vector<int64_t>{1, 4}));
}

TEST(ParserPrinterTest, AttributeCopiesShareTheirPayload) {
  // Copies share one reference-counted payload; the last one frees it
  // (AddressSanitizer and valgrind would flag a double free or a leak).
  Attribute list = Attribute::floatList({0.5, 0.25});
  const AttributeList *storage = &list.getList();
  {
    Attribute copy = list;
    EXPECT_EQ(&copy.getList(), storage);
    Attribute assigned = Attribute::string("replaced");
    assigned = copy; // releases the string, shares the list
    EXPECT_EQ(&assigned.getList(), storage);
  }
  Attribute moved = std::move(list);
  EXPECT_TRUE(list.isNone()); // NOLINT(bugprone-use-after-move): documented state
  EXPECT_EQ(&moved.getList(), storage);
  EXPECT_EQ(moved.str(), "[0.5, 0.25]");
  moved = moved; // self-assignment keeps the payload
  EXPECT_EQ(moved.getList()[1].getFloat(), 0.25);
  Attribute dict = Attribute::dict({{"k", moved}, {"s", Attribute::string("t")}});
  Attribute inner = dict.getDict()[0].second;
  dict = Attribute::integer(7); // the list lives on in `inner`
  EXPECT_EQ(inner.str(), "[0.5, 0.25]");
  EXPECT_EQ(dict.getInt(), 7);
  EXPECT_EQ(Attribute::boolean(true), Attribute::boolean(true));
  EXPECT_NE(Attribute::boolean(true), Attribute::boolean(false));
}

TEST(ParserPrinterTest, AttributeKeysAreInternedText) {
  // Keys are views of one interned copy per text, whatever they were built
  // from, and behave as their text: comparison, concatenation, conversion.
  std::string owned = "zero_point";
  AttributeKey fromLiteral("zero_point"), fromString(owned),
      fromRef(llvm::StringRef("xzero_point").drop_front());
  EXPECT_EQ(fromLiteral.data(), fromString.data());
  EXPECT_EQ(fromLiteral.data(), fromRef.data());
  EXPECT_EQ(fromLiteral, "zero_point");
  EXPECT_NE(fromLiteral, AttributeKey("zero_points"));
  std::string text = fromLiteral;
  EXPECT_EQ(text, "zero_point");
  EXPECT_EQ("key '" + fromLiteral + "'", "key 'zero_point'");
  EXPECT_EQ('|' + fromLiteral + '=', "|zero_point=");
  owned = "changed"; // the key does not depend on what it was built from
  EXPECT_EQ(fromString, "zero_point");
  static_assert(sizeof(NamedAttribute) == 24, "a key pointer and a 16-byte Attribute");
  EXPECT_EQ(AttributeKey(), AttributeKey("")); // one empty key
  EXPECT_TRUE(AttributeKey().empty());
  EXPECT_EQ(llvm::StringRef(fromLiteral), "zero_point");
  EXPECT_NE(fromLiteral, llvm::StringRef("zero"));

  // Dictionaries with interned keys (bare and quoted) round trip, and
  // setAttribute with a key constant replaces the entry in place.
  std::unique_ptr<Graph> graph =
      parseOk("graph @g() {\n"
              "  foo::f() {\"a b\" = \"s\", d = {k = 1, \"k 2\" = [2]}}\n"
              "  return\n"
              "}\n");
  ASSERT_TRUE(graph);
  Node *node = graph->front();
  EXPECT_EQ(node->attribute("a b")->getString(), "s");
  EXPECT_EQ(node->attribute("d")->lookup("k 2")->str(), "[2]");
  static const AttributeKey kD("d");
  node->setAttribute(kD, Attribute::integer(3));
  ASSERT_EQ(node->attributes().size(), 2u);
  EXPECT_EQ(node->attributes()[1].first.data(), kD.data());
  std::string printed;
  llvm::raw_string_ostream os(printed);
  printGraph(*graph, os);
  EXPECT_NE(os.str().find("{\"a b\" = \"s\", d = 3}"), std::string::npos) << os.str();
}

} // namespace
