//===- tests/unit/TosaKernelsTest.cpp - tosa kernels against ATen ---------===//
//
// runtime/tosa's kernels run through the interpreter on graphs written as
// qfx IR text, checked against references written independently: ATen in
// NCHW with explicit permutes and explicit padding for the convolutions and
// max pooling, per-channel loops for depthwise (TOSA's output channel
// c * M + m), brute-force window loops for average pooling (the TOSA rule:
// divide by the elements inside the input, whatever the padding), hand-worked
// values for tosa.mul's rounding shift. Also: weights converted once and
// again after an in-place change, and the errors (unsupported op, integer
// convolution, non-constant perms) naming the node.
//
//===----------------------------------------------------------------------===//
#include "runtime/tosa/TosaKernels.h"

#include "ir/Parser.h"
#include "runtime/interpreter/Interpreter.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "llvm/Support/Error.h"

#include <map>
#include <string>
#include <vector>

using namespace qfx;

namespace {

struct Compiled {
  std::unique_ptr<Graph> graph;
  std::unique_ptr<Interpreter> interpreter;
};

std::unique_ptr<Graph> parse(const std::string &text) {
  DiagnosticEngine diagnostics;
  std::string messages;
  diagnostics.setHandler([&](const Diagnostic &d) { messages += d.message + "\n"; });
  std::unique_ptr<Graph> graph = parseGraph(text, diagnostics);
  EXPECT_TRUE(graph) << messages;
  return graph;
}

void attach(Graph &graph, const std::map<std::string, at::Tensor> &data) {
  for (Value *parameter : graph.parameters()) {
    auto found = data.find(parameter->name().str());
    ASSERT_NE(found, data.end()) << parameter->name().str();
    llvm::Expected<TensorData> bytes = tensorToData(found->second);
    ASSERT_TRUE(static_cast<bool>(bytes)) << llvm::toString(bytes.takeError());
    parameter->setData(std::make_shared<TensorData>(std::move(*bytes)));
  }
}

Compiled compile(const std::string &text, const std::map<std::string, at::Tensor> &data = {}) {
  Compiled compiled;
  compiled.graph = parse(text);
  if (!compiled.graph)
    return compiled;
  attach(*compiled.graph, data);
  llvm::Expected<std::unique_ptr<Interpreter>> interpreter = Interpreter::create(*compiled.graph);
  if (!interpreter) {
    ADD_FAILURE() << llvm::toString(interpreter.takeError());
    return compiled;
  }
  compiled.interpreter = std::move(*interpreter);
  return compiled;
}

std::string createError(const std::string &text,
                        const std::map<std::string, at::Tensor> &data = {}) {
  std::unique_ptr<Graph> graph = parse(text);
  if (!graph)
    return "";
  attach(*graph, data);
  llvm::Expected<std::unique_ptr<Interpreter>> interpreter = Interpreter::create(*graph);
  if (interpreter) {
    ADD_FAILURE() << "expected an error";
    return "";
  }
  return llvm::toString(interpreter.takeError());
}

at::Tensor run1(Compiled &compiled, std::vector<at::Tensor> inputs) {
  if (!compiled.interpreter)
    return at::Tensor();
  llvm::Expected<std::vector<at::Tensor>> outputs = compiled.interpreter->run(inputs);
  if (!outputs) {
    ADD_FAILURE() << llvm::toString(outputs.takeError());
    return at::Tensor();
  }
  EXPECT_EQ(outputs->size(), 1u);
  return (*outputs)[0];
}

::testing::AssertionResult close(const at::Tensor &actual, const at::Tensor &expected,
                                 double tolerance = 1e-5) {
  if (!actual.defined())
    return ::testing::AssertionFailure() << "no result";
  if (actual.sizes() != expected.sizes())
    return ::testing::AssertionFailure()
           << "sizes " << actual.sizes() << " vs expected " << expected.sizes();
  if (actual.scalar_type() != expected.scalar_type())
    return ::testing::AssertionFailure()
           << "dtype " << actual.scalar_type() << " vs expected " << expected.scalar_type();
  double difference =
      (actual.to(at::kDouble) - expected.to(at::kDouble)).abs().max().item<double>();
  if (difference > tolerance)
    return ::testing::AssertionFailure() << "max difference " << difference;
  return ::testing::AssertionSuccess();
}

at::Tensor nchw(const at::Tensor &x) { return x.permute({0, 3, 1, 2}); }
at::Tensor nhwc(const at::Tensor &x) { return x.permute({0, 2, 3, 1}).contiguous(); }

//===----------------------------------------------------------------------===//
// Convolutions
//===----------------------------------------------------------------------===//

struct ConvCase {
  std::vector<int64_t> pad, stride, dilation; // TOSA order: pad [top, bottom, left, right]
};

class TosaConv2dTest : public ::testing::TestWithParam<ConvCase> {};

TEST_P(TosaConv2dTest, MatchesAtenInNchwWithExplicitPermutes) {
  const ConvCase &c = GetParam();
  at::manual_seed(7);
  int64_t n = 2, h = 9, w = 8, ci = 3, co = 5, kh = 3, kw = 2;
  at::Tensor x = at::randn({n, h, w, ci});
  at::Tensor weight = at::randn({co, kh, kw, ci}); // OHWI
  at::Tensor bias = at::randn({co});
  // Reference: NCHW, OIHW, padding applied explicitly (left, right, top, bottom).
  at::Tensor padded = at::constant_pad_nd(nchw(x), {c.pad[2], c.pad[3], c.pad[0], c.pad[1]}, 0);
  at::Tensor expected = nhwc(at::conv2d(padded, weight.permute({0, 3, 1, 2}), bias, c.stride,
                                        at::IntArrayRef({0, 0}), c.dilation));
  auto list = [](const std::vector<int64_t> &v) {
    std::string s;
    for (int64_t e : v)
      s += (s.empty() ? "" : ", ") + std::to_string(e);
    return "[" + s + "]";
  };
  auto shape = [](at::IntArrayRef sizes) {
    std::string s;
    for (int64_t e : sizes)
      s += std::to_string(e) + "x";
    return "tensor<" + s + "f32>";
  };
  std::string text =
      "graph @g(%x: " + shape(x.sizes()) + ") {\n  param %w : " + shape(weight.sizes()) +
      "\n  param %b : " + shape(bias.sizes()) +
      "\n  %0 = tosa.conv2d(%x, %w, %b) {pad = " + list(c.pad) + ", stride = " + list(c.stride) +
      ", dilation = " + list(c.dilation) + "} : " + shape(expected.sizes()) + "\n  return %0\n}\n";
  Compiled compiled = compile(text, {{"w", weight}, {"b", bias}});
  EXPECT_TRUE(close(run1(compiled, {x}), expected));
}

INSTANTIATE_TEST_SUITE_P(Attributes, TosaConv2dTest,
                         ::testing::Values(ConvCase{{0, 0, 0, 0}, {1, 1}, {1, 1}},
                                           ConvCase{{1, 1, 1, 1}, {2, 2}, {1, 1}},
                                           ConvCase{{0, 2, 1, 0}, {1, 2}, {2, 1}},
                                           ConvCase{{3, 1, 0, 2}, {2, 1}, {1, 2}}));

TEST(TosaKernels, DepthwiseConv2dChannelOrderIsCTimesMPlusM) {
  at::manual_seed(3);
  int64_t c = 3, m = 2, kh = 3, kw = 3;
  at::Tensor x = at::randn({1, 6, 7, c});
  at::Tensor weight = at::randn({kh, kw, c, m}); // HWIM
  at::Tensor bias = at::randn({c * m});
  // Reference: one single-channel convolution per (c, m), pad [top 1, bottom 0, left 2, right 1].
  at::Tensor padded = at::constant_pad_nd(nchw(x), {2, 1, 1, 0}, 0);
  std::vector<at::Tensor> channels;
  for (int64_t ic = 0; ic < c; ++ic)
    for (int64_t im = 0; im < m; ++im) {
      at::Tensor kernel = weight.select(3, im).select(2, ic).reshape({1, 1, kh, kw});
      channels.push_back(
          at::conv2d(padded.narrow(1, ic, 1), kernel, bias.narrow(0, ic * m + im, 1), {2, 1}));
    }
  at::Tensor expected = nhwc(at::cat(channels, 1));
  EXPECT_EQ(expected.sizes(), at::IntArrayRef({1, 3, 8, 6}));
  Compiled compiled = compile(R"(
graph @g(%x: tensor<1x6x7x3xf32>) {
  param %w : tensor<3x3x3x2xf32>
  param %b : tensor<6xf32>
  %0 = tosa.depthwise_conv2d(%x, %w, %b) {pad = [1, 0, 2, 1], stride = [2, 1], dilation = [1, 1]} : tensor<1x3x8x6xf32>
  return %0
}
)",
                              {{"w", weight}, {"b", bias}});
  EXPECT_TRUE(close(run1(compiled, {x}), expected));
}

