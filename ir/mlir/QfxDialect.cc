//===- ir/mlir/QfxDialect.cc - The qfx MLIR dialect and its verifiers -----===//
//
// Registers the qfx dialect's ops and implements their verifiers. The
// verifiers hold exported IR to the same rules lower-to-qdq guarantees for
// graph nodes, so an op that verifies means one unambiguous computation: the
// codes have the storage element type of the dtype, there is one qparam per
// block of `qparam_shape` (which tiles the tensor), scales are positive and
// finite (powers of two with e8m0 scales), integer dtypes carry exactly one of
// zero_point / minval and zero points lie in [quant_min, quant_max]. Also
// registerQfxDialects() of ir/mlir/Bridge.h lives here.
//
//===----------------------------------------------------------------------===//
#include "ir/mlir/QfxDialect.h"

#include "ir/Attribute.h"
#include "ir/mlir/Bridge.h"
#include "ir/mlir/Conversion.h"
#include "runtime/spec/QuantTypes.h"
#include "runtime/spec/QuantizationSpec.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Quant/QuantOps.h"
#include "mlir/Dialect/Tosa/IR/TosaOps.h"
#include "mlir/IR/DialectImplementation.h"
#include "mlir/IR/TypeUtilities.h"

#include "llvm/Support/Error.h"

#include <cmath>

using namespace mlir;

#include "ir/mlir/QfxDialect.cpp.inc"

