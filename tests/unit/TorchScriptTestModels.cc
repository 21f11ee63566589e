//===- tests/unit/TorchScriptTestModels.cc - Models for the bridge tests --===//
//
// Builds the models of TorchScriptTestModels.h from TorchScript source. Each
// torch.nn-like module class is compiled once per configuration, under a
// mangled name as torch.jit.script produces (`__torch__.torch.nn.modules.
// conv.___torch_mangle_3.Conv2d`), so the importer sees what it sees in
// real scripted models.
//
//===----------------------------------------------------------------------===//
#include "tests/unit/TorchScriptTestModels.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <memory>

namespace qfx::testing {
namespace {

using torch::jit::Module;

class Builder {
public:
  explicit Builder(uint64_t seed)
      : unit_(std::make_shared<torch::jit::CompilationUnit>()),
        generator_(at::make_generator<at::CPUGeneratorImpl>(seed)) {}

  /// A module of Python class `pythonClass` (`torch.nn.modules.conv.Conv2d`).
  /// (Sources call submodules as `self.conv1.forward(x)`: modules compiled
  /// from C++ have no `__call__`; the graph is the same CallMethod.)
  Module create(const std::string &pythonClass, bool mangle = true) {
    std::string qualified = "__torch__." + pythonClass;
    if (mangle) {
      size_t dot = qualified.rfind('.');
      qualified = qualified.substr(0, dot) + ".___torch_mangle_" + std::to_string(counter_++) +
                  qualified.substr(dot);
    }
    Module module(c10::QualifiedName(qualified), unit_);
    // Modules in training mode, as a freshly scripted model: the importer
    // reads `training` as false by default.
    module.register_attribute("training", c10::BoolType::get(), true);
    return module;
  }

  at::Tensor random(std::vector<int64_t> shape, double scale) {
    return at::randn(shape, generator_) * scale;
  }

