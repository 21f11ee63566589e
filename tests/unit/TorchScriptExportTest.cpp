//===- tests/unit/TorchScriptExportTest.cpp - qfx -> TorchScript ----------===//
//
// Tests of ir/torchscript export: import -> export with no passes in between
// gives bit-identical outputs on random inputs for every test model (in
// memory, and through a saved and reloaded .pt), parameter names survive,
// attributes become the right schema arguments (None before operands, lists
// of tensors, ScalarType names, qparam lists for tensor arguments), qfx's
// quantize/dequantize/fake_quant run as the custom ops of
// libqfx_torch_ops.so with the kernels' numerics, and failures name the node
// and never leave a partial file.
//
//===----------------------------------------------------------------------===//
#include "ir/torchscript/TorchScript.h"

#include "ir/Graph.h"
#include "ir/Parser.h"
#include "ir/Printer.h"
#include "tests/unit/TorchScriptTestModels.h"

#include "gtest/gtest.h"

#include <ATen/ATen.h>
#include <torch/csrc/jit/serialization/import.h>

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

#include <cstring>
#include <fstream>
#include <memory>
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

std::unique_ptr<torch::jit::Module> exportOrFail(const Graph &graph) {
  llvm::Expected<std::unique_ptr<torch::jit::Module>> module = exportTorchScriptModule(graph);
  if (!module) {
    ADD_FAILURE() << llvm::toString(module.takeError());
    return nullptr;
  }
  return std::move(*module);
}

std::string exportError(const Graph &graph) {
  llvm::Expected<std::unique_ptr<torch::jit::Module>> module = exportTorchScriptModule(graph);
  if (module) {
    ADD_FAILURE() << "export succeeded";
    return "";
  }
  return llvm::toString(module.takeError());
}

std::unique_ptr<Graph> parse(const std::string &text) {
  DiagnosticEngine diagnostics;
  std::unique_ptr<Graph> graph = parseGraph(text, diagnostics);
  EXPECT_TRUE(graph) << text;
  return graph;
}

c10::IValue run(torch::jit::Module &module, std::vector<c10::IValue> inputs) {
  return module.forward(std::move(inputs));
}

/// Imports `module` (typed by `shapes`), exports the graph, and checks that
/// both compute the same bits on three random inputs, in memory and after
/// saving and loading the export.
void expectRoundTrip(torch::jit::Module module, const std::vector<std::vector<int64_t>> &shapes,
                     const std::string &name) {
  SCOPED_TRACE(name);
  module.eval();
  TorchScriptImportOptions options;
  for (const std::vector<int64_t> &shape : shapes)
    options.inputTypes.push_back(Type::rankedTensor(DType::F32, shape));
  std::unique_ptr<Graph> graph = importOrFail(module, options);
  ASSERT_TRUE(graph);
  std::unique_ptr<torch::jit::Module> exported = exportOrFail(*graph);
  ASSERT_TRUE(exported);
  std::string path = ::testing::TempDir() + "/" + name + ".pt";
  ASSERT_FALSE(bool(exportTorchScript(*graph, path)));
  torch::jit::Module loaded = torch::jit::load(path);
  for (uint64_t seed : {1, 2, 3}) {
    std::vector<c10::IValue> inputs = randomInputs(shapes, seed);
    c10::IValue expected = run(module, inputs);
    EXPECT_TRUE(bitIdentical(expected, run(*exported, inputs))) << "in memory, seed " << seed;
    EXPECT_TRUE(bitIdentical(expected, run(loaded, inputs))) << "saved, seed " << seed;
  }
}

TEST(TorchScriptExport, RoundTripOfModelsInSourceIsBitIdentical) {
  for (const TestModel &model : allTestModels())
    expectRoundTrip(model.module, model.inputShapes, model.name);
}

TEST(TorchScriptExport, RoundTripOfSavedTracedAndScriptedModelsIsBitIdentical) {
  struct File {
    const char *name;
    std::vector<std::vector<int64_t>> shapes;
  };
  for (const File &file : std::vector<File>{{"traced_cnn", {{2, 3, 16, 16}}},
                                            {"scripted_cnn", {{2, 3, 16, 16}}},
                                            {"traced_resnet", {{1, 4, 8, 8}}},
                                            {"scripted_resnet", {{1, 4, 8, 8}}},
                                            {"traced_attention", {{2, 5, 16}}},
                                            {"traced_convs", {{1, 4, 3, 3}}}})
    expectRoundTrip(torch::jit::load(runfile("tests/unit/" + std::string(file.name) + ".pt")),
                    file.shapes, file.name);
}