TEST(TosaKernels, WeightsAreConvertedOnceAndAgainAfterAnInPlaceChange) {
  at::manual_seed(5);
  at::Tensor x = at::randn({1, 4, 4, 2});
  at::Tensor weight = at::randn({3, 1, 1, 2});
  at::Tensor bias = at::zeros({3});
  Compiled compiled = compile(R"(
graph @g(%x: tensor<1x4x4x2xf32>) {
  param %w : tensor<3x1x1x2xf32>
  param %b : tensor<3xf32>
  %0 = tosa.conv2d(%x, %w, %b) {pad = [0, 0, 0, 0], stride = [1, 1], dilation = [1, 1]} : tensor<1x4x4x3xf32>
  return %0
}
)",
                              {{"w", weight}, {"b", bias}});
  at::Tensor first = run1(compiled, {x});
  EXPECT_TRUE(close(run1(compiled, {x}), first, 0));
  // The interpreter's parameter tensor changed in place: the cached
  // permuted weight must not be reused.
  compiled.interpreter->parameter("w").mul_(2);
  EXPECT_TRUE(close(run1(compiled, {x}), first * 2));
}

TEST(TosaKernels, FullyConnectedAndMatmul) {
  at::manual_seed(11);
  at::Tensor x = at::randn({3, 5});
  at::Tensor weight = at::randn({4, 5});
  at::Tensor bias = at::randn({4});
  Compiled fc = compile(R"(
graph @g(%x: tensor<3x5xf32>) {
  param %w : tensor<4x5xf32>
  param %b : tensor<4xf32>
  %0 = tosa.fully_connected(%x, %w, %b) : tensor<3x4xf32>
  return %0
}
)",
                        {{"w", weight}, {"b", bias}});
  EXPECT_TRUE(close(run1(fc, {x}), at::matmul(x, weight.t()) + bias));

  at::Tensor a = at::randn({2, 3, 4}), b = at::randn({2, 4, 5});
  Compiled mm = compile(R"(
graph @g(%a: tensor<2x3x4xf32>, %b: tensor<2x4x5xf32>) {
  %0 = tosa.matmul(%a, %b) : tensor<2x3x5xf32>
  return %0
}
)");
  at::Tensor expected = at::stack({at::mm(a[0], b[0]), at::mm(a[1], b[1])});
  EXPECT_TRUE(close(run1(mm, {a, b}), expected));
}

