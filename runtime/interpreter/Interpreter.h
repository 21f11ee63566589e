//===- runtime/interpreter/Interpreter.h - Executing a qfx Graph on ATen --===//
//
// The Interpreter runs a Graph on at::Tensor. Creating it compiles the graph
// once into a flat list of kernels: every aten (or other TorchScript) op is
// resolved to one overload of the JIT operator registry -- the node's
// operands bound to the schema's non-constant arguments in order, its
// attributes to the arguments of the same name (converted to the argument's
// type), defaults for the rest -- and the resolved operator with its argument
// plan is kept, so running a batch does no string lookup or schema matching.
// `qfx.fake_quant`, `qfx.quantize` and `qfx.dequantize` run the fused kernels
// of runtime/kernels; prim list ops are built in; other op families (tosa.*)
// plug in through the kernel registry of runtime/interpreter/Kernel.h.
//
// Quantization state lives here too: one ObserverGroup per observer group id
// (the `group` attribute of fake-quants), holding one QParamsCalculator that
// every fake-quant of the group shares, with its observer / fake-quant
// switches and QAT schedule (reference §1.7, §5.5, §5.6). Modes are just
// these switches plus the training flag; the reference's workflow
// (prepare / calibration_mode / training_mode / finalize) is the Quantizer of
// runtime/interpreter/Quantizer.h.
//
// Errors never crash: bad inputs, NaN in observed data, ops the registry does
// not know and exceptions thrown by ATen come back as llvm::Error naming the
// node (Node::describe()) and what to do about it. The graph must outlive the
// interpreter and must not change while it exists (compile a new one after a
// pass). An Interpreter is not thread-safe.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Graph.h"
#include "runtime/kernels/Kernels.h"
#include "runtime/numerics/Calculator.h"
#include "runtime/spec/QuantizationSpec.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace qfx {

/// The QAT schedule of reference §1.7 as fake-quants carry it
/// (`qat_schedule = {enable_observer = a, enable_fake_quant = b,
/// disable_observer = c | none}`).
struct QatSchedule {
  int64_t enableObserver = 0;
  int64_t enableFakeQuant = 0;
  std::optional<int64_t> disableObserver;

  /// Observer on iff enable_observer <= step < disable_observer (or forever).
  bool observerOn(int64_t step) const {
    return enableObserver <= step && (!disableObserver || step < *disableObserver);
  }
  /// Fake-quant on iff step >= enable_fake_quant.
  bool fakeQuantOn(int64_t step) const { return step >= enableFakeQuant; }

  /// Reads the attribute form; the error names what is wrong.
  static llvm::Expected<QatSchedule> fromAttribute(const Attribute &attribute);
};

/// The state every fake-quant of one observer group shares: one observer
/// (one set of qparams), the switches and the schedule. The target (weight or
/// activation, which resolves the "default" calculator) is decided by the
/// first fake-quant of the group in graph order: weight iff its input is a
/// graph parameter.
///
/// Two ways to observe, with identical results:
///  - the QParamsCalculator of runtime/numerics for the spec (every
///    granularity, every registered calculator, any float dtype);
///  - a fused path for the common case -- per-tensor, the minmax range, the
///    built-in static / moving_average / global_minmax calculators, fp32
///    data -- that keeps the running range as two floats updated with the
///    calculator's exact fp32 arithmetic (c * x + (1 - c) * running, op by
///    op) and computes qparams with runtime/numerics' computeQParams only
///    when something needs them (fake-quant on, finalize). A calibration
///    forward then costs one min/max pass per observed tensor and no tensor
///    op at all: the calculator's ~25 small ATen ops per observation made
///    calibrating a model with many small tensors 20-30x slower than its
///    float forward. The first observation picks the path (fp32 data: fused).
class ObserverGroup {
public:
  /// Creates the group's observer; fails when the spec names no registered
  /// calculator.
  static llvm::Expected<std::unique_ptr<ObserverGroup>>
  create(int64_t id, QuantizationSpec spec, QuantTarget target, std::string name);
  ~ObserverGroup();

  int64_t id() const { return id_; }
  const QuantizationSpec &spec() const { return spec_; }
  QuantTarget target() const { return target_; }
  /// `observer group 3 ('qfx.fake_quant' in module ...)`, for messages.
  llvm::StringRef name() const { return name_; }
  /// The resolved calculator key ("static", "moving_average", ...).
  llvm::StringRef calculatorKey() const { return spec_.resolvedQParamsCalculator(target_); }
  /// Whether the fused per-tensor path observes (see the class comment).
  bool usesFusedPath() const { return fused_; }

