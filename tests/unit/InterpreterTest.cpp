//===- tests/unit/InterpreterTest.cpp - Tests of the graph interpreter ----===//
//
// runtime/interpreter against independent references. Float graphs (written
// as IR text, with random parameter data) must give bit-identical outputs to
// the same computation compiled by TorchScript (torch::jit::compile) and run
// by its own interpreter; overload resolution, attribute conversion, list and
// size ops, and in-place ops are covered there. Fake-quant graphs are checked
// against ATen's fake_quantize_per_{tensor,channel}_affine with the observer's
// qparams: calibration (observers on, fake-quant off) leaves the float
// output and fills the observer state, evaluation applies fake-quant,
// training lets gradients flow through the straight-through estimator, QAT
// schedules switch the groups at the right steps. Every error path gives an
// llvm::Error naming the node, never a crash.
//
//===----------------------------------------------------------------------===//
#include "runtime/interpreter/Interpreter.h"
#include "runtime/interpreter/Kernel.h"
#include "runtime/interpreter/Quantizer.h"

#include "ir/Parser.h"
#include "passes/BuiltinPasses.h"
#include "passes/PassManager.h"
#include "passes/quant/WeightQuantizer.h"
#include "runtime/kernels/Kernels.h"

#include <gtest/gtest.h>
#include <torch/jit.h>
#include <torch/script.h>

#include "llvm/Support/Error.h"

#include <fstream>
#include <string>
#include <vector>

using namespace qfx;

namespace {

std::unique_ptr<Graph> parse(const std::string &text) {
  DiagnosticEngine diagnostics;
  std::string messages;
  diagnostics.setHandler([&](const Diagnostic &d) { messages += d.message + "\n"; });
  std::unique_ptr<Graph> graph = parseGraph(text, diagnostics);
  EXPECT_TRUE(graph) << messages;
  return graph;
}

/// Random data (fixed seed per name) for every parameter; running variances
/// positive. Returns the tensors by name for the reference computation.
std::map<std::string, at::Tensor> attachRandomData(Graph &graph, uint64_t seed = 1) {
  std::map<std::string, at::Tensor> tensors;
  at::manual_seed(seed);
  for (Value *parameter : graph.parameters()) {
    const Type &type = parameter->type();
    at::Tensor tensor = at::randn(std::vector<int64_t>(type.shape().begin(), type.shape().end()));
    if (parameter->name().endswith("running_var"))
      tensor = tensor.abs() + 0.5;
    llvm::Expected<TensorData> data = tensorToData(tensor);
    EXPECT_TRUE(static_cast<bool>(data));
    parameter->setData(std::make_shared<TensorData>(std::move(*data)));
    tensors[parameter->name().str()] = tensor;
  }
  return tensors;
}

std::unique_ptr<Interpreter> compile(const Graph &graph, InterpreterOptions options = {}) {
  llvm::Expected<std::unique_ptr<Interpreter>> interpreter =
      Interpreter::create(graph, std::move(options));
  if (!interpreter) {
    ADD_FAILURE() << llvm::toString(interpreter.takeError());
    return nullptr;
  }
  return std::move(*interpreter);
}

std::vector<at::Tensor> run(Interpreter &interpreter, std::vector<at::Tensor> inputs) {
  llvm::Expected<std::vector<at::Tensor>> outputs = interpreter.run(inputs);
  if (!outputs) {
    ADD_FAILURE() << llvm::toString(outputs.takeError());
    return {};
  }
  return std::move(*outputs);
}

std::string errorOf(llvm::Error error) {
  EXPECT_TRUE(static_cast<bool>(error)) << "expected an error";
  return llvm::toString(std::move(error));
}

template <typename T> std::string errorOf(llvm::Expected<T> value) {
  if (value) {
    ADD_FAILURE() << "expected an error";
    return "";
  }
  return llvm::toString(value.takeError());
}

const QParams &qparamsOf(ObserverGroup &group) {
  llvm::Expected<const QParams *> qparams = group.qparams();
  if (!qparams) {
    ADD_FAILURE() << llvm::toString(qparams.takeError());
    static QParams empty;
    return empty;
  }
  return **qparams;
}

bool bitEqual(const at::Tensor &a, const at::Tensor &b) {
  return a.sizes() == b.sizes() && a.scalar_type() == b.scalar_type() &&
         at::equal(a.contiguous(), b.contiguous());
}

// A small CNN head touching the common op families: conv with bias, eval
// batch norm, relu, pools, flatten, linear, binary ops with a tensor and a
// scalar attribute, softmax; plus size/ListConstruct/view.
const char *kCnnGraph = R"(
graph @cnn(%x: tensor<2x3x8x8xf32>) {
  param %conv.weight : tensor<4x3x3x3xf32>
  param %conv.bias : tensor<4xf32>
  param %bn.weight : tensor<4xf32>
  param %bn.bias : tensor<4xf32>
  buffer %bn.running_mean : tensor<4xf32>
  buffer %bn.running_var : tensor<4xf32>
  param %fc.weight : tensor<5x16xf32>
  param %fc.bias : tensor<5xf32>
  %0 = aten::conv2d(%x, %conv.weight, %conv.bias) {stride = [1, 1], padding = [1, 1], dilation = [1, 1], groups = 1} : tensor<2x4x8x8xf32>
  %1 = aten::batch_norm(%0, %bn.weight, %bn.bias, %bn.running_mean, %bn.running_var) {training = false, momentum = 0.1, eps = 1e-05, cudnn_enabled = true} : tensor<2x4x8x8xf32>
  %2 = aten::relu(%1) : tensor<2x4x8x8xf32>
  %3 = aten::max_pool2d(%2) {kernel_size = [2, 2], stride = [2, 2], padding = [0, 0], dilation = [1, 1], ceil_mode = false} : tensor<2x4x4x4xf32>
  %4 = aten::adaptive_avg_pool2d(%3) {output_size = [2, 2]} : tensor<2x4x2x2xf32>
  %5 = aten::flatten(%4) {start_dim = 1, end_dim = -1} : tensor<2x16xf32>
  %6 = aten::linear(%5, %fc.weight, %fc.bias) : tensor<2x5xf32>
  %7 = aten::mul(%6, %6) : tensor<2x5xf32>
  %8 = aten::add(%7) {other = 1.5, alpha = 2} : tensor<2x5xf32>
  %9 = aten::softmax(%8) {dim = 1} : tensor<2x5xf32>
  %10 = aten::size(%5) {dim = 1} : int
  %11 = aten::size(%5) {dim = 0} : int
  %12 = prim::ListConstruct(%10, %11) : list<int>
  %13 = aten::view(%5, %12) : tensor<16x2xf32>
  %14 = aten::relu_(%13) : tensor<16x2xf32>
  return %9, %14
}
)";

const char *kCnnScript = R"(
def forward(x: Tensor, conv_weight: Tensor, conv_bias: Tensor, bn_weight: Tensor,
            bn_bias: Tensor, running_mean: Tensor, running_var: Tensor,
            fc_weight: Tensor, fc_bias: Tensor):
    y = torch.conv2d(x, conv_weight, conv_bias, [1, 1], [1, 1], [1, 1], 1)
    y = torch.batch_norm(y, bn_weight, bn_bias, running_mean, running_var, False, 0.1, 1e-05, True)
    y = torch.relu(y)
    y = torch.max_pool2d(y, [2, 2], [2, 2], [0, 0], [1, 1], False)
    y = torch.adaptive_avg_pool2d(y, [2, 2])
    f = torch.flatten(y, 1, -1)
    y = torch.linear(f, fc_weight, fc_bias)
    y = y * y
    y = torch.add(y, 1.5, alpha=2)
    y = torch.softmax(y, 1)
    v = f.view([f.size(1), f.size(0)])
    v = torch.relu_(v)
    return y, v
)";