//===----------------------------------------------------------------------===//
// Pooling
//===----------------------------------------------------------------------===//

TEST(TosaKernels, MaxPoolPadsWithMinusInfinity) {
  // All-negative input: a zero from padding would win every border window.
  at::manual_seed(2);
  at::Tensor x = -at::rand({1, 5, 6, 2}) - 1;
  Compiled compiled = compile(R"(
graph @g(%x: tensor<1x5x6x2xf32>) {
  %0 = tosa.max_pool2d(%x) {kernel = [2, 3], stride = [2, 2], pad = [1, 0, 2, 1]} : tensor<1x3x4x2xf32>
  return %0
}
)");
  at::Tensor padded = at::constant_pad_nd(nchw(x), {2, 1, 1, 0}, -1e30);
  at::Tensor expected = nhwc(at::max_pool2d(padded, {2, 3}, {2, 2}));
  at::Tensor actual = run1(compiled, {x});
  EXPECT_TRUE(close(actual, expected));
  EXPECT_LT(actual.max().item<float>(), 0);

  // Symmetric padding within half the kernel (ATen's native padding).
  Compiled native = compile(R"(
graph @g(%x: tensor<1x5x6x2xf32>) {
  %0 = tosa.max_pool2d(%x) {kernel = [3, 3], stride = [1, 1], pad = [1, 1, 1, 1]} : tensor<1x5x6x2xf32>
  return %0
}
)");
  at::Tensor padded2 = at::constant_pad_nd(nchw(x), {1, 1, 1, 1}, -1e30);
  EXPECT_TRUE(close(run1(native, {x}), nhwc(at::max_pool2d(padded2, {3, 3}, {1, 1}))));
}