  /// The reference's observer forward on `x`: updates the range state.
  /// Errors leave the state untouched: NonFiniteInputError for NaN / Inf,
  /// BlockSizeMismatchError when a block size does not divide `x`, SpecError
  /// for tensors the spec cannot apply to. Empty tensors change nothing.
  llvm::Error observe(const at::Tensor &x);
  /// True once something was observed (or both float_range bounds are set
  /// and one observation happened).
  bool hasQParams() const;
  /// The qparams of the current state (computed on first use after an
  /// observation). Only valid when hasQParams().
  llvm::Expected<const QParams *> qparams();
  /// Kernel parameters for the current qparams; only valid when
  /// hasQParams().
  llvm::Expected<const QuantKernelParams *> kernelParams();
  /// Computes the stale qparams of many fused groups at once: one
  /// computeQParams call per distinct spec over all their ranges (the
  /// computation is elementwise per unit, so the results are the ones each
  /// group would compute alone). Finalizing a model with thousands of
  /// observers needs this; one group at a time costs ~25 tensor ops each.
  static llvm::Error refreshQParams(llvm::ArrayRef<ObserverGroup *> groups);

  bool observerEnabled() const { return observerEnabled_; }
  bool fakeQuantEnabled() const { return fakeQuantEnabled_; }
  void setObserverEnabled(bool enabled) { observerEnabled_ = enabled; }
  void setFakeQuantEnabled(bool enabled) { fakeQuantEnabled_ = enabled; }
  /// Permanently off (identity): the reference's `_disabled`, set when the
  /// spec's block size does not divide the observed tensor (§5.7).
  bool disabled() const { return disabled_; }
  void disable() { disabled_ = true; }

  /// The schedule of the group's first scheduled fake-quant (§1.7: "the first
  /// schedule is kept").
  const std::optional<QatSchedule> &schedule() const { return schedule_; }
  void setSchedule(QatSchedule schedule) { schedule_ = schedule; }

  /// The fake-quant nodes of the group, in graph order.
  llvm::ArrayRef<const Node *> fakeQuants() const { return fakeQuants_; }
  void addFakeQuant(const Node *node) { fakeQuants_.push_back(node); }

  /// Takes over `other`'s observer state (range, qparams, switches), as when
  /// an interpreter is rebuilt for a changed graph. Specs must be equal.
  void takeStateFrom(ObserverGroup &other);

private:
  ObserverGroup(int64_t id, QuantizationSpec spec, QuantTarget target, std::string name,
                std::unique_ptr<QParamsCalculator> calculator);
  llvm::Error observeUncached(const at::Tensor &x);
  llvm::Error observeFused(const at::Tensor &x);

  int64_t id_;
  QuantizationSpec spec_;
  QuantTarget target_;
  std::string name_;
  /// The general path's observer (always created; unused on the fused path).
  std::unique_ptr<QParamsCalculator> calculator_;
  bool fused_ = false;   // decided by the first observation
  bool decided_ = false; // whether the first observation happened
  // Fused-path state: the running range after the zero clamp / float_range.
  float runningMin_ = 0, runningMax_ = 0;
  bool fusedInitialized_ = false;
  // Cached qparams (fused path: recomputed when stale) and kernel params.
  bool stale_ = true;
  QParams qparams_;
  std::unique_ptr<QuantKernelParams> kernelParams_;
  // The last weight observed by a static / global_minmax observer and its
  // version: observing it again unchanged would change nothing.
  at::Tensor lastObserved_;
  uint32_t lastObservedVersion_ = 0;
  bool observerEnabled_ = false;
  bool fakeQuantEnabled_ = true;
  bool disabled_ = false;
  std::optional<QatSchedule> schedule_;
  std::vector<const Node *> fakeQuants_;
};

struct InterpreterOptions {
  /// Copy every parameter into a tensor the interpreter owns. Otherwise
  /// parameters are zero-copy views of their TensorData bytes, except those
  /// an op writes in place (known from its schema) or that are misaligned,
  /// which are copied anyway. Training needs copies (weights get gradients,
  /// batch norm updates its running statistics).
  bool copyParameters = false;
  /// Run aten::conv2d's pointwise convs (1x1, unstrided, groups 1, batch
  /// < 16) on one intra-op thread with oneDNN, where LibTorch 1.13 picks
  /// im2col + BLAS sgemm: with Debian's reference BLAS that is 4-15x slower
  /// (ConvChoice.h). Outputs then agree with TorchScript's to float rounding
  /// instead of bit for bit, hence opt-in; the Quantizer's forwards use it,
  /// and so should float references compared with them.
  bool pointwiseConvOnOneDnn = false;
  /// Receives warnings (a fake-quant disabled by a block-size mismatch, ...).
  /// Default: printed to stderr as `qfx: warning: ...`.
  std::function<void(const std::string &)> warningHandler;
};