TEST(InterpreterTest, FloatGraphMatchesTorchScriptBitForBit) {
  std::unique_ptr<Graph> graph = parse(kCnnGraph);
  ASSERT_TRUE(graph);
  std::map<std::string, at::Tensor> params = attachRandomData(*graph);
  std::unique_ptr<Interpreter> interpreter = compile(*graph);
  ASSERT_TRUE(interpreter);
  EXPECT_EQ(interpreter->numKernels(), graph->numNodes());

  std::shared_ptr<torch::jit::CompilationUnit> unit = torch::jit::compile(kCnnScript);
  for (uint64_t seed : {7, 8}) {
    at::manual_seed(seed);
    at::Tensor x = at::randn({2, 3, 8, 8});
    std::vector<at::Tensor> outputs = run(*interpreter, {x});
    ASSERT_EQ(outputs.size(), 2u);
    c10::IValue expected =
        unit->run_method("forward", x, params["conv.weight"], params["conv.bias"],
                         params["bn.weight"], params["bn.bias"], params["bn.running_mean"],
                         params["bn.running_var"], params["fc.weight"], params["fc.bias"]);
    auto elements = expected.toTupleRef().elements();
    EXPECT_TRUE(bitEqual(outputs[0], elements[0].toTensor()));
    EXPECT_TRUE(bitEqual(outputs[1], elements[1].toTensor()));
  }
}

TEST(InterpreterTest, TapsCopyValuesBeforeLaterInPlaceOps) {
  std::unique_ptr<Graph> graph = parse(R"(
graph @t(%x: tensor<6xf32>) {
  %0 = aten::neg(%x) : tensor<6xf32>
  %1 = aten::relu_(%0) : tensor<6xf32>
  %2 = aten::mul(%1, %x) : tensor<6xf32>
  return %2
}
)");
  ASSERT_TRUE(graph);
  std::unique_ptr<Interpreter> interpreter = compile(*graph);
  ASSERT_TRUE(interpreter);
  std::vector<const Node *> nodes;
  for (const Node *node : graph->nodes())
    nodes.push_back(node);
  // %0 is written by the relu_ after it: the tap must still hold -x.
  interpreter->setTappedNodes({nodes[0], nodes[2]});
  at::Tensor x = at::linspace(-3, 2, 6);
  std::vector<at::Tensor> outputs = run(*interpreter, {x});
  EXPECT_TRUE(bitEqual(interpreter->tappedValue(0), -x));
  EXPECT_TRUE(bitEqual(interpreter->tappedValue(1), outputs[0]));
  EXPECT_TRUE(bitEqual(outputs[0], at::relu(-x) * x));
  EXPECT_FALSE(interpreter->tappedValue(2).defined());
}

TEST(InterpreterTest, ParametersAreViewsUnlessWrittenOrRequested) {
  std::unique_ptr<Graph> graph = parse(R"(
graph @g(%x: tensor<4xf32>) {
  param %a : tensor<4xf32>
  buffer %b : tensor<4xf32>
  %0 = aten::add_(%b, %x) {alpha = 1} : tensor<4xf32>
  %1 = aten::mul(%0, %a) : tensor<4xf32>
  return %1
}
)");
  ASSERT_TRUE(graph);
  attachRandomData(*graph);
  std::unique_ptr<Interpreter> interpreter = compile(*graph);
  ASSERT_TRUE(interpreter);
  // %a is read only: a view of the graph's bytes. %b is written by add_ (its
  // schema says so): a copy, so the graph's data never changes.
  EXPECT_EQ(interpreter->parameter("a").data_ptr(),
            static_cast<const void *>(graph->parameter("a")->data()->bytes().data()));
  EXPECT_NE(interpreter->parameter("b").data_ptr(),
            static_cast<const void *>(graph->parameter("b")->data()->bytes().data()));
  std::vector<uint8_t> before = graph->parameter("b")->data()->bytes();
  run(*interpreter, {at::ones({4})});
  EXPECT_EQ(graph->parameter("b")->data()->bytes(), before);
  // The buffer changed in the interpreter; writing back stores it.
  llvm::Expected<size_t> written = interpreter->writeParametersTo(*graph);
  ASSERT_TRUE(static_cast<bool>(written)) << llvm::toString(written.takeError());
  EXPECT_EQ(*written, 1u);
  EXPECT_NE(graph->parameter("b")->data()->bytes(), before);

  InterpreterOptions copyAll;
  copyAll.copyParameters = true;
  std::unique_ptr<Interpreter> copying = compile(*graph, copyAll);
  ASSERT_TRUE(copying);
  EXPECT_NE(copying->parameter("a").data_ptr(),
            static_cast<const void *>(graph->parameter("a")->data()->bytes().data()));
}

TEST(InterpreterTest, InputErrorsNameTheInputAndTheFix) {
  std::unique_ptr<Graph> graph = parse(kCnnGraph);
  ASSERT_TRUE(graph);
  attachRandomData(*graph);
  std::unique_ptr<Interpreter> interpreter = compile(*graph);
  ASSERT_TRUE(interpreter);
  std::string count = errorOf(interpreter->run({}));
  EXPECT_NE(count.find("takes 1 input (%x: tensor<2x3x8x8xf32>), got 0"), std::string::npos)
      << count;
  std::string shape = errorOf(interpreter->run({at::zeros({2, 3, 9, 8})}));
  EXPECT_NE(shape.find("input 0 (%x: tensor<2x3x8x8xf32>) got a tensor of shape [2, 3, 9, 8]"),
            std::string::npos)
      << shape;
  EXPECT_NE(shape.find("dim 2 must be 8"), std::string::npos) << shape;
  std::string dtype = errorOf(interpreter->run({at::zeros({2, 3, 8, 8}, at::kDouble)}));
  EXPECT_NE(dtype.find("wrong dtype; convert the data to Float"), std::string::npos) << dtype;
  std::string rank = errorOf(interpreter->run({at::zeros({2, 3, 8})}));
  EXPECT_NE(rank.find("wrong rank"), std::string::npos) << rank;
  // After errors the interpreter still works.
  EXPECT_EQ(run(*interpreter, {at::zeros({2, 3, 8, 8})}).size(), 2u);
}

TEST(InterpreterTest, UnknownOpsAndBadAttributesFailAtCreation) {
  std::unique_ptr<Graph> unknown = parse(R"(
graph @g(%x: tensor<4xf32>) {
  %0 = aten::definitely_not_an_op(%x) : tensor<4xf32> module("blk", "my.Block")
  return %0
}
)");
  ASSERT_TRUE(unknown);
  std::string message = errorOf(Interpreter::create(*unknown));
  EXPECT_NE(message.find("'aten::definitely_not_an_op' in module 'blk' (my.Block)"),
            std::string::npos)
      << message;
  EXPECT_NE(message.find("has no operator"), std::string::npos) << message;

  std::unique_ptr<Graph> badAttribute = parse(R"(
graph @g(%x: tensor<4xf32>) {
  %0 = aten::softmax(%x) {dim = 1.5} : tensor<4xf32>
  return %0
}
)");
  ASSERT_TRUE(badAttribute);
  message = errorOf(Interpreter::create(*badAttribute));
  EXPECT_NE(message.find("no overload of 'aten::softmax' fits"), std::string::npos) << message;
  EXPECT_NE(message.find("attribute 'dim = 1.5' is not a int"), std::string::npos) << message;

  std::unique_ptr<Graph> tosa = parse(R"(
graph @g(%x: tensor<4xf32>) {
  %0 = tosa.identity(%x) : tensor<4xf32>
  return %0
}
)");
  ASSERT_TRUE(tosa);
  message = errorOf(Interpreter::create(*tosa));
  EXPECT_NE(message.find("register a KernelFactory"), std::string::npos) << message;
}