/// The TOSA definition, window by window: the mean of the elements inside
/// the input (padding excluded from both sum and count).
at::Tensor avgPoolByWindows(const at::Tensor &x, int64_t kh, int64_t kw, int64_t sh, int64_t sw,
                            std::vector<int64_t> pad) {
  int64_t n = x.size(0), h = x.size(1), w = x.size(2), c = x.size(3);
  int64_t oh = (h + pad[0] + pad[1] - kh) / sh + 1, ow = (w + pad[2] + pad[3] - kw) / sw + 1;
  at::Tensor out = at::zeros({n, oh, ow, c}, at::kDouble);
  at::Tensor xd = x.to(at::kDouble);
  auto xa = xd.accessor<double, 4>();
  auto oa = out.accessor<double, 4>();
  for (int64_t b = 0; b < n; ++b)
    for (int64_t y = 0; y < oh; ++y)
      for (int64_t z = 0; z < ow; ++z)
        for (int64_t ch = 0; ch < c; ++ch) {
          double sum = 0;
          int64_t count = 0;
          for (int64_t i = 0; i < kh; ++i)
            for (int64_t j = 0; j < kw; ++j) {
              int64_t iy = y * sh - pad[0] + i, ix = z * sw - pad[2] + j;
              if (iy < 0 || iy >= h || ix < 0 || ix >= w)
                continue;
              sum += xa[b][iy][ix][ch];
              ++count;
            }
          oa[b][y][z][ch] = sum / count;
        }
  return out.to(at::kFloat);
}

TEST(TosaKernels, AvgPoolDoesNotCountPadding) {
  at::manual_seed(9);
  at::Tensor x = at::rand({2, 5, 6, 3}) + 1; // positive: counting padding would lower border means
  struct Case {
    std::string attrs, type;
    int64_t kh, kw, sh, sw;
    std::vector<int64_t> pad;
  };
  for (const Case &c : {
           Case{"kernel = [2, 2], stride = [2, 2], pad = [0, 0, 0, 0]",
                "tensor<2x2x3x3xf32>",
                2,
                2,
                2,
                2,
                {0, 0, 0, 0}},
           Case{"kernel = [3, 3], stride = [1, 1], pad = [1, 1, 1, 1]",
                "tensor<2x5x6x3xf32>",
                3,
                3,
                1,
                1,
                {1, 1, 1, 1}},
           Case{"kernel = [3, 2], stride = [2, 1], pad = [2, 0, 0, 1]",
                "tensor<2x3x6x3xf32>",
                3,
                2,
                2,
                1,
                {2, 0, 0, 1}},
       }) {
    Compiled compiled =
        compile("graph @g(%x: tensor<2x5x6x3xf32>) {\n  %0 = tosa.avg_pool2d(%x) {" + c.attrs +
                "} : " + c.type + "\n  return %0\n}\n");
    at::Tensor expected = avgPoolByWindows(x, c.kh, c.kw, c.sh, c.sw, c.pad);
    EXPECT_TRUE(close(run1(compiled, {x}), expected)) << c.attrs;
    // Run again: the cached divisors give the same result.
    EXPECT_TRUE(close(run1(compiled, {x}), expected)) << c.attrs;
  }
}

//===----------------------------------------------------------------------===//
// Elementwise and data movement
//===----------------------------------------------------------------------===//

