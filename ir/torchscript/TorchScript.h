//===- ir/torchscript/TorchScript.h - TorchScript <-> qfx graph bridge ----===//
//
// The TorchScript front and back end of qfx. Import turns a TorchScript
// module (a `.pt` file from torch.jit.trace or torch.jit.script, an
// in-memory torch::jit::Module) or TorchScript IR text into a qfx Graph:
// calls inlined, `prim::GetAttr` chains from `self` turned into named
// parameters and buffers with their data, constant arguments turned into
// attributes named after the schema argument, module path and type on every
// node. Export writes a Graph back as a loadable `.pt` whose forward method
// is the graph, with qfx's own ops emitted as the `qfx::` custom ops. The
// operand/attribute convention both directions follow is documented in
// docs/TorchScript.md. This header is libtorch-free so that any package can
// include it; only the implementation in this folder includes torch headers.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Type.h"

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <memory>
#include <string>
#include <vector>

namespace torch {
namespace jit {
struct Module;
} // namespace jit
} // namespace torch

namespace qfx {

class Graph;

struct TorchScriptImportOptions {
  /// The method of the module that becomes the graph.
  std::string methodName = "forward";
  /// Types of the graph inputs (static shapes and dtypes, e.g. parsed from
  /// `tensor<1x3x224x224xf32>`). When given, the imported graph is run once
  /// on inputs of these types (random floats, zero integers) and every value
  /// takes the type it had in that run: a `.pt` file stores no shapes, so
  /// this is how its graph gets ranked, typed tensors. `?` dimensions are
  /// run as 1. Without them, types come from the graph itself (complete
  /// tensor types of traced in-memory graphs and IR text) or are unranked
  /// tensors of unknown dtype.
  std::vector<Type> inputTypes;
  /// At least this many intra-op threads for that run (0: as set). On one
  /// thread LibTorch 1.13 computes 1x1 convs as im2col + BLAS sgemm, which
  /// with Debian's reference BLAS is 4-15x slower than the oneDNN kernel it
  /// picks with two (resnet50's typing run: 1.1 s); the run only yields
  /// shapes. The thread count is process-wide, so only a caller that owns it
  /// (a tool) should set this; it is restored after the run.
  int minProbeThreads = 0;
  /// The value every `training` attribute of a scripted module is read as.
  /// Import is for inference by default: batch norm uses its running
  /// statistics and dropout is off, and the `if self.training:` branches
  /// fold away. Traced graphs have their mode baked in and ignore this.
  bool training = false;
  /// Name of the graph; empty takes the module's class name (`main` for IR
  /// text).
  std::string graphName;
};

/// Imports a `.pt` file (a TorchScript archive from torch.jit.save) or a
/// file of TorchScript IR text (`graph(%x : Tensor): ...`). Errors name the
/// file: missing, truncated or corrupted archives, and everything
/// importTorchScriptModule reports.
llvm::Expected<std::unique_ptr<Graph>>
importTorchScriptFile(llvm::StringRef path, const TorchScriptImportOptions &options = {});

/// Whether `path` holds a TorchScript archive (a zip file from
/// torch.jit.save) rather than IR text; false when it cannot be read.
bool isTorchScriptArchive(llvm::StringRef path);

/// Loads a TorchScript archive once, for a caller that imports it more than
/// once (qfx-quantize imports untyped to count the inputs, then typed):
/// importTorchScriptFile would read and deserialize the file each time.
/// Errors are importTorchScriptFile's (missing, truncated, corrupted).
llvm::Expected<std::unique_ptr<torch::jit::Module>> loadTorchScriptArchive(llvm::StringRef path);

/// Imports method `options.methodName` of `module`. The module is not
/// changed. Fails with a message naming the node kind and the model source
/// line for control flow that does not fold away (`prim::If`, `prim::Loop`),
/// calls that could not be inlined, attribute writes and values of types
/// qfx cannot represent.
llvm::Expected<std::unique_ptr<Graph>>
importTorchScriptModule(const torch::jit::Module &module,
                        const TorchScriptImportOptions &options = {});

/// Imports TorchScript IR text as printed by `print(graph)` (torch::jit::
/// parseIR). The graph has no module: its inputs are graph inputs, tensor
/// constants become parameters.
llvm::Expected<std::unique_ptr<Graph>>
importTorchScriptIR(llvm::StringRef text, const TorchScriptImportOptions &options = {});

/// Gives every parameter and buffer of `graph` that has no data (a graph
/// read from IR text carries none) the data of the parameter of the same
/// name that importTorchScriptFile(path) produces: the way back from an
/// imported, edited text form to a module with weights. Fails naming the
/// parameters the file lacks or whose shape or dtype differ.
llvm::Error attachParameterData(Graph &graph, llvm::StringRef path);

struct TorchScriptExportOptions {
  /// Qualified class name of the exported module (`__torch__.` prefixed);
  /// empty derives `__torch__.qfx.<graph name>`.
  std::string className;
};

/// Builds a torch::jit::Module whose `forward` computes `graph`: parameters
/// and buffers registered under their qualified names (nested submodules,
/// so `named_parameters()` gives the names back), every node a TorchScript
/// node of its op's schema with its attributes as constants, `qfx.quantize`
/// / `qfx.dequantize` / `qfx.fake_quant` as the custom ops `qfx::quantize`,
/// `qfx::dequantize`, `qfx::fake_quantize` (whose schemas must be registered
/// in this process: link //runtime/torch_ops). Fails naming the node that
/// has no TorchScript form.
llvm::Expected<std::unique_ptr<torch::jit::Module>>
exportTorchScriptModule(const Graph &graph, const TorchScriptExportOptions &options = {});

/// Loads a shared library of TorchScript operators into this process (what
/// torch.ops.load_library does), e.g. libqfx_torch_ops.so before exporting
/// or importing graphs with qfx's custom ops.
llvm::Error loadTorchLibrary(llvm::StringRef path);

/// exportTorchScriptModule, then torch::jit save to `path` through a
/// temporary file that is renamed into place: on error no partial output is
/// left behind and an existing `path` is untouched.
llvm::Error exportTorchScript(const Graph &graph, llvm::StringRef path,
                              const TorchScriptExportOptions &options = {});

} // namespace qfx