TEST(InterpreterTest, AttributesNoOverloadTakesAreMetadata) {
  // `qat_schedule`, `note`: no overload of relu / linear has such an
  // argument, so they describe the node for passes and are ignored; a
  // known argument name of another overload (`dim` for softmax.int) is not.
  std::unique_ptr<Graph> graph = parse(R"(
graph @g(%x: tensor<2x4xf32>) {
  %0 = aten::relu(%x) {qat_schedule = {enable_observer = 0, enable_fake_quant = 0, disable_observer = none}, note = "kept"} : tensor<2x4xf32>
  return %0
}
)");
  ASSERT_TRUE(graph);
  std::unique_ptr<Interpreter> interpreter = compile(*graph);
  ASSERT_TRUE(interpreter);
  at::Tensor x = at::randn({2, 4});
  EXPECT_TRUE(bitEqual(run(*interpreter, {x})[0], at::relu(x)));
}

TEST(InterpreterTest, RuntimeErrorsFromATenNameTheNode) {
  // The graph claims shapes that the matmul cannot have: ATen throws, the
  // interpreter reports the node.
  std::unique_ptr<Graph> graph = parse(R"(
graph @g(%x: tensor<?x3xf32>, %y: tensor<?x3xf32>) {
  %0 = aten::matmul(%x, %y) : tensor<?x?xf32> module("attn", "Attention")
  return %0
}
)");
  ASSERT_TRUE(graph);
  std::unique_ptr<Interpreter> interpreter = compile(*graph);
  ASSERT_TRUE(interpreter);
  std::string message = errorOf(interpreter->run({at::ones({2, 3}), at::ones({2, 3})}));
  EXPECT_NE(message.find("'aten::matmul' in module 'attn' (Attention): "), std::string::npos)
      << message;
  EXPECT_NE(message.find("cannot be multiplied"), std::string::npos) << message;
}

TEST(InterpreterTest, RegisteredKernelsExtendTheInterpreter) {
  struct Negate final : Kernel {
    unsigned in, out;
    Negate(unsigned in, unsigned out) : in(in), out(out) {}
    llvm::Error run(Frame &frame) override {
      frame[out] = frame[in].toTensor().neg();
      return llvm::Error::success();
    }
  };
  registerKernelFactory("test.*", [](KernelBuildContext &context) {
    return llvm::Expected<std::unique_ptr<Kernel>>(
        std::make_unique<Negate>(context.operandSlot(0), context.resultSlot(0)));
  });
  std::unique_ptr<Graph> graph = parse(R"(
graph @g(%x: tensor<4xf32>) {
  %0 = test.negate(%x) : tensor<4xf32>
  return %0
}
)");
  ASSERT_TRUE(graph);
  std::unique_ptr<Interpreter> interpreter = compile(*graph);
  ASSERT_TRUE(interpreter);
  at::Tensor x = at::arange(4, at::kFloat);
  EXPECT_TRUE(at::equal(run(*interpreter, {x})[0], -x));
}

//===----------------------------------------------------------------------===//
// Fake-quant, observers and modes
//===----------------------------------------------------------------------===//

const char *kSymmetricActivation = "{dtype = \"int8\", qscheme = \"symmetric\", granularity = "
                                   "{type = \"per_tensor\"}, qparam_calculator_cls = "
                                   "\"moving_average\"}";

std::string fakeQuantGraph() {
  return std::string(R"(
graph @fq(%x: tensor<2x8xf32>) {
  param %w : tensor<4x8xf32>
  %0 = qfx.fake_quant(%x) {group = 0, spec = )") +
         kSymmetricActivation + R"(} : tensor<2x8xf32>
  %1 = qfx.fake_quant(%w) {group = 1, spec = {dtype = "int8", qscheme = "symmetric", granularity = {type = "per_channel", axis = 0}, qparam_calculator_cls = "static"}} : tensor<4x8xf32>
  %2 = aten::linear(%0, %1) : tensor<2x4xf32> module("fc", "torch.nn.modules.linear.Linear")
  %3 = qfx.fake_quant(%2) {group = 2, spec = {dtype = "uint8", qscheme = "asymmetric", granularity = {type = "per_tensor"}, qparam_calculator_cls = "static"}} : tensor<2x4xf32>
  return %3
}
)";
}

TEST(InterpreterFakeQuantTest, CalibrationObservesAndLeavesFloat) {
  std::unique_ptr<Graph> graph = parse(fakeQuantGraph());
  ASSERT_TRUE(graph);
  std::map<std::string, at::Tensor> params = attachRandomData(*graph);
  std::unique_ptr<Interpreter> interpreter = compile(*graph);
  ASSERT_TRUE(interpreter);
  ASSERT_EQ(interpreter->groups().size(), 3u);
  ObserverGroup *input = interpreter->group(0), *weight = interpreter->group(1);
  ASSERT_TRUE(input && weight && interpreter->group(2));
  EXPECT_EQ(input->target(), QuantTarget::Activation);
  EXPECT_EQ(weight->target(), QuantTarget::Weight);
  EXPECT_EQ(weight->calculatorKey(), "static");
  EXPECT_EQ(input->calculatorKey(), "moving_average");
  EXPECT_FALSE(input->hasQParams());

  // Calibration: observers on, fake-quant off: exactly the float model.
  interpreter->setObserversEnabled(true);
  interpreter->setFakeQuantEnabled(false);
  at::Tensor x = at::randn({2, 8});
  std::vector<at::Tensor> outputs = run(*interpreter, {x});
  ASSERT_EQ(outputs.size(), 1u);
  EXPECT_TRUE(bitEqual(outputs[0], at::linear(x, params["w"])));
  ASSERT_TRUE(input->hasQParams());
  EXPECT_FLOAT_EQ(qparamsOf(*input).scale.item<float>(), x.abs().max().item<float>() / 127.5f);
  EXPECT_EQ(qparamsOf(*weight).scale.sizes(), at::IntArrayRef({4, 1}));

  // Moving average (c = 0.01) over a second batch of twice the range.
  run(*interpreter, {x * 2});
  float expected =
      (0.01f * 2 * x.abs().max().item<float>() + 0.99f * x.abs().max().item<float>()) / 127.5f;
  EXPECT_NEAR(qparamsOf(*input).scale.item<float>(), expected, 1e-7);
}

TEST(InterpreterFakeQuantTest, EvaluationMatchesATenFakeQuantize) {
  std::unique_ptr<Graph> graph = parse(fakeQuantGraph());
  ASSERT_TRUE(graph);
  std::map<std::string, at::Tensor> params = attachRandomData(*graph);
  std::unique_ptr<Interpreter> interpreter = compile(*graph);
  ASSERT_TRUE(interpreter);
  interpreter->setObserversEnabled(true);
  interpreter->setFakeQuantEnabled(false);
  at::Tensor x = at::randn({2, 8});
  run(*interpreter, {x});
  interpreter->setObserversEnabled(false);
  interpreter->setFakeQuantEnabled(true);
  at::Tensor y = at::randn({2, 8});
  std::vector<at::Tensor> outputs = run(*interpreter, {y});
  ASSERT_EQ(outputs.size(), 1u);

  const QParams &in = qparamsOf(*interpreter->group(0));
  const QParams &w = qparamsOf(*interpreter->group(1));
  const QParams &out = qparamsOf(*interpreter->group(2));
  at::Tensor qx = at::fake_quantize_per_tensor_affine(y, in.scale.item<float>(),
                                                      in.zeroPoint.item<int>(), -128, 127);
  at::Tensor qw = at::fake_quantize_per_channel_affine(params["w"], w.scale.reshape({-1}),
                                                       w.zeroPoint.reshape({-1}), 0, -128, 127);
  at::Tensor expected = at::fake_quantize_per_tensor_affine(
      at::linear(qx, qw), out.scale.item<float>(), out.zeroPoint.item<int>(), 0, 255);
  EXPECT_TRUE(bitEqual(outputs[0], expected));
}