class Interpreter {
public:
  /// Compiles `graph`. Fails when an op has no handler or no overload fits
  /// (naming the node and the candidate schemas), when a parameter has no
  /// data, or when a fake-quant's spec or group is invalid.
  static llvm::Expected<std::unique_ptr<Interpreter>> create(const Graph &graph,
                                                             InterpreterOptions options = {});
  ~Interpreter();
  Interpreter(const Interpreter &) = delete;
  Interpreter &operator=(const Interpreter &) = delete;

  /// Runs the graph on `inputs` (one per graph input, checked against the
  /// graph's input types: count, dtype, static dims). Outputs are tensors;
  /// int/float/bool outputs become 0-d tensors. In training mode outputs carry
  /// autograd history; otherwise gradients are off while running.
  llvm::Expected<std::vector<at::Tensor>> run(llvm::ArrayRef<at::Tensor> inputs);
  /// The input checks of run() alone.
  llvm::Error checkInputs(llvm::ArrayRef<at::Tensor> inputs) const;

  const Graph &graph() const;
  size_t numKernels() const;

  // --- Quantization state -------------------------------------------------
  /// Observer groups sorted by id.
  llvm::ArrayRef<std::unique_ptr<ObserverGroup>> groups() const;
  /// Null when no fake-quant has that group.
  ObserverGroup *group(int64_t id) const;
  bool hasSchedules() const;
  /// Switches every group (scheduled or not).
  void setObserversEnabled(bool enabled);
  void setFakeQuantEnabled(bool enabled);
  /// Sets the switches of the scheduled groups to their state at `step`.
  void applySchedule(int64_t step);

  /// Training: fake-quants record the straight-through autograd node,
  /// gradients are on, and the `train`/`training` arguments of ops (dropout,
  /// batch_norm) are forced to `training`. std::nullopt (the default) keeps
  /// each node's own `train` attribute and runs without gradients.
  void setTraining(std::optional<bool> training);
  std::optional<bool> training() const;

  // --- Parameters ----------------------------------------------------------
  /// The tensor of parameter `name` (undefined tensor when unknown).
  at::Tensor parameter(llvm::StringRef name) const;
  /// Every parameter and buffer in graph order.
  std::vector<std::pair<std::string, at::Tensor>> namedParameters() const;
  /// Floating-point parameters that are not buffers (what an optimizer
  /// updates); setTraining(true) makes them require gradients.
  std::vector<at::Tensor> trainableParameters() const;
  /// Stores the current value of every parameter that the interpreter owns
  /// (copied at load) and that changed into `graph`'s TensorData (matched by
  /// name), so passes after training see the trained weights. Returns the
  /// number of parameters written.
  llvm::Expected<size_t> writeParametersTo(Graph &graph) const;

  /// Copies the first result of each of `nodes` right after it is computed
  /// (a later in-place op cannot change the copy) for tappedValue();
  /// replaces the previous set. Used for per-layer comparisons.
  void setTappedNodes(llvm::ArrayRef<const Node *> nodes);
  /// The value of tapped node `index` from the last run (undefined if the
  /// node did not produce a tensor).
  at::Tensor tappedValue(size_t index) const;

  class Impl;

private:
  explicit Interpreter(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

/// qfx DType -> ATen dtype. Float8/float4 storage types map to uint8 (the
/// kernels' container; LibTorch 1.13 has no float8). std::nullopt for Unknown.
std::optional<at::ScalarType> toScalarType(DType dtype);
/// ATen dtype -> qfx DType (Unknown when the IR has no such element type).
DType fromScalarType(at::ScalarType dtype);

/// A tensor holding `data`: a zero-copy view that keeps `data` alive when
/// `copy` is false and the bytes are aligned for the element type, otherwise
/// a copy the tensor owns. Fails when the byte count does not match.
llvm::Expected<at::Tensor> tensorFromData(std::shared_ptr<const TensorData> data, bool copy);
/// The bytes of a CPU tensor (made contiguous) as TensorData; fails for
/// dtypes the IR cannot describe. Float8 contents need `dtype` to say so.
llvm::Expected<TensorData> tensorToData(const at::Tensor &tensor,
                                        std::optional<DType> dtype = std::nullopt);

/// The kernel parameters of `spec` (format, formulation, quant range) with
/// the given qparams (qparam-shaped tensors; zero point / minval may be
/// undefined where the formulation does not use them).
QuantKernelParams kernelParamsFor(const QuantizationSpec &spec, const QParams &qparams);

/// 10·log10(Σ ref² / Σ (ref − x)²) over all elements, computed in double;
/// +inf when they are equal. Shapes must match.
double computeSQNR(const at::Tensor &reference, const at::Tensor &x);

} // namespace qfx
