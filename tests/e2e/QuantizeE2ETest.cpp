//===- tests/e2e/QuantizeE2ETest.cpp - TorchScript in, quantized model out ===//
//
// The whole job on models defined in TorchScript source (tests/e2e/
// E2EModels.h) through qfx-quantize's library (runQuantizeJob): import,
// prepare, calibrate on synthetic data, finalize, export.
//  - The imported float graph run by our interpreter is bit-identical to the
//    TorchScript module run by torch::jit.
//  - W8A8 output SQNR against the float model stays above a floor per model
//    (see kModels for the measured values and why the floors are where they
//    are).
//  - Reference acceptance cases: M2 (case 4) lowers to 12 quantize/dequantize
//    pairs and 6 quantized weights; M1 with the basic config (case 1) has 4
//    fake-quants.
//  - The exported .pt loads in Debian's python3 (torch 1.13) with
//    torch.ops.load_library and gives the outputs our interpreter gives, bit
//    for bit; the stock-ops export loads without the library.
//
//===----------------------------------------------------------------------===//
#include "tests/e2e/E2EModels.h"

#include "ir/Graph.h"
#include "ir/torchscript/TorchScript.h"
#include "runtime/interpreter/Interpreter.h"
#include "tools/QfxQuantizeMain.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <torch/csrc/jit/serialization/pickle.h>

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdlib>
#include <fstream>
#include <functional>
#include <string>

using namespace qfx;
using namespace qfx::e2e;