TEST(InterpreterFakeQuantTest, FakeQuantWithoutQParamsIsAnError) {
  std::unique_ptr<Graph> graph = parse(fakeQuantGraph());
  ASSERT_TRUE(graph);
  attachRandomData(*graph);
  std::unique_ptr<Interpreter> interpreter = compile(*graph);
  ASSERT_TRUE(interpreter);
  std::string message = errorOf(interpreter->run({at::randn({2, 8})}));
  EXPECT_NE(message.find("'qfx.fake_quant'"), std::string::npos) << message;
  EXPECT_NE(message.find("has no qparams yet: run a calibration forward"), std::string::npos)
      << message;
}

TEST(InterpreterFakeQuantTest, NaNInObservedDataNamesTheObserver) {
  std::unique_ptr<Graph> graph = parse(fakeQuantGraph());
  ASSERT_TRUE(graph);
  attachRandomData(*graph);
  std::unique_ptr<Interpreter> interpreter = compile(*graph);
  ASSERT_TRUE(interpreter);
  interpreter->setObserversEnabled(true);
  at::Tensor x = at::randn({2, 8});
  x[1][3] = std::numeric_limits<float>::quiet_NaN();
  std::string message = errorOf(interpreter->run({x}));
  EXPECT_NE(message.find("observer group 0"), std::string::npos) << message;
  EXPECT_NE(message.find("NaN"), std::string::npos) << message;
  // The observer state is untouched: still uninitialized.
  EXPECT_FALSE(interpreter->group(0)->hasQParams());
}

TEST(InterpreterFakeQuantTest, TrainingGradientsFlowThroughTheStraightThroughEstimator) {
  std::unique_ptr<Graph> graph = parse(fakeQuantGraph());
  ASSERT_TRUE(graph);
  attachRandomData(*graph);
  std::unique_ptr<Interpreter> interpreter = compile(*graph);
  ASSERT_TRUE(interpreter);
  // Qparams from data in [-1, 1]; then train on data with outliers, observers
  // off so the range stays.
  interpreter->setObserversEnabled(true);
  interpreter->setFakeQuantEnabled(false);
  run(*interpreter, {at::linspace(-1, 1, 16).reshape({2, 8})});
  interpreter->setObserversEnabled(false);
  interpreter->setFakeQuantEnabled(true);
  interpreter->setTraining(true);
  std::vector<at::Tensor> trainable = interpreter->trainableParameters();
  ASSERT_EQ(trainable.size(), 1u);
  EXPECT_TRUE(trainable[0].requires_grad());

  at::Tensor x = at::linspace(-2, 2, 16).reshape({2, 8}).requires_grad_(true);
  std::vector<at::Tensor> outputs = run(*interpreter, {x});
  ASSERT_EQ(outputs.size(), 1u);
  EXPECT_TRUE(outputs[0].requires_grad());
  outputs[0].sum().backward();
  ASSERT_TRUE(x.grad().defined());
  ASSERT_TRUE(trainable[0].grad().defined());
  // The input's gradient is zero exactly where x was clipped (|x| > 1 + half
  // a step) and non-zero elsewhere (random weights: non-zero almost surely).
  float limit = qparamsOf(*interpreter->group(0)).scale.item<float>() * 127.5f;
  for (int64_t i = 0; i < 16; ++i) {
    float value = x.detach().reshape({-1})[i].item<float>();
    float grad = x.grad().reshape({-1})[i].item<float>();
    if (std::abs(value) > limit * 1.01f) {
      EXPECT_EQ(grad, 0.0f) << "x = " << value;
    } else if (std::abs(value) < limit * 0.99f) {
      EXPECT_NE(grad, 0.0f) << "x = " << value;
    }
  }
  // Training copies the parameters: the graph's data is never written.
  EXPECT_NE(interpreter->parameter("w").data_ptr(),
            static_cast<const void *>(graph->parameter("w")->data()->bytes().data()));
}

TEST(InterpreterFakeQuantTest, QatScheduleSwitchesGroupsAtTheirSteps) {
  std::unique_ptr<Graph> graph = parse(
      std::string(R"(
graph @s(%x: tensor<4xf32>) {
  %0 = qfx.fake_quant(%x) {group = 0, spec = )") +
      kSymmetricActivation +
      R"(, qat_schedule = {enable_observer = 1, enable_fake_quant = 2, disable_observer = 3}} : tensor<4xf32>
  %1 = aten::relu(%0) : tensor<4xf32>
  %2 = qfx.fake_quant(%1) {group = 1, spec = )" +
      kSymmetricActivation + R"(} : tensor<4xf32>
  return %2
}
)");
  ASSERT_TRUE(graph);
  std::unique_ptr<Interpreter> interpreter = compile(*graph);
  ASSERT_TRUE(interpreter);
  EXPECT_TRUE(interpreter->hasSchedules());
  ObserverGroup &scheduled = *interpreter->group(0);
  ObserverGroup &plain = *interpreter->group(1);
  ASSERT_TRUE(scheduled.schedule());
  EXPECT_FALSE(plain.schedule());
  interpreter->setObserversEnabled(true);
  interpreter->setFakeQuantEnabled(true);
  struct State {
    int64_t step;
    bool observer, fakeQuant;
  };
  for (State state : {State{0, false, false}, State{1, true, false}, State{2, true, true},
                      State{3, false, true}, State{10, false, true}}) {
    interpreter->applySchedule(state.step);
    EXPECT_EQ(scheduled.observerEnabled(), state.observer) << "step " << state.step;
    EXPECT_EQ(scheduled.fakeQuantEnabled(), state.fakeQuant) << "step " << state.step;
    // Unscheduled groups keep their switches.
    EXPECT_TRUE(plain.observerEnabled());
    EXPECT_TRUE(plain.fakeQuantEnabled());
  }
}

TEST(InterpreterFakeQuantTest, BlockSizeMismatchDisablesTheGroupWithAWarning) {
  std::unique_ptr<Graph> graph = parse(R"(
graph @b(%x: tensor<?x6xf32>) {
  %0 = qfx.fake_quant(%x) {group = 0, spec = {dtype = "int8", qscheme = "symmetric", granularity = {type = "per_block", block_size = [1, 4]}, qparam_calculator_cls = "static"}} : tensor<?x6xf32>
  return %0
}
)");
  ASSERT_TRUE(graph);
  std::vector<std::string> warnings;
  InterpreterOptions options;
  options.warningHandler = [&](const std::string &warning) { warnings.push_back(warning); };
  std::unique_ptr<Interpreter> interpreter = compile(*graph, options);
  ASSERT_TRUE(interpreter);
  interpreter->setObserversEnabled(true);
  at::Tensor x = at::randn({2, 6});
  std::vector<at::Tensor> outputs = run(*interpreter, {x});
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("Skipping quantization"), std::string::npos) << warnings[0];
  EXPECT_TRUE(interpreter->group(0)->disabled());
  EXPECT_TRUE(bitEqual(outputs[0], x));
  // Disabled for good: identity with fake-quant on too.
  interpreter->setFakeQuantEnabled(true);
  EXPECT_TRUE(bitEqual(run(*interpreter, {x})[0], x));
}

