//===- ir/mlir/Passes.cc - qfx pipelines as MLIR passes -------------------===//
//
// MLIR passes on func.func that run qfx's own pass pipelines: each imports
// the function into a graph (ir/mlir/Import.h), runs a textual qfx pipeline
// on it with the built-in pass registry, and writes the graph back into the
// function (ir/mlir/Export.h). So any compiler that links //ir/mlir and calls
// registerQfxPasses() can say
//   -pass-pipeline='builtin.module(func.func(qfx-quantize{pipeline="annotate{config=w8a8},share-observers,insert-fake-quant,dedup-fake-quant"},qfx-lower-to-qdq))'
// or, for that default pipeline, `qfx-quantize{config=w8a8}`.
// Diagnostics of qfx passes arrive as MLIR diagnostics at the op the node came
// from. A pipeline that does not parse is reported once, when the pass
// manager initializes the pass, before any function is touched.
//
//===----------------------------------------------------------------------===//
#include "ir/mlir/Bridge.h"
#include "ir/mlir/Conversion.h"
#include "ir/mlir/Export.h"
#include "ir/mlir/Import.h"

#include "ir/Verifier.h"
#include "passes/BuiltinPasses.h"
#include "passes/PassManager.h"
#include "passes/PassPipeline.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Pass/Pass.h"
#include "mlir/Pass/PassRegistry.h"

#include "llvm/ADT/DenseSet.h"

#include <mutex>

namespace qfx {
namespace {

/// The quantization pipeline up to deduplicated fake-quants after annotate,
/// what qfx-quantize runs when not given a pipeline.
constexpr const char *kQuantizePipelineTail = "share-observers,insert-fake-quant,dedup-fake-quant";

/// MLIR pass options keep the quotes that protect commas and braces in a
/// value (`pipeline="a,b{x=1}"`) in LLVM 16; the qfx pipeline is inside them.
std::string unquote(llvm::StringRef text) {
  text = text.trim();
  if (text.size() >= 2 && text.front() == '"' && text.back() == '"')
    text = text.drop_front().drop_back();
  return text.str();
}

/// What the three passes share: import, run `pipeline()`, export.
template <typename Derived>
class GraphPass : public mlir::PassWrapper<Derived, mlir::OperationPass<mlir::func::FuncOp>> {
public:
  void getDependentDialects(mlir::DialectRegistry &registry) const override {
    registerQfxDialects(registry);
  }

  mlir::LogicalResult initialize(mlir::MLIRContext *context) override {
    if (std::string problem = optionProblem(); !problem.empty())
      return mlir::emitError(mlir::UnknownLoc::get(context))
             << "invalid options of '" << this->getArgument() << "': " << problem;
    // Parse once up front, so a typo fails the run before any function is
    // rewritten, with qfx's message (which lists the registered passes).
    DiagnosticEngine diagnostics;
    bool ok = true;
    diagnostics.setHandler([&](const Diagnostic &diagnostic) {
      ok = false;
      mlir::emitError(mlir::UnknownLoc::get(context))
          << "in the qfx pipeline of '" << this->getArgument() << "': " << diagnostic.message;
    });
    PassList passes;
    parsePassPipeline(pipeline(), builtinPassRegistry(), passes, diagnostics);
    return mlir::success(ok);
  }

  void runOnOperation() override {
    mlir::func::FuncOp func = this->getOperation();
    if (func.isExternal())
      return;
    std::unique_ptr<Graph> graph = importFunction(func);
    if (!graph)
      return this->signalPassFailure();

    DiagnosticEngine diagnostics;
    diagnostics.setHandler(
        [&](const Diagnostic &diagnostic) { emitAsMlirDiagnostic(diagnostic, func.getLoc()); });
    if (!verifyGraph(*graph, diagnostics))
      return this->signalPassFailure();
    PassList passes;
    if (!parsePassPipeline(pipeline(), builtinPassRegistry(), passes, diagnostics))
      return this->signalPassFailure();

    llvm::DenseSet<Value *> usedBefore;
    for (Value *parameter : graph->parameters())
      if (parameter->hasUses())
        usedBefore.insert(parameter);
    if (!passes.empty()) {
      PassManager manager(diagnostics);
      manager.addPasses(std::move(passes));
      if (manager.run(*graph) == PassResult::Failed)
        return this->signalPassFailure();
    }
    if (dropReplacedWeights()) {
      // Weights the pipeline replaced (lower-to-qdq's integer codes stand in
      // for the float weight) would stay behind as dead constants.
      std::vector<Value *> replaced;
      for (Value *parameter : graph->parameters())
        if (usedBefore.count(parameter) && !parameter->hasUses())
          replaced.push_back(parameter);
      graph->eraseParameters(replaced);
    }
    if (failed(exportIntoFunction(*graph, func)))
      return this->signalPassFailure();
  }

protected:
  virtual std::string pipeline() const = 0;
  /// What is wrong with the options, "" when nothing.
  virtual std::string optionProblem() const { return ""; }
  virtual bool dropReplacedWeights() const { return true; }
};

class QuantizePass final : public GraphPass<QuantizePass> {
public:
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(QuantizePass)
  QuantizePass() = default;
  QuantizePass(const QuantizePass &other) : GraphPass<QuantizePass>(other) {}

