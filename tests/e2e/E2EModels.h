//===- tests/e2e/E2EModels.h - Models for the end-to-end tests ------------===//
//
// TorchScript modules defined in TorchScript source (torch::jit::Module::
// define), with random weights from a fixed seed, shaped like the models the
// reference and PyTorch users quantize: a ResNet-18-like network (basic
// blocks, downsampling shortcuts), a MobileNetV2-like one (inverted
// residuals with depthwise convs and ReLU6), a transformer encoder block, and
// the reference's acceptance models M1 (SimpleModel) and M2 (the MNIST net).
// Class names follow PyTorch's (`torch.nn.modules.conv.Conv2d`) so module
// types read as they would from a scripted torch.nn model. Weights are
// He-scaled and batch-norm statistics plausible, so activations keep a
// realistic range through the depth of the network.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <torch/csrc/jit/api/module.h>

#include <cstdint>
#include <string>
#include <vector>

namespace qfx::e2e {

struct E2EModel {
  std::string name;
  torch::jit::Module module;
  /// Input shape (one input).
  std::vector<int64_t> inputShape;
};

/// Width-reduced ResNet-18 (stages 16/32/64/128, 2 basic blocks each), input
/// [1, 3, 64, 64], 10 classes.
E2EModel resnet18Like(uint64_t seed = 0);
/// MobileNetV2-like (stem, 6 inverted residual blocks with expansion 4,
/// depthwise 3x3, ReLU6, last 1x1 conv, dropout, classifier), input
/// [1, 3, 64, 64].
E2EModel mobilenetV2Like(uint64_t seed = 0);
/// One post-norm transformer encoder block (d_model 64, 4 heads, FFN 128,
/// GELU), input [1, 16, 64].
E2EModel transformerEncoderBlock(uint64_t seed = 0);
/// Reference M1: conv(1,32,3,p=1) -> relu -> view(x.size(0), -1) ->
/// linear(32*28*28, 10); input [1, 1, 28, 28].
E2EModel simpleModel(uint64_t seed = 0);
/// Reference M2, the MNIST net; input [1, 1, 28, 28].
E2EModel mnistNet(uint64_t seed = 0);

} // namespace qfx::e2e