TEST(InterpreterFakeQuantTest, QuantizeDequantizeNodesMatchATen) {
  std::unique_ptr<Graph> graph = parse(R"(
graph @qdq(%x: tensor<2x3xf32>) {
  %0 = qfx.quantize(%x) {dtype = "uint8", quant_min = 0, quant_max = 255, scale = [0.05], zero_point = [100], qparam_shape = [1, 1]} : tensor<2x3xu8>
  %1 = qfx.dequantize(%0) {dtype = "uint8", quant_min = 0, quant_max = 255, scale = [0.05], zero_point = [100], qparam_shape = [1, 1]} : tensor<2x3xf32>
  %2 = qfx.quantize(%x) {dtype = "int8", quant_min = -128, quant_max = 127, scale = [0.1, 0.2], zero_point = [0, 3], qparam_shape = [2, 1], axis = 0} : tensor<2x3xi8>
  return %0, %1, %2
}
)");
  ASSERT_TRUE(graph);
  std::unique_ptr<Interpreter> interpreter = compile(*graph);
  ASSERT_TRUE(interpreter);
  at::Tensor x = at::randn({2, 3}) * 4;
  std::vector<at::Tensor> outputs = run(*interpreter, {x});
  ASSERT_EQ(outputs.size(), 3u);
  at::Tensor q = at::quantize_per_tensor(x, 0.05, 100, at::kQUInt8);
  EXPECT_TRUE(bitEqual(outputs[0], q.int_repr()));
  EXPECT_TRUE(bitEqual(outputs[1], q.dequantize()));
  at::Tensor qc = at::quantize_per_channel(x, at::tensor({0.1, 0.2}, at::kDouble),
                                           at::tensor({0, 3}, at::kLong), 0, at::kQInt8);
  EXPECT_TRUE(bitEqual(outputs[2], qc.int_repr()));
}