namespace qfx {
namespace dialect {

void QfxDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "ir/mlir/QfxOps.cpp.inc"
      >();
}

namespace {

/// Whether `element` can hold the codes of container dtype `container`.
/// Integer containers accept signless integers of their width (what quant
/// dialect storage uses) as well as the signed/unsigned spelling.
bool isStorageOf(mlir::Type element, QuantDType container) {
  if (isIntegerQuantDType(container)) {
    auto integer = element.dyn_cast<IntegerType>();
    if (!integer || integer.getWidth() != quantDTypeBits(container))
      return false;
    return integer.isSignless() ||
           (isSignedQuantDType(container) ? integer.isSigned() : integer.isUnsigned());
  }
  if (container == QuantDType::Float8E4M3FN)
    return element.isFloat8E4M3FN();
  if (container == QuantDType::Float8E5M2)
    return element.isFloat8E5M2();
  return false;
}

bool isExpressedFloat(mlir::Type element) {
  return element.isF16() || element.isBF16() || element.isF32() || element.isF64();
}

std::optional<double> numberOf(mlir::Attribute attribute) {
  if (auto integer = attribute.dyn_cast_or_null<IntegerAttr>())
    return static_cast<double>(integer.getInt());
  if (auto floating = attribute.dyn_cast_or_null<FloatAttr>())
    return floating.getValueAsDouble();
  return std::nullopt;
}

/// A bound or scale as people write it: integers without a fraction, other
/// values in the shortest exact spelling.
std::string number(double value) {
  if (std::isfinite(value) && value == std::floor(value) && std::fabs(value) < 1e15)
    return std::to_string(static_cast<int64_t>(value));
  return formatFloat(value);
}

/// The checks quantize and dequantize share; `floatType` is the tensor of
/// real values, `codeType` that of the codes.
template <typename OpT>
LogicalResult verifyQParams(OpT op, mlir::Type floatType, mlir::Type codeType) {
  if (failed(verifyCompatibleShape(floatType, codeType)))
    return op.emitOpError("operand and result must have the same shape, found ")
           << floatType << " and " << codeType;
  if (!isExpressedFloat(getElementTypeOrSelf(floatType)))
    return op.emitOpError("the real values must be an f16, bf16, f32 or f64 tensor, found ")
           << floatType;

  std::optional<QuantDType> dtype = lookupQuantDType(op.getDtype());
  if (!dtype ||
      !(isIntegerQuantDType(*dtype) || isFloat8QuantDType(*dtype) || isFloat4QuantDType(*dtype)))
    return op.emitOpError("unknown quantized dtype '")
           << op.getDtype() << "'; expected an integer, float8 or float4 quantized dtype";
  QuantDType container = containerDType(*dtype);
  if (!isStorageOf(getElementTypeOrSelf(codeType), container))
    return op.emitOpError("codes of dtype '")
           << op.getDtype() << "' are stored as " << quantDTypeName(container) << ", not in "
           << codeType;
  bool isInteger = isIntegerQuantDType(*dtype);

  std::optional<double> quantMin = numberOf(op.getQuantMinAttr());
  std::optional<double> quantMax = numberOf(op.getQuantMaxAttr());
  if (isInteger && (!op.getQuantMinAttr().template isa<IntegerAttr>() ||
                    !op.getQuantMaxAttr().template isa<IntegerAttr>()))
    return op.emitOpError("quant_min and quant_max of an integer dtype must be integers");
  if (!quantMin || !quantMax || !(*quantMin < *quantMax))
    return op.emitOpError("quant_min must be less than quant_max");
  QuantRange full = quantRange(*dtype, QScheme::Asymmetric);
  if (*quantMin < full.min || *quantMax > full.max)
    return op.emitOpError("[quant_min, quant_max] = [")
           << number(*quantMin) << ", " << number(*quantMax) << "] exceeds the range of "
           << op.getDtype() << " [" << number(full.min) << ", " << number(full.max) << "]";

  // qparam_shape tiles the tensor: one qparam per block.
  ArrayRef<int64_t> qparamShape = op.getQparamShape();
  auto ranked = floatType.dyn_cast<RankedTensorType>();
  if (ranked && static_cast<int64_t>(qparamShape.size()) != ranked.getRank())
    return op.emitOpError("qparam_shape has ")
           << qparamShape.size() << " dimensions but the tensor has rank " << ranked.getRank();
  int64_t numQParams = 1;
  for (size_t d = 0; d < qparamShape.size(); ++d) {
    if (qparamShape[d] < 1)
      return op.emitOpError("qparam_shape entries must be positive");
    numQParams *= qparamShape[d];
    if (ranked && !ranked.isDynamicDim(d) && ranked.getDimSize(d) % qparamShape[d] != 0)
      return op.emitOpError("qparam_shape[")
             << d << "] = " << qparamShape[d] << " does not divide dimension "
             << ranked.getDimSize(d);
  }
  ArrayRef<double> scales = op.getScale();
  if (static_cast<int64_t>(scales.size()) != numQParams)
    return op.emitOpError("expected ")
           << numQParams << " scales (the product of qparam_shape), found " << scales.size();
  for (double scale : scales)
    if (!(scale > 0) || !std::isfinite(scale))
      return op.emitOpError("scales must be positive and finite, found ") << number(scale);
  if (std::optional<StringRef> scaleDType = op.getScaleDtype()) {
    if (*scaleDType != "float8_e8m0fnu")
      return op.emitOpError("scale_dtype must be \"float8_e8m0fnu\", found \"")
             << *scaleDType << "\"";
    for (double scale : scales) {
      int exponent = 0;
      if (std::frexp(scale, &exponent) != 0.5)
        return op.emitOpError("e8m0 scales must be powers of two, found ") << number(scale);
    }
  }

  std::optional<ArrayRef<int64_t>> zeroPoint = op.getZeroPoint();
  std::optional<ArrayRef<double>> minval = op.getMinval();
  if (isInteger && zeroPoint.has_value() == minval.has_value())
    return op.emitOpError("an integer dtype needs exactly one of zero_point and minval");
  if (!isInteger && (zeroPoint || minval))
    return op.emitOpError("a float dtype takes neither zero_point nor minval");
  if (zeroPoint) {
    if (zeroPoint->size() != scales.size())
      return op.emitOpError("expected one zero point per scale (")
             << scales.size() << "), found " << zeroPoint->size();
    for (int64_t value : *zeroPoint)
      if (value < *quantMin || value > *quantMax)
        return op.emitOpError("zero point ")
               << value << " is outside [quant_min, quant_max] = [" << number(*quantMin) << ", "
               << number(*quantMax) << "]";
  }
  if (minval) {
    if (minval->size() != scales.size())
      return op.emitOpError("expected one minval per scale (")
             << scales.size() << "), found " << minval->size();
    for (double value : *minval)
      if (!std::isfinite(value))
        return op.emitOpError("minval must be finite, found ") << number(value);
  }

  if (IntegerAttr axisAttr = op.getAxisAttr()) {
    int64_t axis = axisAttr.getInt();
    if (!ranked || axis < 0 || axis >= ranked.getRank())
      return op.emitOpError("axis ") << axis << " is not a dimension of " << floatType;
    if (op.getBlockShape())
      return op.emitOpError("axis (per channel) and block_shape (per block) exclude each other");
    for (size_t d = 0; d < qparamShape.size(); ++d) {
      int64_t expected = static_cast<int64_t>(d) == axis ? ranked.getDimSize(d) : 1;
      if (qparamShape[d] != expected &&
          !(static_cast<int64_t>(d) == axis && ranked.isDynamicDim(d)))
        return op.emitOpError("per-channel qparams along axis ")
               << axis << " need qparam_shape[" << d << "] = " << expected << ", found "
               << qparamShape[d];
    }
  }
  if (std::optional<ArrayRef<int64_t>> blockShape = op.getBlockShape()) {
    if (blockShape->size() != qparamShape.size())
      return op.emitOpError("block_shape and qparam_shape must have the same rank");
    for (size_t d = 0; d < blockShape->size(); ++d)
      if ((*blockShape)[d] < 1 || (ranked && !ranked.isDynamicDim(d) &&
                                   (*blockShape)[d] * qparamShape[d] != ranked.getDimSize(d)))
        return op.emitOpError("block_shape[") << d << "] * qparam_shape[" << d
                                              << "] must equal dimension " << d << " of the tensor";
  }
  return success();
}

} // namespace

LogicalResult QuantizeOp::verify() {
  return verifyQParams(*this, getInput().getType(), getOutput().getType());
}

LogicalResult DequantizeOp::verify() {
  return verifyQParams(*this, getOutput().getType(), getInput().getType());
}

LogicalResult FakeQuantOp::verify() {
  if (!getElementTypeOrSelf(getInput().getType()).isa<FloatType>())
    return emitOpError("fake-quantizes float tensors, found ") << getInput().getType();
  // The spec is a qfx quantization spec dictionary: validate it with the
  // spec model itself, so the message is the one a config error would give.
  std::optional<Attribute> spec = importAttribute(getSpec());
  if (!spec)
    return emitOpError("spec must hold only numbers, strings, lists and dictionaries");
  llvm::Expected<QuantizationSpec> parsed = QuantizationSpec::fromAttribute(*spec, "spec");
  if (!parsed)
    return emitOpError("invalid spec: ") << llvm::toString(parsed.takeError());
  if (std::optional<DictionaryAttr> qparams = getQparams())
    if (!qparams->get("scale"))
      return emitOpError("qparams must give a scale");
  return success();
}

} // namespace dialect

void registerQfxDialects(mlir::DialectRegistry &registry) {
  registry.insert<func::FuncDialect, arith::ArithDialect, tosa::TosaDialect,
                  quant::QuantizationDialect, dialect::QfxDialect>();
}

} // namespace qfx

#define GET_OP_CLASSES
#include "ir/mlir/QfxOps.cpp.inc"
