//===- tests/e2e/E2EModels.cc - Models for the end-to-end tests -----------===//
//
// Each torch.nn-like module is its own TorchScript class with a forward in
// TorchScript source; containers call `self.child.forward(x)` (a C++-built
// module has no __call__), which the importer inlines with the child's path.
//
//===----------------------------------------------------------------------===//
#include "tests/e2e/E2EModels.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include <cmath>

namespace qfx::e2e {
namespace {

namespace tj = torch::jit;

std::string ints(std::initializer_list<int64_t> values) {
  std::string text = "[";
  for (int64_t value : values)
    text += (text.size() > 1 ? ", " : "") + std::to_string(value);
  return text + "]";
}

class Builder {
public:
  explicit Builder(uint64_t seed) : generator_(at::make_generator<at::CPUGeneratorImpl>(seed)) {}

  tj::Module module(const std::string &pythonType) {
    size_t dot = pythonType.rfind('.');
    return tj::Module(c10::QualifiedName("__torch__." + pythonType.substr(0, dot) +
                                         ".___torch_mangle_" + std::to_string(counter_++) +
                                         pythonType.substr(dot)));
  }

  at::Tensor normal(at::IntArrayRef shape, double std, double mean = 0) {
    return at::randn(shape, generator_) * std + mean;
  }

  tj::Module conv(int64_t in, int64_t out, int64_t kernel, int64_t stride, int64_t padding,
                  int64_t groups = 1, bool bias = true) {
    tj::Module m = module("torch.nn.modules.conv.Conv2d");
    int64_t fanIn = in / groups * kernel * kernel;
    m.register_parameter("weight",
                         normal({out, in / groups, kernel, kernel}, std::sqrt(2.0 / fanIn)), false);
    std::string biasName = "None";
    if (bias) {
      m.register_parameter("bias", normal({out}, 0.05), false);
      biasName = "self.bias";
    }
    m.define("def forward(self, x):\n    return torch.conv2d(x, self.weight, " + biasName + ", " +
             ints({stride, stride}) + ", " + ints({padding, padding}) + ", [1, 1], " +
             std::to_string(groups) + ")\n");
    return m;
  }

  tj::Module convTranspose(int64_t in, int64_t out, int64_t kernel, int64_t padding) {
    tj::Module m = module("torch.nn.modules.conv.ConvTranspose2d");
    m.register_parameter("weight",
                         normal({in, out, kernel, kernel}, std::sqrt(1.0 / (in * kernel))), false);
    m.register_parameter("bias", normal({out}, 0.05), false);
    m.define("def forward(self, x):\n    return torch.conv_transpose2d(x, self.weight, self.bias, "
             "[1, 1], " +
             ints({padding, padding}) + ", [0, 0], 1, [1, 1])\n");
    return m;
  }

  tj::Module batchNorm(int64_t channels, double eps = 1e-5) {
    tj::Module m = module("torch.nn.modules.batchnorm.BatchNorm2d");
    m.register_parameter("weight", normal({channels}, 0.1, 1.0), false);
    m.register_parameter("bias", normal({channels}, 0.1), false);
    m.register_buffer("running_mean", normal({channels}, 0.1));
    m.register_buffer("running_var", normal({channels}, 0.1).abs() + 0.9);
    char epsText[32];
    std::snprintf(epsText, sizeof(epsText), "%.17g", eps);
    m.define(std::string("def forward(self, x):\n    return torch.batch_norm(x, self.weight, "
                         "self.bias, self.running_mean, self.running_var, False, 0.1, ") +
             epsText + ", True)\n");
    return m;
  }

  tj::Module activation(const std::string &type, const std::string &expression) {
    tj::Module m = module("torch.nn.modules.activation." + type);
    m.define("def forward(self, x):\n    return " + expression + "\n");
    return m;
  }
  tj::Module relu() { return activation("ReLU", "torch.relu(x)"); }
  tj::Module relu6() { return activation("ReLU6", "torch.hardtanh(x, 0.0, 6.0)"); }

