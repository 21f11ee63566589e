//===- runtime/torch_ops/TorchOpsGolden.cc - C++ results for the op test --===//
//
// Writes, in torch.save format (torch::pickle_save), a list of cases with
// their inputs and the results of the C++ kernel API (fake-quant output and
// mask, codes, dequantized values, the autograd gradient for a given output
// gradient). torch_ops_test.py loads the file next to libqfx_torch_ops.so and
// checks that the TorchScript ops give the same bits. Usage:
// torch_ops_golden <output.pt>.
//
//===----------------------------------------------------------------------===//
#include "runtime/kernels/Kernels.h"

#include <ATen/ATen.h>
#include <torch/csrc/jit/serialization/pickle.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

using namespace qfx;

namespace {

struct Case {
  std::string name;
  at::Tensor x, scale, zeroPoint, minVal;
  int64_t quantMin = 0, quantMax = 0;
  ElementFormat format = ElementFormat::Int;
};

std::vector<Case> makeCases() {
  at::manual_seed(42);
  std::vector<Case> cases;
  auto add = [&](std::string name, at::Tensor x, at::Tensor scale, at::Tensor zp, at::Tensor mv,
                 int64_t qmin, int64_t qmax, ElementFormat f) {
    cases.push_back({std::move(name), x, scale, zp, mv, qmin, qmax, f});
  };
  add("per_tensor_int8_zp", at::randn({64, 33}) * 2, at::full({1, 1}, 0.02f),
      at::full({1, 1}, -3, at::kInt), {}, -128, 127, ElementFormat::Int);
  add("per_channel_uint8_zp_axis1", at::randn({5, 16, 7}) * 3, at::rand({1, 16, 1}) * 0.05f + 0.01f,
      at::randint(0, 256, {1, 16, 1}, at::kInt), {}, 0, 255, ElementFormat::Int);
  add("per_block_int4_minval", at::randn({8, 64}), at::rand({8, 2}) * 0.2f + 0.05f, {},
      -at::rand({8, 2}) * 2, -8, 7, ElementFormat::Int);
  add("per_channel_int4_clip_fp16", (at::randn({12, 10}) * 2).to(at::kHalf),
      at::rand({12, 1}) * 0.3f + 0.1f, at::zeros({12, 1}, at::kInt), {}, -7, 7, ElementFormat::Int);
  add("fp8_e4m3_per_tensor_fp16", (at::randn({7, 130}) * 50).to(at::kHalf),
      at::full({1, 1}, 200.0f / 448.0f), {}, {}, 0, 0, ElementFormat::Float8E4M3FN);
  add("fp8_e5m2_per_channel_bf16", (at::randn({9, 40}) * 10).to(at::kBFloat16),
      at::rand({9, 1}) * 0.001f + 1e-4f, {}, {}, 0, 0, ElementFormat::Float8E5M2);
  add("fp4_e8m0_per_block", at::randn({4, 96}) * 4,
      at::exp2(at::randint(-2, 2, {4, 3}).to(at::kFloat)), {}, {}, 0, 0, ElementFormat::Float4E2M1);
  return cases;
}

} // namespace

int main(int argc, char **argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s <output.pt>\n", argv[0]);
    return 2;
  }
  c10::impl::GenericList list(c10::AnyType::get());
  for (const Case &c : makeCases()) {
    QuantKernelParams p;
    p.format = c.format;
    p.quantMin = c.quantMin;
    p.quantMax = c.quantMax;
    p.scale = c.scale;
    p.zeroPoint = c.zeroPoint;
    p.minVal = c.minVal;
    p.formulation = c.minVal.defined() ? Formulation::MinVal : Formulation::ZeroPoint;

    c10::impl::GenericDict d(c10::StringType::get(), c10::AnyType::get());
    d.insert(std::string("name"), c.name);
    d.insert(std::string("format"), std::string(elementFormatName(c.format)));
    d.insert(std::string("quant_min"), c.quantMin);
    d.insert(std::string("quant_max"), c.quantMax);
    d.insert(std::string("x"), c.x);
    d.insert(std::string("scale"), c.scale);
    d.insert(std::string("zero_point"),
             c.zeroPoint.defined() ? c10::IValue(c.zeroPoint) : c10::IValue());
    d.insert(std::string("minval"), c.minVal.defined() ? c10::IValue(c.minVal) : c10::IValue());
    const FakeQuantizeResult fq = fakeQuantizeForward(c.x, p, /*computeMask=*/true);
    d.insert(std::string("fake"), fq.output);
    d.insert(std::string("mask"), fq.mask);
    const at::Tensor codes = quantize(c.x, p);
    d.insert(std::string("codes"), codes);
    d.insert(std::string("dequant"), dequantize(codes, p, c.x.scalar_type()));
    const at::Tensor gradOut = at::randn(c.x.sizes()).to(c.x.scalar_type());
    at::Tensor x = c.x.clone().requires_grad_(true);
    fakeQuantize(x, p).backward(gradOut);
    d.insert(std::string("grad_out"), gradOut);
    d.insert(std::string("grad_in"), x.grad());
    list.push_back(d);
  }
  const std::vector<char> bytes = torch::jit::pickle_save(list);
  std::ofstream out(argv[1], std::ios::binary);
  out.write(bytes.data(), std::streamsize(bytes.size()));
  if (!out) {
    std::fprintf(stderr, "cannot write %s\n", argv[1]);
    return 1;
  }
  return 0;
}
