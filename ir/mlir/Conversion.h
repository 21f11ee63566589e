//===- ir/mlir/Conversion.h - Types, attributes and locations, both ways --===//
//
// The value-level mapping between MLIR and the qfx graph IR, shared by the
// importer, the exporter and the qfx dialect's verifiers: element and tensor
// types, attributes and locations, plus the reserved node attributes
// (`mlir.*`) through which a graph imported from MLIR remembers what qfx's own
// IR cannot say, so that exporting it without changes gives the module back.
//
// Attributes. Each MLIR attribute becomes a plain qfx Attribute a pass can
// read (`stride = [1, 1]`, `min_fp = 0.0`) plus, when the default way back
// would give a different MLIR attribute, a *kind* naming the way back: an
// MLIR type for scalars (`f32`, `i32`), `array<i32>` for dense arrays other
// than i64/f64, `list` for an ArrayAttr the default would make a dense array,
// `type` for a TypeAttr (kept as its text) and `attr` for anything else (kept
// as its MLIR text, e.g. `#tosa.conv_quant<...>`). The importer checks that
// value + kind rebuild the very same attribute, and falls back to `attr`
// otherwise, so attributes always survive a round trip exactly. Kinds are
// stored per node in the reserved dictionary `mlir.kinds`.
//
// This header includes MLIR headers; it is internal to ir/mlir/.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Attribute.h"
#include "ir/Diagnostics.h"
#include "ir/Graph.h"
#include "ir/Type.h"

#include "mlir/IR/Attributes.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Location.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Types.h"

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <deque>
#include <optional>
#include <string>
#include <utility>