  tj::Module linear(int64_t in, int64_t out) {
    tj::Module m = module("torch.nn.modules.linear.Linear");
    m.register_parameter("weight", normal({out, in}, std::sqrt(1.0 / in)), false);
    m.register_parameter("bias", normal({out}, 0.05), false);
    m.define("def forward(self, x):\n    return torch.linear(x, self.weight, self.bias)\n");
    return m;
  }

  tj::Module layerNorm(int64_t width) {
    tj::Module m = module("torch.nn.modules.normalization.LayerNorm");
    m.register_parameter("weight", normal({width}, 0.05, 1.0), false);
    m.register_parameter("bias", normal({width}, 0.05), false);
    m.define("def forward(self, x):\n    return torch.layer_norm(x, [" + std::to_string(width) +
             "], self.weight, self.bias, 1e-05, True)\n");
    return m;
  }

  tj::Module dropout(double p) {
    tj::Module m = module("torch.nn.modules.dropout.Dropout");
    m.register_attribute("training", c10::BoolType::get(), false);
    m.define("def forward(self, x):\n    return torch.dropout(x, " + std::to_string(p) +
             ", self.training)\n");
    return m;
  }

  tj::Module maxPool(int64_t kernel, int64_t stride, int64_t padding = 0) {
    tj::Module m = module("torch.nn.modules.pooling.MaxPool2d");
    m.define("def forward(self, x):\n    return torch.max_pool2d(x, " + ints({kernel, kernel}) +
             ", " + ints({stride, stride}) + ", " + ints({padding, padding}) +
             ", [1, 1], False)\n");
    return m;
  }

private:
  at::Generator generator_;
  int counter_ = 0;
};

tj::Module basicBlock(Builder &b, int64_t in, int64_t out, int64_t stride) {
  tj::Module m = b.module("torchvision.models.resnet.BasicBlock");
  m.register_module("conv1", b.conv(in, out, 3, stride, 1, 1, false));
  m.register_module("bn1", b.batchNorm(out));
  m.register_module("relu", b.relu());
  m.register_module("conv2", b.conv(out, out, 3, 1, 1, 1, false));
  m.register_module("bn2", b.batchNorm(out));
  std::string shortcut = "x";
  if (stride != 1 || in != out) {
    tj::Module down = b.module("torch.nn.modules.container.Sequential");
    down.register_module("0", b.conv(in, out, 1, stride, 0, 1, false));
    down.register_module("1", b.batchNorm(out));
    down.define("def forward(self, x):\n    return getattr(self, \"1\").forward(getattr(self, "
                "\"0\").forward(x))\n");
    m.register_module("downsample", down);
    shortcut = "self.downsample.forward(x)";
  }
  m.define(R"(
def forward(self, x):
    out = self.relu.forward(self.bn1.forward(self.conv1.forward(x)))
    out = self.bn2.forward(self.conv2.forward(out))
    return self.relu.forward(out + )" +
           shortcut + ")\n");
  return m;
}

tj::Module invertedResidual(Builder &b, int64_t in, int64_t out, int64_t stride,
                            int64_t expansion) {
  int64_t hidden = in * expansion;
  tj::Module m = b.module("torchvision.models.mobilenetv2.InvertedResidual");
  m.register_module("expand", b.conv(in, hidden, 1, 1, 0, 1, false));
  m.register_module("bn1", b.batchNorm(hidden));
  m.register_module("act1", b.relu6());
  m.register_module("depthwise", b.conv(hidden, hidden, 3, stride, 1, hidden, false));
  m.register_module("bn2", b.batchNorm(hidden));
  m.register_module("act2", b.relu6());
  m.register_module("project", b.conv(hidden, out, 1, 1, 0, 1, false));
  m.register_module("bn3", b.batchNorm(out));
  bool residual = stride == 1 && in == out;
  m.define(std::string(R"(
def forward(self, x):
    y = self.act1.forward(self.bn1.forward(self.expand.forward(x)))
    y = self.act2.forward(self.bn2.forward(self.depthwise.forward(y)))
    y = self.bn3.forward(self.project.forward(y))
    return )") +
           (residual ? "x + y" : "y") + "\n");
  return m;
}

} // namespace

E2EModel resnet18Like(uint64_t seed) {
  Builder b(seed);
  tj::Module m = b.module("torchvision.models.resnet.ResNet");
  m.register_module("conv1", b.conv(3, 16, 7, 2, 3, 1, false));
  m.register_module("bn1", b.batchNorm(16));
  m.register_module("relu", b.relu());
  m.register_module("maxpool", b.maxPool(3, 2, 1));
  int64_t widths[] = {16, 32, 64, 128};
  int64_t in = 16;
  for (int stage = 0; stage < 4; ++stage) {
    tj::Module layer = b.module("torch.nn.modules.container.Sequential");
    int64_t out = widths[stage];
    layer.register_module("0", basicBlock(b, in, out, stage == 0 ? 1 : 2));
    layer.register_module("1", basicBlock(b, out, out, 1));
    layer.define("def forward(self, x):\n    return getattr(self, \"1\").forward(getattr(self, "
                 "\"0\").forward(x))\n");
    m.register_module("layer" + std::to_string(stage + 1), layer);
    in = out;
  }
  m.register_module("fc", b.linear(128, 10));
  m.define(R"(
def forward(self, x):
    x = self.maxpool.forward(self.relu.forward(self.bn1.forward(self.conv1.forward(x))))
    x = self.layer4.forward(self.layer3.forward(self.layer2.forward(self.layer1.forward(x))))
    x = torch.adaptive_avg_pool2d(x, [1, 1])
    x = torch.flatten(x, 1)
    return self.fc.forward(x)
)");
  m.eval();
  return {"resnet18_like", m, {1, 3, 64, 64}};
}

E2EModel mobilenetV2Like(uint64_t seed) {
  Builder b(seed);
  tj::Module m = b.module("torchvision.models.mobilenetv2.MobileNetV2");
  m.register_module("stem", b.conv(3, 16, 3, 2, 1, 1, false));
  m.register_module("stem_bn", b.batchNorm(16));
  m.register_module("stem_act", b.relu6());
  struct Block {
    int64_t in, out, stride;
  };
  const Block blocks[] = {{16, 16, 1}, {16, 24, 2}, {24, 24, 1},
                          {24, 32, 2}, {32, 32, 1}, {32, 32, 1}};
  std::string body;
  for (size_t i = 0; i < std::size(blocks); ++i) {
    std::string name = "block" + std::to_string(i);
    m.register_module(name, invertedResidual(b, blocks[i].in, blocks[i].out, blocks[i].stride, 4));
    body += "    x = self." + name + ".forward(x)\n";
  }
  m.register_module("last", b.conv(32, 128, 1, 1, 0, 1, false));
  m.register_module("last_bn", b.batchNorm(128));
  m.register_module("last_act", b.relu6());
  m.register_module("dropout", b.dropout(0.2));
  m.register_module("classifier", b.linear(128, 10));
  m.define("def forward(self, x):\n"
           "    x = self.stem_act.forward(self.stem_bn.forward(self.stem.forward(x)))\n" +
           body +
           "    x = self.last_act.forward(self.last_bn.forward(self.last.forward(x)))\n"
           "    x = torch.flatten(torch.adaptive_avg_pool2d(x, [1, 1]), 1)\n"
           "    return self.classifier.forward(self.dropout.forward(x))\n");
  m.eval();
  return {"mobilenet_v2_like", m, {1, 3, 64, 64}};
}

E2EModel transformerEncoderBlock(uint64_t seed) {
  Builder b(seed);
  tj::Module attention = b.module("torch.nn.modules.activation.MultiheadAttention");
  for (const char *name : {"q_proj", "k_proj", "v_proj", "out_proj"})
    attention.register_module(name, b.linear(64, 64));
  attention.define(R"(
def forward(self, x):
    b = x.size(0)
    n = x.size(1)
    q = self.q_proj.forward(x).view([b, n, 4, 16]).transpose(1, 2)
    k = self.k_proj.forward(x).view([b, n, 4, 16]).transpose(1, 2)
    v = self.v_proj.forward(x).view([b, n, 4, 16]).transpose(1, 2)
    scores = torch.matmul(q, k.transpose(-2, -1)) * 0.25
    attn = torch.softmax(scores, -1)
    ctx = torch.matmul(attn, v).transpose(1, 2).reshape([b, n, 64])
    return self.out_proj.forward(ctx)
)");
  tj::Module m = b.module("torch.nn.modules.transformer.TransformerEncoderLayer");
  m.register_module("self_attn", attention);
  m.register_module("dropout1", b.dropout(0.1));
  m.register_module("norm1", b.layerNorm(64));
  m.register_module("linear1", b.linear(64, 128));
  m.register_module("dropout", b.dropout(0.1));
  m.register_module("linear2", b.linear(128, 64));
  m.register_module("dropout2", b.dropout(0.1));
  m.register_module("norm2", b.layerNorm(64));
  m.define(R"(
def forward(self, x):
    x = self.norm1.forward(x + self.dropout1.forward(self.self_attn.forward(x)))
    h = self.linear2.forward(self.dropout.forward(torch.gelu(self.linear1.forward(x))))
    return self.norm2.forward(x + self.dropout2.forward(h))
)");
  m.eval();
  return {"transformer_encoder_block", m, {1, 16, 64}};
}

E2EModel simpleModel(uint64_t seed) {
  Builder b(seed);
  tj::Module m = b.module("reference.SimpleModel");
  m.register_module("conv", b.conv(1, 32, 3, 1, 1));
  m.register_module("relu", b.relu());
  m.register_module("linear", b.linear(32 * 28 * 28, 10));
  m.define(R"(
def forward(self, x):
    x = self.relu.forward(self.conv.forward(x))
    x = x.view(x.size(0), -1)
    return self.linear.forward(x)
)");
  m.eval();
  return {"simple_model", m, {1, 1, 28, 28}};
}

E2EModel mnistNet(uint64_t seed) {
  Builder b(seed);
  tj::Module m = b.module("reference.MNISTNet");
  m.register_module("conv1", b.conv(1, 32, 5, 1, 2));
  m.register_module("bn1", b.batchNorm(32, 1e-3));
  m.register_module("relu1", b.relu6());
  m.register_module("pool1", b.maxPool(2, 2));
  m.register_module("conv2", b.conv(32, 64, 5, 1, 2));
  m.register_module("relu2", b.relu6());
  m.register_module("pool2", b.maxPool(2, 2));
  m.register_module("conv_transpose1", b.convTranspose(64, 128, 3, 1));
  m.register_module("bn3", b.batchNorm(128, 1e-3));
  m.register_module("relu3", b.relu6());
  m.register_module("pool3", b.maxPool(1, 1));
  m.register_module("conv_transpose2", b.convTranspose(128, 64, 3, 1));
  m.register_module("relu4", b.relu6());
  tj::Module flatten = b.module("torch.nn.modules.flatten.Flatten");
  flatten.define("def forward(self, x):\n    return torch.flatten(x, 1, -1)\n");
  m.register_module("flatten", flatten);
  m.register_module("dense1", b.linear(3136, 1024));
  m.register_module("relu5", b.relu6());
  m.register_module("dropout", b.dropout(0.4));
  m.register_module("dense2", b.linear(1024, 10));
  tj::Module softmax = b.module("torch.nn.modules.activation.LogSoftmax");
  softmax.define("def forward(self, x):\n    return torch.log_softmax(x, -1)\n");
  m.register_module("softmax", softmax);
  std::string body = "def forward(self, x):\n";
  for (const char *name : {"conv1", "bn1", "relu1", "pool1", "conv2", "relu2", "pool2",
                           "conv_transpose1", "bn3", "relu3", "pool3", "conv_transpose2", "relu4",
                           "flatten", "dense1", "relu5", "dropout", "dense2", "softmax"})
    body += std::string("    x = self.") + name + ".forward(x)\n";
  m.define(body + "    return x\n");
  m.eval();
  return {"mnist_net", m, {1, 1, 28, 28}};
}

} // namespace qfx::e2e