  Module conv2d(int64_t in, int64_t out, int64_t kernel, int64_t stride, int64_t padding,
                bool bias) {
    Module m = create("torch.nn.modules.conv.Conv2d");
    m.register_parameter("weight", random({out, in, kernel, kernel}, 0.3), false);
    if (bias)
      m.register_parameter("bias", random({out}, 0.1), false);
    else
      m.register_attribute("bias", c10::OptionalType::create(c10::TensorType::get()),
                           c10::IValue());
    std::string s = std::to_string(stride), p = std::to_string(padding);
    m.define(R"(
def forward(self, input):
    return self._conv_forward(input, self.weight, self.bias)

def _conv_forward(self, input, weight, bias: Optional[Tensor]):
    return torch.conv2d(input, weight, bias, [)" +
             s + ", " + s + "], [" + p + ", " + p + R"(], [1, 1], 1)
)");
    return m;
  }

  Module batchNorm2d(int64_t channels) {
    Module m = create("torch.nn.modules.batchnorm.BatchNorm2d");
    m.register_parameter("weight", 1.0 + random({channels}, 0.1), false);
    m.register_parameter("bias", random({channels}, 0.1), false);
    m.register_buffer("running_mean", random({channels}, 0.2));
    m.register_buffer("running_var", 1.0 + random({channels}, 0.2).abs());
    m.register_buffer("num_batches_tracked", at::zeros({}, at::kLong));
    m.register_attribute("momentum", c10::FloatType::get(), 0.1);
    m.register_attribute("eps", c10::FloatType::get(), 1e-5);
    m.define(R"(
def forward(self, input):
    assert input.dim() == 4, "expected 4D input"
    if self.training:
        self.num_batches_tracked.add_(1)
    return torch.batch_norm(input, self.weight, self.bias, self.running_mean,
                            self.running_var, self.training, self.momentum, self.eps, True)
)");
    return m;
  }

  Module relu(bool inplace) {
    Module m = create("torch.nn.modules.activation.ReLU");
    m.register_attribute("inplace", c10::BoolType::get(), inplace);
    m.define(R"(
def forward(self, input):
    if self.inplace:
        return torch.relu_(input)
    return torch.relu(input)
)");
    return m;
  }

  Module gelu() {
    Module m = create("torch.nn.modules.activation.GELU");
    m.define("def forward(self, input):\n    return torch.gelu(input)\n");
    return m;
  }

  Module maxPool2d() {
    Module m = create("torch.nn.modules.pooling.MaxPool2d");
    m.define(R"(
def forward(self, input):
    return torch.max_pool2d(input, [2, 2], [2, 2], [0, 0], [1, 1], False)
)");
    return m;
  }

  Module linear(int64_t in, int64_t out) {
    Module m = create("torch.nn.modules.linear.Linear");
    m.register_parameter("weight", random({out, in}, 1.0 / std::sqrt(double(in))), false);
    m.register_parameter("bias", random({out}, 0.1), false);
    m.define("def forward(self, input):\n"
             "    return torch.linear(input, self.weight, self.bias)\n");
    return m;
  }

  Module layerNorm(int64_t dim) {
    Module m = create("torch.nn.modules.normalization.LayerNorm");
    m.register_parameter("weight", 1.0 + random({dim}, 0.1), false);
    m.register_parameter("bias", random({dim}, 0.1), false);
    m.define("def forward(self, input):\n    return torch.layer_norm(input, [" +
             std::to_string(dim) + "], self.weight, self.bias, 1e-05, True)\n");
    return m;
  }

  Module dropout() {
    Module m = create("torch.nn.modules.dropout.Dropout");
    m.define("def forward(self, input):\n"
             "    return torch.dropout(input, 0.2, self.training)\n");
    return m;
  }

  /// nn.Sequential of `children`, registered as "0", "1", ...
  Module sequential(const std::vector<Module> &children) {
    Module m = create("torch.nn.modules.container.Sequential");
    std::string body = "def forward(self, input):\n";
    for (size_t i = 0; i < children.size(); ++i) {
      m.register_module(std::to_string(i), children[i]);
      body += "    input = getattr(self, \"" + std::to_string(i) + "\").forward(input)\n";
    }
    body += "    return input\n";
    m.define(body);
    return m;
  }

private:
  std::shared_ptr<torch::jit::CompilationUnit> unit_;
  at::Generator generator_;
  int counter_ = 0;
};

} // namespace

TestModel smallCNN() {
  Builder b(1);
  Module m = b.create("SmallCNN", /*mangle=*/false);
  m.register_module("conv1", b.conv2d(3, 8, 3, 1, 1, true));
  m.register_module("bn1", b.batchNorm2d(8));
  m.register_module("relu", b.relu(false));
  m.register_module("pool", b.maxPool2d());
  m.register_module("conv2", b.conv2d(8, 16, 3, 1, 1, false));
  m.register_module("fc", b.linear(16 * 4 * 4, 10));
  m.register_module("drop", b.dropout());
  m.define(R"(
def forward(self, x):
    x = self.pool.forward(self.relu.forward(self.bn1.forward(self.conv1.forward(x))))
    x = self.pool.forward(self.relu.forward(self.conv2.forward(x)))
    x = torch.flatten(x, 1)
    return self.drop.forward(self.fc.forward(x))
)");
  return {"small_cnn", m, {{1, 3, 16, 16}}};
}

TestModel resnetBlock() {
  Builder b(2);
  Module block = b.create("torchvision.models.resnet.BasicBlock");
  block.register_module("conv1", b.conv2d(8, 16, 3, 2, 1, false));
  block.register_module("bn1", b.batchNorm2d(16));
  block.register_module("relu", b.relu(true));
  block.register_module("conv2", b.conv2d(16, 16, 3, 1, 1, false));
  block.register_module("bn2", b.batchNorm2d(16));
  block.register_module("downsample",
                        b.sequential({b.conv2d(8, 16, 1, 2, 0, false), b.batchNorm2d(16)}));
  block.define(R"(
def forward(self, x):
    identity = x
    out = self.conv1.forward(x)
    out = self.bn1.forward(out)
    out = self.relu.forward(out)
    out = self.conv2.forward(out)
    out = self.bn2.forward(out)
    identity = self.downsample.forward(x)
    out += identity
    out = self.relu.forward(out)
    return out
)");
  Module m = b.create("ResNetStage", /*mangle=*/false);
  m.register_module("layer1", b.sequential({block}));
  m.define(R"(
def forward(self, x):
    return self._forward_impl(x)

def _forward_impl(self, x):
    return self.layer1.forward(x)
)");
  return {"resnet_block", m, {{1, 8, 8, 8}}};
}

TestModel residualMLP() {
  Builder b(3);
  Module m = b.create("ResidualMLP", /*mangle=*/false);
  m.register_module("fc1", b.linear(32, 64));
  m.register_module("act", b.gelu());
  m.register_module("fc2", b.linear(64, 32));
  m.define(R"(
def forward(self, x):
    h = self.fc2.forward(self.act.forward(self.fc1.forward(x)))
    return torch.relu(x + h)
)");
  return {"residual_mlp", m, {{4, 32}}};
}

TestModel transformerBlock() {
  Builder b(4);
  Module m = b.create("EncoderBlock", /*mangle=*/false);
  m.register_module("q", b.linear(16, 16));
  m.register_module("k", b.linear(16, 16));
  m.register_module("v", b.linear(16, 16));
  m.register_module("proj", b.linear(16, 16));
  m.register_module("norm1", b.layerNorm(16));
  m.register_module("fc1", b.linear(16, 32));
  m.register_module("act", b.gelu());
  m.register_module("fc2", b.linear(32, 16));
  m.register_module("norm2", b.layerNorm(16));
  m.register_module("drop", b.dropout());
  m.define(R"(
def forward(self, x):
    b = x.size(0)
    t = x.size(1)
    q = self.q.forward(x).view(b, t, 2, 8).transpose(1, 2)
    k = self.k.forward(x).view(b, t, 2, 8).transpose(1, 2)
    v = self.v.forward(x).view(b, t, 2, 8).transpose(1, 2)
    attn = torch.softmax(torch.matmul(q, k.transpose(-2, -1)) * 0.35355339059327373, -1)
    y = torch.matmul(self.drop.forward(attn), v).transpose(1, 2).reshape(b, t, 16)
    x = self.norm1.forward(x + self.proj.forward(y))
    return self.norm2.forward(x + self.fc2.forward(self.act.forward(self.fc1.forward(x))))
)");
  return {"transformer_block", m, {{2, 5, 16}}};
}

TestModel twoOutputs() {
  Builder b(5);
  Module m = b.create("TwoOutputs", /*mangle=*/false);
  m.register_buffer("mean", b.random({6}, 0.3));
  m.register_buffer("var", 1.0 + b.random({6}, 0.3).abs());
  m.define(R"(
def forward(self, x, y):
    a = torch.cat([x, y], 1)
    n = torch.batch_norm(a, None, None, self.mean, self.var, False, 0.1, 1e-05, True)
    return n, a.sum(1)
)");
  return {"two_outputs", m, {{2, 2, 3, 3}, {2, 4, 3, 3}}};
}

std::vector<TestModel> allTestModels() {
  return {smallCNN(), resnetBlock(), residualMLP(), transformerBlock(), twoOutputs()};
}

Module moduleFromSource(const std::string &className, const std::string &source) {
  Builder b(6);
  Module m = b.create(className, /*mangle=*/false);
  m.define(source);
  return m;
}

std::string runfile(const std::string &path) {
  const char *root = std::getenv("TEST_SRCDIR");
  const char *workspace = std::getenv("TEST_WORKSPACE");
  return std::string(root ? root : ".") + "/" + (workspace ? workspace : "qfx") + "/" + path;
}

std::vector<c10::IValue> randomInputs(const std::vector<std::vector<int64_t>> &shapes,
                                      uint64_t seed) {
  at::Generator generator = at::make_generator<at::CPUGeneratorImpl>(seed);
  std::vector<c10::IValue> inputs;
  for (const std::vector<int64_t> &shape : shapes)
    inputs.emplace_back(at::randn(shape, generator));
  return inputs;
}

bool bitIdentical(const c10::IValue &a, const c10::IValue &b) {
  if (a.isTensor() && b.isTensor()) {
    const at::Tensor &x = a.toTensor(), &y = b.toTensor();
    if (x.sizes() != y.sizes() || x.scalar_type() != y.scalar_type())
      return false;
    // Bytes, not values: -0.0 and 0.0 or two NaNs would compare wrongly.
    at::Tensor cx = x.contiguous(), cy = y.contiguous();
    return std::memcmp(cx.data_ptr(), cy.data_ptr(), cx.numel() * cx.element_size()) == 0;
  }
  if (a.isTuple() && b.isTuple()) {
    const auto &x = a.toTupleRef().elements(), &y = b.toTupleRef().elements();
    if (x.size() != y.size())
      return false;
    for (size_t i = 0; i < x.size(); ++i)
      if (!bitIdentical(x[i], y[i]))
        return false;
    return true;
  }
  return false;
}

} // namespace qfx::testing
