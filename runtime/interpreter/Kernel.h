//===- runtime/interpreter/Kernel.h - Extending the interpreter with ops --===//
//
// How the Interpreter executes a node, for code that adds op families (the
// MLIR bridge's tosa ops, custom ops). At creation time the interpreter asks
// the registry for the factory of each node's op name and calls it once per
// node with a KernelBuildContext; the factory resolves everything it can then
// (attributes, shapes, overloads) and returns a Kernel, whose run() is called
// for every batch with the frame of value slots. Slots hold c10::IValues:
// tensors, ints, lists; a kernel reads its operand slots and writes its
// result slots. Keep run() free of lookups by name: that is the point of the
// split. Errors: return an llvm::Error (the interpreter prefixes the node's
// description), or let c10::Error propagate (caught at the run() boundary).
//
// Built in: `qfx.fake_quant`, `qfx.quantize`, `qfx.dequantize`, the prim list
// and tuple ops, and a fallback for every `namespace::op` name the TorchScript
// operator registry knows (aten::, prim::, quantized::, custom TORCH_LIBRARY
// namespaces). Registered factories take precedence over the fallback.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/interpreter/Interpreter.h"

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <ATen/core/ivalue.h>

#include <functional>
#include <memory>
#include <optional>
#include <vector>

namespace qfx {

/// What kernels see while running: the value slots and the run's mode.
struct Frame {
  c10::IValue *slots;
  /// The interpreter's training override (see Interpreter::setTraining).
  std::optional<bool> training;
  Interpreter *interpreter;
  c10::IValue &operator[](unsigned slot) const { return slots[slot]; }
};

class Kernel {
public:
  virtual ~Kernel();
  virtual llvm::Error run(Frame &frame) = 0;
};

/// What a kernel factory may ask about its node at creation time.
class KernelBuildContext {
public:
  virtual ~KernelBuildContext();
  virtual const Node &node() const = 0;
  /// Slot of operand `index` / result `index`.
  virtual unsigned operandSlot(unsigned index) const = 0;
  virtual unsigned resultSlot(unsigned index) const = 0;
  /// Slot of the graph parameter named `name`; std::nullopt if none.
  virtual std::optional<unsigned> parameterSlot(llvm::StringRef name) const = 0;
  /// Marks a parameter slot as written in place by this node, so the
  /// interpreter loads that parameter as a copy rather than a view.
  virtual void markParameterWritten(unsigned slot) = 0;
  /// The interpreter being built (its observer groups exist already).
  virtual Interpreter &interpreter() = 0;
};

using KernelFactory =
    std::function<llvm::Expected<std::unique_ptr<Kernel>>(KernelBuildContext &context)>;

/// Registers `factory` for nodes whose op name is `pattern`, or starts with
/// the prefix before a trailing '*' (`tosa.*`). Exact names win over
/// prefixes, later registrations over earlier ones. Thread-safe; affects
/// interpreters created afterwards.
void registerKernelFactory(llvm::StringRef pattern, KernelFactory factory);

/// An attribute as the IValue TorchScript would pass for an argument of
/// `type` (c10's real type: ScalarType, int[], float?, Tensor ...): numbers
/// widen (int -> float), a single int fills an int[N] (`listSize` = N, or one
/// element when unknown), dtype names (`"float32"`, `"qint8"`,
/// `"torch.float16"`, `"f32"`) become ScalarTypes, number lists become 1-D
/// tensors (double / int64) for Tensor arguments. std::nullopt when the
/// attribute cannot stand for that type. `cost` (if given) is increased for
/// every conversion that is not exact, so overload resolution can prefer
/// exact matches. Tensor references are not converted here (they are
/// parameter slots, see KernelBuildContext::parameterSlot).
std::optional<c10::IValue> attributeToIValue(const Attribute &attribute, const c10::TypePtr &type,
                                             std::optional<int64_t> listSize = std::nullopt,
                                             unsigned *cost = nullptr);

/// Parses a dtype name as TorchScript and qfx spell them: `float32`,
/// `float`, `half`, `bfloat16`, `int8`, `uint8`, `long`, `bool`, `qint8`,
/// `quint8`, `qint32`, with or without `torch.`, and the IR's `f32`, `i8`...
std::optional<at::ScalarType> parseScalarTypeName(llvm::StringRef name);

} // namespace qfx
