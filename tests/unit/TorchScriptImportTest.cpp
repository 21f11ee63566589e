//===- tests/unit/TorchScriptImportTest.cpp - TorchScript -> qfx ----------===//
//
// Tests of ir/torchscript import on real models: scripted in process from
// TorchScript source (TorchScriptTestModels.h), traced and scripted by
// PyTorch and saved as .pt files (TorchScriptModels.py, run by a genrule),
// and TorchScript IR text. Checks the parameters and buffers with their
// data, module paths and types, the operand/attribute convention of
// docs/TorchScript.md, the naming of traced aten::_convolution, types, and
// the errors for control flow, corrupted files and other unsupported input.
//
//===----------------------------------------------------------------------===//
#include "ir/torchscript/TorchScript.h"

#include "ir/Graph.h"
#include "ir/Parser.h"
#include "ir/Printer.h"
#include "tests/unit/TorchScriptTestModels.h"

#include "gtest/gtest.h"

#include <ATen/Parallel.h>
#include <torch/csrc/jit/serialization/import.h>

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"

#include <fstream>
#include <string>
#include <vector>

using namespace qfx;
using namespace qfx::testing;

namespace {

std::unique_ptr<Graph> importOrFail(const torch::jit::Module &module,
                                    const TorchScriptImportOptions &options = {}) {
  llvm::Expected<std::unique_ptr<Graph>> graph = importTorchScriptModule(module, options);
  if (!graph) {
    ADD_FAILURE() << llvm::toString(graph.takeError());
    return nullptr;
  }
  return std::move(*graph);
}

std::unique_ptr<Graph> importFileOrFail(const std::string &path,
                                        const TorchScriptImportOptions &options = {}) {
  llvm::Expected<std::unique_ptr<Graph>> graph = importTorchScriptFile(path, options);
  if (!graph) {
    ADD_FAILURE() << llvm::toString(graph.takeError());
    return nullptr;
  }
  return std::move(*graph);
}

/// The error message of a failed import ("" and a test failure if it worked).
std::string importError(llvm::Expected<std::unique_ptr<Graph>> graph) {
  if (graph) {
    ADD_FAILURE() << "import succeeded:\n" << printGraphToString(**graph);
    return "";
  }
  return llvm::toString(graph.takeError());
}

TorchScriptImportOptions withInputs(const TestModel &model) {
  TorchScriptImportOptions options;
  for (const std::vector<int64_t> &shape : model.inputShapes)
    options.inputTypes.push_back(Type::rankedTensor(DType::F32, shape));
  return options;
}

std::vector<std::string> opNames(const Graph &graph) {
  std::vector<std::string> names;
  for (const Node *node : graph.nodes())
    names.push_back(node->opName().str());
  return names;
}

std::vector<Node *> nodesOf(const Graph &graph, llvm::StringRef op) {
  std::vector<Node *> nodes;
  for (Node *node : graph.nodes())
    if (node->opName() == op)
      nodes.push_back(node);
  return nodes;
}

std::vector<std::string> parameterNames(const Graph &graph) {
  std::vector<std::string> names;
  for (const Value *parameter : graph.parameters())
    names.push_back(parameter->name().str());
  return names;
}

std::string attr(const Node *node, llvm::StringRef name) {
  const Attribute *attribute = node->attribute(name);
  return attribute ? attribute->str() : "<absent>";
}

std::string moduleOf(const Node *node) {
  return node->source().modulePath.str() + " | " + node->source().moduleType.str();
}

//===----------------------------------------------------------------------===//
// Scripted in process
//===----------------------------------------------------------------------===//

TEST(TorchScriptImport, SmallCNNParametersAndBuffersWithData) {
  TestModel model = smallCNN();
  std::unique_ptr<Graph> graph = importOrFail(model.module);
  ASSERT_TRUE(graph);
  EXPECT_EQ(graph->name(), "SmallCNN");
  EXPECT_EQ(parameterNames(*graph),
            (std::vector<std::string>{"conv1.weight", "conv1.bias", "bn1.weight", "bn1.bias",
                                      "bn1.running_mean", "bn1.running_var", "conv2.weight",
                                      "fc.weight", "fc.bias"}));
  for (const Value *parameter : graph->parameters()) {
    SCOPED_TRACE(parameter->name().str());
    bool buffer =
        parameter->name().endswith("running_mean") || parameter->name().endswith("running_var");
    EXPECT_EQ(parameter->isBuffer(), buffer);
    // The data is the module's tensor, byte for byte, with its shape.
    llvm::SmallVector<llvm::StringRef, 3> path;
    parameter->name().split(path, '.');
    at::Tensor expected =
        model.module.attr(path[0].str()).toModule().attr(path[1].str()).toTensor().contiguous();
    ASSERT_TRUE(parameter->data());
    EXPECT_EQ(parameter->data()->dtype, DType::F32);
    EXPECT_EQ(parameter->data()->shape, expected.sizes().vec());
    ASSERT_EQ(parameter->data()->bytes().size(), expected.numel() * sizeof(float));
    EXPECT_EQ(std::memcmp(parameter->data()->bytes().data(), expected.data_ptr(),
                          parameter->data()->bytes().size()),
              0);
    EXPECT_EQ(parameter->type(), Type::rankedTensor(DType::F32, expected.sizes().vec()));
  }
}

TEST(TorchScriptImport, SmallCNNOpsAndAttributes) {
  std::unique_ptr<Graph> graph = importOrFail(smallCNN().module);
  ASSERT_TRUE(graph);
  // The asserts, `if self.training:` and `if self.inplace:` branches of the
  // modules folded away: straight-line aten ops only.
  EXPECT_EQ(opNames(*graph),
            (std::vector<std::string>{"aten::conv2d", "aten::batch_norm", "aten::relu",
                                      "aten::max_pool2d", "aten::conv2d", "aten::relu",
                                      "aten::max_pool2d", "aten::flatten", "aten::linear",
                                      "aten::dropout"}));
  std::vector<Node *> convs = nodesOf(*graph, "aten::conv2d");
  ASSERT_EQ(convs.size(), 2u);
  EXPECT_EQ(convs[0]->numOperands(), 3u);
  EXPECT_EQ(convs[0]->operand(1)->name(), "conv1.weight");
  EXPECT_EQ(convs[0]->operand(2)->name(), "conv1.bias");
  EXPECT_EQ(attr(convs[0], "stride"), "[1, 1]");
  EXPECT_EQ(attr(convs[0], "padding"), "[1, 1]");
  EXPECT_EQ(attr(convs[0], "dilation"), "[1, 1]");
  EXPECT_EQ(attr(convs[0], "groups"), "1");
  // A None bias is omitted, not an attribute.
  EXPECT_EQ(convs[1]->numOperands(), 2u);
  EXPECT_FALSE(convs[1]->hasAttribute("bias"));

  Node *bn = nodesOf(*graph, "aten::batch_norm").front();
  EXPECT_EQ(bn->numOperands(), 5u);
  EXPECT_EQ(bn->operand(3)->name(), "bn1.running_mean");
  // The module is in training mode; import reads `training` as false.
  EXPECT_EQ(attr(bn, "training"), "false");
  EXPECT_EQ(attr(bn, "momentum"), "0.1");
  EXPECT_EQ(attr(bn, "eps"), "1e-05");
  EXPECT_EQ(attr(bn, "cudnn_enabled"), "true");

  Node *pool = nodesOf(*graph, "aten::max_pool2d").front();
  EXPECT_EQ(pool->numOperands(), 1u);
  EXPECT_EQ(attr(pool, "kernel_size"), "[2, 2]");
  EXPECT_EQ(attr(pool, "ceil_mode"), "false");
  Node *flatten = nodesOf(*graph, "aten::flatten").front();
  EXPECT_EQ(attr(flatten, "start_dim"), "1");
  EXPECT_EQ(attr(flatten, "end_dim"), "-1");
  Node *dropout = nodesOf(*graph, "aten::dropout").front();
  EXPECT_EQ(attr(dropout, "p"), "0.2");
  EXPECT_EQ(attr(dropout, "train"), "false");
}

TEST(TorchScriptImport, TrainingOptionKeepsTrainingBranches) {
  TorchScriptImportOptions options;
  options.training = true;
  std::unique_ptr<Graph> graph = importOrFail(smallCNN().module, options);
  ASSERT_TRUE(graph);
  EXPECT_EQ(attr(nodesOf(*graph, "aten::batch_norm").front(), "training"), "true");
  EXPECT_EQ(attr(nodesOf(*graph, "aten::dropout").front(), "train"), "true");
  // `self.num_batches_tracked.add_(1)` is now unconditional: a buffer update.
  std::vector<Node *> updates = nodesOf(*graph, "aten::add_");
  ASSERT_EQ(updates.size(), 1u);
  EXPECT_EQ(updates[0]->operand(0)->name(), "bn1.num_batches_tracked");
  EXPECT_TRUE(updates[0]->operand(0)->isBuffer());
  EXPECT_EQ(attr(updates[0], "other"), "1");

  // The example run that types the graph does not touch the module's state.
  TestModel model = smallCNN();
  options.inputTypes = {Type::rankedTensor(DType::F32, {1, 3, 16, 16})};
  ASSERT_TRUE(importOrFail(model.module, options));
  torch::jit::Module bn = model.module.attr("bn1").toModule();
  EXPECT_EQ(bn.attr("num_batches_tracked").toTensor().item<int64_t>(), 0);
}

// minProbeThreads raises the intra-op threads for the typing run only, and
// the types do not depend on it.
TEST(TorchScriptImport, ProbeThreadsAreRestored) {
  int before = at::get_num_threads();
  at::set_num_threads(1);
  TorchScriptImportOptions options;
  options.inputTypes = {Type::rankedTensor(DType::F32, {1, 3, 16, 16})};
  std::unique_ptr<Graph> plain = importOrFail(smallCNN().module, options);
  options.minProbeThreads = 2;
  std::unique_ptr<Graph> threaded = importOrFail(smallCNN().module, options);
  EXPECT_EQ(at::get_num_threads(), 1);
  at::set_num_threads(before);
  ASSERT_TRUE(plain && threaded);
  EXPECT_EQ(printGraphToString(*plain), printGraphToString(*threaded));
}

TEST(TorchScriptImport, ModulePathsAndTypes) {
  std::unique_ptr<Graph> cnn = importOrFail(smallCNN().module);
  ASSERT_TRUE(cnn);
  EXPECT_EQ(moduleOf(nodesOf(*cnn, "aten::conv2d")[0]), "conv1 | torch.nn.modules.conv.Conv2d");
  EXPECT_EQ(moduleOf(nodesOf(*cnn, "aten::batch_norm")[0]),
            "bn1 | torch.nn.modules.batchnorm.BatchNorm2d");
  EXPECT_EQ(moduleOf(nodesOf(*cnn, "aten::relu")[1]), "relu | torch.nn.modules.activation.ReLU");
  EXPECT_EQ(moduleOf(nodesOf(*cnn, "aten::max_pool2d")[1]),
            "pool | torch.nn.modules.pooling.MaxPool2d");
  EXPECT_EQ(moduleOf(nodesOf(*cnn, "aten::flatten")[0]), " | "); // the top module's own code

  std::unique_ptr<Graph> resnet = importOrFail(resnetBlock().module);
  ASSERT_TRUE(resnet);
  std::vector<Node *> convs = nodesOf(*resnet, "aten::conv2d");
  ASSERT_EQ(convs.size(), 3u);
  EXPECT_EQ(moduleOf(convs[0]), "layer1.0.conv1 | torch.nn.modules.conv.Conv2d");
  EXPECT_EQ(moduleOf(convs[1]), "layer1.0.conv2 | torch.nn.modules.conv.Conv2d");
  EXPECT_EQ(moduleOf(convs[2]), "layer1.0.downsample.0 | torch.nn.modules.conv.Conv2d");
  EXPECT_EQ(moduleOf(nodesOf(*resnet, "aten::batch_norm")[2]),
            "layer1.0.downsample.1 | torch.nn.modules.batchnorm.BatchNorm2d");
  // `out += identity` is the block's own code; torchvision's class name.
  std::vector<Node *> adds = nodesOf(*resnet, "aten::add_");
  ASSERT_EQ(adds.size(), 1u);
  EXPECT_EQ(moduleOf(adds[0]), "layer1.0 | torchvision.models.resnet.BasicBlock");
  // Parameters of nested modules are named by their full path.
  EXPECT_TRUE(resnet->parameter("layer1.0.downsample.1.running_var"));
  EXPECT_TRUE(resnet->parameter("layer1.0.downsample.1.running_var")->isBuffer());
  // inplace=True in the block's ReLU.
  EXPECT_EQ(nodesOf(*resnet, "aten::relu_").size(), 2u);
}

TEST(TorchScriptImport, TypesFromAnExampleRun) {
  TestModel model = smallCNN();
  std::unique_ptr<Graph> untyped = importOrFail(model.module);
  ASSERT_TRUE(untyped);
  EXPECT_EQ(untyped->inputs()[0]->type().str(), "tensor<*x?>");
  EXPECT_EQ(untyped->front()->result()->type().str(), "tensor<*x?>");

  std::unique_ptr<Graph> graph = importOrFail(model.module, withInputs(model));
  ASSERT_TRUE(graph);
  EXPECT_EQ(graph->inputs()[0]->type().str(), "tensor<1x3x16x16xf32>");
  std::vector<std::string> types;
  for (const Node *node : graph->nodes())
    types.push_back(node->result()->type().str());
  EXPECT_EQ(types, (std::vector<std::string>{"tensor<1x8x16x16xf32>", "tensor<1x8x16x16xf32>",
                                             "tensor<1x8x16x16xf32>", "tensor<1x8x8x8xf32>",
                                             "tensor<1x16x8x8xf32>", "tensor<1x16x8x8xf32>",
                                             "tensor<1x16x4x4xf32>", "tensor<1x256xf32>",
                                             "tensor<1x10xf32>", "tensor<1x10xf32>"}));
  EXPECT_EQ(graph->outputs()[0]->type().str(), "tensor<1x10xf32>");

  TorchScriptImportOptions wrongCount;
  wrongCount.inputTypes = {Type::rankedTensor(DType::F32, {1}), Type::integer()};
  EXPECT_EQ(importError(importTorchScriptModule(model.module, wrongCount)),
            "2 input types are given but the method takes 1 input");
  TorchScriptImportOptions wrongShape;
  wrongShape.inputTypes = {Type::rankedTensor(DType::F32, {1, 5, 16, 16})};
  std::string error = importError(importTorchScriptModule(model.module, wrongShape));
  // The interpreter's own message, not its traceback.
  EXPECT_EQ(error.rfind("running the model on inputs of the given types failed: RuntimeError: "
                        "Given groups=1, weight of size [8, 3, 3, 3], expected input[1, 5, 16, 16] "
                        "to have 3 channels",
                        0),
            0u)
      << error;
}

TEST(TorchScriptImport, TransformerBlockConvention) {
  TestModel model = transformerBlock();
  std::unique_ptr<Graph> graph = importOrFail(model.module, withInputs(model));
  ASSERT_TRUE(graph);
  // `view(b, t, 2, 8)` with b, t from x.size(): the list stays a node.
  Node *view = nodesOf(*graph, "aten::view").front();
  ASSERT_EQ(view->numOperands(), 2u);
  Node *list = view->operand(1)->producer();
  ASSERT_TRUE(list);
  EXPECT_EQ(list->opName(), "prim::ListConstruct");
  EXPECT_EQ(list->result()->type().str(), "list<int>");
  ASSERT_EQ(list->numOperands(), 4u);
  EXPECT_EQ(list->operand(0)->producer()->opName(), "aten::size");
  EXPECT_EQ(attr(list->operand(0)->producer(), "dim"), "0");
  // Constants inside such a list are prim::Constant nodes.
  EXPECT_EQ(list->operand(2)->producer()->opName(), "prim::Constant");
  EXPECT_EQ(attr(list->operand(2)->producer(), "value"), "2");

  Node *softmax = nodesOf(*graph, "aten::softmax").front();
  EXPECT_EQ(softmax->numOperands(), 1u);
  EXPECT_EQ(attr(softmax, "dim"), "-1");
  EXPECT_EQ(attr(softmax, "dtype"), "none");
  EXPECT_EQ(nodesOf(*graph, "aten::matmul").size(), 2u);
  Node *scale = nodesOf(*graph, "aten::mul").front();
  EXPECT_EQ(scale->numOperands(), 1u);
  EXPECT_EQ(attr(scale, "other"), "0.35355339059327373");
  Node *norm = nodesOf(*graph, "aten::layer_norm").front();
  EXPECT_EQ(norm->numOperands(), 3u);
  EXPECT_EQ(attr(norm, "normalized_shape"), "[16]");
  EXPECT_EQ(attr(norm, "eps"), "1e-05");
  EXPECT_EQ(moduleOf(norm), "norm1 | torch.nn.modules.normalization.LayerNorm");
  EXPECT_EQ(attr(nodesOf(*graph, "aten::gelu").front(), "approximate"), "\"none\"");
  Node *transpose = nodesOf(*graph, "aten::transpose").front();
  EXPECT_EQ(attr(transpose, "dim0"), "1");
  EXPECT_EQ(attr(transpose, "dim1"), "2");
  EXPECT_EQ(graph->outputs()[0]->type().str(), "tensor<2x5x16xf32>");
}

TEST(TorchScriptImport, ResidualMLPAdd) {
  TestModel model = residualMLP();
  std::unique_ptr<Graph> graph = importOrFail(model.module, withInputs(model));
  ASSERT_TRUE(graph);
  EXPECT_EQ(opNames(*graph), (std::vector<std::string>{"aten::linear", "aten::gelu", "aten::linear",
                                                       "aten::add", "aten::relu"}));
  Node *add = nodesOf(*graph, "aten::add").front();
  ASSERT_EQ(add->numOperands(), 2u);
  EXPECT_EQ(add->operand(0), graph->inputs()[0]);
  EXPECT_EQ(attr(add, "alpha"), "1");
}

TEST(TorchScriptImport, TensorListsNoneArgumentsAndSeveralOutputs) {
  TestModel model = twoOutputs();
  std::unique_ptr<Graph> graph = importOrFail(model.module, withInputs(model));
  ASSERT_TRUE(graph);
  // torch.cat([x, y], 1): the list of tensors becomes cat's operands.
  Node *cat = nodesOf(*graph, "aten::cat").front();
  ASSERT_EQ(cat->numOperands(), 2u);
  EXPECT_EQ(cat->operand(0), graph->inputs()[0]);
  EXPECT_EQ(cat->operand(1), graph->inputs()[1]);
  EXPECT_EQ(attr(cat, "dim"), "1");
  EXPECT_TRUE(nodesOf(*graph, "prim::ListConstruct").empty());
  // weight and bias are None before operands: attributes say which is which.
  Node *bn = nodesOf(*graph, "aten::batch_norm").front();
  ASSERT_EQ(bn->numOperands(), 3u);
  EXPECT_EQ(bn->operand(1)->name(), "mean");
  EXPECT_EQ(attr(bn, "weight"), "none");
  EXPECT_EQ(attr(bn, "bias"), "none");
  // The returned tuple is the graph's outputs.
  ASSERT_EQ(graph->outputs().size(), 2u);
  EXPECT_EQ(graph->outputs()[0], bn->result());
  EXPECT_EQ(graph->outputs()[1]->type().str(), "tensor<2x3x3xf32>");
}

TEST(TorchScriptImport, LeavesTheModuleUnchanged) {
  TestModel model = resnetBlock();
  std::string before = model.module.get_method("forward").graph()->toString();
  ASSERT_TRUE(importOrFail(model.module));
  EXPECT_EQ(model.module.get_method("forward").graph()->toString(), before);
}

TEST(TorchScriptImport, PrintedGraphsParseBack) {
  for (const TestModel &model : allTestModels()) {
    SCOPED_TRACE(model.name);
    std::unique_ptr<Graph> graph = importOrFail(model.module, withInputs(model));
    ASSERT_TRUE(graph);
    std::string text = printGraphToString(*graph);
    DiagnosticEngine diagnostics;
    std::unique_ptr<Graph> parsed = parseGraph(text, diagnostics);
    ASSERT_TRUE(parsed) << text;
    EXPECT_EQ(printGraphToString(*parsed), text);
  }
}

//===----------------------------------------------------------------------===//
// .pt files written by PyTorch
//===----------------------------------------------------------------------===//

TEST(TorchScriptImport, TracedConvolutionsAreNamed) {
  std::unique_ptr<Graph> graph = importFileOrFail(runfile("tests/unit/traced_convs.pt"));
  ASSERT_TRUE(graph);
  EXPECT_TRUE(nodesOf(*graph, "aten::_convolution").empty());
  Node *conv1d = nodesOf(*graph, "aten::conv1d").front();
  EXPECT_EQ(conv1d->numOperands(), 3u);
  EXPECT_EQ(attr(conv1d, "stride"), "[1]");
  EXPECT_EQ(attr(conv1d, "padding"), "[1]");
  EXPECT_EQ(attr(conv1d, "dilation"), "[1]");
  EXPECT_EQ(attr(conv1d, "groups"), "1");
  EXPECT_FALSE(conv1d->hasAttribute("benchmark"));
  EXPECT_EQ(moduleOf(conv1d), "conv1d | torch.nn.modules.conv.Conv1d");
  Node *up = nodesOf(*graph, "aten::conv_transpose2d").front();
  EXPECT_EQ(attr(up, "stride"), "[2, 2]");
  EXPECT_EQ(attr(up, "output_padding"), "[0, 0]");
  EXPECT_EQ(attr(up, "groups"), "1");
  EXPECT_EQ(attr(up, "dilation"), "[1, 1]");
  EXPECT_FALSE(up->hasAttribute("transposed"));
  EXPECT_EQ(up->operand(1)->name(), "up.weight");
  Node *conv3d = nodesOf(*graph, "aten::conv3d").front();
  EXPECT_EQ(attr(conv3d, "padding"), "[1, 1, 1]");
  EXPECT_EQ(graph->outputs().size(), 2u);
}

TEST(TorchScriptImport, TracedAndScriptedFilesAgree) {
  TorchScriptImportOptions options;
  options.inputTypes = {Type::rankedTensor(DType::F32, {1, 3, 16, 16})};
  std::unique_ptr<Graph> traced = importFileOrFail(runfile("tests/unit/traced_cnn.pt"), options);
  std::unique_ptr<Graph> scripted =
      importFileOrFail(runfile("tests/unit/scripted_cnn.pt"), options);
  ASSERT_TRUE(traced && scripted);
  EXPECT_EQ(parameterNames(*traced), parameterNames(*scripted));
  EXPECT_EQ(opNames(*traced), opNames(*scripted));
  EXPECT_EQ(opNames(*traced),
            (std::vector<std::string>{"aten::conv2d", "aten::batch_norm", "aten::relu",
                                      "aten::max_pool2d", "aten::conv2d", "aten::relu",
                                      "aten::max_pool2d", "aten::flatten", "aten::linear",
                                      "aten::dropout"}));
  for (const Graph *graph : {traced.get(), scripted.get()}) {
    SCOPED_TRACE(graph == traced.get() ? "traced" : "scripted");
    std::vector<Node *> convs = nodesOf(*graph, "aten::conv2d");
    EXPECT_EQ(moduleOf(convs[0]), "conv1 | torch.nn.modules.conv.Conv2d");
    EXPECT_EQ(attr(convs[1], "padding"), "[1, 1]");
    EXPECT_EQ(moduleOf(nodesOf(*graph, "aten::dropout")[0]),
              "drop | torch.nn.modules.dropout.Dropout");
    EXPECT_EQ(attr(nodesOf(*graph, "aten::dropout")[0], "train"), "false");
    EXPECT_EQ(graph->outputs()[0]->type().str(), "tensor<1x10xf32>");
    // Source locations point into the model's Python code.
    const SourceInfo &flatten = nodesOf(*graph, "aten::flatten")[0]->source();
    EXPECT_TRUE(flatten.file.endswith("TorchScriptModels.py")) << flatten.file.str();
    EXPECT_EQ(flatten.line, 29u);
  }
}

TEST(TorchScriptImport, TracedAndScriptedResNetAgree) {
  std::unique_ptr<Graph> traced = importFileOrFail(runfile("tests/unit/traced_resnet.pt"));
  std::unique_ptr<Graph> scripted = importFileOrFail(runfile("tests/unit/scripted_resnet.pt"));
  ASSERT_TRUE(traced && scripted);
  EXPECT_EQ(parameterNames(*traced), parameterNames(*scripted));
  EXPECT_EQ(opNames(*traced), opNames(*scripted));
  for (const Graph *graph : {traced.get(), scripted.get()}) {
    std::vector<Node *> adds = nodesOf(*graph, "aten::add");
    ASSERT_EQ(adds.size(), 2u);
    EXPECT_EQ(moduleOf(adds[1]), "layer1.1 | BasicBlock");
    EXPECT_EQ(moduleOf(nodesOf(*graph, "aten::conv2d")[2]),
              "layer1.0.downsample.0 | torch.nn.modules.conv.Conv2d");
  }
}

TEST(TorchScriptImport, TracedAttentionTensorConstants) {
  std::unique_ptr<Graph> graph = importFileOrFail(runfile("tests/unit/traced_attention.pt"));
  ASSERT_TRUE(graph);
  // Traced `d // heads` and `/ 2.0` keep their tensor constants, as buffers.
  Value *constant = graph->parameter("_tensor_constant0");
  ASSERT_TRUE(constant);
  EXPECT_TRUE(constant->isBuffer());
  ASSERT_TRUE(constant->data());
  EXPECT_EQ(constant->data()->dtype, DType::I64);
  EXPECT_EQ(constant->type().str(), "tensor<i64>");
  EXPECT_EQ(nodesOf(*graph, "aten::softmax").size(), 1u);
  EXPECT_EQ(nodesOf(*graph, "aten::layer_norm").size(), 2u);
}

//===----------------------------------------------------------------------===//
// IR text
//===----------------------------------------------------------------------===//

TEST(TorchScriptImport, IRTextWithCompleteTypes) {
  const char *text = R"IR(
graph(%x.1 : Float(1, 3, 8, 8, strides=[192, 64, 8, 1], requires_grad=0, device=cpu),
      %w : Float(4, 3, 3, 3, strides=[27, 9, 3, 1], requires_grad=0, device=cpu)):
  %none : NoneType = prim::Constant()
  %one : int = prim::Constant[value=1]()
  %zero : int = prim::Constant[value=0]()
  %false : bool = prim::Constant[value=0]()
  %true : bool = prim::Constant[value=1]()
  %ones : int[] = prim::ListConstruct(%one, %one)
  %zeros : int[] = prim::ListConstruct(%zero, %zero)
  %y : Float(1, 4, 8, 8, strides=[256, 64, 8, 1], requires_grad=0, device=cpu) = aten::_convolution(%x.1, %w, %none, %ones, %ones, %ones, %false, %zeros, %one, %false, %false, %true, %true)
  %r : Float(1, 4, 8, 8, strides=[256, 64, 8, 1], requires_grad=0, device=cpu) = aten::relu(%y)
  return (%r)
)IR";
  llvm::Expected<std::unique_ptr<Graph>> graph = importTorchScriptIR(text);
  ASSERT_TRUE(bool(graph)) << llvm::toString(graph.takeError());
  EXPECT_EQ(printGraphToString(**graph),
            R"(graph @main(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) {
  %0 = aten::conv2d(%x, %w) {stride = [1, 1], padding = [1, 1], dilation = [1, 1], groups = 1} : tensor<1x4x8x8xf32>
  %1 = aten::relu(%0) : tensor<1x4x8x8xf32>
  return %1
}
)");
}