TEST(InterpreterFakeQuantTest, GroupsWithDifferentSpecsAreRejected) {
  std::unique_ptr<Graph> graph = parse(std::string(R"(
graph @g(%x: tensor<4xf32>) {
  %0 = qfx.fake_quant(%x) {group = 0, spec = )") +
                                       kSymmetricActivation + R"(} : tensor<4xf32>
  %1 = qfx.fake_quant(%0) {group = 0, spec = {dtype = "uint8", qscheme = "asymmetric", granularity = {type = "per_tensor"}, qparam_calculator_cls = "static"}} : tensor<4xf32>
  return %1
}
)");
  ASSERT_TRUE(graph);
  std::string message = errorOf(Interpreter::create(*graph));
  EXPECT_NE(message.find("fake-quants of observer group 0 carry different specs"),
            std::string::npos)
      << message;
}

TEST(ObserverGroupTest, FusedPathMatchesTheCalculatorBitForBit) {
  // Every spec the fused per-tensor path takes, against QParamsCalculator on
  // the same observations: small tensors (the plain loop) and large ones
  // (the threaded kernel), ranges that grow and shrink, strictly positive
  // data (the zero clamp), float_range bounds.
  const char *specs[] = {
      "{dtype: int8, qscheme: symmetric, qparam_calculator_cls: moving_average}",
      "{dtype: uint8, qscheme: asymmetric, qparam_calculator_cls: moving_average, "
      "averaging_constant: 0.3}",
      "{dtype: int4, qscheme: symmetric_with_clipping, qparam_calculator_cls: static}",
      "{dtype: int8, qscheme: asymmetric, qparam_calculator_cls: global_minmax}",
      "{dtype: int8, qscheme: asymmetric, qformulation: minval, qparam_calculator_cls: "
      "moving_average}",
      "{dtype: float8_e4m3fn, qscheme: symmetric, qparam_calculator_cls: static}",
      "{dtype: float8_e5m2, qscheme: symmetric, scale_dtype: float8_e8m0fnu, "
      "qparam_calculator_cls: moving_average}",
      "{dtype: uint8, qscheme: asymmetric, float_range: [null, 5.0], qparam_calculator_cls: "
      "moving_average}",
      "{dtype: int8, qscheme: asymmetric, float_range: [-1.0, 2.0], qparam_calculator_cls: "
      "static}",
  };
  for (const char *text : specs) {
    llvm::Expected<QuantizationSpec> spec = QuantizationSpec::fromYAML(text);
    ASSERT_TRUE(static_cast<bool>(spec)) << text << ": " << llvm::toString(spec.takeError());
    llvm::Expected<std::unique_ptr<ObserverGroup>> group =
        ObserverGroup::create(0, *spec, QuantTarget::Activation, "fused");
    llvm::Expected<std::unique_ptr<QParamsCalculator>> calculator =
        QParamsCalculator::create(*spec, QuantTarget::Activation, "reference");
    ASSERT_TRUE(group && calculator);
    at::manual_seed(17);
    for (int step = 0; step < 12; ++step) {
      int64_t size = step % 3 == 2 ? 70000 : 37 + step;
      at::Tensor x = at::randn({size}) * (0.5 + step % 4) + (step % 5 == 4 ? 3.0 : 0.0);
      if (step == 6)
        x = x.abs() + 0.25; // positive only: the zero clamp decides the minimum
      ASSERT_FALSE(static_cast<bool>((*group)->observe(x.reshape({1, size})))) << text;
      llvm::Expected<QParams> expected = (*calculator)->observe(x);
      ASSERT_TRUE(static_cast<bool>(expected)) << llvm::toString(expected.takeError());
      const QParams &actual = qparamsOf(**group);
      EXPECT_TRUE((*group)->usesFusedPath()) << text;
      EXPECT_TRUE(bitEqual(actual.scale, expected->scale)) << text << " step " << step;
      if (expected->zeroPoint.defined()) {
        EXPECT_TRUE(bitEqual(actual.zeroPoint, expected->zeroPoint)) << text << " step " << step;
      }
      if (expected->minval.defined()) {
        EXPECT_TRUE(bitEqual(actual.minval, expected->minval)) << text << " step " << step;
      }
    }
  }
}

TEST(ObserverGroupTest, BatchedQParamsEqualPerGroupQParams) {
  // refreshQParams computes many groups' qparams in one call per spec; each
  // must equal what the group computes alone.
  std::vector<std::unique_ptr<ObserverGroup>> batched, single;
  const char *specs[] = {"{dtype: int8, qscheme: symmetric}", "{dtype: uint8, qscheme: asymmetric}",
                         "{dtype: float8_e4m3fn, qscheme: symmetric}"};
  at::manual_seed(5);
  for (int i = 0; i < 30; ++i) {
    llvm::Expected<QuantizationSpec> spec = QuantizationSpec::fromYAML(specs[i % 3]);
    ASSERT_TRUE(static_cast<bool>(spec));
    for (auto *list : {&batched, &single}) {
      llvm::Expected<std::unique_ptr<ObserverGroup>> group =
          ObserverGroup::create(i, *spec, QuantTarget::Activation, "g");
      ASSERT_TRUE(static_cast<bool>(group));
      list->push_back(std::move(*group));
    }
    at::Tensor x = at::randn({50}) * (i + 1) + (i % 4);
    ASSERT_FALSE(static_cast<bool>(batched.back()->observe(x)));
    ASSERT_FALSE(static_cast<bool>(single.back()->observe(x)));
  }
  std::vector<ObserverGroup *> pointers;
  for (auto &group : batched)
    pointers.push_back(group.get());
  ASSERT_FALSE(static_cast<bool>(ObserverGroup::refreshQParams(pointers)));
  for (size_t i = 0; i < batched.size(); ++i) {
    const QParams &a = qparamsOf(*batched[i]), &b = qparamsOf(*single[i]);
    EXPECT_TRUE(bitEqual(a.scale, b.scale)) << i;
    if (b.zeroPoint.defined()) {
      EXPECT_TRUE(bitEqual(a.zeroPoint, b.zeroPoint)) << i;
    }
  }
}

TEST(ObserverGroupTest, FusedPathReportsNaNLikeTheCalculator) {
  llvm::Expected<QuantizationSpec> spec =
      QuantizationSpec::fromYAML("{dtype: int8, qscheme: symmetric}");
  ASSERT_TRUE(static_cast<bool>(spec));
  llvm::Expected<std::unique_ptr<ObserverGroup>> group =
      ObserverGroup::create(3, *spec, QuantTarget::Activation, "observer group 3");
  ASSERT_TRUE(static_cast<bool>(group));
  at::Tensor good = at::randn({8});
  ASSERT_FALSE(static_cast<bool>((*group)->observe(good)));
  llvm::Expected<const QParams *> before = (*group)->qparams();
  ASSERT_TRUE(static_cast<bool>(before));
  at::Tensor scaleBefore = (*before)->scale.clone();
  for (float bad :
       {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity()}) {
    at::Tensor x = at::randn({100});
    x[42] = bad;
    llvm::Error error = (*group)->observe(x * 10);
    ASSERT_TRUE(static_cast<bool>(error));
    std::string message = llvm::toString(std::move(error));
    EXPECT_NE(message.find("observer group 3"), std::string::npos) << message;
    EXPECT_NE(message.find("index 42"), std::string::npos) << message;
  }
  // The state is untouched.
  llvm::Expected<const QParams *> after = (*group)->qparams();
  ASSERT_TRUE(static_cast<bool>(after));
  EXPECT_TRUE(bitEqual((*after)->scale, scaleBefore));
}

//===----------------------------------------------------------------------===//
// The Quantizer workflow
//===----------------------------------------------------------------------===//

std::vector<Batch> randomBatches(size_t count, at::IntArrayRef shape, uint64_t seed) {
  at::manual_seed(seed);
  std::vector<Batch> batches;
  for (size_t i = 0; i < count; ++i)
    batches.push_back({at::randn(shape)});
  return batches;
}

TEST(QuantizerTest, PrepareCalibrateFinalizeOnTheCnn) {
  std::unique_ptr<Graph> graph = parse(kCnnGraph);
  ASSERT_TRUE(graph);
  attachRandomData(*graph);
  std::unique_ptr<Graph> reference = parse(kCnnGraph);
  attachRandomData(*reference);

  Quantizer quantizer(std::move(graph));
  std::vector<Batch> batches = randomBatches(4, {2, 3, 8, 8}, 3);
  if (llvm::Error error = quantizer.prepare(batches[0]))
    FAIL() << llvm::toString(std::move(error));
  EXPECT_TRUE(quantizer.isPrepared());
  const PrepareReport &report = quantizer.report();
  EXPECT_EQ(report.batchNormsFolded, 1u);
  EXPECT_GT(report.fakeQuants, 0u);
  EXPECT_EQ(report.observerGroups, quantizer.interpreter()->groups().size());
  // After prepare: every group initialized, observers off, fake-quant on.
  for (const auto &group : quantizer.interpreter()->groups()) {
    EXPECT_TRUE(group->hasQParams()) << group->id();
    EXPECT_FALSE(group->observerEnabled());
    EXPECT_TRUE(group->fakeQuantEnabled());
  }
  {
    llvm::Expected<Quantizer::Mode> mode = quantizer.calibrationMode();
    ASSERT_TRUE(static_cast<bool>(mode));
    for (const auto &group : quantizer.interpreter()->groups()) {
      EXPECT_TRUE(group->observerEnabled());
      EXPECT_FALSE(group->fakeQuantEnabled());
    }
    // Nesting is an error, as in the reference.
    EXPECT_NE(errorOf(quantizer.trainingMode()).find("cannot be entered inside another mode"),
              std::string::npos);
    // Calibration is the float model (batch norm folded: equal up to rounding).
    std::unique_ptr<Interpreter> floatRun = compile(*reference);
    at::Tensor expected = run(*floatRun, batches[1])[0];
    at::Tensor actual = run(*quantizer.interpreter(), batches[1])[0];
    EXPECT_TRUE(at::allclose(actual, expected, 1e-5, 1e-6));
  }
  for (const auto &group : quantizer.interpreter()->groups())
    EXPECT_FALSE(group->observerEnabled());

  std::unique_ptr<DataSource> data = createInMemoryDataSource(batches);
  llvm::Expected<size_t> seen = quantizer.calibrate(*data);
  ASSERT_TRUE(static_cast<bool>(seen)) << llvm::toString(seen.takeError());
  EXPECT_EQ(*seen, 4u);
  EXPECT_NE(errorOf(quantizer.step()).find("only be called inside training_mode"),
            std::string::npos);

  llvm::Expected<std::unique_ptr<Graph>> finalized = quantizer.finalize();
  ASSERT_TRUE(static_cast<bool>(finalized)) << llvm::toString(finalized.takeError());
  size_t quantizes = 0, fakeQuants = 0;
  for (const Node *node : (*finalized)->nodes()) {
    quantizes += node->opName() == "qfx.quantize";
    fakeQuants += node->opName() == "qfx.fake_quant";
  }
  EXPECT_EQ(fakeQuants, 0u);
  EXPECT_GT(quantizes, 0u);
  std::unique_ptr<Interpreter> quantized = compile(**finalized);
  std::unique_ptr<Interpreter> floatRun = compile(*reference);
  ASSERT_TRUE(quantized && floatRun);
  at::Tensor x = batches[2][0];
  double sqnr = computeSQNR(run(*floatRun, {x})[0], run(*quantized, {x})[0]);
  EXPECT_GT(sqnr, 20.0);
  EXPECT_NE(errorOf(quantizer.finalize()).find("finalized already"), std::string::npos);
}

TEST(QuantizerTest, TrainingModeAndSteps) {
  // relu_ on a view of a value linear saved for backward is an autograd error
  // (in PyTorch too): train the out-of-place variant.
  std::string text = kCnnGraph;
  text.replace(text.find("aten::relu_"), 11, "aten::relu");
  std::unique_ptr<Graph> graph = parse(text);
  ASSERT_TRUE(graph);
  std::map<std::string, at::Tensor> original = attachRandomData(*graph);
  QuantizerOptions options;
  options.qat = true;
  std::vector<std::string> warnings;
  options.warningHandler = [&](const std::string &w) { warnings.push_back(w); };
  Quantizer quantizer(std::move(graph), options);
  std::vector<Batch> batches = randomBatches(2, {2, 3, 8, 8}, 5);
  ASSERT_FALSE(static_cast<bool>(quantizer.prepare(batches[0])));
  EXPECT_EQ(quantizer.report().batchNormsFolded, 0u); // QAT keeps batch norms
  {
    llvm::Expected<Quantizer::Mode> mode = quantizer.trainingMode();
    ASSERT_TRUE(static_cast<bool>(mode));
    for (const auto &group : quantizer.interpreter()->groups()) {
      EXPECT_TRUE(group->observerEnabled());
      EXPECT_TRUE(group->fakeQuantEnabled());
    }
    at::Tensor conv = quantizer.interpreter()->parameter("conv.weight");
    at::Tensor before = conv.detach().clone();
    llvm::Expected<std::vector<at::Tensor>> outputs = quantizer.forward(batches[1]);
    ASSERT_TRUE(static_cast<bool>(outputs)) << llvm::toString(outputs.takeError());
    ((*outputs)[0].sum() + (*outputs)[1].sum()).backward();
    ASSERT_TRUE(conv.grad().defined());
    {
      at::NoGradGuard noGrad;
      conv.sub_(conv.grad() * 0.1);
    }
    ASSERT_FALSE(static_cast<bool>(quantizer.step()));
    EXPECT_EQ(quantizer.stepCount(), 1);
    ASSERT_EQ(warnings.size(), 1u); // no schedule configured
    EXPECT_FALSE(at::equal(before, conv.detach()));
  }
  for (const auto &group : quantizer.interpreter()->groups()) {
    EXPECT_FALSE(group->observerEnabled());
    EXPECT_TRUE(group->fakeQuantEnabled());
  }
  // Manual switches work without a schedule.
  EXPECT_FALSE(static_cast<bool>(quantizer.enableObserver(true)));
  EXPECT_FALSE(static_cast<bool>(quantizer.enableObserver(false)));
  llvm::Expected<std::unique_ptr<Graph>> finalized = quantizer.finalize();
  ASSERT_TRUE(static_cast<bool>(finalized)) << llvm::toString(finalized.takeError());
  // The trained weight went back into the graph before lowering.
  const Value *weight = (*finalized)->parameter("conv.weight");
  ASSERT_TRUE(weight && weight->data());
  llvm::Expected<at::Tensor> stored = tensorFromData(weight->data(), true);
  ASSERT_TRUE(static_cast<bool>(stored));
  EXPECT_FALSE(at::equal(*stored, original["conv.weight"]));
}

TEST(QuantizerTest, QatScheduleFromTheConfigDrivesTrainingMode) {
  // global_config's qat_schedule reaches every fake-quant (annotate ->
  // insert-fake-quant); training_mode applies it at the current step and
  // step() advances it; manual switches are refused while it is configured.
  std::string config =
      std::string(std::getenv("TEST_TMPDIR") ? std::getenv("TEST_TMPDIR") : "/tmp") +
      "/qat_schedule.yaml";
  {
    std::ofstream file(config);
    file << "quantization_config:\n  global_config:\n    qat_schedule: {enable_observer: 1, "
            "enable_fake_quant: 2, disable_observer: 3}\n";
  }
  std::string text = kCnnGraph;
  text.replace(text.find("aten::relu_"), 11, "aten::relu");
  std::unique_ptr<Graph> graph = parse(text);
  ASSERT_TRUE(graph);
  attachRandomData(*graph);
  QuantizerOptions options;
  options.config = config;
  options.qat = true;
  Quantizer quantizer(std::move(graph), options);
  std::vector<Batch> batches = randomBatches(2, {2, 3, 8, 8}, 9);
  llvm::Error prepared = quantizer.prepare(batches[0]);
  ASSERT_FALSE(static_cast<bool>(prepared)) << llvm::toString(std::move(prepared));
  ASSERT_TRUE(quantizer.interpreter()->hasSchedules());
  for (const auto &group : quantizer.interpreter()->groups())
    ASSERT_TRUE(group->schedule()) << group->id();
  EXPECT_NE(errorOf(quantizer.enableObserver(true)).find("follow the QAT schedule"),
            std::string::npos);
  EXPECT_NE(errorOf(quantizer.enableFakeQuant(false)).find("follow the QAT schedule"),
            std::string::npos);
  {
    llvm::Expected<Quantizer::Mode> mode = quantizer.trainingMode();
    ASSERT_TRUE(static_cast<bool>(mode));
    struct State {
      bool observer, fakeQuant;
    };
    const State expected[] = {{false, false}, {true, false}, {true, true}, {false, true}};
    for (int64_t step = 0; step < 4; ++step) {
      EXPECT_EQ(quantizer.stepCount(), step);
      for (const auto &group : quantizer.interpreter()->groups()) {
        EXPECT_EQ(group->observerEnabled(), expected[step].observer) << "step " << step;
        EXPECT_EQ(group->fakeQuantEnabled(), expected[step].fakeQuant) << "step " << step;
      }
      llvm::Expected<std::vector<at::Tensor>> outputs = quantizer.forward(batches[1]);
      ASSERT_TRUE(static_cast<bool>(outputs)) << llvm::toString(outputs.takeError());
      ASSERT_FALSE(static_cast<bool>(quantizer.step()));
    }
  }
  // Leaving training: observers off, fake-quant on.
  for (const auto &group : quantizer.interpreter()->groups()) {
    EXPECT_FALSE(group->observerEnabled());
    EXPECT_TRUE(group->fakeQuantEnabled());
  }
  llvm::Expected<std::unique_ptr<Graph>> finalized = quantizer.finalize();
  ASSERT_TRUE(static_cast<bool>(finalized)) << llvm::toString(finalized.takeError());
}

} // namespace

