//===- runtime/interpreter/ConvChoice.cc - Pointwise convs on oneDNN ------===//
//
// See ConvChoice.h for why. The test mirrors the one condition of LibTorch
// 1.13's ConvParams::use_mkldnn that turns oneDNN down for 1x1 convs (one
// thread, unstrided, undilated, batch < 16); the rest of that function would
// accept these shapes (float CPU tensors, and for groups == 1 a batch of 1
// needs more than 20480 input elements -- below that THNN is kept, as there).
//
//===----------------------------------------------------------------------===//
#include "runtime/interpreter/ConvChoice.h"

#include <ATen/ATen.h>
#include <ATen/Config.h>
#include <ATen/Parallel.h>
#include <ATen/core/stack.h>

namespace qfx {

bool usesPointwiseConvKernel(const at::Tensor &input, const at::Tensor &weight,
                             c10::IntArrayRef stride, c10::IntArrayRef dilation, int64_t groups) {
  if (!at::hasMKLDNN() || !at::globalContext().userEnabledMkldnn())
    return false;
  if (!input.defined() || !weight.defined() || input.dim() != 4 || weight.dim() != 4 ||
      !input.device().is_cpu() || !weight.device().is_cpu() || input.layout() != at::kStrided ||
      weight.layout() != at::kStrided || input.scalar_type() != at::kFloat ||
      weight.scalar_type() != at::kFloat)
    return false;
  // Only what the heuristic sends to THNN for being pointwise on one thread.
  if (weight.size(2) != 1 || weight.size(3) != 1 || groups != 1 || input.size(0) >= 16 ||
      at::get_num_threads() != 1)
    return false;
  for (int64_t s : stride)
    if (s != 1)
      return false;
  for (int64_t d : dilation)
    if (d != 1)
      return false;
  // Shapes the op would reject keep its own error message.
  if (input.size(1) != weight.size(1) || input.numel() == 0 || weight.numel() == 0)
    return false;
  // The rest of use_mkldnn for groups == 1: a batch of 1 stays on THNN when
  // small (there THNN's lower overhead wins whatever the BLAS).
  return input.size(0) > 1 || input.numel() > 20480;
}

torch::jit::Operation choosePointwiseConvKernel(torch::jit::Operation operation) {
  if (!at::hasMKLDNN())
    return operation;
  return [operation = std::move(operation)](torch::jit::Stack &stack) mutable {
    // conv2d(input, weight, bias?, stride, padding, dilation, groups)
    constexpr size_t kArgs = 7;
    if (stack.size() >= kArgs) {
      const c10::IValue &input = torch::jit::peek(stack, 0, kArgs);
      const c10::IValue &weight = torch::jit::peek(stack, 1, kArgs);
      const c10::IValue &bias = torch::jit::peek(stack, 2, kArgs);
      const c10::IValue &stride = torch::jit::peek(stack, 3, kArgs);
      const c10::IValue &padding = torch::jit::peek(stack, 4, kArgs);
      const c10::IValue &dilation = torch::jit::peek(stack, 5, kArgs);
      const c10::IValue &groups = torch::jit::peek(stack, 6, kArgs);
      if (input.isTensor() && weight.isTensor() && (bias.isNone() || bias.isTensor()) &&
          stride.isIntList() && padding.isIntList() && dilation.isIntList() && groups.isInt()) {
        const at::Tensor &x = input.toTensor(), &w = weight.toTensor();
        at::Tensor b = bias.isTensor() ? bias.toTensor() : at::Tensor();
        std::vector<int64_t> strides = stride.toIntVector(), paddings = padding.toIntVector(),
                             dilations = dilation.toIntVector();
        // Autograd keeps the registered path (its backward is the one
        // training was written against).
        bool grad = at::GradMode::is_enabled() &&
                    (x.requires_grad() || w.requires_grad() || (b.defined() && b.requires_grad()));
        bool biasOk = !b.defined() || (b.device().is_cpu() && b.scalar_type() == at::kFloat &&
                                       b.dim() == 1 && b.size(0) == w.size(0));
        if (!grad && biasOk && strides.size() == 2 && paddings.size() == 2 &&
            dilations.size() == 2 &&
            usesPointwiseConvKernel(x, w, strides, dilations, groups.toInt())) {
          at::Tensor out = at::mkldnn_convolution(
              x, w, b.defined() ? c10::optional<at::Tensor>(b) : c10::nullopt, paddings, strides,
              dilations, 1);
          torch::jit::drop(stack, kArgs);
          torch::jit::push(stack, std::move(out));
          return;
        }
      }
    }
    operation(stack);
  };
}

} // namespace qfx