//===----------------------------------------------------------------------===//
// Errors
//===----------------------------------------------------------------------===//

TEST(TorchScriptImport, ControlFlowIsAnErrorNamingTheNodeAndLine) {
  std::string error = importError(importTorchScriptFile(runfile("tests/unit/scripted_if.pt")));
  EXPECT_NE(error.find("'prim::If' at "), std::string::npos) << error;
  EXPECT_NE(error.find("TorchScriptModels.py:105:"), std::string::npos) << error;
  EXPECT_NE(error.find("unsupported control flow"), std::string::npos) << error;
  EXPECT_EQ(error.rfind("'" + runfile("tests/unit/scripted_if.pt") + "': ", 0), 0u) << error;

  error = importError(importTorchScriptFile(runfile("tests/unit/scripted_loop.pt")));
  EXPECT_NE(error.find("'prim::Loop' at "), std::string::npos) << error;
  EXPECT_NE(error.find("TorchScriptModels.py:112:"), std::string::npos) << error;

  // In process, in a submodule: the module is named.
  torch::jit::Module inner = moduleFromSource("Gate", R"(
def forward(self, x):
    if bool(x.sum() > 0):
        x = torch.relu(x)
    return x
)");
  torch::jit::Module outer = moduleFromSource("Outer", "");
  outer.register_module("gate", inner);
  outer.define("def forward(self, x):\n    return self.gate.forward(x)\n");
  error = importError(importTorchScriptModule(outer));
  EXPECT_NE(error.find("'prim::If'"), std::string::npos) << error;
  EXPECT_NE(error.find("in module 'gate' (Gate)"), std::string::npos) << error;
}