TEST(TorchScriptExport, ParameterNamesAndDataSurvive) {
  TestModel model = resnetBlock();
  std::unique_ptr<Graph> graph = importOrFail(model.module);
  ASSERT_TRUE(graph);
  std::unique_ptr<torch::jit::Module> exported = exportOrFail(*graph);
  ASSERT_TRUE(exported);
  std::vector<std::string> parameters, buffers, expectedParameters, expectedBuffers;
  for (const auto &entry : exported->named_parameters())
    parameters.push_back(entry.name);
  for (const auto &entry : exported->named_buffers())
    buffers.push_back(entry.name);
  for (const Value *parameter : graph->parameters())
    (parameter->isBuffer() ? expectedBuffers : expectedParameters)
        .push_back(parameter->name().str());
  EXPECT_EQ(parameters, expectedParameters);
  EXPECT_EQ(buffers, expectedBuffers);
  EXPECT_EQ(buffers.front(), "layer1.0.bn1.running_mean");
  for (const auto &entry : exported->named_parameters())
    EXPECT_TRUE(entry.value.requires_grad()) << entry.name;

  // A re-import reads the same names and computes the same graph.
  std::unique_ptr<Graph> again = importOrFail(*exported);
  ASSERT_TRUE(again);
  PrintOptions noSource;
  noSource.printSourceInfo = false;
  again->setName(graph->name());
  EXPECT_EQ(printGraphToString(*again, noSource), printGraphToString(*graph, noSource));
}

// Quantized weight codes (8-bit buffers) are handed to the module without a
// copy, owned jointly with the graph; float parameters and buffers, which
// training writes in place, and wider integers are copies.
TEST(TorchScriptExport, CodeBuffersAreSharedOtherDataCopied) {
  Graph graph("shared");
  auto addData = [&](llvm::StringRef name, DType dtype, bool isBuffer, size_t elementSize) {
    Value *value = graph.addParameter(name, Type::rankedTensor(dtype, {2, 3}), isBuffer);
    auto data = std::make_shared<TensorData>();
    data->dtype = dtype;
    data->shape = {2, 3};
    for (size_t i = 0; i < 6 * elementSize; ++i)
      data->mutableBytes().push_back(static_cast<uint8_t>(i % 7));
    value->setData(data);
    return value;
  };
  Value *codes = addData("codes", DType::I8, /*isBuffer=*/true, 1);
  Value *weight = addData("weight", DType::F32, /*isBuffer=*/false, 4);
  Value *stats = addData("stats", DType::F32, /*isBuffer=*/true, 4);
  Value *count = addData("count", DType::I64, /*isBuffer=*/true, 8);
  graph.addOutput(codes);
  std::weak_ptr<const TensorData> codeData = codes->data();
  std::unique_ptr<torch::jit::Module> exported = exportOrFail(graph);
  ASSERT_TRUE(exported);
  auto tensorOf = [&](llvm::StringRef name) { return exported->attr(name.str()).toTensor(); };
  EXPECT_EQ(tensorOf("codes").data_ptr(), static_cast<const void *>(codes->data()->bytes().data()));
  for (Value *copied : {weight, stats, count}) {
    at::Tensor tensor = tensorOf(copied->name());
    EXPECT_NE(tensor.data_ptr(), static_cast<const void *>(copied->data()->bytes().data()));
    EXPECT_EQ(std::memcmp(tensor.data_ptr(), copied->data()->bytes().data(),
                          copied->data()->bytes().size()),
              0);
  }
  at::Tensor expected = at::arange(6, at::kLong).remainder(7).to(at::kChar).reshape({2, 3});
  EXPECT_TRUE(at::equal(tensorOf("codes"), expected));
  // The module keeps the codes alive after the graph is gone.
  codes->setData(nullptr);
  EXPECT_FALSE(codeData.expired());
  EXPECT_TRUE(at::equal(tensorOf("codes"), expected));
  exported.reset();
  EXPECT_TRUE(codeData.expired());
}