//===----------------------------------------------------------------------===//
// Scaled (deferred-fold) weights
//===----------------------------------------------------------------------===//

namespace {

void runPasses(Graph &graph, llvm::StringRef pipeline) {
  DiagnosticEngine diagnostics;
  std::string messages;
  diagnostics.setHandler([&](const Diagnostic &d) { messages += d.message + "\n"; });
  PassList passes;
  ASSERT_TRUE(parsePassPipeline(pipeline, builtinPassRegistry(), passes, diagnostics)) << messages;
  PassManager manager(diagnostics);
  manager.addPasses(std::move(passes));
  ASSERT_NE(manager.run(graph), PassResult::Failed) << messages;
}

bool bitEqualTensors(const at::Tensor &a, const at::Tensor &b) {
  return a.sizes() == b.sizes() && a.scalar_type() == b.scalar_type() &&
         std::memcmp(a.contiguous().data_ptr(), b.contiguous().data_ptr(), a.nbytes()) == 0;
}

} // namespace

// fold-conv-bn leaves the weight scaled (not materialized); the interpreter
// runs the conv on the source and scales its output, and gives the same
// results as with the product weight (copyParameters materializes it),
// without computing the product; parameter() still shows the folded values.
TEST(ScaledWeightTest, InterpreterScalesTheConvOutputInsteadOfTheWeight) {
  std::unique_ptr<Graph> graph = parse(kCnnGraph);
  ASSERT_TRUE(graph);
  std::map<std::string, at::Tensor> params = attachRandomData(*graph);
  runPasses(*graph, "fold-conv-bn");
  std::shared_ptr<const TensorData> weight = graph->parameter("conv.weight")->data();
  ASSERT_TRUE(weight->scaledForm());
  EXPECT_TRUE(weight->needsMaterializing());

  at::manual_seed(7);
  at::Tensor x = at::randn({2, 3, 8, 8});
  std::unique_ptr<Interpreter> fused = compile(*graph);
  ASSERT_TRUE(fused);
  std::vector<at::Tensor> out = run(*fused, {x});
  EXPECT_TRUE(weight->needsMaterializing()) << "the fused run computed the product weight";

  InterpreterOptions copies;
  copies.copyParameters = true;
  std::unique_ptr<Interpreter> plain = compile(*graph, copies);
  ASSERT_TRUE(plain);
  std::vector<at::Tensor> expected = run(*plain, {x});
  ASSERT_EQ(out.size(), expected.size());
  for (size_t i = 0; i < out.size(); ++i)
    EXPECT_TRUE(at::allclose(out[i], expected[i], 1e-5, 1e-6)) << "output " << i;

  // The product, as fold-conv-bn computed it before it deferred it.
  at::Tensor scale = params["bn.weight"] / at::sqrt(params["bn.running_var"] + 1e-5f);
  at::Tensor folded = params["conv.weight"] * scale.view({-1, 1, 1, 1});
  EXPECT_TRUE(bitEqualTensors(fused->parameter("conv.weight"), folded));
  EXPECT_TRUE(bitEqualTensors(plain->parameter("conv.weight"), folded));
}

