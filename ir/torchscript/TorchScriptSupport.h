//===- ir/torchscript/TorchScriptSupport.h - Shared import/export helpers -===//
//
// Private to ir/torchscript: the conversions both directions of the bridge
// need -- dtypes and ScalarTypes, qfx Types and TorchScript types, tensor
// data, op-name spellings of qfx's own ops, and turning a libtorch exception
// into a one-line message. Includes libtorch headers, so nothing outside
// this folder may include it.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Graph.h"
#include "ir/Type.h"

#include <ATen/core/Tensor.h>
#include <ATen/core/jit_type.h>
#include <c10/core/ScalarType.h>

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <exception>
#include <memory>
#include <optional>
#include <string>

namespace qfx {
namespace torchscript {

/// The qfx dtype of a ScalarType; quantized types map to their storage
/// (qint8 -> i8). nullopt for types qfx has no name for (complex, ...).
std::optional<DType> fromScalarType(c10::ScalarType type);
/// The ScalarType storing `dtype`; nullopt for Unknown and the fp8/fp4
/// formats, which LibTorch 1.13 has no dtype for.
std::optional<c10::ScalarType> toScalarType(DType dtype);
/// ScalarType names as qfx attributes spell them (`qint8`, `float32`,
/// `int8`, ...; PyTorch's dtype names without `torch.`).
std::optional<c10::ScalarType> parseScalarTypeName(llvm::StringRef name);

/// The qfx Type of a TorchScript type: complete tensor types become ranked
/// tensors (unknown sizes as `?`), other tensors unranked ones; scalars and
/// lists of scalars map one to one; everything else is `any`.
Type fromTorchType(const c10::TypePtr &type);
/// The TorchScript type of a qfx Type (tensors as plain `Tensor`).
c10::TypePtr toTorchType(const Type &type);

/// Copies a tensor's elements (made contiguous, on CPU) into TensorData.
llvm::Expected<TensorData> toTensorData(const at::Tensor &tensor, llvm::StringRef what);
/// A CPU tensor holding a copy of `data`.
llvm::Expected<at::Tensor> toTensor(const TensorData &data, llvm::StringRef what);
/// A CPU tensor over `data`'s bytes, no copy: the tensor's deleter keeps a
/// reference, so the bytes live as long as either the graph or the tensor.
/// The bytes are the graph's (immutable) data: the caller hands out such
/// tensors only where nothing writes into them in place. Falls back to a
/// copy where the bytes are not aligned for the element type.
llvm::Expected<at::Tensor> shareTensor(std::shared_ptr<const TensorData> data,
                                       llvm::StringRef what);

/// TorchScript spelling of qfx's own ops (`qfx.quantize` -> `qfx::quantize`,
/// `qfx.fake_quant` -> `qfx::fake_quantize`); other names are returned as
/// they are.
std::string torchOpName(llvm::StringRef qfxName);

/// A libtorch exception as one line: c10::Error without its C++ backtrace,
/// the first line of a TorchScript ErrorReport.
std::string describeException(const std::exception &error);

/// An llvm::Error carrying `message`.
llvm::Error makeError(const llvm::Twine &message);

} // namespace torchscript
} // namespace qfx