TEST(TosaKernels, BinaryOpsBroadcast) {
  at::manual_seed(4);
  at::Tensor a = at::randn({2, 1, 3}), b = at::randn({1, 4, 3});
  Compiled compiled = compile(R"(
graph @g(%a: tensor<2x1x3xf32>, %b: tensor<1x4x3xf32>) {
  %0 = tosa.add(%a, %b) : tensor<2x4x3xf32>
  %1 = tosa.sub(%0, %b) : tensor<2x4x3xf32>
  %2 = tosa.mul(%1, %b) {shift = 0} : tensor<2x4x3xf32>
  return %2
}
)");
  at::Tensor expected = ((a.expand({2, 4, 3}) + b) - b) * b;
  EXPECT_TRUE(close(run1(compiled, {a, b}), expected));
}

TEST(TosaKernels, IntegerMulRoundsAndShifts) {
  at::Tensor a = at::tensor({3, -3, 5, 7, -8, 100}, at::kInt);
  at::Tensor b = at::tensor({1, 1, 3, 1, 1, 7}, at::kInt);
  Compiled compiled = compile(R"(
graph @g(%a: tensor<6xi32>, %b: tensor<6xi32>) {
  %0 = tosa.mul(%a, %b) {shift = 2} : tensor<6xi32>
  return %0
}
)");
  // (a * b + 2) >> 2 with an arithmetic shift: 3 -> 1, -3 -> -1, 15 -> 4, 7 -> 2, -8 -> -2,
  // 700 -> 175.
  at::Tensor expected = at::tensor({1, -1, 4, 2, -2, 175}, at::kInt);
  at::Tensor actual = run1(compiled, {a, b});
  ASSERT_TRUE(actual.defined());
  EXPECT_TRUE(at::equal(actual, expected)) << actual;
}

TEST(TosaKernels, ClampUsesTheBoundsOfTheElementType) {
  at::Tensor x = at::tensor({-2.5f, 0.5f, 7.0f});
  Compiled relu6 = compile(R"(
graph @g(%x: tensor<3xf32>) {
  %0 = tosa.clamp(%x) {min_int = -100, max_int = 100, min_fp = 0.0, max_fp = 6.0} : tensor<3xf32>
  return %0
}
)");
  EXPECT_TRUE(close(run1(relu6, {x}), at::tensor({0.0f, 0.5f, 6.0f}), 0));
  Compiled ints = compile(R"(
graph @g(%x: tensor<3xi32>) {
  %0 = tosa.clamp(%x) {min_int = -1, max_int = 4, min_fp = 0.0, max_fp = 6.0} : tensor<3xi32>
  return %0
}
)");
  at::Tensor actual = run1(ints, {at::tensor({-5, 2, 9}, at::kInt)});
  ASSERT_TRUE(actual.defined());
  EXPECT_TRUE(at::equal(actual, at::tensor({-1, 2, 4}, at::kInt)));
}

TEST(TosaKernels, UnaryOps) {
  at::Tensor x = at::rand({2, 3}) + 0.5;
  for (const auto &op :
       std::vector<std::pair<std::string, at::Tensor>>{{"rsqrt", 1 / x.sqrt()},
                                                       {"exp", x.exp()},
                                                       {"tanh", x.tanh()},
                                                       {"sigmoid", 1 / (1 + (-x).exp())},
                                                       {"identity", x}}) {
    Compiled compiled = compile("graph @g(%x: tensor<2x3xf32>) {\n  %0 = tosa." + op.first +
                                "(%x) : tensor<2x3xf32>\n  return %0\n}\n");
    EXPECT_TRUE(close(run1(compiled, {x}), op.second)) << op.first;
  }
}

TEST(TosaKernels, MoreElementwiseOps) {
  at::Tensor x = at::rand({2, 3}) + 0.5, y = at::rand({2, 3}) * 2;
  for (const auto &op : std::vector<std::pair<std::string, at::Tensor>>{
           {"reciprocal", 1 / x}, {"negate", -x}, {"abs", (x - 1).abs()}, {"log", x.log()}}) {
    at::Tensor input = op.first == "abs" ? x - 1 : x;
    Compiled compiled = compile("graph @g(%x: tensor<2x3xf32>) {\n  %0 = tosa." + op.first +
                                "(%x) : tensor<2x3xf32>\n  return %0\n}\n");
    EXPECT_TRUE(close(run1(compiled, {input}), op.second)) << op.first;
  }
  for (const auto &op : std::vector<std::pair<std::string, at::Tensor>>{
           {"maximum", at::maximum(x, y)}, {"minimum", at::minimum(x, y)}}) {
    Compiled compiled =
        compile("graph @g(%x: tensor<2x3xf32>, %y: tensor<2x3xf32>) {\n  %0 = tosa." + op.first +
                "(%x, %y) : tensor<2x3xf32>\n  return %0\n}\n");
    EXPECT_TRUE(close(run1(compiled, {x, y}), op.second, 0)) << op.first;
  }
}