namespace {

std::string tempPath(const std::string &name) {
  const char *base = std::getenv("TEST_TMPDIR");
  llvm::SmallString<128> path(base ? base : "/tmp");
  llvm::sys::path::append(path, name);
  return path.str().str();
}

std::string shapeType(llvm::ArrayRef<int64_t> shape) {
  std::string text;
  for (int64_t dim : shape)
    text += (text.empty() ? "" : "x") + std::to_string(dim);
  return text;
}

QuantizeJobResult quantize(const E2EModel &model, const std::string &config = "w8a8",
                           bool stockOps = false, size_t batches = 8, int64_t batchSize = 1) {
  QuantizeJobOptions options;
  options.module = &model.module;
  std::vector<int64_t> shape = model.inputShape;
  shape[0] = batchSize;
  options.inputTypes = {shapeType(shape)};
  options.output = tempPath(model.name + (stockOps ? "_stock" : "") + "_q.pt");
  options.config = config;
  options.numBatches = batches;
  options.stockOps = stockOps;
  options.progress = false;
  std::string report, warnings;
  llvm::raw_string_ostream out(report), err(warnings);
  llvm::Expected<QuantizeJobResult> result = runQuantizeJob(options, out, err);
  if (!result) {
    ADD_FAILURE() << model.name << ": " << llvm::toString(result.takeError()) << "\n" << warnings;
    return QuantizeJobResult();
  }
  std::cout << out.str() << err.str();
  return std::move(*result);
}

using ModelFactory = std::function<E2EModel(uint64_t)>;

struct ModelCase {
  const char *name;
  ModelFactory factory;
  /// W8A8 output SQNR floor (dB) on 8 synthetic batches.
  double sqnrFloor;
};

// Measured W8A8 output SQNR (16 synthetic batches of 8, seed 0):
// resnet18_like 23.8 dB, mobilenet_v2_like 37.8 dB, transformer block
// 31.3 dB; every layer >= 21.5 dB. One int8 tensor on these distributions
// gives ~38-40 dB (the first conv's SQNR); the error of 20-50 quantized
// tensors accumulates along the depth (~1 dB per block), and a quantized
// final output (logits, per-tensor, moving-average range) costs a few dB
// more -- mobilenet's global average pool averages much of that noise away
// before its classifier, hence its higher figure. Batches of 8 because the
// moving-average observer (c = 0.01) keeps mostly the first batch's range:
// with batch-1 logits that range is noisy and later batches clip (13-17 dB
// output SQNR on resnet / MNIST with batch 1, 24 dB with batch 8). The
// floors sit ~3 dB under the measurements: far above what a broken
// observer, a wrong axis or a misplaced fake-quant gives (< 12 dB), with
// room for floating-point differences between machines.
const ModelCase kModels[] = {
    {"resnet18_like", resnet18Like, 21.0},
    {"mobilenet_v2_like", mobilenetV2Like, 34.0},
    {"transformer_encoder_block", transformerEncoderBlock, 28.0},
};

class E2EModelTest : public ::testing::TestWithParam<ModelCase> {};

TEST_P(E2EModelTest, ImportedFloatGraphMatchesTorchScriptBitForBit) {
  E2EModel model = GetParam().factory(0);
  TorchScriptImportOptions options;
  options.inputTypes = {Type::rankedTensor(DType::F32, model.inputShape)};
  llvm::Expected<std::unique_ptr<Graph>> graph = importTorchScriptModule(model.module, options);
  ASSERT_TRUE(static_cast<bool>(graph)) << llvm::toString(graph.takeError());
  llvm::Expected<std::unique_ptr<Interpreter>> interpreter = Interpreter::create(**graph);
  ASSERT_TRUE(static_cast<bool>(interpreter)) << llvm::toString(interpreter.takeError());
  for (int seed = 1; seed <= 3; ++seed) {
    at::manual_seed(seed);
    at::Tensor x = at::randn(model.inputShape);
    llvm::Expected<std::vector<at::Tensor>> outputs = (*interpreter)->run({x});
    ASSERT_TRUE(static_cast<bool>(outputs)) << llvm::toString(outputs.takeError());
    at::Tensor expected;
    {
      at::NoGradGuard noGrad;
      expected = model.module.forward({x}).toTensor();
    }
    ASSERT_EQ(outputs->size(), 1u);
    EXPECT_TRUE(at::equal((*outputs)[0], expected))
        << model.name << " max |diff| " << ((*outputs)[0] - expected).abs().max().item<float>();
  }
}

TEST_P(E2EModelTest, W8A8OutputSQNRAboveFloor) {
  E2EModel model = GetParam().factory(0);
  QuantizeJobResult result = quantize(model, "w8a8", false, 16, 8);
  ASSERT_EQ(result.outputSQNR.size(), 1u);
  EXPECT_GE(result.outputSQNR[0], GetParam().sqnrFloor) << model.name;
  EXPECT_EQ(result.calibrationBatches, 16u);
  EXPECT_GT(result.quantizePairs, 0u);
  EXPECT_FALSE(result.layers.empty());
  for (const LayerSQNR &layer : result.layers)
    EXPECT_GT(layer.sqnr, 18.0) << model.name << " " << layer.name << " (" << layer.op << ")";
}

INSTANTIATE_TEST_SUITE_P(Models, E2EModelTest, ::testing::ValuesIn(kModels),
                         [](const ::testing::TestParamInfo<ModelCase> &info) {
                           return std::string(info.param.name);
                         });

TEST(E2EAcceptanceTest, MnistNetLowersTo12QuantizeDequantizePairs) {
  // Reference case 4: 12 activation quantize/dequantize pairs, 6 weights.
  QuantizeJobResult result = quantize(mnistNet(0));
  EXPECT_EQ(result.fakeQuants, 18u);
  EXPECT_EQ(result.quantizePairs, 12u);
  EXPECT_EQ(result.quantizedWeights, 6u);
  ASSERT_TRUE(result.quantizedGraph);
  size_t dequantizes = 0;
  for (const Node *node : result.quantizedGraph->nodes())
    dequantizes += node->opName() == "qfx.dequantize";
  EXPECT_EQ(dequantizes, 18u);
}

TEST(E2EAcceptanceTest, SimpleModelWithTheBasicConfigHas4FakeQuants) {
  // Reference case 1: W8 weights, A8 inputs, no outputs -> conv input and
  // weight, linear input (after the view) and weight.
  std::string config = tempPath("case01-basic.yaml");
  {
    std::ofstream file(config);
    file << R"(quantization_spec:
  w8: &w8 {dtype: int8, qscheme: symmetric, granularity: {type: per_channel, axis: 0}, qparam_calculator_cls: static}
  a8: &a8 {dtype: int8, qscheme: symmetric, granularity: {type: per_tensor}, qparam_calculator_cls: moving_average}
quantization_config:
  global_config:
    op_state_spec: {weight: *w8}
    op_input_spec: {"*": *a8}
    op_output_spec: null
)";
  }
  QuantizeJobResult result = quantize(simpleModel(0), config);
  EXPECT_EQ(result.fakeQuants, 4u);
  EXPECT_EQ(result.observerGroups, 4u);
  EXPECT_EQ(result.quantizePairs, 2u);
  EXPECT_EQ(result.quantizedWeights, 2u);
}

