//===- tests/unit/TorchScriptTestModels.h - Models for the bridge tests ---===//
//
// Real models for the TorchScript import and export tests, written in
// TorchScript source and compiled in process (torch::jit::Module::define),
// the way torch.jit.script would build them: each torch.nn-like submodule
// has its own (mangled) class named as in torch.nn, parameters and buffers
// registered as nn.Module registers them, a `training` flag, and the
// asserts and `if self.training:` branches of the real modules. Weights come
// from a fixed seed. Also: where the Python-written models of
// TorchScriptModels.py and libqfx_torch_ops.so are at test time.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <torch/csrc/jit/api/module.h>

#include <string>
#include <vector>

namespace qfx::testing {

struct TestModel {
  std::string name;
  torch::jit::Module module;
  /// One shape per input (all f32).
  std::vector<std::vector<int64_t>> inputShapes;
};

/// conv(3->8)-bn-relu-maxpool, conv(8->16, no bias)-relu-maxpool, flatten,
/// linear(256->10), dropout; input 1x3x16x16.
TestModel smallCNN();
/// A ResNet stage `layer1` holding one torchvision-style BasicBlock (8->16,
/// stride 2, with a downsample Sequential); input 1x8x8x8.
TestModel resnetBlock();
/// linear-gelu-linear plus a residual add and relu; input 4x32.
TestModel residualMLP();
/// Self-attention and an MLP with layer norms (matmul, softmax, gelu,
/// view/transpose driven by x.size()); input 2x5x16.
TestModel transformerBlock();
/// Two inputs, two outputs: cat, a batch_norm without affine parameters
/// (weight and bias None before the running statistics) and a sum.
TestModel twoOutputs();
/// The four models the brief asks for, and twoOutputs.
std::vector<TestModel> allTestModels();

/// Compiles `source` (methods) into a fresh module of class `className`.
torch::jit::Module moduleFromSource(const std::string &className, const std::string &source);

/// Path of a runfile of this workspace (`tests/unit/traced_cnn.pt`).
std::string runfile(const std::string &path);

/// Random inputs of the given shapes (fixed seed per call).
std::vector<c10::IValue> randomInputs(const std::vector<std::vector<int64_t>> &shapes,
                                      uint64_t seed);

/// True when both outputs (tensors, or tuples of tensors) are bit-identical.
bool bitIdentical(const c10::IValue &a, const c10::IValue &b);

} // namespace qfx::testing
