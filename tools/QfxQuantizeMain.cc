//===- tools/QfxQuantizeMain.cc - The qfx-quantize tool -------------------===//
//
// The job of tools/QfxQuantizeMain.h step by step. Two details worth
// knowing:
//  - Input types. A .pt file stores no shapes, so the importer needs the
//    input types to give every value a static type (the annotate and
//    lower-to-qdq passes want ranks). They come from --input-type, else from
//    the first calibration batch (the model is imported once untyped to
//    learn how many inputs to read), else the graph itself.
//  - The float reference for SQNR is the imported graph after fold-conv-bn
//    (an exact rewrite up to float rounding), copied before quantization, so
//    every conv / linear of the quantized graph has a float counterpart to
//    compare per layer (matched by module path, op and occurrence).
//  - MLIR models (`.mlir`: one func.func of tosa ops, ir/mlir) take the same
//    path: the function's argument types are the input types, the
//    interpreter runs the tosa ops with runtime/tosa's kernels, and the
//    quantized graph is written back as MLIR (quant dialect, qfx dialect
//    where quant cannot express it) instead of TorchScript.
// This is the only libtorch TU of the tool; the embedded default model is
// built here with torch::jit::Module::define.
//
//===----------------------------------------------------------------------===//
#include "tools/QfxQuantizeMain.h"

#include "ir/Graph.h"
#include "ir/Parser.h"
#include "ir/Printer.h"
#include "ir/mlir/Bridge.h"
#include "ir/torchscript/TorchScript.h"
#include "passes/BuiltinPasses.h"
#include "passes/PassManager.h"
#include "passes/PassPipeline.h"
#include "runtime/interpreter/DataLoader.h"
#include "runtime/interpreter/GraphCopy.h"
#include "runtime/interpreter/Interpreter.h"
#include "runtime/interpreter/Quantizer.h"
#include "runtime/tosa/TosaKernels.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <torch/csrc/jit/api/module.h>

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/WithColor.h"
#include "llvm/Support/raw_ostream.h"

#include <chrono>
#include <cmath>
#include <map>

namespace qfx {

namespace {

namespace tj = torch::jit;

llvm::Error makeError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

//===----------------------------------------------------------------------===//
// The embedded default model
//===----------------------------------------------------------------------===//

/// Builds modules whose class names look like PyTorch's (so module-type
/// configs can name them), each in its own compilation unit.
class ModelBuilder {
public:
  explicit ModelBuilder(uint64_t seed) {
    generator_ = at::make_generator<at::CPUGeneratorImpl>(seed);
  }

  tj::Module module(const std::string &pythonType) {
    size_t dot = pythonType.rfind('.');
    std::string qualified = "__torch__." + pythonType.substr(0, dot) + ".___torch_mangle_" +
                            std::to_string(counter_++) + pythonType.substr(dot);
    return tj::Module(c10::QualifiedName(qualified));
  }

  at::Tensor normal(at::IntArrayRef shape, double std, double mean = 0) {
    return at::randn(shape, generator_) * std + mean;
  }

  tj::Module conv(int64_t in, int64_t out, int64_t kernel, int64_t stride, int64_t padding) {
    tj::Module m = module("torch.nn.modules.conv.Conv2d");
    m.register_parameter("weight",
                         normal({out, in, kernel, kernel}, std::sqrt(2.0 / (in * kernel * kernel))),
                         false);
    m.register_parameter("bias", normal({out}, 0.05), false);
    m.define("def forward(self, x):\n    return torch.conv2d(x, self.weight, self.bias, [" +
             std::to_string(stride) + ", " + std::to_string(stride) + "], [" +
             std::to_string(padding) + ", " + std::to_string(padding) + "], [1, 1], 1)\n");
    return m;
  }

  tj::Module batchNorm(int64_t channels) {
    tj::Module m = module("torch.nn.modules.batchnorm.BatchNorm2d");
    m.register_parameter("weight", normal({channels}, 0.1, 1.0), false);
    m.register_parameter("bias", normal({channels}, 0.1), false);
    m.register_buffer("running_mean", normal({channels}, 0.1));
    m.register_buffer("running_var", normal({channels}, 0.1).abs() + 0.9);
    m.define("def forward(self, x):\n    return torch.batch_norm(x, self.weight, self.bias, "
             "self.running_mean, self.running_var, False, 0.1, 1e-05, True)\n");
    return m;
  }