namespace qfx {

/// Node attributes the MLIR bridge reserves. They never reach MLIR as
/// attributes; every other node attribute does.
namespace mlirattr {
/// Dictionary: attribute name -> kind (see the file comment), for attributes
/// whose default conversion back would differ.
inline constexpr llvm::StringLiteral kKinds = "mlir.kinds";
/// Dictionary: attribute name -> the MLIR text of an array or dictionary
/// that value and kind do not rebuild (see ImportedAttribute).
inline constexpr llvm::StringLiteral kTexts = "mlir.texts";
/// List of strings, one per result: the MLIR type of a result that no qfx
/// type expresses exactly ("" for the others).
inline constexpr llvm::StringLiteral kResultTypes = "mlir.result_types";
/// The MLIR text of a location that SourceInfo does not express exactly.
inline constexpr llvm::StringLiteral kLoc = "mlir.loc";
/// An op with regions, as the generic text of a function whose arguments are
/// the node's operands (see Import.cc); exported by parsing it back.
inline constexpr llvm::StringLiteral kOpaque = "mlir.op";
/// Constants (graph parameters) to emit right before / after this node:
/// list of {name, op, loc[, attrs]} (op: arith.constant or tosa.const; loc
/// and attrs as MLIR text). Keeps imported constants where they were.
inline constexpr llvm::StringLiteral kBefore = "mlir.before";
inline constexpr llvm::StringLiteral kAfter = "mlir.after";
/// True for the reserved names above (and any other `mlir.` name).
bool isReserved(llvm::StringRef name);
} // namespace mlirattr

/// Discardable MLIR attributes through which node data that is not an op
/// attribute travels: the quantization annotation and the module type.
inline constexpr llvm::StringLiteral kAnnotationAttrName = "qfx.annotation";
inline constexpr llvm::StringLiteral kModuleTypeAttrName = "qfx.module_type";
/// Discardable attribute naming a constant's parameter.
inline constexpr llvm::StringLiteral kNameAttrName = "qfx.name";

//===----------------------------------------------------------------------===//
// Types
//===----------------------------------------------------------------------===//

/// The qfx dtype of an MLIR element type when it is exactly one (signless or
/// unsigned 8-bit integers, the usual floats, f8E4M3FN, f8E5M2).
std::optional<DType> importElementType(mlir::Type type);
/// The MLIR element type of `dtype`; null when MLIR 16 has none (f8E8M0FNU,
/// f4E2M1FN, unknown).
mlir::Type exportElementType(DType dtype, mlir::MLIRContext *context);
/// The qfx type of an MLIR tensor type that maps exactly (no encoding, an
/// element type importElementType knows); nullopt otherwise.
std::optional<Type> importType(mlir::Type type);
/// Builtin tensor types for tensors; `!torch.int`, `!torch.list<int>`, ...
/// (opaque types of torch-mlir's dialect) for TorchScript's other types.
/// Null when there is none (an unknown or MLIR-less element type).
mlir::Type exportType(const Type &type, mlir::MLIRContext *context);

//===----------------------------------------------------------------------===//
// Attributes
//===----------------------------------------------------------------------===//

/// The structural conversion: bools, integers, floats, strings, unit (none),
/// dense arrays, arrays and dictionaries of those. Nullopt for anything else
/// (symbol references, types, dialect attributes, elements attributes).
std::optional<Attribute> importAttribute(mlir::Attribute attribute);

/// The conversion back for kind `kind` ("" = the default: none -> unit, int ->
/// i64, float -> f64, non-empty int / float lists -> array<i64> / array<f64>,
/// other lists -> ArrayAttr, dictionaries -> DictionaryAttr, @name ->
/// FlatSymbolRefAttr). Null, with `error` set, when value and kind do not fit.
mlir::Attribute exportAttribute(const Attribute &value, llvm::StringRef kind,
                                mlir::MLIRContext *context, std::string &error);

/// An attribute as a node keeps it: the qfx value passes read, the kind that
/// rebuilds it, or -- for arrays and dictionaries whose elements need kinds
/// of their own (`[0.5]` is an ArrayAttr, not array<f64>) -- the MLIR text,
/// used on export as long as the value is unchanged.
struct ImportedAttribute {
  Attribute value;
  std::string kind;
  std::optional<std::string> text;
};
ImportedAttribute importAttributeExactly(mlir::Attribute attribute);

/// The kind an attribute of op `opName` takes when its node does not say
/// (`mlir.kinds`): what the op's definition demands where that is not the
/// default (tosa.clamp's `min_fp` is f32, tosa.mul's `shift` i32, the qparams
/// of the qfx dialect are dense arrays even when empty). "" otherwise.
llvm::StringRef schemaKind(llvm::StringRef opName, llvm::StringRef attributeName);

/// The MLIR name of a node's op: `aten::conv2d` -> `torch.aten.conv2d` (the
/// naming of torch-mlir's torch dialect), names with a dot unchanged.
std::string mlirOpName(llvm::StringRef opName);
/// The inverse for the TorchScript namespaces qfx knows: `torch.aten.conv2d`
/// -> `aten::conv2d`, `torch.prim.*` -> `prim::*`; other names unchanged.
std::string qfxOpName(llvm::StringRef mlirName);

/// The quantization annotation as one dictionary {inputs, output[, groups,
/// output_group]} (the `qfx.annotation` attribute), and back.
Attribute annotationToAttribute(const QuantAnnotation &annotation);
llvm::Expected<QuantAnnotation> annotationFromAttribute(const Attribute &attribute);

//===----------------------------------------------------------------------===//
// Tensor data
//===----------------------------------------------------------------------===//

/// The contents of a dense int/float elements attribute (splats expanded, i1
/// as one byte per element); nullopt for element types qfx has no dtype for.
std::optional<TensorData> importTensorData(mlir::DenseElementsAttr attribute);
/// The elements attribute of `data` with type `type` (a static tensor of the
/// data's dtype and shape); null with `error` set when they disagree.
mlir::DenseElementsAttr exportTensorData(const TensorData &data, mlir::RankedTensorType type,
                                         std::string &error);

//===----------------------------------------------------------------------===//
// Locations
//===----------------------------------------------------------------------===//

/// A location as a node keeps it: the file:line:col of SourceInfo, the module
/// path from a NameLoc around it, and the MLIR text when those two do not
/// rebuild it exactly.
struct ImportedLocation {
  std::string file;
  unsigned line = 0;
  unsigned column = 0;
  std::string modulePath;
  /// Set when `file`/`line`/`column`/`modulePath` do not rebuild the location.
  std::optional<std::string> text;
};
ImportedLocation importLocation(mlir::Location location);
/// The location of a node: its `mlir.loc`, else NameLoc(module path) around
/// file:line:col of its source location, else its text location (where it
/// was written in qfx IR text), else unknown.
mlir::Location exportLocation(const Node &node, mlir::MLIRContext *context);
/// The first file:line:col inside `location` (through names, fusions and
/// call sites); unknown when there is none.
Location diagnosticLocation(mlir::Location location, Graph &graph);

//===----------------------------------------------------------------------===//
// Diagnostics
//===----------------------------------------------------------------------===//

/// Forwards the MLIR diagnostics of `context` to a qfx DiagnosticEngine while
/// it lives (file:line:col from the first FileLineColLoc of a location).
class DiagnosticForwarder {
public:
  DiagnosticForwarder(mlir::MLIRContext &context, DiagnosticEngine &diagnostics);

private:
  Location location(mlir::Location location);
  Diagnostic convert(mlir::Diagnostic &diagnostic);

  /// File names of the locations handed out, alive as long as the forwarder.
  std::deque<std::string> files_;
  mlir::ScopedDiagnosticHandler handler_;
};

/// Emits a qfx diagnostic as an MLIR one: at its file:line:col when known,
/// else at `fallback`; notes attached.
void emitAsMlirDiagnostic(const Diagnostic &diagnostic, mlir::Location fallback);

//===----------------------------------------------------------------------===//
// Text
//===----------------------------------------------------------------------===//

std::string toText(mlir::Attribute attribute);
std::string toText(mlir::Type type);
/// mlir::parseAttribute, except that `dense_resource<key> : type` refers to
/// the existing resource `key` (the parser would insert a new, renamed one).
mlir::Attribute parseAttributeText(llvm::StringRef text, mlir::MLIRContext *context);

} // namespace qfx