TEST(TorchScriptExport, NamesThatAreNotPathsAreFlattened) {
  std::unique_ptr<Graph> graph = parse(R"(graph @odd(%x: tensor<2xf32>) {
  param %a : tensor<2xf32>
  param %a.b : tensor<2xf32>
  buffer %odd-name : tensor<2xf32>
  %0 = aten::mul(%x, %a) : tensor<2xf32>
  %1 = aten::add(%0, %a.b) {alpha = 1} : tensor<2xf32>
  %2 = aten::sub(%1, %odd-name) {alpha = 1} : tensor<2xf32>
  return %2
})");
  ASSERT_TRUE(graph);
  for (Value *parameter : graph->parameters()) {
    auto data = std::make_shared<TensorData>();
    data->shape = {2};
    float values[2] = {1.5f, -2.0f};
    data->mutableBytes().assign(reinterpret_cast<uint8_t *>(values),
                                reinterpret_cast<uint8_t *>(values + 2));
    parameter->setData(data);
  }
  std::unique_ptr<torch::jit::Module> exported = exportOrFail(*graph);
  ASSERT_TRUE(exported);
  std::vector<std::string> names;
  for (const auto &entry : exported->named_attributes(/*recurse=*/true))
    if (entry.value.isTensor())
      names.push_back(entry.name);
  // `a` is a tensor, so `a.b` cannot be a submodule path: flattened.
  EXPECT_EQ(names, (std::vector<std::string>{"a", "a_b", "odd_name"}));
  at::Tensor x = at::tensor({3.0f, 4.0f});
  at::Tensor expected =
      x * at::tensor({1.5f, -2.0f}) + at::tensor({1.5f, -2.0f}) - at::tensor({1.5f, -2.0f});
  EXPECT_TRUE(at::equal(run(*exported, {x}).toTensor(), expected));
}

TEST(TorchScriptExport, AttributesBecomeSchemaArguments) {
  // Hand-written graphs as passes write them: ScalarType by name, qparams
  // as lists where the op takes tensors, an int for `int[2]`, a float
  // attribute for a Scalar, None for an optional tensor before an operand.
  std::unique_ptr<Graph> graph = parse(R"(graph @attrs(%x: tensor<2x3x4x4xf32>) {
  buffer %mean : tensor<3xf32>
  buffer %var : tensor<3xf32>
  %0 = aten::batch_norm(%x, %mean, %var) {weight = none, bias = none, training = false, momentum = 0.1, eps = 1e-05, cudnn_enabled = true} : tensor<2x3x4x4xf32>
  %1 = aten::max_pool2d(%0) {kernel_size = 2} : tensor<2x3x2x2xf32>
  %2 = aten::mul(%1) {other = 0.5} : tensor<2x3x2x2xf32>
  %3 = aten::quantize_per_tensor(%2) {scale = 0.05, zero_point = 3, dtype = "quint8"} : tensor<2x3x2x2xu8>
  %4 = aten::dequantize(%3) : tensor<2x3x2x2xf32>
  %5 = aten::quantize_per_channel(%4) {scales = [0.1, 0.2, 0.3], zero_points = [0, 1, -1], axis = 1, dtype = "qint8"} : tensor<2x3x2x2xi8>
  %6 = aten::dequantize(%5) : tensor<2x3x2x2xf32>
  %7 = aten::cat(%6, %2) {dim = 1} : tensor<2x6x2x2xf32>
  return %7
})");
  ASSERT_TRUE(graph);
  float mean[3] = {0.1f, -0.2f, 0.3f}, var[3] = {1.0f, 2.0f, 0.5f};
  for (Value *parameter : graph->parameters()) {
    float *values = parameter->name() == "mean" ? mean : var;
    auto data = std::make_shared<TensorData>();
    data->shape = {3};
    data->mutableBytes().assign(reinterpret_cast<uint8_t *>(values),
                                reinterpret_cast<uint8_t *>(values + 3));
    parameter->setData(data);
  }
  std::unique_ptr<torch::jit::Module> exported = exportOrFail(*graph);
  ASSERT_TRUE(exported);
  at::Tensor x = at::randn({2, 3, 4, 4});
  at::Tensor n = at::batch_norm(x, {}, {}, at::tensor({0.1f, -0.2f, 0.3f}),
                                at::tensor({1.0f, 2.0f, 0.5f}), false, 0.1, 1e-5, true);
  at::Tensor m = at::max_pool2d(n, {2, 2}) * 0.5;
  at::Tensor d = at::quantize_per_tensor(m, 0.05, 3, at::kQUInt8).dequantize();
  at::Tensor c = at::quantize_per_channel(d, at::tensor({0.1, 0.2, 0.3}, at::kDouble),
                                          at::tensor({0, 1, -1}, at::kLong), 1, at::kQInt8)
                     .dequantize();
  at::Tensor expected = at::cat({c, m}, 1);
  EXPECT_TRUE(at::equal(run(*exported, {x}).toTensor(), expected));
}