  tj::Module relu() {
    tj::Module m = module("torch.nn.modules.activation.ReLU");
    m.define("def forward(self, x):\n    return torch.relu(x)\n");
    return m;
  }

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

private:
  at::Generator generator_;
  int counter_ = 0;
};

} // namespace

std::unique_ptr<tj::Module> buildDefaultModel(uint64_t seed) {
  ModelBuilder b(seed);
  auto convBnRelu = [&](int64_t in, int64_t out, int64_t stride) {
    tj::Module m = b.module("qfx_default_model.ConvBnReLU");
    m.register_module("conv", b.conv(in, out, 3, stride, 1));
    m.register_module("bn", b.batchNorm(out));
    m.register_module("relu", b.relu());
    m.define("def forward(self, x):\n    return "
             "self.relu.forward(self.bn.forward(self.conv.forward(x)))\n");
    return m;
  };

  tj::Module residual = b.module("qfx_default_model.ResidualBlock");
  residual.register_module("conv1", b.conv(32, 32, 3, 1, 1));
  residual.register_module("bn1", b.batchNorm(32));
  residual.register_module("relu1", b.relu());
  residual.register_module("conv2", b.conv(32, 32, 3, 1, 1));
  residual.register_module("bn2", b.batchNorm(32));
  residual.register_module("relu2", b.relu());
  residual.define(R"(
def forward(self, x):
    y = self.relu1.forward(self.bn1.forward(self.conv1.forward(x)))
    y = self.bn2.forward(self.conv2.forward(y))
    return self.relu2.forward(y + x)
)");

  tj::Module attention = b.module("qfx_default_model.SelfAttention");
  for (const char *name : {"q", "k", "v", "out"})
    attention.register_module(name, b.linear(32, 32));
  attention.define(R"(
def forward(self, x):
    b = x.size(0)
    n = x.size(1)
    q = self.q.forward(x).view([b, n, 4, 8]).transpose(1, 2)
    k = self.k.forward(x).view([b, n, 4, 8]).transpose(1, 2)
    v = self.v.forward(x).view([b, n, 4, 8]).transpose(1, 2)
    scores = torch.matmul(q, k.transpose(-2, -1)) * 0.35355339059327373
    attn = torch.softmax(scores, -1)
    ctx = torch.matmul(attn, v).transpose(1, 2).reshape([b, n, 32])
    return self.out.forward(ctx)
)");

  tj::Module encoder = b.module("qfx_default_model.EncoderBlock");
  encoder.register_module("attn", attention);
  encoder.register_module("norm1", b.layerNorm(32));
  encoder.register_module("fc1", b.linear(32, 64));
  encoder.register_module("fc2", b.linear(64, 32));
  encoder.register_module("norm2", b.layerNorm(32));
  encoder.define(R"(
def forward(self, x):
    x = self.norm1.forward(x + self.attn.forward(x))
    h = self.fc2.forward(torch.gelu(self.fc1.forward(x)))
    return self.norm2.forward(x + h)
)");

  auto model = std::make_unique<tj::Module>(b.module("qfx_default_model.DefaultNet"));
  model->register_module("stem", convBnRelu(3, 16, 1));
  model->register_module("down", convBnRelu(16, 32, 2));
  model->register_module("block", residual);
  model->register_module("encoder", encoder);
  model->register_module("head", b.linear(32, 10));
  model->define(R"(
def forward(self, x):
    x = self.down.forward(self.stem.forward(x))
    x = torch.max_pool2d(x, [2, 2], [2, 2], [0, 0], [1, 1], False)
    x = self.block.forward(x)
    t = torch.flatten(x, 2).transpose(1, 2)
    t = self.encoder.forward(t)
    return self.head.forward(t.mean([1]))
)");
  model->eval();
  return model;
}

namespace {

//===----------------------------------------------------------------------===//
// The job
//===----------------------------------------------------------------------===//

using Clock = std::chrono::steady_clock;

double secondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

/// `tensor<1x3x8x8xf32>`, or the shorthand `1x3x8x8` (f32) / `1x16xi64`.
std::optional<Type> parseInputType(llvm::StringRef text) {
  std::string spelled = text.str();
  if (!text.startswith("tensor<") && !text.startswith("list<") && text != "int" &&
      text != "float" && text != "bool") {
    llvm::StringRef last = text.rsplit('x').second;
    bool hasDType = !text.contains('x') ? !text.empty() && !std::isdigit(text[0])
                                        : parseDType(last).has_value();
    spelled = "tensor<" + text.str() + (hasDType ? "" : "xf32") + ">";
  }
  DiagnosticEngine diagnostics;
  diagnostics.setHandler([](const Diagnostic &) {});
  std::unique_ptr<Graph> graph =
      parseGraph("graph @t(%x: " + spelled + ") {\n  return\n}\n", diagnostics);
  if (!graph || graph->inputs().size() != 1)
    return std::nullopt;
  return graph->inputs()[0]->type();
}

Type typeOfTensor(const at::Tensor &tensor) {
  return Type::rankedTensor(fromScalarType(tensor.scalar_type()),
                            std::vector<int64_t>(tensor.sizes().begin(), tensor.sizes().end()));
}

/// Accumulates Σ ref² and Σ (ref − x)² over batches.
struct SQNRAccumulator {
  double signal = 0;
  double noise = 0;
  bool valid = true;
  void add(const at::Tensor &reference, const at::Tensor &x) {
    if (!reference.defined() || !x.defined() || reference.sizes() != x.sizes()) {
      valid = false;
      return;
    }
    at::Tensor ref = reference.detach().to(at::kDouble);
    signal += ref.pow(2).sum().item<double>();
    noise += (ref - x.detach().to(at::kDouble)).pow(2).sum().item<double>();
  }
  double value() const {
    if (!valid)
      return std::nan("");
    if (noise == 0)
      return std::numeric_limits<double>::infinity();
    return 10.0 * std::log10(signal / noise);
  }
};

/// Quantized compute nodes (conv, linear, matmul, ...) matched to the same
/// node of the float graph by (module path, op, occurrence).
struct LayerPairs {
  std::vector<const Node *> quantized;
  std::vector<const Node *> reference;
  std::vector<LayerSQNR> layers;
};

LayerPairs matchLayers(const Graph &quantized, const Graph &reference) {
  auto keyOf = [](const Node &node, std::map<std::string, int> &seen) {
    std::string key = node.source().modulePath.str() + "|" + node.opName().str();
    return key + "|" + std::to_string(seen[key]++);
  };
  std::map<std::string, int> seen;
  std::map<std::string, const Node *> referenceNodes;
  for (const Node *node : reference.nodes())
    if (node->op().has(optrait::QuantizableCompute) && node->numResults() == 1)
      referenceNodes[keyOf(*node, seen)] = node;
  seen.clear();
  LayerPairs pairs;
  for (const Node *node : quantized.nodes()) {
    if (!node->op().has(optrait::QuantizableCompute) || node->numResults() != 1)
      continue;
    auto found = referenceNodes.find(keyOf(*node, seen));
    if (found == referenceNodes.end())
      continue;
    pairs.quantized.push_back(node);
    pairs.reference.push_back(found->second);
    LayerSQNR layer;
    layer.name =
        node->source().modulePath.empty() ? node->describe() : node->source().modulePath.str();
    layer.op = node->opName().str();
    pairs.layers.push_back(std::move(layer));
  }
  return pairs;
}

/// A file written under a temporary name and renamed into place by
/// commit(); removed if never committed.
class PendingFile {
public:
  explicit PendingFile(std::string path) : path_(std::move(path)) {}
  ~PendingFile() {
    if (!temp_.empty())
      llvm::sys::fs::remove(temp_);
  }
  llvm::Error write(llvm::StringRef contents) {
    llvm::SmallString<128> model(path_);
    model += ".tmp-%%%%%%";
    int fd;
    llvm::SmallString<128> temp;
    if (std::error_code error = llvm::sys::fs::createUniqueFile(model, fd, temp))
      return makeError("cannot create a temporary file next to '" + path_ +
                       "': " + error.message());
    temp_ = temp.str().str();
    llvm::raw_fd_ostream os(fd, /*shouldClose=*/true);
    os << contents;
    os.close();
    if (os.has_error())
      return makeError("cannot write '" + temp_ + "': " + os.error().message());
    return llvm::Error::success();
  }
  /// Reserves the temporary name (for writers that create the file
  /// themselves) and returns it.
  llvm::Expected<std::string> reserve() {
    llvm::SmallString<128> model(path_);
    model += ".tmp-%%%%%%";
    llvm::SmallString<128> temp;
    if (std::error_code error = llvm::sys::fs::createUniqueFile(model, temp))
      return makeError("cannot create a temporary file next to '" + path_ +
                       "': " + error.message());
    temp_ = temp.str().str();
    return temp_;
  }
  llvm::Error commit() {
    if (temp_.empty())
      return llvm::Error::success();
    if (std::error_code error = llvm::sys::fs::rename(temp_, path_))
      return makeError("cannot rename '" + temp_ + "' to '" + path_ + "': " + error.message());
    temp_.clear();
    return llvm::Error::success();
  }

private:
  std::string path_;
  std::string temp_;
};

std::string defaultOutputPath(const QuantizeJobOptions &options) {
  if (!options.output.empty())
    return options.output;
  if (options.input.empty()) {
    llvm::SmallString<128> path;
    llvm::sys::path::system_temp_directory(/*ErasedOnReboot=*/true, path);
    llvm::sys::path::append(path, "qfx_default_model_q.pt");
    return path.str().str();
  }
  llvm::SmallString<128> path(options.input);
  bool mlir = llvm::sys::path::extension(options.input) == ".mlir";
  llvm::sys::path::replace_extension(path, "");
  path += mlir ? "_q.mlir" : "_q.pt";
  return path.str().str();
}

llvm::Error runPasses(Graph &graph, llvm::StringRef pipeline, llvm::raw_ostream &err) {
  DiagnosticEngine diagnostics;
  std::string errors;
  diagnostics.setHandler([&](const Diagnostic &d) {
    if (d.severity == Severity::Error)
      errors += (errors.empty() ? "" : "\n") + d.message;
    else if (d.severity == Severity::Warning)
      err << "qfx-quantize: warning: " << d.message << "\n";
  });
  PassList passes;
  if (!parsePassPipeline(pipeline, builtinPassRegistry(), passes, diagnostics))
    return makeError("invalid pipeline '" + pipeline + "': " + errors);
  PassManager manager(diagnostics);
  manager.addPasses(std::move(passes));
  if (manager.run(graph) == PassResult::Failed || diagnostics.hadErrors())
    return makeError(errors);
  return llvm::Error::success();
}

/// Collects diagnostics as `file:line:col: error: message` lines.
class DiagnosticCollector {
public:
  explicit DiagnosticCollector(DiagnosticEngine &engine) {
    engine.setHandler([this](const Diagnostic &d) {
      if (d.severity != Severity::Error && d.severity != Severity::Note)
        return;
      if (!text_.empty())
        text_ += "\n";
      if (d.location.isKnown())
        text_ += (d.location.file + ":" + llvm::Twine(d.location.line) + ":" +
                  llvm::Twine(d.location.column) + ": ")
                     .str();
      text_ += severityName(d.severity).str() + ": " + d.message;
    });
  }
  const std::string &text() const { return text_; }

private:
  std::string text_;
};

/// An MLIR model: the one func.func with a body of `path` as a graph.
llvm::Expected<std::unique_ptr<Graph>> importMlirModel(const std::string &path) {
  llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> buffer = llvm::MemoryBuffer::getFile(path);
  if (!buffer)
    return makeError("cannot read '" + path + "': " + buffer.getError().message());
  DiagnosticEngine diagnostics;
  DiagnosticCollector collected(diagnostics);
  std::vector<std::unique_ptr<Graph>> graphs =
      importMlir((*buffer)->getBuffer(), path, diagnostics);
  if (diagnostics.hadErrors() || (graphs.empty() && !collected.text().empty()))
    return makeError("cannot import '" + path + "':\n" + collected.text());
  if (graphs.size() != 1)
    return makeError("'" + path + "' holds " + llvm::Twine(graphs.size()) +
                     " functions with a body; qfx-quantize quantizes a module with exactly one "
                     "(use qfx-mlir-opt's passes for several)");
  return std::move(graphs.front());
}

/// The graph as MLIR text (verified by the exporter).
llvm::Expected<std::string> mlirText(const Graph &graph) {
  DiagnosticEngine diagnostics;
  DiagnosticCollector collected(diagnostics);
  std::string text;
  llvm::raw_string_ostream os(text);
  if (!exportMlir(graph, os, diagnostics))
    return makeError("MLIR export failed:\n" + collected.text());
  os.flush();
  return text;
}

} // namespace

llvm::Expected<QuantizeJobResult> runQuantizeJob(const QuantizeJobOptions &options,
                                                 llvm::raw_ostream &out, llvm::raw_ostream &err) {
  QuantizeJobResult result;
  result.output = defaultOutputPath(options);
  auto warn = [&](const std::string &message) {
    err << "qfx-quantize: warning: " << message << "\n";
  };

  // Input types.
  std::vector<Type> inputTypes;
  for (const std::string &text : options.inputTypes) {
    std::optional<Type> type = parseInputType(text);
    if (!type)
      return makeError("invalid --input-type '" + text +
                       "': expected a qfx type such as tensor<1x3x224x224xf32> or 1x3x224x224");
    inputTypes.push_back(*type);
  }

  // 1. Import.
  Clock::time_point start = Clock::now();
  std::unique_ptr<Graph> graph;
  std::unique_ptr<DataSource> data;
  std::unique_ptr<tj::Module> defaultModel;
  std::string modelName = !options.input.empty() ? options.input
                          : options.module       ? std::string("the given model")
                                                 : std::string("the default model");
  // An MLIR model (func/tosa) comes with its types; its result is MLIR too.
  bool mlirModel = llvm::sys::path::extension(options.input) == ".mlir";
  if (mlirModel) {
    if (!inputTypes.empty())
      return makeError("--input-type does not apply to MLIR models: the input types are the "
                       "function's argument types");
    if (options.stockOps)
      return makeError("--stock-ops only applies to TorchScript output; '" + options.input +
                       "' is quantized to MLIR");
    registerTosaKernels();
    llvm::Expected<std::unique_ptr<Graph>> imported = importMlirModel(options.input);
    if (!imported)
      return imported.takeError();
    graph = std::move(*imported);
  } else {
    try {
      const tj::Module *module = options.module;
      // A .pt file is loaded once; without --input-type it is imported twice
      // (untyped for the number of inputs, then typed), and reading it per
      // import was a quarter of resnet50's import.
      std::unique_ptr<tj::Module> archive;
      if (!module && !options.input.empty() && isTorchScriptArchive(options.input)) {
        llvm::Expected<std::unique_ptr<tj::Module>> loaded = loadTorchScriptArchive(options.input);
        if (!loaded)
          return loaded.takeError();
        archive = std::move(*loaded);
        module = archive.get();
      }
      if (options.input.empty() && !module) {
        defaultModel = buildDefaultModel(options.seed);
        module = defaultModel.get();
        if (inputTypes.empty())
          inputTypes.push_back(Type::rankedTensor(DType::F32, {1, 3, 32, 32}));
      }
      auto import = [&](const std::vector<Type> &types) {
        TorchScriptImportOptions importOptions;
        importOptions.inputTypes = types;
        if (defaultModel)
          importOptions.graphName = "default_model";
        // The typing run yields shapes only: two threads spare it LibTorch's
        // slow one-thread 1x1 convs (TorchScriptImportOptions); the job
        // keeps the user's count.
        importOptions.minProbeThreads = 2;
        if (!module)
          return importTorchScriptFile(options.input, importOptions);
        llvm::Expected<std::unique_ptr<Graph>> graph =
            importTorchScriptModule(*module, importOptions);
        if (!graph && archive) // as importTorchScriptFile names the file
          return llvm::Expected<std::unique_ptr<Graph>>(
              makeError("'" + options.input + "': " + llvm::toString(graph.takeError())));
        return graph;
      };
      if (inputTypes.empty() && !options.data.empty()) {
        // The first batch gives the input types; the untyped import only says
        // how many inputs to read.
        llvm::Expected<std::unique_ptr<Graph>> probe = import({});
        if (!probe)
          return probe.takeError();
        llvm::Expected<std::unique_ptr<DataSource>> opened =
            openDataSource(options.data, (*probe)->inputs().size());
        if (!opened)
          return opened.takeError();
        data = std::move(*opened);
        llvm::Expected<std::optional<Batch>> first = data->next();
        if (!first)
          return first.takeError();
        if (!*first)
          return makeError("calibration data '" + options.data + "' holds no batch");
        for (const at::Tensor &tensor : **first)
          inputTypes.push_back(typeOfTensor(tensor));
        if (llvm::Error error = data->reset())
          return std::move(error);
      }
      llvm::Expected<std::unique_ptr<Graph>> imported = import(inputTypes);
      if (!imported)
        return imported.takeError();
      graph = std::move(*imported);
    } catch (const c10::Error &error) {
      return makeError("building or importing " + modelName +
                       " failed: " + error.what_without_backtrace());
    } catch (const std::exception &error) {
      return makeError("building or importing " + modelName + " failed: " + error.what());
    }
  }
  result.nodesImported = graph->numNodes();
  for (const Value *input : graph->inputs())
    if (!input->type().isTensor() || !input->type().hasStaticShape())
      if (!data && options.data.empty())
        return makeError(
            "input %" + input->name() + " of " + modelName + " has type " + input->type().str() +
            (mlirModel ? "; synthetic calibration data needs static shapes: pass --data with real "
                         "batches, or give the function static argument types"
                       : "; synthetic calibration data needs static shapes: pass --data with "
                         "real batches or --input-type (e.g. 1x3x224x224) per input"));
  // Ops qfx knows nothing about stay float (and are run as they are).
  llvm::StringSet<> warned;
  for (const Node *node : graph->nodes())
    if (!node->op().isKnown() && !node->opName().startswith("prim::") &&
        warned.insert(node->opName()).second)
      warn("'" + node->opName().str() + "' (first at " + node->describe() +
           ") is not in qfx's op table: it is kept in float and nothing around it is quantized "
           "on its account");
  result.phaseSeconds.emplace_back("import", secondsSince(start));

  std::optional<PendingFile> floatFile;
  if (!options.floatOutput.empty()) {
    floatFile.emplace(options.floatOutput);
    if (mlirModel) {
      llvm::Expected<std::string> text = mlirText(*graph);
      if (!text)
        return text.takeError();
      if (llvm::Error error = floatFile->write(*text))
        return std::move(error);
    } else {
      llvm::Expected<std::string> temp = floatFile->reserve();
      if (!temp)
        return temp.takeError();
      if (llvm::Error error = exportTorchScript(*graph, *temp))
        return std::move(error);
    }
  }

  if (!data) {
    if (!options.data.empty()) {
      llvm::Expected<std::unique_ptr<DataSource>> opened =
          openDataSource(options.data, graph->inputs().size());
      if (!opened)
        return opened.takeError();
      data = std::move(*opened);
    } else {
      llvm::Expected<std::unique_ptr<DataSource>> synthetic = createSyntheticDataSource(
          *graph, options.numBatches ? options.numBatches : 8, options.seed);
      if (!synthetic)
        return synthetic.takeError();
      data = std::move(*synthetic);
    }
  }
  llvm::Expected<std::optional<Batch>> example = data->next();
  if (!example)
    return example.takeError();
  if (!*example)
    return makeError("calibration data (" + data->describe() + ") holds no batch");
  if (llvm::Error error = data->reset())
    return std::move(error);

  // 2. Prepare. fold-conv-bn first, so the float reference has the same
  // convs as the quantized graph (the Quantizer's own fold is then a no-op).
  start = Clock::now();
  size_t batchNorms = 0;
  for (const Node *node : graph->nodes())
    batchNorms += node->op().role == OpRole::BatchNorm;
  if (llvm::Error error = runPasses(*graph, "fold-conv-bn", err))
    return std::move(error);
  for (const Node *node : graph->nodes())
    batchNorms -= node->op().role == OpRole::BatchNorm;
  result.batchNormsFolded = batchNorms;
  std::unique_ptr<Graph> reference = copyGraph(*graph);
  QuantizerOptions quantizerOptions;
  quantizerOptions.config = options.config;
  quantizerOptions.stockOps = options.stockOps;
  quantizerOptions.warningHandler = warn;
  Quantizer quantizer(std::move(graph), quantizerOptions);
  if (llvm::Error error = quantizer.prepare(**example))
    return std::move(error);
  const PrepareReport &prepared = quantizer.report();
  result.fakeQuants = prepared.fakeQuants;
  result.observerGroups = prepared.observerGroups;
  result.phaseSeconds.emplace_back("prepare", secondsSince(start));

  // 3. Calibrate.
  start = Clock::now();
  {
    ProgressBar progress("calibrating", data->numBatches(),
                         options.progress ? std::nullopt : std::optional<bool>(false));
    llvm::Expected<size_t> batches = quantizer.calibrate(*data, options.numBatches, &progress);
    if (!batches)
      return batches.takeError();
    result.calibrationBatches = *batches;
  }
  result.phaseSeconds.emplace_back("calibrate", secondsSince(start));

  // 4. Finalize.
  start = Clock::now();
  llvm::Expected<std::unique_ptr<Graph>> finalized = quantizer.finalize();
  if (!finalized)
    return finalized.takeError();
  std::unique_ptr<Graph> quantized = std::move(*finalized);
  if (llvm::Error error = runPasses(*quantized, "dce{remove-unused-parameters=true}", err))
    return std::move(error);
  result.nodesQuantized = quantized->numNodes();
  for (const Node *node : quantized->nodes()) {
    llvm::StringRef name = node->opName();
    if (name == "qfx.quantize" || name.startswith("aten::quantize_per_"))
      ++result.quantizePairs;
    if ((name == "qfx.dequantize" || name.startswith("aten::_make_per_")) &&
        node->operand(0)->isParameter())
      ++result.quantizedWeights;
  }
  result.phaseSeconds.emplace_back("finalize", secondsSince(start));

  // 5. Evaluate: quantized against float on the calibration batches.
  start = Clock::now();
  {
    // The kernels the Quantizer's forwards ran (Interpreter.h): fast on one
    // thread, and the same rounding on both sides of the comparison.
    InterpreterOptions evaluation;
    evaluation.pointwiseConvOnOneDnn = true;
    llvm::Expected<std::unique_ptr<Interpreter>> floatRun =
        Interpreter::create(*reference, evaluation);
    if (!floatRun)
      return floatRun.takeError();
    llvm::Expected<std::unique_ptr<Interpreter>> quantRun =
        Interpreter::create(*quantized, evaluation);
    if (!quantRun)
      return makeError("the quantized graph cannot run: " + llvm::toString(quantRun.takeError()));
    LayerPairs layers = matchLayers(*quantized, *reference);
    (*floatRun)->setTappedNodes(layers.reference);
    (*quantRun)->setTappedNodes(layers.quantized);
    std::vector<SQNRAccumulator> outputs(quantized->outputs().size());
    std::vector<SQNRAccumulator> perLayer(layers.layers.size());
    if (llvm::Error error = data->reset())
      return std::move(error);
    ProgressBar progress("evaluating", result.calibrationBatches,
                         options.progress ? std::nullopt : std::optional<bool>(false));
    for (size_t b = 0; b < result.calibrationBatches; ++b) {
      llvm::Expected<std::optional<Batch>> batch = data->next();
      if (!batch)
        return batch.takeError();
      if (!*batch)
        break;
      llvm::Expected<std::vector<at::Tensor>> expected = (*floatRun)->run(**batch);
      if (!expected)
        return expected.takeError();
      llvm::Expected<std::vector<at::Tensor>> actual = (*quantRun)->run(**batch);
      if (!actual)
        return actual.takeError();
      for (size_t i = 0; i < outputs.size() && i < expected->size(); ++i)
        outputs[i].add((*expected)[i], (*actual)[i]);
      for (size_t i = 0; i < perLayer.size(); ++i)
        perLayer[i].add((*floatRun)->tappedValue(i), (*quantRun)->tappedValue(i));
      progress.update(b + 1);
    }
    progress.finish();
    for (const SQNRAccumulator &accumulator : outputs)
      result.outputSQNR.push_back(accumulator.value());
    for (size_t i = 0; i < perLayer.size(); ++i) {
      layers.layers[i].sqnr = perLayer[i].value();
      result.layers.push_back(layers.layers[i]);
    }
  }
  result.phaseSeconds.emplace_back("evaluate", secondsSince(start));

  // 6. Export: side files first (not yet renamed), the .pt atomically, then
  // the side files into place.
  start = Clock::now();
  std::optional<PendingFile> mlirFile, qfxFile;
  std::optional<std::string> quantizedMlir;
  if (!options.mlirOutput.empty() || mlirModel) {
    llvm::Expected<std::string> text = mlirText(*quantized);
    if (!text)
      return text.takeError();
    quantizedMlir = std::move(*text);
  }
  if (!options.mlirOutput.empty()) {
    mlirFile.emplace(options.mlirOutput);
    if (llvm::Error error = mlirFile->write(*quantizedMlir))
      return std::move(error);
  }
  if (!options.qfxOutput.empty()) {
    std::string text;
    llvm::raw_string_ostream os(text);
    printGraph(*quantized, os);
    os.flush();
    qfxFile.emplace(options.qfxOutput);
    if (llvm::Error error = qfxFile->write(text))
      return std::move(error);
  }
  if (mlirModel) {
    // The quantized MLIR module is the main output.
    PendingFile output(result.output);
    if (llvm::Error error = output.write(*quantizedMlir))
      return std::move(error);
    if (llvm::Error error = output.commit())
      return std::move(error);
  } else if (llvm::Error error = exportTorchScript(*quantized, result.output)) {
    return std::move(error);
  }
  for (std::optional<PendingFile> *file : {&mlirFile, &qfxFile, &floatFile})
    if (*file)
      if (llvm::Error error = (*file)->commit())
        return std::move(error);
  result.phaseSeconds.emplace_back("export", secondsSince(start));

  result.floatGraph = std::move(reference);
  result.quantizedGraph = std::move(quantized);

  // Report.
  out << "qfx-quantize: " << modelName << " -> " << result.output << " (config " << options.config
      << ")\n";
  out << "  graph: " << result.nodesImported << " nodes imported";
  if (result.batchNormsFolded)
    out << ", " << result.batchNormsFolded << " batch norms folded";
  out << "; " << prepared.annotatedNodes << " annotated; " << prepared.fakeQuantsInserted
      << " fake-quants inserted, " << prepared.fakeQuantsRemoved << " removed by dedup";
  if (prepared.fakeQuantsDisabled)
    out << ", " << prepared.fakeQuantsDisabled << " disabled (block size)";
  out << " -> " << result.fakeQuants << " in " << result.observerGroups << " observer groups\n";
  out << "  quantized graph: " << result.nodesQuantized << " nodes, " << result.quantizePairs
      << " quantize/dequantize pairs, " << result.quantizedWeights << " weights stored quantized\n";
  out << "  calibration: " << result.calibrationBatches << " batches (" << data->describe()
      << ")\n";
  out << "  time:";
  for (const auto &phase : result.phaseSeconds)
    out << " " << phase.first << " " << llvm::format("%.3f", phase.second) << " s;";
  out << "\n";
  for (size_t i = 0; i < result.outputSQNR.size(); ++i)
    out << "  SQNR output " << i
        << " (quantized vs float): " << llvm::format("%.2f", result.outputSQNR[i]) << " dB\n";
  if (!result.layers.empty()) {
    out << "  SQNR per layer (dB):\n";
    for (const LayerSQNR &layer : result.layers)
      out << "    " << llvm::format("%8.2f", layer.sqnr) << "  " << layer.name << " (" << layer.op
          << ")\n";
  }
  return result;
}

int qfxQuantizeMain(int argc, char **argv) {
  llvm::InitLLVM initLLVM(argc, argv);
  llvm::cl::OptionCategory category("qfx-quantize options");
  llvm::cl::opt<std::string> input(
      llvm::cl::Positional, llvm::cl::desc("[model.pt | model.mlir] (default: the embedded model)"),
      llvm::cl::cat(category));
  llvm::cl::opt<std::string> output("o",
                                    llvm::cl::desc("Quantized model: TorchScript (.pt), or MLIR "
                                                   "for a .mlir input"),
                                    llvm::cl::value_desc("file"), llvm::cl::cat(category));
  llvm::cl::opt<std::string> config(
      "config",
      llvm::cl::desc("Quantization config: w8a8 (default), w8, w4, w4_per_block, none, or a "
                     ".yaml/.yml/.json file"),
      llvm::cl::init("w8a8"), llvm::cl::cat(category));
  llvm::cl::opt<std::string> data(
      "data",
      llvm::cl::desc("Calibration data: a torch.save file (.pt/.pth), a .npy file, or a "
                     "directory of them (default: synthetic random normal data)"),
      llvm::cl::value_desc("path"), llvm::cl::cat(category));
  llvm::cl::opt<unsigned> numBatches(
      "num-batches",
      llvm::cl::desc("Calibration batches to use (default: all data, or 8 synthetic)"),
      llvm::cl::init(0), llvm::cl::cat(category));
  llvm::cl::list<std::string> inputTypes(
      "input-type",
      llvm::cl::desc("Type of a graph input (repeat per input), e.g. tensor<1x3x224x224xf32> or "
                     "1x3x224x224; needed for .pt models without --data"),
      llvm::cl::cat(category));
  llvm::cl::opt<std::string> mlir("mlir", llvm::cl::desc("Also write the quantized graph as MLIR"),
                                  llvm::cl::value_desc("file"), llvm::cl::cat(category));
  llvm::cl::opt<std::string> emitQfx("emit-qfx",
                                     llvm::cl::desc("Also write the quantized graph as qfx IR"),
                                     llvm::cl::value_desc("file"), llvm::cl::cat(category));
  llvm::cl::opt<std::string> emitFloat(
      "emit-float", llvm::cl::desc("Also export the imported float model as .pt"),
      llvm::cl::value_desc("file"), llvm::cl::cat(category));
  llvm::cl::opt<bool> stockOps(
      "stock-ops",
      llvm::cl::desc("Use aten::quantize_per_tensor/per_channel + aten::dequantize where they "
                     "express the quantization (loadable without qfx's op library)"),
      llvm::cl::cat(category));
  llvm::cl::opt<unsigned> seed("seed",
                               llvm::cl::desc("Seed of synthetic data and of the default model"),
                               llvm::cl::init(0), llvm::cl::cat(category));
  llvm::cl::opt<bool> noProgress("no-progress", llvm::cl::desc("Never draw progress bars"),
                                 llvm::cl::cat(category));
  // libLLVM registers --threads itself, hence the longer name.
  llvm::cl::opt<unsigned> numThreads(
      "num-threads",
      llvm::cl::desc("Intra-op threads of the kernels and the weight quantizer (0: libtorch's "
                     "default, OMP_NUM_THREADS or the hardware threads)"),
      llvm::cl::init(0), llvm::cl::cat(category));
  llvm::cl::HideUnrelatedOptions(category);
  llvm::cl::ParseCommandLineOptions(
      argc, argv,
      "qfx-quantize: post-training quantization of a TorchScript or MLIR (tosa) model in one "
      "command\n");
  if (numThreads > 0)
    at::set_num_threads(static_cast<int>(numThreads));

  QuantizeJobOptions options;
  options.input = input;
  options.output = output;
  options.config = config;
  options.data = data;
  options.numBatches = numBatches;
  options.inputTypes.assign(inputTypes.begin(), inputTypes.end());
  options.mlirOutput = mlir;
  options.qfxOutput = emitQfx;
  options.floatOutput = emitFloat;
  options.stockOps = stockOps;
  options.seed = seed;
  options.progress = !noProgress;
  llvm::Expected<QuantizeJobResult> result = runQuantizeJob(options, llvm::outs(), llvm::errs());
  if (!result) {
    llvm::WithColor::error(llvm::errs(), "qfx-quantize")
        << llvm::toString(result.takeError()) << "\n";
    return 1;
  }
  return 0;
}

} // namespace qfx