// Reductions keep the reduced axis as a dim of 1; softmax arrives from TOSA
// as reduce_max, sub, exp, reduce_sum, reciprocal and mul.
TEST(TosaKernels, ReductionsKeepTheAxisAndComposeSoftmax) {
  at::Tensor x = at::randn({2, 3, 4});
  for (const auto &op :
       std::vector<std::pair<std::string, at::Tensor>>{{"reduce_sum", x.sum({1}, true)},
                                                       {"reduce_max", x.amax({1}, true)},
                                                       {"reduce_min", x.amin({1}, true)},
                                                       {"reduce_prod", x.prod(1, true)}}) {
    Compiled compiled = compile("graph @g(%x: tensor<2x3x4xf32>) {\n  %0 = tosa." + op.first +
                                "(%x) {axis = 1} : tensor<2x1x4xf32>\n  return %0\n}\n");
    EXPECT_TRUE(close(run1(compiled, {x}), op.second)) << op.first;
  }
  Compiled softmax = compile(R"(
graph @g(%x: tensor<2x3x4xf32>) {
  %0 = tosa.reduce_max(%x) {axis = 2} : tensor<2x3x1xf32>
  %1 = tosa.sub(%x, %0) : tensor<2x3x4xf32>
  %2 = tosa.exp(%1) : tensor<2x3x4xf32>
  %3 = tosa.reduce_sum(%2) {axis = 2} : tensor<2x3x1xf32>
  %4 = tosa.reciprocal(%3) : tensor<2x3x1xf32>
  %5 = tosa.mul(%2, %4) {shift = 0} : tensor<2x3x4xf32>
  return %5
}
)");
  EXPECT_TRUE(close(run1(softmax, {x}), at::softmax(x, 2)));
}

TEST(TosaKernels, PadAndSlice) {
  at::Tensor x = at::arange(6, at::kFloat).reshape({2, 3});
  Compiled padded = compile(R"(
graph @g(%x: tensor<2x3xf32>) {
  param %padding : tensor<2x2xi32>
  param %value : tensor<f32>
  %0 = tosa.pad(%x, %padding) : tensor<3x5xf32>
  %1 = tosa.pad(%x, %padding, %value) : tensor<3x5xf32>
  %2 = tosa.concat(%0, %1) {axis = 0} : tensor<6x5xf32>
  return %2
}
)",
                            {{"padding", at::tensor({0, 1, 2, 0}, at::kInt).reshape({2, 2})},
                             {"value", at::tensor(1.5f)}});
  // Dim 0 gets one row after, dim 1 two columns before.
  at::Tensor expected = at::cat(
      {at::constant_pad_nd(x, {2, 0, 0, 1}, 0), at::constant_pad_nd(x, {2, 0, 0, 1}, 1.5)}, 0);
  EXPECT_TRUE(close(run1(padded, {x}), expected, 0));

  Compiled sliced = compile(R"(
graph @g(%x: tensor<2x3xf32>) {
  %0 = tosa.slice(%x) {start = [1, 1], size = [1, 2]} : tensor<1x2xf32>
  return %0
}
)");
  EXPECT_TRUE(close(run1(sliced, {x}), x.narrow(0, 1, 1).narrow(1, 1, 2), 0));

  std::string outside = createError(R"(
graph @g(%x: tensor<2x3xf32>) {
  %0 = tosa.slice(%x) {start = [1, 2], size = [1, 2]} : tensor<1x2xf32>
  return %0
}
)");
  EXPECT_NE(outside.find("in dim 1 (start 2, size 2) is outside its size 3"), std::string::npos)
      << outside;
  std::string badAxis = createError(R"(
graph @g(%x: tensor<2x3xf32>) {
  %0 = tosa.reduce_sum(%x) {axis = 2} : tensor<2x3xf32>
  return %0
}
)");
  EXPECT_NE(badAxis.find("the axis of 'tosa.reduce_sum' is 2, outside the 2 dims"),
            std::string::npos)
      << badAxis;
}