TEST(TorchScriptImport, CorruptedAndMissingFiles) {
  std::string original = runfile("tests/unit/traced_cnn.pt");
  llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> bytes = llvm::MemoryBuffer::getFile(original);
  ASSERT_TRUE(bool(bytes));
  std::string directory = ::testing::TempDir();

  // Truncated: the zip's central directory is missing.
  std::string truncated = directory + "/truncated.pt";
  {
    std::ofstream out(truncated, std::ios::binary);
    out.write((*bytes)->getBufferStart(), (*bytes)->getBufferSize() / 2);
  }
  std::string error = importError(importTorchScriptFile(truncated));
  EXPECT_EQ(error.rfind("cannot load TorchScript file '" + truncated + "': ", 0), 0u) << error;

  // Corrupted: the zip's directory at the end overwritten.
  std::string corrupted = directory + "/corrupted.pt";
  {
    std::string data = (*bytes)->getBuffer().str();
    for (size_t i = data.size() - 200; i < data.size(); ++i)
      data[i] = static_cast<char>(0xA5);
    std::ofstream out(corrupted, std::ios::binary);
    out << data;
  }
  error = importError(importTorchScriptFile(corrupted));
  EXPECT_NE(error.find(corrupted), std::string::npos) << error;

  error = importError(importTorchScriptFile(directory + "/missing.pt"));
  EXPECT_EQ(error.rfind("cannot read '" + directory + "/missing.pt': ", 0), 0u) << error;

  // Not a zip: read as IR text, which it is not either.
  std::string junk = directory + "/junk.pt";
  {
    std::ofstream out(junk, std::ios::binary);
    out << "\x01\x02 not a model";
  }
  error = importError(importTorchScriptFile(junk));
  EXPECT_EQ(error.rfind("'" + junk + "': cannot import TorchScript IR: ", 0), 0u) << error;
}

TEST(TorchScriptImport, OtherUnsupportedInput) {
  torch::jit::Module counter = moduleFromSource("Counter", "");
  counter.register_attribute("calls", c10::IntType::get(), int64_t(0));
  counter.define(R"(
def forward(self, x):
    self.calls = self.calls + 1
    return x
)");
  std::string error = importError(importTorchScriptModule(counter));
  EXPECT_NE(error.find("'prim::SetAttr'"), std::string::npos) << error;
  EXPECT_NE(error.find("writes module attribute 'calls'"), std::string::npos) << error;

  TorchScriptImportOptions options;
  options.methodName = "predict";
  EXPECT_EQ(importError(importTorchScriptModule(smallCNN().module, options)),
            "the module has no method 'predict'");

  error = importError(importTorchScriptIR("graph(%x : Tensor):\n  return (%y)\n"));
  EXPECT_EQ(error.rfind("cannot import TorchScript IR: ", 0), 0u) << error;
}

} // namespace