/// Saves `inputs` and `expected` (torch.save format), runs the Python check
/// on `model`, returns its exit status.
int runPythonCheck(const std::string &model, const at::Tensor &input, const at::Tensor &expected,
                   bool loadLibrary) {
  std::vector<char> bytes = torch::jit::pickle_save(
      c10::ivalue::Tuple::create({c10::IValue(input), c10::IValue(expected)}));
  std::string dataPath = model + ".check.pt";
  {
    std::ofstream file(dataPath, std::ios::binary);
    file.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  }
  std::string command = "/usr/bin/python3 tests/e2e/check_exported.py " + model + " " + dataPath;
  if (loadLibrary)
    command += " runtime/torch_ops/libqfx_torch_ops.so";
  return std::system(command.c_str());
}

TEST(E2EExportTest, ExportedModelGivesOurOutputsInPyTorch) {
  for (bool stockOps : {false, true}) {
    E2EModel model = transformerEncoderBlock(0);
    QuantizeJobResult result = quantize(model, "w8a8", stockOps);
    ASSERT_TRUE(result.quantizedGraph);
    llvm::Expected<std::unique_ptr<Interpreter>> interpreter =
        Interpreter::create(*result.quantizedGraph);
    ASSERT_TRUE(static_cast<bool>(interpreter)) << llvm::toString(interpreter.takeError());
    at::manual_seed(11);
    at::Tensor x = at::randn(model.inputShape);
    llvm::Expected<std::vector<at::Tensor>> outputs = (*interpreter)->run({x});
    ASSERT_TRUE(static_cast<bool>(outputs)) << llvm::toString(outputs.takeError());
    // The stock export needs no qfx library: PyTorch's own quantized ops.
    EXPECT_EQ(runPythonCheck(result.output, x, (*outputs)[0], !stockOps), 0)
        << (stockOps ? "stock-ops" : "qfx ops") << " export of " << model.name;
  }
  E2EModel resnet = resnet18Like(0);
  QuantizeJobResult result = quantize(resnet);
  ASSERT_TRUE(result.quantizedGraph);
  llvm::Expected<std::unique_ptr<Interpreter>> interpreter =
      Interpreter::create(*result.quantizedGraph);
  ASSERT_TRUE(static_cast<bool>(interpreter));
  at::Tensor x = at::randn(resnet.inputShape);
  llvm::Expected<std::vector<at::Tensor>> outputs = (*interpreter)->run({x});
  ASSERT_TRUE(static_cast<bool>(outputs));
  EXPECT_EQ(runPythonCheck(result.output, x, (*outputs)[0], true), 0);
}

//===----------------------------------------------------------------------===//
// Bad input: a message, an error, no output file
//===----------------------------------------------------------------------===//

struct JobRun {
  llvm::Expected<QuantizeJobResult> result;
  std::string warnings;
};

JobRun runJob(QuantizeJobOptions options) {
  options.progress = false;
  std::string report, warnings;
  llvm::raw_string_ostream out(report), err(warnings);
  llvm::Expected<QuantizeJobResult> result = runQuantizeJob(options, out, err);
  return {std::move(result), err.str()};
}

std::string errorOf(JobRun run) {
  if (run.result) {
    ADD_FAILURE() << "expected the job to fail";
    return "";
  }
  return llvm::toString(run.result.takeError());
}

void saveBatches(const std::string &path, const std::vector<at::Tensor> &inputs) {
  c10::impl::GenericList list(c10::AnyType::get());
  for (const at::Tensor &input : inputs)
    list.push_back(c10::ivalue::Tuple::create({c10::IValue(input)}));
  std::vector<char> bytes = torch::jit::pickle_save(c10::IValue(list));
  std::ofstream file(path, std::ios::binary);
  file.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

TEST(E2EBadInputTest, CorruptedOrTruncatedModelFailsWithoutOutput) {
  E2EModel model = simpleModel(0);
  std::string good = tempPath("simple_for_truncation.pt");
  model.module.save(good);
  std::string truncated = tempPath("truncated.pt");
  {
    std::ifstream in(good, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), {});
    std::ofstream out(truncated, std::ios::binary);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size() / 2));
  }
  std::string junk = tempPath("junk.pt");
  {
    std::ofstream out(junk, std::ios::binary);
    out << "this is not a TorchScript archive";
  }
  for (const std::string &input : {truncated, junk}) {
    QuantizeJobOptions options;
    options.input = input;
    options.inputTypes = {"1x1x28x28"};
    options.output = tempPath("never_written.pt");
    std::string message = errorOf(runJob(options));
    EXPECT_NE(message.find(input), std::string::npos) << message;
    EXPECT_FALSE(llvm::sys::fs::exists(options.output)) << input;
  }
}