TEST(TosaKernels, ReshapeTransposeConcat) {
  at::Tensor x = at::arange(24, at::kFloat).reshape({1, 2, 3, 4});
  Compiled compiled = compile(R"(
graph @g(%x: tensor<1x2x3x4xf32>) {
  param %perms : tensor<4xi32>
  %0 = tosa.transpose(%x, %perms) : tensor<1x4x2x3xf32>
  %1 = tosa.reshape(%0) {new_shape = [1, 24]} : tensor<1x24xf32>
  %2 = tosa.reshape(%x) {new_shape = [1, -1]} : tensor<1x24xf32>
  %3 = tosa.concat(%1, %2) {axis = 0} : tensor<2x24xf32>
  return %3
}
)",
                              {{"perms", at::tensor({0, 3, 1, 2}, at::kInt)}});
  at::Tensor expected = at::cat({x.permute({0, 3, 1, 2}).reshape({1, 24}), x.reshape({1, 24})}, 0);
  EXPECT_TRUE(close(run1(compiled, {x}), expected, 0));
}

//===----------------------------------------------------------------------===//
// Errors
//===----------------------------------------------------------------------===//

TEST(TosaKernels, UnsupportedOpNamesTheNodeAndTheSupportedOps) {
  std::string error = createError(R"(
graph @g(%x: tensor<2x3xf32>) {
  %0 = tosa.argmax(%x) {axis = 1} : tensor<2xi32> loc("model.mlir":4:8)
  return %0
}
)");
  EXPECT_NE(error.find("'tosa.argmax' at model.mlir:4:8"), std::string::npos) << error;
  EXPECT_NE(error.find("no kernel for 'tosa.argmax'"), std::string::npos) << error;
  EXPECT_NE(error.find("tosa.conv2d"), std::string::npos) << error;
  EXPECT_FALSE(supportedTosaOps().empty());
}

TEST(TosaKernels, IntegerConvolutionIsRefused) {
  std::string error =
      createError(R"(
graph @g(%x: tensor<1x4x4x2xi8>) {
  param %w : tensor<3x1x1x2xi8>
  param %b : tensor<3xi32>
  %0 = tosa.conv2d(%x, %w, %b) {pad = [0, 0, 0, 0], stride = [1, 1], dilation = [1, 1]} : tensor<1x4x4x3xi32>
  return %0
}
)",
                  {{"w", at::zeros({3, 1, 1, 2}, at::kChar)}, {"b", at::zeros({3}, at::kInt)}});
  EXPECT_NE(error.find("float tosa compute ops only"), std::string::npos) << error;
}

TEST(TosaKernels, BadAttributesAndComputedPermsAreReported) {
  std::string pad = createError(R"(
graph @g(%x: tensor<1x4x4x2xf32>) {
  %0 = tosa.max_pool2d(%x) {kernel = [2, 2], stride = [2, 2], pad = [0, 0]} : tensor<1x2x2x2xf32>
  return %0
}
)");
  EXPECT_NE(pad.find("attribute 'pad' of 'tosa.max_pool2d' must be a list of 4 integers"),
            std::string::npos)
      << pad;
  std::string perms = createError(R"(
graph @g(%x: tensor<2x3xf32>, %p: tensor<2xi32>) {
  %0 = tosa.transpose(%x, %p) : tensor<3x2xf32>
  return %0
}
)");
  EXPECT_NE(perms.find("must be a constant"), std::string::npos) << perms;
  std::string shift = createError(R"(
graph @g(%a: tensor<2xf32>) {
  %0 = tosa.mul(%a, %a) {shift = 3} : tensor<2xf32>
  return %0
}
)");
  EXPECT_NE(shift.find("integer tensors only"), std::string::npos) << shift;
}

} // namespace