TEST(TorchScriptExport, ErrorsNameTheNode) {
  std::unique_ptr<Graph> tosa = parse(R"(graph @g(%x: tensor<2xf32>) {
  %0 = tosa.identity(%x) : tensor<2xf32>
  return %0
})");
  EXPECT_EQ(exportError(*tosa),
            "cannot export 'tosa.identity': 'tosa.identity' has no TorchScript form");

  std::unique_ptr<Graph> unknown = parse(R"(graph @g(%x: tensor<2xf32>) {
  %0 = foo::bar(%x) : tensor<2xf32>
  return %0
})");
  EXPECT_EQ(exportError(*unknown),
            "cannot export 'foo::bar': no TorchScript operator 'foo::bar' is registered");

  std::unique_ptr<Graph> mismatch = parse(R"(graph @g(%x: tensor<2xf32>) {
  %0 = aten::softmax(%x) {dim = [0, 1]} : tensor<2xf32>
  return %0
})");
  std::string error = exportError(*mismatch);
  EXPECT_EQ(error.rfind("cannot export 'aten::softmax': its operands and attributes match no "
                        "overload of 'aten::softmax':\n  aten::softmax.int(Tensor self, int dim, "
                        "ScalarType? dtype=None) -> Tensor",
                        0),
            0u)
      << error;

  // Attributes that are no argument of any overload are a pass's metadata
  // (qat_schedule, ...): not exported, no error.
  std::unique_ptr<Graph> metadata = parse(R"(graph @g(%x: tensor<2xf32>) {
  %0 = aten::relu(%x) {qat_schedule = {enable_observer = 0, enable_fake_quant = 0, disable_observer = none}} : tensor<2xf32>
  return %0
})");
  std::unique_ptr<torch::jit::Module> exported = exportOrFail(*metadata);
  ASSERT_TRUE(exported);
  at::Tensor x = at::tensor({-1.0f, 2.0f});
  EXPECT_TRUE(at::equal(run(*exported, {x}).toTensor(), at::relu(x)));

  std::unique_ptr<Graph> noData = parse(R"(graph @g(%x: tensor<2xf32>) {
  param %w : tensor<2xf32>
  %0 = aten::mul(%x, %w) : tensor<2xf32>
  return %0
})");
  EXPECT_EQ(exportError(*noData),
            "cannot export parameter 'w': it has no data (graphs read from IR text carry none; "
            "take the parameters from a module)");
}

TEST(TorchScriptExport, FailuresLeaveNoPartialFile) {
  std::string directory = ::testing::TempDir() + "/export_failures";
  ASSERT_FALSE(llvm::sys::fs::create_directories(directory));
  std::string path = directory + "/model.pt";
  {
    std::ofstream out(path);
    out << "previous contents";
  }
  std::unique_ptr<Graph> broken = parse(R"(graph @g(%x: tensor<2xf32>) {
  %0 = foo::bar(%x) : tensor<2xf32>
  return %0
})");
  EXPECT_TRUE(bool(exportTorchScript(*broken, path)));
  llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> contents = llvm::MemoryBuffer::getFile(path);
  ASSERT_TRUE(bool(contents));
  EXPECT_EQ((*contents)->getBuffer(), "previous contents");

  std::unique_ptr<Graph> graph = importOrFail(residualMLP().module);
  ASSERT_TRUE(graph);
  llvm::Error error = exportTorchScript(*graph, directory + "/missing/model.pt");
  EXPECT_EQ(llvm::toString(std::move(error))
                .rfind("cannot write '" + directory + "/missing/model.pt': ", 0),
            0u);
  // A good export replaces the file; no temporary is left behind.
  ASSERT_FALSE(bool(exportTorchScript(*graph, path)));
  std::vector<std::string> files;
  std::error_code ec;
  for (llvm::sys::fs::directory_iterator it(directory, ec), end; it != end && !ec; it.increment(ec))
    files.push_back(llvm::sys::path::filename(it->path()).str());
  EXPECT_EQ(files, std::vector<std::string>{"model.pt"});
  EXPECT_NO_THROW(torch::jit::load(path));
}

//===----------------------------------------------------------------------===//
// qfx's own ops as the custom ops of libqfx_torch_ops.so
//===----------------------------------------------------------------------===//

class TorchScriptCustomOps : public ::testing::Test {
protected:
  static void SetUpTestSuite() {
    llvm::Error error = loadTorchLibrary(runfile("runtime/torch_ops/libqfx_torch_ops.so"));
    ASSERT_FALSE(bool(error)) << llvm::toString(std::move(error));
  }
};