// The weight observer of a scaled weight sees the range of the products:
// the same qparams (bit for bit) as observing the product weight.
TEST(ScaledWeightTest, WeightObserversSeeTheProductRange) {
  for (const char *config : {"w8a8", "w8"}) {
    SCOPED_TRACE(config);
    std::unique_ptr<Graph> graph = parse(kCnnGraph);
    ASSERT_TRUE(graph);
    attachRandomData(*graph);
    // A tiny, a zero and a negative batch-norm factor.
    {
      Value *gamma = graph->parameter("bn.weight");
      std::vector<float> values = {1e-30f, 0.0f, -2.5f, 0.75f};
      gamma->setData(std::make_shared<TensorData>(DType::F32, std::vector<int64_t>{4},
                                                  std::vector<uint8_t>(16)));
      std::memcpy(std::const_pointer_cast<TensorData>(gamma->data())->mutableBytes().data(),
                  values.data(), 16);
    }
    QuantizerOptions options;
    options.config = config;
    Quantizer quantizer(std::move(graph), options);
    at::manual_seed(3);
    if (llvm::Error error = quantizer.prepare({at::randn({2, 3, 8, 8})}))
      FAIL() << llvm::toString(std::move(error));
    Interpreter &interpreter = *quantizer.interpreter();
    bool sawWeight = false;
    for (const std::unique_ptr<ObserverGroup> &group : interpreter.groups()) {
      if (group->target() != QuantTarget::Weight)
        continue;
      const Node *fakeQuant = group->fakeQuants().front();
      const Value *parameter = fakeQuant->operand(0);
      if (!parameter->data() || !parameter->data()->scaledForm())
        continue;
      sawWeight = true;
      llvm::Expected<std::unique_ptr<ObserverGroup>> reference =
          ObserverGroup::create(99, group->spec(), QuantTarget::Weight, "reference");
      ASSERT_TRUE(static_cast<bool>(reference));
      ASSERT_FALSE(static_cast<bool>(
          (*reference)->observe(interpreter.parameter(parameter->name()).clone())));
      llvm::Expected<const QParams *> expected = (*reference)->qparams();
      llvm::Expected<const QParams *> actual = group->qparams();
      ASSERT_TRUE(static_cast<bool>(expected));
      ASSERT_TRUE(static_cast<bool>(actual));
      EXPECT_TRUE(bitEqualTensors((*actual)->scale, (*expected)->scale));
      if ((*expected)->zeroPoint.defined())
        EXPECT_TRUE(bitEqualTensors((*actual)->zeroPoint, (*expected)->zeroPoint));
    }
    EXPECT_TRUE(sawWeight);
  }
}

// The runtime weight quantizer quantizes a scaled weight a channel block at
// a time without computing the product: codes bit-identical to quantizing
// the product, for per-tensor, per-channel (both axes) and per-block specs,
// zero-point and minval formulations, with negative, zero and tiny factors.
TEST(ScaledWeightTest, WeightQuantizerCodesMatchTheProduct) {
  DiagnosticEngine diagnostics;
  PassContext context(diagnostics);
  WeightQuantizer *quantizer = context.getService<WeightQuantizer>();
  ASSERT_TRUE(quantizer) << "the runtime registers its weight quantizer";
  struct Case {
    const char *spec;
    std::vector<int64_t> shape;
    int64_t axis;
  };
  std::vector<Case> cases = {
      {"{qscheme: symmetric}", {64, 40, 3, 3}, 0},
      {"{qscheme: symmetric, granularity: {type: per_channel, axis: 0}}", {64, 40, 3, 3}, 0},
      {"{qscheme: symmetric, granularity: {type: per_channel, axis: 0}}", {300, 1000}, 0},
      {"{qscheme: asymmetric, granularity: {type: per_channel, axis: 0}}", {64, 40, 3, 3}, 0},
      {"{qscheme: asymmetric, qformulation: minval, granularity: {type: per_channel, axis: 0}}",
       {64, 40, 3, 3},
       0},
      {"{qscheme: symmetric, granularity: {type: per_channel, axis: 1}}", {40, 64, 3, 3}, 1},
      {"{qscheme: symmetric, granularity: {type: per_block, block_size: [4, -1, -1, -1]}}",
       {64, 40, 3, 3},
       0},
      {"{qscheme: symmetric, granularity: {type: per_block, axis: 1, block_size: 8}}", {96, 64}, 0},
  };
  for (const Case &c : cases) {
    SCOPED_TRACE(c.spec);
    llvm::Expected<QuantizationSpec> spec = QuantizationSpec::fromYAML(c.spec);
    if (!spec) {
      ADD_FAILURE() << llvm::toString(spec.takeError());
      continue;
    }
    at::manual_seed(11);
    at::Tensor source = at::randn(c.shape) * 3;
    llvm::Expected<TensorData> sourceData = tensorToData(source);
    ASSERT_TRUE(static_cast<bool>(sourceData));
    int64_t channels = c.shape[c.axis];
    std::vector<float> factors(channels);
    for (int64_t i = 0; i < channels; ++i)
      factors[i] = i % 7 == 0    ? 0.0f
                   : i % 5 == 0  ? -0.37f * (i + 1)
                   : i % 11 == 0 ? 1e-30f
                                 : 0.01f * (i + 3);
    auto makeScaled = [&] {
      return TensorData::scaled(std::make_shared<TensorData>(*sourceData), c.axis, factors);
    };
    std::shared_ptr<TensorData> scaled = makeScaled();
    // The reference: the product, materialized, quantized as before.
    std::shared_ptr<TensorData> product = makeScaled();
    (void)product->bytes();
    ASSERT_FALSE(product->needsMaterializing());
    Type type = Type::rankedTensor(DType::F32, c.shape);
    llvm::Expected<std::vector<int64_t>> qparamShape = qparamShapeOf(*spec, type);
    ASSERT_TRUE(static_cast<bool>(qparamShape)) << llvm::toString(qparamShape.takeError());
    llvm::Expected<QParamValues> qparams = quantizer->computeQParams(*product, *spec, *qparamShape);
    ASSERT_TRUE(static_cast<bool>(qparams)) << llvm::toString(qparams.takeError());
    llvm::Expected<TensorData> expected =
        quantizer->quantize(*product, *spec, *qparams, *qparamShape);
    llvm::Expected<TensorData> actual = quantizer->quantize(*scaled, *spec, *qparams, *qparamShape);
    ASSERT_TRUE(static_cast<bool>(expected)) << llvm::toString(expected.takeError());
    ASSERT_TRUE(static_cast<bool>(actual)) << llvm::toString(actual.takeError());
    EXPECT_TRUE(scaled->needsMaterializing()) << "quantizing computed the product weight";
    EXPECT_EQ(actual->dtype, expected->dtype);
    EXPECT_EQ(actual->shape, expected->shape);
    EXPECT_TRUE(actual->bytes() == expected->bytes());
  }
}
