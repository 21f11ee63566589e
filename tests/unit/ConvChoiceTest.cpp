//===- tests/unit/ConvChoiceTest.cpp - Tests of the pointwise conv choice -===//
//
// runtime/interpreter/ConvChoice: on one intra-op thread, aten::conv2d's
// pointwise case (1x1, unstrided, undilated, groups 1, batch < 16, input
// big enough) runs oneDNN and gives conv2d's result to float rounding; every
// other case (3x3, strided, grouped, dilated, two threads, autograd, small
// inputs, bad shapes) runs the registered operator unchanged, bit for bit.
//
//===----------------------------------------------------------------------===//
#include "runtime/interpreter/ConvChoice.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <gtest/gtest.h>
#include <torch/csrc/jit/runtime/operator.h>

using namespace qfx;

namespace {

torch::jit::Operation conv2dOperation() {
  for (const auto &op : torch::jit::getAllOperatorsFor(c10::Symbol::fromQualString("aten::conv2d")))
    if (op->schema().overload_name().empty())
      return op->getOperation();
  ADD_FAILURE() << "no aten::conv2d";
  return [](torch::jit::Stack &) {};
}

at::Tensor runConv(torch::jit::Operation &operation, const at::Tensor &x, const at::Tensor &w,
                   const at::Tensor &b, std::vector<int64_t> stride, std::vector<int64_t> padding,
                   std::vector<int64_t> dilation, int64_t groups) {
  torch::jit::Stack stack;
  stack.emplace_back(x);
  stack.emplace_back(w);
  if (b.defined())
    stack.emplace_back(b);
  else
    stack.emplace_back();
  stack.emplace_back(stride);
  stack.emplace_back(padding);
  stack.emplace_back(dilation);
  stack.emplace_back(groups);
  operation(stack);
  EXPECT_EQ(stack.size(), 1u);
  return stack.back().toTensor();
}

/// Restores the intra-op thread count a test changed.
struct Threads {
  int saved = at::get_num_threads();
  explicit Threads(int n) { at::set_num_threads(n); }
  ~Threads() { at::set_num_threads(saved); }
};

TEST(ConvChoiceTest, PointwiseOnOneThreadRunsOneDnnToRounding) {
  if (!at::hasMKLDNN())
    GTEST_SKIP() << "LibTorch without oneDNN";
  Threads one(1);
  at::manual_seed(0);
  at::Tensor x = at::randn({1, 64, 28, 28}), w = at::randn({32, 64, 1, 1}), b = at::randn({32});
  EXPECT_TRUE(usesPointwiseConvKernel(x, w, {1, 1}, {1, 1}, 1));
  torch::jit::Operation chosen = choosePointwiseConvKernel(conv2dOperation());
  for (const at::Tensor &bias : {b, at::Tensor()}) {
    at::Tensor expected = at::conv2d(x, w, bias);
    at::Tensor actual = runConv(chosen, x, w, bias, {1, 1}, {0, 0}, {1, 1}, 1);
    ASSERT_EQ(actual.sizes(), expected.sizes());
    EXPECT_TRUE(actual.is_contiguous());
    EXPECT_TRUE(at::allclose(actual, expected, 1e-4, 1e-4));
  }
  // Padding is allowed (the heuristic ignores it).
  at::Tensor padded = runConv(chosen, x, w, b, {1, 1}, {1, 1}, {1, 1}, 1);
  EXPECT_TRUE(at::allclose(padded, at::conv2d(x, w, b, 1, 1), 1e-4, 1e-4));
}

TEST(ConvChoiceTest, EverythingElseRunsTheRegisteredOperator) {
  Threads one(1);
  at::manual_seed(1);
  at::Tensor x = at::randn({1, 64, 28, 28}), b = at::randn({32});
  at::Tensor pointwise = at::randn({32, 64, 1, 1}), spatial = at::randn({32, 64, 3, 3});
  at::Tensor grouped = at::randn({32, 32, 1, 1});
  EXPECT_FALSE(usesPointwiseConvKernel(x, spatial, {1, 1}, {1, 1}, 1));
  EXPECT_FALSE(usesPointwiseConvKernel(x, pointwise, {2, 2}, {1, 1}, 1));
  EXPECT_FALSE(usesPointwiseConvKernel(x, pointwise, {1, 1}, {2, 2}, 1));
  EXPECT_FALSE(usesPointwiseConvKernel(x, grouped, {1, 1}, {1, 1}, 2));
  EXPECT_FALSE(usesPointwiseConvKernel(at::randn({16, 64, 4, 4}), pointwise, {1, 1}, {1, 1}, 1));
  EXPECT_FALSE(usesPointwiseConvKernel(at::randn({1, 64, 4, 4}), pointwise, {1, 1}, {1, 1}, 1))
      << "small inputs stay on THNN, as in LibTorch's heuristic";
  EXPECT_FALSE(
      usesPointwiseConvKernel(x.to(at::kDouble), pointwise.to(at::kDouble), {1, 1}, {1, 1}, 1));
  EXPECT_FALSE(usesPointwiseConvKernel(x, at::randn({32, 63, 1, 1}), {1, 1}, {1, 1}, 1));
  {
    Threads two(2);
    EXPECT_FALSE(usesPointwiseConvKernel(x, pointwise, {1, 1}, {1, 1}, 1));
  }

  torch::jit::Operation plain = conv2dOperation();
  torch::jit::Operation chosen = choosePointwiseConvKernel(conv2dOperation());
  auto same = [&](const at::Tensor &w, std::vector<int64_t> stride, int64_t groups) {
    at::Tensor expected = runConv(plain, x, w, b, stride, {0, 0}, {1, 1}, groups);
    at::Tensor actual = runConv(chosen, x, w, b, stride, {0, 0}, {1, 1}, groups);
    return at::equal(actual, expected);
  };
  EXPECT_TRUE(same(spatial, {1, 1}, 1));
  EXPECT_TRUE(same(pointwise, {2, 2}, 1));
  EXPECT_TRUE(same(grouped, {1, 1}, 2));

  // Autograd keeps the registered path: same values and a gradient.
  at::Tensor trained = pointwise.clone().requires_grad_(true);
  at::Tensor out = runConv(chosen, x, trained, b, {1, 1}, {0, 0}, {1, 1}, 1);
  EXPECT_TRUE(at::equal(out.detach(), runConv(plain, x, pointwise, b, {1, 1}, {0, 0}, {1, 1}, 1)));
  out.sum().backward();
  EXPECT_TRUE(trained.grad().defined());

  // A shape error is the operator's own.
  at::Tensor wrong = at::randn({32, 63, 1, 1});
  EXPECT_THROW(runConv(chosen, x, wrong, b, {1, 1}, {0, 0}, {1, 1}, 1), c10::Error);
}

} // namespace