TEST_F(TorchScriptCustomOps, QuantizeDequantizeMatchATen) {
  std::unique_ptr<Graph> graph = parse(R"(graph @qdq(%x: tensor<2x3x4xf32>) {
  %q = qfx.quantize(%x) {dtype = "int8", quant_min = -128, quant_max = 127, scale = [0.05], zero_point = [3], qparam_shape = [1, 1, 1]} : tensor<2x3x4xi8>
  %d = qfx.dequantize(%q) {dtype = "int8", quant_min = -128, quant_max = 127, scale = [0.05], zero_point = [3], qparam_shape = [1, 1, 1]} : tensor<2x3x4xf32>
  %q2 = qfx.quantize(%d) {dtype = "uint8", quant_min = 0, quant_max = 255, scale = [0.1, 0.02, 0.03], zero_point = [128, 0, 7], qparam_shape = [1, 3, 1], axis = 1} : tensor<2x3x4xu8>
  %d2 = qfx.dequantize(%q2) {dtype = "uint8", quant_min = 0, quant_max = 255, scale = [0.1, 0.02, 0.03], zero_point = [128, 0, 7], qparam_shape = [1, 3, 1], axis = 1} : tensor<2x3x4xf32>
  return %d2, %q
})");
  ASSERT_TRUE(graph);
  std::unique_ptr<torch::jit::Module> exported = exportOrFail(*graph);
  ASSERT_TRUE(exported);
  at::Tensor x = at::randn({2, 3, 4}) * 3;
  c10::IValue result = run(*exported, {x});
  const auto &outputs = result.toTupleRef().elements();
  at::Tensor once = at::fake_quantize_per_tensor_affine(x, 0.05f, 3, -128, 127);
  at::Tensor twice = at::fake_quantize_per_channel_affine(
      once, at::tensor({0.1f, 0.02f, 0.03f}), at::tensor({128, 0, 7}, at::kInt), 1, 0, 255);
  EXPECT_TRUE(at::equal(outputs[0].toTensor(), twice));
  EXPECT_EQ(outputs[1].toTensor().scalar_type(), at::kChar);
  EXPECT_TRUE(at::equal(outputs[1].toTensor(),
                        at::quantize_per_tensor(x, 0.05f, 3, at::kQInt8).int_repr()));

  // Saved, reloaded and imported again: back in attribute form.
  std::string path = ::testing::TempDir() + "/qdq.pt";
  ASSERT_FALSE(bool(exportTorchScript(*graph, path)));
  llvm::Expected<std::unique_ptr<Graph>> again = importTorchScriptFile(path);
  ASSERT_TRUE(bool(again)) << llvm::toString(again.takeError());
  std::string text = printGraphToString(**again, PrintOptions{false, false});
  EXPECT_NE(text.find("qfx.quantize(%x) {dtype = \"int8\", quant_min = -128, quant_max = 127, "
                      "scale = [0.05000000074505806], zero_point = [3], qparam_shape = [1, 1, 1]}"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find(" = qfx.dequantize(%q2.1) {dtype = \"uint8\", quant_min = 0, "
                      "quant_max = 255, scale = [0.10000000149011612, 0.019999999552965164, "
                      "0.029999999329447746], zero_point = [128, 0, 7], qparam_shape = [1, 3, 1]}"),
            std::string::npos)
      << text;
}

TEST_F(TorchScriptCustomOps, CalibratedFakeQuantMatchesATen) {
  std::unique_ptr<Graph> graph = parse(R"(graph @fq(%x: tensor<4x8xf32>) {
  %0 = qfx.fake_quant(%x) {group = 0, spec = {dtype = "int8", qscheme = "symmetric", granularity = {type = "per_channel", axis = 0}}, qparams = {scale = [0.01, 0.02, 0.03, 0.04], zero_point = [0, 0, 0, 0]}} : tensor<4x8xf32>
  %1 = aten::relu(%0) : tensor<4x8xf32>
  return %1
})");
  ASSERT_TRUE(graph);
  std::unique_ptr<torch::jit::Module> exported = exportOrFail(*graph);
  ASSERT_TRUE(exported);
  at::Tensor x = at::randn({4, 8});
  at::Tensor expected = at::relu(at::fake_quantize_per_channel_affine(
      x, at::tensor({0.01f, 0.02f, 0.03f, 0.04f}), at::zeros({4}, at::kInt), 0, -128, 127));
  EXPECT_TRUE(at::equal(run(*exported, {x}).toTensor(), expected));

  std::unique_ptr<Graph> uncalibrated = parse(R"(graph @fq(%x: tensor<4x8xf32>) {
  %0 = qfx.fake_quant(%x) {group = 0, spec = {dtype = "int8"}} : tensor<4x8xf32>
  return %0
})");
  EXPECT_EQ(exportError(*uncalibrated),
            "cannot export 'qfx.fake_quant': it has no qparams yet: calibrate the graph (or lower "
            "it with lower-to-qdq) before exporting");
}

} // namespace