TEST(E2EBadInputTest, NaNAndWrongShapesInCalibrationDataFailWithoutOutput) {
  E2EModel model = simpleModel(0);
  std::string modelPath = tempPath("simple.pt");
  model.module.save(modelPath);
  at::Tensor good = at::randn({1, 1, 28, 28});
  at::Tensor nan = good.clone();
  nan[0][0][3][4] = std::numeric_limits<float>::quiet_NaN();
  std::string nanData = tempPath("nan_data.pt"), shapeData = tempPath("shape_data.pt");
  saveBatches(nanData, {good, nan});
  saveBatches(shapeData, {good, at::randn({1, 1, 20, 28})});

  QuantizeJobOptions options;
  options.input = modelPath;
  options.output = tempPath("simple_bad_q.pt");
  options.mlirOutput = tempPath("simple_bad_q.mlir");
  options.data = nanData;
  std::string message = errorOf(runJob(options));
  EXPECT_NE(message.find("calibration batch 1"), std::string::npos) << message;
  EXPECT_NE(message.find("contains NaN"), std::string::npos) << message;
  EXPECT_FALSE(llvm::sys::fs::exists(options.output));
  EXPECT_FALSE(llvm::sys::fs::exists(options.mlirOutput));

  options.data = shapeData;
  message = errorOf(runJob(options));
  EXPECT_NE(message.find("calibration batch 1"), std::string::npos) << message;
  EXPECT_NE(message.find("dim 2 must be 28"), std::string::npos) << message;
  EXPECT_FALSE(llvm::sys::fs::exists(options.output));

  // The same model and good data work, and write every requested file.
  options.data = tempPath("good_data.pt");
  saveBatches(options.data, {good, good * 2});
  options.qfxOutput = tempPath("simple_good_q.qfx");
  JobRun run = runJob(options);
  ASSERT_TRUE(static_cast<bool>(run.result)) << llvm::toString(run.result.takeError());
  EXPECT_EQ(run.result->calibrationBatches, 2u);
  EXPECT_TRUE(llvm::sys::fs::exists(options.output));
  EXPECT_TRUE(llvm::sys::fs::exists(options.mlirOutput));
  EXPECT_TRUE(llvm::sys::fs::exists(options.qfxOutput));
}

TEST(E2EBadInputTest, OpsOutsideTheOpTableStayFloatWithOneWarningPerOpType) {
  torch::jit::Module m("__torch__.reference.WithCumsum");
  m.register_parameter("weight", at::randn({8, 8}) * 0.3, false);
  m.define(R"(
def forward(self, x):
    y = torch.cumsum(torch.linear(x, self.weight), 1)
    z = torch.cumsum(y, 0)
    return torch.linear(torch.erf(z), self.weight)
)");
  m.eval();
  QuantizeJobOptions options;
  options.module = &m;
  options.inputTypes = {"4x8"};
  options.output = tempPath("cumsum_q.pt");
  JobRun run = runJob(options);
  ASSERT_TRUE(static_cast<bool>(run.result)) << llvm::toString(run.result.takeError());
  auto count = [&](const std::string &needle) {
    size_t n = 0;
    for (size_t at = run.warnings.find(needle); at != std::string::npos;
         at = run.warnings.find(needle, at + 1))
      ++n;
    return n;
  };
  EXPECT_EQ(count("'aten::cumsum' (first at"), 1u) << run.warnings;
  EXPECT_EQ(count("'aten::erf' (first at"), 1u) << run.warnings;
  EXPECT_GT(run.result->quantizePairs, 0u); // the linears around them are quantized
  EXPECT_TRUE(llvm::sys::fs::exists(options.output));
}

} // namespace