  llvm::StringRef getArgument() const override { return "qfx-quantize"; }
  llvm::StringRef getDescription() const override {
    return "Run a qfx pass pipeline on the graph of each function (default: annotate with the "
           "given config, share-observers, insert-fake-quant, dedup-fake-quant)";
  }

protected:
  std::string pipeline() const override {
    std::string explicitPipeline = unquote(pipelineOption);
    if (!explicitPipeline.empty())
      return explicitPipeline;
    std::string config = unquote(configOption);
    if (config.empty())
      return std::string("annotate,") + kQuantizePipelineTail;
    // Quoted for qfx's pipeline syntax: a file path has punctuation.
    std::string quoted = "\"";
    for (char c : config) {
      if (c == '"' || c == '\\')
        quoted += '\\';
      quoted += c;
    }
    quoted += '"';
    return "annotate{config=" + quoted + "}," + kQuantizePipelineTail;
  }
  std::string optionProblem() const override {
    if (!unquote(pipelineOption).empty() && !unquote(configOption).empty())
      return "give either 'pipeline' or 'config' (the config of the default pipeline's annotate)";
    return "";
  }
  bool dropReplacedWeights() const override { return dropReplacedOption; }

private:
  Option<std::string> pipelineOption{
      *this, "pipeline",
      llvm::cl::desc("The qfx pipeline, as for qfx-opt -p (quote it when it has commas); "
                     "default: annotate, share-observers, insert-fake-quant, dedup-fake-quant")};
  Option<std::string> configOption{
      *this, "config",
      llvm::cl::desc("The quantization config of the default pipeline's annotate: a preset "
                     "(w8a8, w8, w4, w4_per_block, none) or a YAML/JSON file")};
  Option<bool> dropReplacedOption{
      *this, "drop-replaced-weights",
      llvm::cl::desc("Remove constants the pipeline stopped using (weights it replaced)"),
      llvm::cl::init(true)};
};

class LowerToQDQPass final : public GraphPass<LowerToQDQPass> {
public:
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(LowerToQDQPass)
  LowerToQDQPass() = default;
  LowerToQDQPass(const LowerToQDQPass &other) : GraphPass<LowerToQDQPass>(other) {}

  llvm::StringRef getArgument() const override { return "qfx-lower-to-qdq"; }
  llvm::StringRef getDescription() const override {
    return "Lower the fake-quants of each function to quant.qcast/dcast (quant.scast of integer "
           "weights) or qfx.quantize/dequantize with concrete qparams";
  }

protected:
  std::string pipeline() const override {
    // A function without fake-quants is simply left alone by default: MLIR
    // runs the pass on every function, quantized or not.
    return allowEmpty ? "lower-to-qdq{allow-empty=true}" : "lower-to-qdq";
  }

private:
  Option<bool> allowEmpty{*this, "allow-empty",
                          llvm::cl::desc("Accept functions without fake-quants (otherwise an "
                                         "error, as the reference's finalize)"),
                          llvm::cl::init(true)};
};

class RoundTripPass final : public GraphPass<RoundTripPass> {
public:
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(RoundTripPass)
  llvm::StringRef getArgument() const override { return "qfx-roundtrip"; }
  llvm::StringRef getDescription() const override {
    return "Import each function into a qfx graph and export it back unchanged (tests the "
           "bridge: the function must come out as it went in)";
  }

protected:
  std::string pipeline() const override { return ""; }
  bool dropReplacedWeights() const override { return false; }
};

} // namespace

void registerQfxPasses() {
  static std::once_flag once;
  std::call_once(once, [] {
    mlir::PassRegistration<QuantizePass>();
    mlir::PassRegistration<LowerToQDQPass>();
    mlir::PassRegistration<RoundTripPass>();
  });
}

} // namespace qfx
