//===- runtime/interpreter/Interpreter.cc - Executing a qfx Graph on ATen -===//
//
// Compilation (Interpreter::create) turns the graph into value slots and one
// Kernel per node; running walks the kernels in order over the slot frame and
// drops every value after its last use, so peak memory is what the live
// values need, as in TorchScript's own interpreter. The TorchScript fallback
// kernel resolves the overload and the argument plan (operand slots,
// converted attribute constants, defaults) once; per batch it only fills a
// reused stack and calls the operator. Everything here that can fail at run
// time reports an llvm::Error carrying the node's description; c10::Error
// from ATen is caught at the run() boundary and reported the same way.
//
//===----------------------------------------------------------------------===//
#include "runtime/interpreter/Interpreter.h"

#include "runtime/interpreter/ConvChoice.h"
#include "runtime/interpreter/Kernel.h"

#include "passes/quant/QuantSupport.h"
#include "runtime/kernels/Kernels.h"
#include "runtime/spec/SpecError.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>
#include <torch/csrc/jit/runtime/operator.h>

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/raw_ostream.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <mutex>
#include <variant>

namespace qfx {

//===----------------------------------------------------------------------===//
// Small helpers
//===----------------------------------------------------------------------===//

namespace {

llvm::Error makeError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

std::string shapeString(at::IntArrayRef shape) {
  std::string text = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    text += (i ? ", " : "") + std::to_string(shape[i]);
  return text + "]";
}

/// `tensor of shape [1, 3] and dtype float32` for messages.
std::string describeTensor(const at::Tensor &tensor) {
  if (!tensor.defined())
    return "an undefined tensor";
  return "a tensor of shape " + shapeString(tensor.sizes()) + " and dtype " +
         std::string(c10::toString(tensor.scalar_type()));
}

template <typename ErrorInfoT> std::string errorMessage(const ErrorInfoT &error) {
  std::string text;
  llvm::raw_string_ostream os(text);
  error.log(os);
  return os.str();
}

std::string valueName(const Value &value) {
  if (!value.name().empty())
    return "%" + value.name().str();
  return "#" + std::to_string(value.position());
}

} // namespace

std::optional<at::ScalarType> toScalarType(DType dtype) {
  switch (dtype) {
  case DType::F64:
    return at::kDouble;
  case DType::F32:
    return at::kFloat;
  case DType::F16:
    return at::kHalf;
  case DType::BF16:
    return at::kBFloat16;
  case DType::I64:
    return at::kLong;
  case DType::I32:
    return at::kInt;
  case DType::I16:
    return at::kShort;
  case DType::I8:
    return at::kChar;
  case DType::U8:
  case DType::F8E4M3FN:
  case DType::F8E5M2:
  case DType::F8E8M0FNU:
  case DType::F4E2M1FN:
    return at::kByte;
  case DType::I1:
    return at::kBool;
  case DType::Unknown:
    break;
  }
  return std::nullopt;
}

DType fromScalarType(at::ScalarType dtype) {
  switch (dtype) {
  case at::kDouble:
    return DType::F64;
  case at::kFloat:
    return DType::F32;
  case at::kHalf:
    return DType::F16;
  case at::kBFloat16:
    return DType::BF16;
  case at::kLong:
    return DType::I64;
  case at::kInt:
    return DType::I32;
  case at::kShort:
    return DType::I16;
  case at::kChar:
    return DType::I8;
  case at::kByte:
    return DType::U8;
  case at::kBool:
    return DType::I1;
  default:
    return DType::Unknown;
  }
}

llvm::Expected<at::Tensor> tensorFromData(std::shared_ptr<const TensorData> data, bool copy) {
  std::optional<at::ScalarType> dtype = toScalarType(data->dtype);
  if (!dtype)
    return makeError("tensor data of unknown dtype");
  int64_t numel = 1;
  for (int64_t dim : data->shape) {
    if (dim < 0)
      return makeError("tensor data with a negative dim " + shapeString(data->shape));
    numel *= dim;
  }
  size_t elementSize = c10::elementSize(*dtype);
  // view(): a quantizer-written buffer is read in place, not copied.
  llvm::ArrayRef<uint8_t> contents = data->view();
  if (contents.size() != static_cast<size_t>(numel) * elementSize)
    return makeError("tensor data of shape " + shapeString(data->shape) + " and dtype " +
                     dtypeName(data->dtype) + " needs " +
                     std::to_string(static_cast<size_t>(numel) * elementSize) + " bytes, found " +
                     std::to_string(contents.size()));
  auto options = at::TensorOptions().dtype(*dtype);
  if (numel == 0)
    return at::empty(data->shape, options);
  void *bytes = const_cast<uint8_t *>(contents.data());
  bool aligned = reinterpret_cast<uintptr_t>(bytes) % elementSize == 0;
  if (copy || !aligned) {
    at::Tensor tensor = at::empty(data->shape, options);
    std::memcpy(tensor.data_ptr(), bytes, contents.size());
    return tensor;
  }
  // The deleter owns a reference: the bytes live as long as the tensor.
  auto keepAlive = new std::shared_ptr<const TensorData>(std::move(data));
  return at::from_blob(
      bytes, (*keepAlive)->shape, [keepAlive](void *) { delete keepAlive; }, options);
}

llvm::Expected<TensorData> tensorToData(const at::Tensor &tensor, std::optional<DType> dtype) {
  if (!tensor.defined())
    return makeError("undefined tensor");
  DType irType = dtype ? *dtype : fromScalarType(tensor.scalar_type());
  std::optional<at::ScalarType> expected = toScalarType(irType);
  if (irType == DType::Unknown || !expected || *expected != tensor.scalar_type())
    return makeError("a tensor of dtype " + std::string(c10::toString(tensor.scalar_type())) +
                     " cannot be stored as IR data" +
                     (dtype ? " of dtype " + dtypeName(*dtype).str() : std::string()));
  at::Tensor contiguous = tensor.detach().to(at::kCPU).contiguous();
  TensorData data;
  data.dtype = irType;
  data.shape.assign(contiguous.sizes().begin(), contiguous.sizes().end());
  size_t size = contiguous.numel() * contiguous.element_size();
  // One pass (resize would zero the bytes first).
  const uint8_t *bytes = static_cast<const uint8_t *>(contiguous.data_ptr());
  if (size)
    data.mutableBytes().assign(bytes, bytes + size);
  return data;
}

double computeSQNR(const at::Tensor &reference, const at::Tensor &x) {
  at::Tensor ref = reference.detach().to(at::kDouble);
  at::Tensor noise = ref - x.detach().to(at::kDouble);
  double signal = ref.pow(2).sum().item<double>();
  double error = noise.pow(2).sum().item<double>();
  if (error == 0)
    return std::numeric_limits<double>::infinity();
  return 10.0 * std::log10(signal / error);
}

std::optional<at::ScalarType> parseScalarTypeName(llvm::StringRef name) {
  name.consume_front("torch.");
  static const std::pair<const char *, at::ScalarType> kNames[] = {
      {"float32", at::kFloat},
      {"float", at::kFloat},
      {"float64", at::kDouble},
      {"double", at::kDouble},
      {"float16", at::kHalf},
      {"half", at::kHalf},
      {"bfloat16", at::kBFloat16},
      {"int8", at::kChar},
      {"uint8", at::kByte},
      {"int16", at::kShort},
      {"short", at::kShort},
      {"int32", at::kInt},
      {"int", at::kInt},
      {"int64", at::kLong},
      {"long", at::kLong},
      {"bool", at::kBool},
      {"qint8", at::kQInt8},
      {"quint8", at::kQUInt8},
      {"qint32", at::kQInt32},
      {"quint4x2", at::kQUInt4x2},
      {"complex64", at::kComplexFloat},
      {"complex128", at::kComplexDouble}};
  for (const auto &entry : kNames)
    if (name == entry.first)
      return entry.second;
  if (std::optional<DType> irType = parseDType(name))
    if (*irType != DType::Unknown)
      return toScalarType(*irType);
  return std::nullopt;
}

//===----------------------------------------------------------------------===//
// QatSchedule and ObserverGroup
//===----------------------------------------------------------------------===//

llvm::Expected<QatSchedule> QatSchedule::fromAttribute(const Attribute &attribute) {
  if (!attribute.isDict())
    return makeError("qat_schedule must be a dictionary {enable_observer = a, "
                     "enable_fake_quant = b, disable_observer = c | none}, got " +
                     attribute.str());
  QatSchedule schedule;
  for (const NamedAttribute &entry : attribute.getDict()) {
    const Attribute &value = entry.second;
    if (entry.first == "enable_observer" && value.isInt())
      schedule.enableObserver = value.getInt();
    else if (entry.first == "enable_fake_quant" && value.isInt())
      schedule.enableFakeQuant = value.getInt();
    else if (entry.first == "disable_observer" && (value.isInt() || value.isNone()))
      schedule.disableObserver =
          value.isInt() ? std::optional<int64_t>(value.getInt()) : std::nullopt;
    else
      return makeError("qat_schedule: unexpected entry '" + entry.first + " = " + value.str() +
                       "' (expected integer enable_observer, enable_fake_quant and "
                       "disable_observer = integer | none)");
  }
  return schedule;
}

namespace {

ElementFormat elementFormatOf(QuantDType dtype) {
  switch (dtype) {
  case QuantDType::Float8E4M3FN:
    return ElementFormat::Float8E4M3FN;
  case QuantDType::Float8E5M2:
    return ElementFormat::Float8E5M2;
  case QuantDType::Float4E2M1FNx2:
    return ElementFormat::Float4E2M1;
  default:
    return ElementFormat::Int;
  }
}

/// Format, formulation and range of `spec`; qparam tensors are left empty.
QuantKernelParams kernelParamsFor(QuantDType dtype, QFormulation formulation, double quantMin,
                                  double quantMax) {
  QuantKernelParams params;
  params.format = elementFormatOf(dtype);
  params.formulation =
      formulation == QFormulation::MinVal ? Formulation::MinVal : Formulation::ZeroPoint;
  if (params.format == ElementFormat::Int) {
    params.quantMin = static_cast<int64_t>(quantMin);
    params.quantMax = static_cast<int64_t>(quantMax);
  }
  return params;
}

} // namespace

QuantKernelParams kernelParamsFor(const QuantizationSpec &spec, const QParams &qparams) {
  QuantKernelParams params =
      kernelParamsFor(spec.dtype(), spec.qformulation(), spec.quantMin(), spec.quantMax());
  params.scale = qparams.scale;
  params.zeroPoint = qparams.zeroPoint;
  params.minVal = qparams.minval;
  return params;
}

ObserverGroup::ObserverGroup(int64_t id, QuantizationSpec spec, QuantTarget target,
                             std::string name, std::unique_ptr<QParamsCalculator> calculator)
    : id_(id), spec_(std::move(spec)), target_(target), name_(std::move(name)),
      calculator_(std::move(calculator)) {}

ObserverGroup::~ObserverGroup() = default;

llvm::Expected<std::unique_ptr<ObserverGroup>>
ObserverGroup::create(int64_t id, QuantizationSpec spec, QuantTarget target, std::string name) {
  llvm::Expected<std::unique_ptr<QParamsCalculator>> calculator =
      QParamsCalculator::create(spec, target, name);
  if (!calculator)
    return calculator.takeError();
  return std::unique_ptr<ObserverGroup>(
      new ObserverGroup(id, std::move(spec), target, std::move(name), std::move(*calculator)));
}

namespace {

/// Whether the fused path computes exactly what the calculator would.
bool fusedPathApplies(const QuantizationSpec &spec, llvm::StringRef calculatorKey) {
  return spec.granularity().isPerTensor() && spec.rangeCalculator() == spec_keys::kMinMax &&
         (calculatorKey == spec_keys::kStatic || calculatorKey == spec_keys::kMovingAverage ||
          calculatorKey == spec_keys::kGlobalMinMax);
}

/// Below this many elements a plain loop beats the threaded fused kernel of
/// runtime/numerics (whose setup costs a few tensor allocations).
constexpr int64_t kSmallTensor = 1 << 15;

struct MinMax {
  float min, max;
  bool finite;
};

MinMax minMaxOf(const float *data, int64_t size) {
  float lo = data[0], hi = data[0];
  // Any NaN or Inf makes x - x NaN; summing those flags keeps the loop
  // branch-free and vectorizable.
  float poison = 0;
  for (int64_t i = 0; i < size; ++i) {
    float v = data[i];
    lo = v < lo ? v : lo;
    hi = v > hi ? v : hi;
    poison += v - v;
  }
  return {lo, hi, poison == 0};
}

} // namespace

llvm::Error ObserverGroup::observe(const at::Tensor &x) {
  // Observing the very same unchanged tensor again leaves a static or
  // global-min/max observer exactly as it is: skip it. That is every
  // weight in calibration (its fake-quant sees the parameter each batch);
  // training bumps the version counter, so updated weights are re-observed.
  // Activations are new tensors every time and are not remembered (that
  // would keep them alive).
  llvm::StringRef key = calculatorKey();
  bool idempotent = target_ == QuantTarget::Weight &&
                    (key == spec_keys::kStatic || key == spec_keys::kGlobalMinMax);
  if (idempotent && lastObserved_.defined() && x.defined() &&
      x.unsafeGetTensorImpl() == lastObserved_.unsafeGetTensorImpl() &&
      x._version() == lastObservedVersion_ && hasQParams())
    return llvm::Error::success();
  if (llvm::Error error = observeUncached(x))
    return error;
  if (idempotent && x.defined()) {
    lastObserved_ = x;
    lastObservedVersion_ = x._version();
  }
  return llvm::Error::success();
}

llvm::Error ObserverGroup::observeUncached(const at::Tensor &x) {
  if (!decided_ && x.defined() && x.numel() > 0) {
    decided_ = true;
    fused_ = x.scalar_type() == at::kFloat && x.device().is_cpu() &&
             fusedPathApplies(spec_, calculatorKey());
  }
  if (fused_)
    return observeFused(x);
  // A group may span tensors of different ranks (flatten's input and output
  // share one observer). Per-tensor qparams are one number whatever the
  // rank, so per-tensor groups observe a flat view: the calculator keeps one
  // qparam shape ([1]) for all of them, and the kernels take a one-element
  // scale for any rank.
  at::Tensor observed = x.detach();
  if (spec_.granularity().isPerTensor() && observed.defined())
    observed = observed.reshape({-1});
  llvm::Expected<QParams> qparams = calculator_->observe(observed);
  if (!qparams)
    return qparams.takeError();
  if (calculator_->isInitialized()) {
    qparams_ = std::move(*qparams);
    stale_ = false;
    kernelParams_ = std::make_unique<QuantKernelParams>(kernelParamsFor(spec_, qparams_));
  }
  return llvm::Error::success();
}

llvm::Error ObserverGroup::observeFused(const at::Tensor &x) {
  if (!x.defined() || !at::isFloatingType(x.scalar_type()))
    return makeError("observer '" + name_ + "' expects a floating-point tensor");
  if (x.numel() == 0)
    return llvm::Error::success();
  if (x.scalar_type() != at::kFloat)
    return makeError("observer '" + name_ + "' observed float32 tensors first and now a " +
                     std::string(c10::toString(x.scalar_type())) +
                     " one; one observer group observes one dtype");
  const FloatRange &floatRange = spec_.floatRange();
  // Both bounds fixed: the first observation decided everything.
  if (fusedInitialized_ && floatRange.bothSet())
    return llvm::Error::success();
  float lo = 0, hi = 0;
  if (!floatRange.bothSet()) {
    if (x.is_contiguous() && x.numel() < kSmallTensor) {
      MinMax range = minMaxOf(x.data_ptr<float>(), x.numel());
      if (!range.finite) {
        // Rare: let the numerics library find and describe the first bad
        // element, exactly as the calculator reports it.
        llvm::Expected<TensorRange> described = computeMinMax(x.reshape({-1}), {x.numel()}, name_);
        if (!described)
          return described.takeError();
        return makeError("observer '" + name_ + "' saw NaN or Inf in its input");
      }
      lo = range.min;
      hi = range.max;
    } else {
      at::Tensor flat = x.reshape({-1});
      llvm::Expected<TensorRange> measured = computeMinMax(flat, {flat.numel()}, name_);
      if (!measured)
        return measured.takeError();
      lo = measured->min.item<float>();
      hi = measured->max.item<float>();
    }
  }
  // The substitution and update rules of QParamsCalculator, in its fp32
  // arithmetic: bounds through float, min(x, 0) / max(x, 0), and for the
  // moving average c * x + (1 - c) * running as two float products (ATen
  // casts a Python-float operand to the tensor's float) and a float sum.
  float currentMin = floatRange.min ? static_cast<float>(*floatRange.min) : std::min(lo, 0.0f);
  float currentMax = floatRange.max ? static_cast<float>(*floatRange.max) : std::max(hi, 0.0f);
  llvm::StringRef key = calculatorKey();
  if (!fusedInitialized_ || key == spec_keys::kStatic) {
    runningMin_ = currentMin;
    runningMax_ = currentMax;
  } else if (key == spec_keys::kMovingAverage) {
    const double c = spec_.averagingConstant();
    const float weight = static_cast<float>(c), keep = static_cast<float>(1.0 - c);
    float minProduct = currentMin * weight, minKept = runningMin_ * keep;
    float maxProduct = currentMax * weight, maxKept = runningMax_ * keep;
    runningMin_ = minProduct + minKept;
    runningMax_ = maxProduct + maxKept;
  } else { // global_minmax
    runningMin_ = std::min(runningMin_, currentMin);
    runningMax_ = std::max(runningMax_, currentMax);
  }
  fusedInitialized_ = true;
  stale_ = true;
  return llvm::Error::success();
}

bool ObserverGroup::hasQParams() const {
  return fused_ ? fusedInitialized_ : calculator_->isInitialized();
}

llvm::Expected<const QParams *> ObserverGroup::qparams() {
  if (!hasQParams())
    return makeError("observer '" + name_ + "' has not observed anything yet");
  if (fused_ && stale_) {
    at::Tensor min = at::full({1}, runningMin_, at::kFloat);
    at::Tensor max = at::full({1}, runningMax_, at::kFloat);
    llvm::Expected<QParams> computed = computeQParams(spec_, min, max);
    if (!computed)
      return computed.takeError();
    qparams_ = std::move(*computed);
    kernelParams_ = std::make_unique<QuantKernelParams>(kernelParamsFor(spec_, qparams_));
    stale_ = false;
  }
  return &qparams_;
}

llvm::Error ObserverGroup::refreshQParams(llvm::ArrayRef<ObserverGroup *> groups) {
  // Buckets of stale fused groups with equal specs (models carry a few).
  std::vector<std::pair<const QuantizationSpec *, std::vector<ObserverGroup *>>> buckets;
  for (ObserverGroup *group : groups) {
    if (!group->fused_ || !group->fusedInitialized_ || !group->stale_)
      continue;
    auto bucket = std::find_if(buckets.begin(), buckets.end(),
                               [&](const auto &entry) { return *entry.first == group->spec_; });
    if (bucket == buckets.end())
      buckets.emplace_back(&group->spec_, std::vector<ObserverGroup *>{group});
    else
      bucket->second.push_back(group);
  }
  for (auto &[spec, members] : buckets) {
    std::vector<float> mins, maxs;
    for (ObserverGroup *group : members) {
      mins.push_back(group->runningMin_);
      maxs.push_back(group->runningMax_);
    }
    llvm::Expected<QParams> computed =
        computeQParams(*spec, at::tensor(mins, at::kFloat), at::tensor(maxs, at::kFloat));
    if (!computed)
      return computed.takeError();
    for (size_t i = 0; i < members.size(); ++i) {
      ObserverGroup &group = *members[i];
      auto unit = [&](const at::Tensor &all) {
        return all.defined() ? all.narrow(0, static_cast<int64_t>(i), 1) : at::Tensor();
      };
      group.qparams_ = {unit(computed->scale), unit(computed->zeroPoint), unit(computed->minval)};
      group.kernelParams_ =
          std::make_unique<QuantKernelParams>(kernelParamsFor(group.spec_, group.qparams_));
      group.stale_ = false;
    }
  }
  return llvm::Error::success();
}

llvm::Expected<const QuantKernelParams *> ObserverGroup::kernelParams() {
  llvm::Expected<const QParams *> current = qparams();
  if (!current)
    return current.takeError();
  return kernelParams_.get();
}

void ObserverGroup::takeStateFrom(ObserverGroup &other) {
  std::swap(calculator_, other.calculator_);
  std::swap(kernelParams_, other.kernelParams_);
  std::swap(qparams_, other.qparams_);
  fused_ = other.fused_;
  decided_ = other.decided_;
  runningMin_ = other.runningMin_;
  runningMax_ = other.runningMax_;
  fusedInitialized_ = other.fusedInitialized_;
  stale_ = other.stale_;
  observerEnabled_ = other.observerEnabled_;
  fakeQuantEnabled_ = other.fakeQuantEnabled_;
  disabled_ = other.disabled_;
  lastObserved_ = other.lastObserved_;
  lastObservedVersion_ = other.lastObservedVersion_;
}

//===----------------------------------------------------------------------===//
// Attribute conversion
//===----------------------------------------------------------------------===//

namespace {

std::optional<int64_t> parseEnumName(llvm::StringRef name, c10::TypeKind kind) {
  if (kind == c10::TypeKind::ScalarTypeType) {
    if (std::optional<at::ScalarType> dtype = parseScalarTypeName(name))
      return static_cast<int64_t>(*dtype);
    return std::nullopt;
  }
  if (kind == c10::TypeKind::LayoutType) {
    name.consume_front("torch.");
    if (name == "strided")
      return static_cast<int64_t>(at::kStrided);
    if (name == "sparse_coo")
      return static_cast<int64_t>(at::kSparse);
    return std::nullopt;
  }
  if (kind == c10::TypeKind::MemoryFormatType) {
    name.consume_front("torch.");
    if (name == "contiguous_format")
      return static_cast<int64_t>(at::MemoryFormat::Contiguous);
    if (name == "preserve_format")
      return static_cast<int64_t>(at::MemoryFormat::Preserve);
    if (name == "channels_last")
      return static_cast<int64_t>(at::MemoryFormat::ChannelsLast);
    if (name == "channels_last_3d")
      return static_cast<int64_t>(at::MemoryFormat::ChannelsLast3d);
    return std::nullopt;
  }
  return std::nullopt;
}

/// Any attribute as its natural IValue (for Any / type-variable arguments and
/// prim::Constant).
std::optional<c10::IValue> naturalIValue(const Attribute &attribute) {
  switch (attribute.kind()) {
  case Attribute::Kind::None:
    return c10::IValue();
  case Attribute::Kind::Int:
    return c10::IValue(attribute.getInt());
  case Attribute::Kind::Float:
    return c10::IValue(attribute.getFloat());
  case Attribute::Kind::Bool:
    return c10::IValue(attribute.getBool());
  case Attribute::Kind::String:
    return c10::IValue(attribute.getString());
  case Attribute::Kind::List: {
    const AttributeList &elements = attribute.getList();
    bool allInt = true, allNumber = true, allBool = true;
    for (const Attribute &element : elements) {
      allInt &= element.isInt();
      allNumber &= element.isInt() || element.isFloat();
      allBool &= element.isBool();
    }
    if (allInt && !elements.empty()) {
      c10::List<int64_t> list;
      for (const Attribute &element : elements)
        list.push_back(element.getInt());
      return c10::IValue(list);
    }
    if (allNumber && !elements.empty()) {
      c10::List<double> list;
      for (const Attribute &element : elements)
        list.push_back(*element.asNumber());
      return c10::IValue(list);
    }
    if (allBool && !elements.empty()) {
      c10::List<bool> list;
      for (const Attribute &element : elements)
        list.push_back(element.getBool());
      return c10::IValue(list);
    }
    c10::impl::GenericList list(c10::AnyType::get());
    for (const Attribute &element : elements) {
      std::optional<c10::IValue> converted = naturalIValue(element);
      if (!converted)
        return std::nullopt;
      list.push_back(std::move(*converted));
    }
    return c10::IValue(list);
  }
  case Attribute::Kind::Dict:
  case Attribute::Kind::TensorRef:
    break;
  }
  return std::nullopt;
}

} // namespace

std::optional<c10::IValue> attributeToIValue(const Attribute &attribute, const c10::TypePtr &type,
                                             std::optional<int64_t> listSize, unsigned *cost) {
  unsigned extra = 0;
  auto result = [&](c10::IValue value) -> std::optional<c10::IValue> {
    if (cost)
      *cost += extra;
    return value;
  };
  switch (type->kind()) {
  case c10::TypeKind::OptionalType:
    if (attribute.isNone())
      return result(c10::IValue());
    return attributeToIValue(attribute, type->containedType(0), listSize, cost);
  case c10::TypeKind::NoneType:
    if (attribute.isNone())
      return result(c10::IValue());
    return std::nullopt;
  case c10::TypeKind::IntType:
  case c10::TypeKind::SymIntType:
    if (attribute.isInt())
      return result(attribute.getInt());
    if (attribute.isBool()) {
      extra = 1;
      return result(static_cast<int64_t>(attribute.getBool()));
    }
    return std::nullopt;
  case c10::TypeKind::FloatType:
    if (attribute.isFloat())
      return result(attribute.getFloat());
    if (attribute.isInt()) {
      extra = 1;
      return result(static_cast<double>(attribute.getInt()));
    }
    return std::nullopt;
  case c10::TypeKind::BoolType:
    if (attribute.isBool())
      return result(attribute.getBool());
    if (attribute.isInt() && (attribute.getInt() == 0 || attribute.getInt() == 1)) {
      extra = 1;
      return result(attribute.getInt() == 1);
    }
    return std::nullopt;
  case c10::TypeKind::NumberType:
    if (attribute.isInt())
      return result(attribute.getInt());
    if (attribute.isFloat())
      return result(attribute.getFloat());
    if (attribute.isBool())
      return result(attribute.getBool());
    return std::nullopt;
  case c10::TypeKind::StringType:
    if (attribute.isString())
      return result(attribute.getString());
    return std::nullopt;
  case c10::TypeKind::ScalarTypeType:
  case c10::TypeKind::LayoutType:
  case c10::TypeKind::MemoryFormatType:
    if (attribute.isInt())
      return result(attribute.getInt());
    if (attribute.isString())
      if (std::optional<int64_t> value = parseEnumName(attribute.getString(), type->kind()))
        return result(*value);
    return std::nullopt;
  case c10::TypeKind::DeviceObjType:
    if (attribute.isString()) {
      try {
        return result(c10::Device(attribute.getString()));
      } catch (const c10::Error &) {
        return std::nullopt;
      }
    }
    return std::nullopt;
  case c10::TypeKind::ListType: {
    const c10::TypePtr &element = type->containedType(0);
    c10::TypeKind elementKind = element->kind();
    bool intElements =
        elementKind == c10::TypeKind::IntType || elementKind == c10::TypeKind::SymIntType;
    if (attribute.isInt() && intElements) {
      // `stride = 2` for an int[2] argument, as TorchScript broadcasts it.
      extra = 1;
      c10::List<int64_t> list;
      for (int64_t i = 0, e = listSize.value_or(1); i < e; ++i)
        list.push_back(attribute.getInt());
      return result(list);
    }
    if (!attribute.isList())
      return std::nullopt;
    const AttributeList &elements = attribute.getList();
    if (listSize && *listSize > 1 && elements.size() == 1 && intElements) {
      extra = 1;
      std::optional<c10::IValue> single = attributeToIValue(elements[0], element);
      if (!single)
        return std::nullopt;
      return result(c10::List<int64_t>(std::vector<int64_t>(*listSize, single->toInt())));
    }
    std::vector<c10::IValue> converted;
    converted.reserve(elements.size());
    for (const Attribute &item : elements) {
      std::optional<c10::IValue> value = attributeToIValue(item, element, std::nullopt, &extra);
      if (!value)
        return std::nullopt;
      converted.push_back(std::move(*value));
    }
    if (intElements) {
      c10::List<int64_t> list;
      for (const c10::IValue &value : converted)
        list.push_back(value.toInt());
      return result(list);
    }
    if (elementKind == c10::TypeKind::FloatType) {
      c10::List<double> list;
      for (const c10::IValue &value : converted)
        list.push_back(value.toDouble());
      return result(list);
    }
    if (elementKind == c10::TypeKind::BoolType) {
      c10::List<bool> list;
      for (const c10::IValue &value : converted)
        list.push_back(value.toBool());
      return result(list);
    }
    if (elementKind == c10::TypeKind::StringType) {
      c10::List<std::string> list;
      for (const c10::IValue &value : converted)
        list.push_back(value.toStringRef());
      return result(list);
    }
    c10::impl::GenericList list(element);
    for (c10::IValue &value : converted)
      list.push_back(std::move(value));
    return result(list);
  }
  case c10::TypeKind::TensorType: {
    // Qparams written as numbers where an op takes tensors (e.g.
    // _make_per_channel_quantized_tensor's scale): double / int64 tensors, as
    // PyTorch's own quantized tensors keep them.
    extra = 2;
    if (attribute.isInt())
      return result(at::scalar_tensor(attribute.getInt(), at::kLong));
    if (attribute.isFloat())
      return result(at::scalar_tensor(attribute.getFloat(), at::kDouble));
    if (attribute.isList()) {
      if (std::optional<std::vector<int64_t>> ints = attribute.asIntList())
        return result(at::tensor(*ints, at::kLong));
      std::vector<double> values;
      for (const Attribute &item : attribute.getList()) {
        std::optional<double> number = item.asNumber();
        if (!number)
          return std::nullopt;
        values.push_back(*number);
      }
      return result(at::tensor(values, at::kDouble));
    }
    return std::nullopt;
  }
  case c10::TypeKind::AnyType:
  case c10::TypeKind::VarType:
    extra = 1;
    if (std::optional<c10::IValue> value = naturalIValue(attribute))
      return result(std::move(*value));
    return std::nullopt;
  default:
    return std::nullopt;
  }
}

//===----------------------------------------------------------------------===//
// Kernel registry
//===----------------------------------------------------------------------===//

Kernel::~Kernel() = default;
KernelBuildContext::~KernelBuildContext() = default;

namespace {

struct KernelRegistry {
  std::mutex mutex;
  llvm::StringMap<KernelFactory> exact;
  /// Prefix patterns, longest first when looked up.
  std::vector<std::pair<std::string, KernelFactory>> prefixes;
};

KernelRegistry &kernelRegistry() {
  static KernelRegistry *registry = new KernelRegistry();
  return *registry;
}

KernelFactory lookupKernelFactory(llvm::StringRef opName) {
  KernelRegistry &registry = kernelRegistry();
  std::lock_guard<std::mutex> lock(registry.mutex);
  auto found = registry.exact.find(opName);
  if (found != registry.exact.end())
    return found->second;
  const KernelFactory *best = nullptr;
  size_t bestLength = 0;
  // Later registrations win among equally long prefixes.
  for (const auto &entry : registry.prefixes)
    if (opName.startswith(entry.first) && entry.first.size() >= bestLength) {
      best = &entry.second;
      bestLength = entry.first.size();
    }
  return best ? *best : KernelFactory();
}

} // namespace

void registerKernelFactory(llvm::StringRef pattern, KernelFactory factory) {
  KernelRegistry &registry = kernelRegistry();
  std::lock_guard<std::mutex> lock(registry.mutex);
  if (pattern.endswith("*"))
    registry.prefixes.emplace_back(pattern.drop_back().str(), std::move(factory));
  else
    registry.exact[pattern] = std::move(factory);
}

//===----------------------------------------------------------------------===//
// Interpreter::Impl
//===----------------------------------------------------------------------===//

class Interpreter::Impl {
public:
  Impl(const Graph &graph, InterpreterOptions options)
      : graph_(graph), options_(std::move(options)) {}

  struct Instruction {
    const Node *node;
    std::unique_ptr<Kernel> kernel;
    /// Slots whose last use is this instruction.
    llvm::SmallVector<unsigned, 2> freeAfter;
    /// Taps reading this instruction's first result (indices into
    /// tappedValues_); empty unless setTappedNodes asked for it.
    llvm::SmallVector<unsigned, 1> taps;
  };

  /// A parameter whose data is a scaled TensorData (a weight fold-conv-bn
  /// folded) read only by kernels that apply the factor themselves: its slot
  /// holds the unscaled source, each conv / linear reading it scales its
  /// output channels, and its weight fake-quant observes the per-channel
  /// range of the products. The product tensor is made only when something
  /// needs it whole (fake-quant on, parameter(), training).
  struct ScaledParameter {
    std::shared_ptr<const TensorData> data;
    const TensorData::Scaled *form = nullptr;
    at::Tensor source;  // view of the source weight (the slot's tensor)
    at::Tensor product; // data's contents, on demand
    /// The product, computed (TensorData::bytes, once) on first use.
    llvm::Expected<at::Tensor> full() {
      if (!product.defined()) {
        // A normal tensor even when first needed inside a run (inference
        // mode): it outlives the run, as the parameter tensors do.
        c10::InferenceMode normal(false);
        llvm::Expected<at::Tensor> tensor = tensorFromData(data, /*copy=*/false);
        if (!tensor)
          return tensor.takeError();
        product = std::move(*tensor);
      }
      return product;
    }
    /// Whether `value` is this parameter's source as loaded.
    bool isSource(const c10::IValue &value) const {
      return value.isTensor() &&
             value.toTensor().unsafeGetTensorImpl() == source.unsafeGetTensorImpl();
    }
  };

  struct ParameterSlot {
    const Value *value;
    unsigned slot;
    bool owned = false;         // a copy the interpreter made
    int64_t loadedVersion = -1; // tensor version at load (owned only)
    ScaledParameter *scaled = nullptr;
  };

  llvm::Error compile(Interpreter &self);
  llvm::Error createGroups();
  void planScaledParameters();
  /// The scaled parameter `node` reads as its weight (directly or through
  /// its fake-quant), if planScaledParameters kept one for it.
  ScaledParameter *scaledWeightOf(const Node &node) const;
  /// The tensor a parameter holds for readers outside the kernels (the
  /// product for a scaled parameter whose slot holds its source).
  at::Tensor parameterTensor(const ParameterSlot &parameter) const;
  llvm::Error loadParameters(bool copyAll);
  llvm::Expected<std::vector<at::Tensor>> run(llvm::ArrayRef<at::Tensor> inputs);
  llvm::Error checkInputs(llvm::ArrayRef<at::Tensor> inputs) const;
  void warn(const std::string &message) const {
    if (options_.warningHandler)
      options_.warningHandler(message);
    else
      llvm::errs() << "qfx: warning: " << message << "\n";
  }
  unsigned slotOf(const Value *value) const { return slots_.lookup(value); }
  void ensureOwnedParameters();
  void computeFreeLists();

  const Graph &graph_;
  InterpreterOptions options_;
  Interpreter *self_ = nullptr;
  llvm::DenseMap<const Value *, unsigned> slots_;
  std::vector<c10::IValue> frame_;
  std::vector<Instruction> instructions_;
  std::vector<unsigned> inputSlots_;
  std::vector<unsigned> outputSlots_;
  std::vector<ParameterSlot> parameters_;
  llvm::StringMap<unsigned> parameterIndex_;
  llvm::DenseMap<unsigned, bool> writtenParameters_;
  /// Slots run() clears after each batch (everything but parameters and taps).
  std::vector<unsigned> transientSlots_;
  std::vector<bool> keepSlot_; // parameters, graph outputs, taps: never freed mid-run
  std::vector<std::unique_ptr<ObserverGroup>> groups_;
  llvm::DenseMap<int64_t, ObserverGroup *> groupById_;
  std::optional<bool> training_;
  std::vector<at::Tensor> tappedValues_;
  std::vector<std::unique_ptr<ScaledParameter>> scaledParameters_;
  llvm::DenseMap<const Value *, ScaledParameter *> scaledByValue_;
};

namespace {

//===----------------------------------------------------------------------===//
// Built-in kernels
//===----------------------------------------------------------------------===//

/// Copies the input IValue to the output (identity of a disabled fake-quant).
class FakeQuantKernel final : public Kernel {
public:
  FakeQuantKernel(Interpreter::Impl &impl, ObserverGroup &group, unsigned input, unsigned output,
                  const Node &node)
      : impl_(impl), group_(group), input_(input), output_(output), node_(node) {}

  /// The input is a scaled parameter (see Interpreter::Impl::ScaledParameter).
  void setScaled(Interpreter::Impl::ScaledParameter *scaled) { scaled_ = scaled; }

  llvm::Error run(Frame &frame) override {
    const c10::IValue &in = frame[input_];
    if (!in.isTensor())
      return makeError("a fake-quant needs a tensor operand, got " + in.tagKind());
    if (group_.disabled()) {
      frame[output_] = in;
      return llvm::Error::success();
    }
    at::Tensor x = in.toTensor();
    // A scaled weight's source: observe the range of its products; the
    // convs reading the output scale theirs (planScaledParameters).
    const bool source = scaled_ && scaled_->isSource(in);
    if (group_.observerEnabled()) {
      at::NoGradGuard noGrad;
      auto observe = [&]() -> llvm::Error {
        if (!source)
          return group_.observe(x);
        if (!range_.defined()) {
          // A normal tensor (runs are in inference mode): the observer skips
          // it unchanged by its version counter, as it does the weight.
          c10::InferenceMode normal(false);
          range_ = productRange(*scaled_->form, group_.spec().granularity().isPerTensor());
        }
        return group_.observe(range_);
      };
      if (llvm::Error error = observe()) {
        llvm::Error rest =
            llvm::handleErrors(std::move(error), [&](const BlockSizeMismatchError &mismatch) {
              group_.disable();
              impl_.warn("observer group " + std::to_string(group_.id()) + " (" + node_.describe() +
                         "): tensor (target: " +
                         (group_.target() == QuantTarget::Weight ? "weight" : "activation") +
                         ") incompatible with block size configuration: " + errorMessage(mismatch) +
                         ". Skipping quantization.");
            });
        if (rest)
          return rest;
        frame[output_] = frame[input_];
        return llvm::Error::success();
      }
    }
    if (!group_.fakeQuantEnabled()) {
      frame[output_] = frame[input_];
      return llvm::Error::success();
    }
    if (!group_.hasQParams())
      return makeError("observer group " + std::to_string(group_.id()) +
                       " has no qparams yet: run a calibration forward (observers on) before "
                       "running with fake-quant on");
    llvm::Expected<const QuantKernelParams *> params = group_.kernelParams();
    if (!params)
      return params.takeError();
    if (source) {
      // Fake-quantizing needs the weight itself.
      llvm::Expected<at::Tensor> full = scaled_->full();
      if (!full)
        return full.takeError();
      x = *full;
    }
    if (frame.training && *frame.training)
      frame[output_] = fakeQuantize(x, **params);
    else
      frame[output_] = fakeQuantizeForward(x, **params, false).output;
    return llvm::Error::success();
  }

private:
  /// What a min/max observer of the product weight sees, in a tensor of two
  /// values per unit: per channel along the scaled axis (shape C along it,
  /// 2 along another dim, 1 elsewhere) or per tensor ([2]). Every product
  /// fl(w * factor) is computed, as the product tensor would hold it, and
  /// reduced while its channel run is in cache: the same minimum and maximum
  /// per unit, hence the same qparams, without writing the product. Any NaN
  /// or Inf product puts a NaN there, so the observer rejects the weight as
  /// it would have.
  static at::Tensor productRange(const TensorData::Scaled &form, bool perTensor) {
    const std::vector<int64_t> &shape = form.source->shape;
    const int64_t axis = form.axis, channels = shape[axis];
    int64_t inner = 1;
    for (size_t d = axis + 1; d < shape.size(); ++d)
      inner *= shape[d];
    const int64_t outer = productOf(shape) / std::max<int64_t>(channels * inner, 1);
    const float *w = reinterpret_cast<const float *>(form.source->bytes().data());
    const float inf = std::numeric_limits<float>::infinity();
    std::vector<float> lo(channels, inf), hi(channels, -inf), poison(channels, 0.0f);
    // Four lanes by hand (-O2 leaves the loop scalar); per lane the same
    // multiply and comparisons as a scalar loop, so the same extremes.
    typedef float Vec __attribute__((vector_size(16)));
    std::vector<float> product(static_cast<size_t>(inner));
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t c = 0; c < channels; ++c) {
        TensorData::multiplyRun(w + (o * channels + c) * inner, form.factors[c], product.data(),
                                inner);
        Vec l = {inf, inf, inf, inf}, h = -l, bad = {0, 0, 0, 0};
        int64_t i = 0;
        for (; i + 4 <= inner; i += 4) {
          Vec v;
          std::memcpy(&v, product.data() + i, sizeof v);
          l = v < l ? v : l;
          h = v > h ? v : h;
          bad += v - v; // NaN iff v is NaN or infinite
        }
        float lc = lo[c], hc = hi[c], badc = 0;
        for (int lane = 0; lane < 4; ++lane) {
          lc = l[lane] < lc ? l[lane] : lc;
          hc = h[lane] > hc ? h[lane] : hc;
          badc += bad[lane];
        }
        for (; i < inner; ++i) {
          float v = product[i];
          lc = v < lc ? v : lc;
          hc = v > hc ? v : hc;
          badc += v - v;
        }
        lo[c] = lc;
        hi[c] = hc;
        poison[c] += badc;
      }
    const float nan = std::numeric_limits<float>::quiet_NaN();
    for (int64_t c = 0; c < channels; ++c)
      if (poison[c] != 0)
        lo[c] = nan;
    if (perTensor) {
      float l = inf, h = -inf, bad = 0;
      for (int64_t c = 0; c < channels; ++c) {
        l = std::min(l, lo[c]);
        h = std::max(h, hi[c]);
        bad += poison[c];
      }
      return at::tensor(std::vector<float>{bad != 0 ? nan : l, h}, at::kFloat);
    }
    std::vector<int64_t> rangeShape(shape.size(), 1);
    const size_t other = axis == 0 ? 1 : 0;
    rangeShape[axis] = channels;
    rangeShape[other] = 2;
    at::Tensor range = at::empty(rangeShape, at::kFloat);
    float *out = range.data_ptr<float>();
    for (int64_t c = 0; c < channels; ++c) {
      // Row-major over (C, 2) when the channel dim comes first, (2, C) else.
      int64_t loAt = axis == 0 ? 2 * c : c, hiAt = axis == 0 ? 2 * c + 1 : channels + c;
      out[loAt] = lo[c];
      out[hiAt] = hi[c];
    }
    return range;
  }

  Interpreter::Impl &impl_;
  ObserverGroup &group_;
  unsigned input_, output_;
  const Node &node_;
  Interpreter::Impl::ScaledParameter *scaled_ = nullptr;
  at::Tensor range_; // productRange, computed on first observation
};

/// qfx.quantize / qfx.dequantize with the qparams of their attributes.
class QDQKernel final : public Kernel {
public:
  QDQKernel(bool quantize, QuantKernelParams params, at::ScalarType outDtype, unsigned input,
            unsigned output)
      : quantize_(quantize), params_(std::move(params)), outDtype_(outDtype), input_(input),
        output_(output) {}

  static llvm::Expected<std::unique_ptr<Kernel>> create(KernelBuildContext &context,
                                                        bool quantize) {
    const Node &node = context.node();
    if (node.numOperands() != 1 || node.numResults() != 1)
      return makeError("takes one operand and has one result");
    const Attribute *dtypeAttr = node.attribute("dtype");
    if (!dtypeAttr || !dtypeAttr->isString())
      return makeError("needs a string attribute 'dtype' (int8, uint8, float8_e4m3fn, ...)");
    std::optional<QuantDType> dtype = lookupQuantDType(dtypeAttr->getString());
    if (!dtype)
      return makeError("unknown dtype '" + dtypeAttr->getString() + "'");
    QuantRange range = quantRange(*dtype, QScheme::Asymmetric);
    double quantMin = range.min, quantMax = range.max;
    if (const Attribute *attr = node.attribute("quant_min"))
      if (std::optional<double> value = attr->asNumber())
        quantMin = *value;
    if (const Attribute *attr = node.attribute("quant_max"))
      if (std::optional<double> value = attr->asNumber())
        quantMax = *value;
    // Collect the qparams the way lower-to-qdq writes them.
    AttributeDict qparamEntries;
    for (const char *key : {"scale", "zero_point", "minval"})
      if (const Attribute *attr = node.attribute(key))
        qparamEntries.emplace_back(key, *attr);
    llvm::Expected<QParamValues> qparams = parseQParams(Attribute::dict(qparamEntries));
    if (!qparams)
      return qparams.takeError();
    std::vector<int64_t> shape;
    if (const Attribute *attr = node.attribute("qparam_shape")) {
      std::optional<std::vector<int64_t>> dims = attr->asIntList();
      if (!dims)
        return makeError("'qparam_shape' must be a list of integers");
      shape = *dims;
    } else {
      shape = {static_cast<int64_t>(qparams->scale.size())};
    }
    int64_t count = productOf(shape);
    auto checkCount = [&](size_t size, const char *what) -> llvm::Error {
      if (size != 0 && static_cast<int64_t>(size) != count)
        return makeError(llvm::Twine("'") + what + "' has " + llvm::Twine(size) +
                         " entries; qparam_shape " + shapeString(shape) + " needs " +
                         llvm::Twine(count));
      return llvm::Error::success();
    };
    if (qparams->scale.empty())
      return makeError("needs a 'scale' attribute");
    if (llvm::Error error = checkCount(qparams->scale.size(), "scale"))
      return std::move(error);
    if (llvm::Error error = checkCount(qparams->zeroPoint.size(), "zero_point"))
      return std::move(error);
    if (llvm::Error error = checkCount(qparams->minval.size(), "minval"))
      return std::move(error);
    QFormulation formulation = qparams->minval.empty() ? QFormulation::ZP : QFormulation::MinVal;
    QuantKernelParams params = kernelParamsFor(*dtype, formulation, quantMin, quantMax);
    std::vector<float> scale(qparams->scale.begin(), qparams->scale.end());
    params.scale = at::tensor(scale, at::kFloat).reshape(shape);
    if (!qparams->zeroPoint.empty()) {
      std::vector<int32_t> zeroPoint(qparams->zeroPoint.begin(), qparams->zeroPoint.end());
      params.zeroPoint = at::tensor(zeroPoint, at::kInt).reshape(shape);
    } else if (params.format == ElementFormat::Int && formulation == QFormulation::ZP) {
      params.zeroPoint = at::zeros(shape, at::kInt);
    }
    if (!qparams->minval.empty()) {
      std::vector<float> minval(qparams->minval.begin(), qparams->minval.end());
      params.minVal = at::tensor(minval, at::kFloat).reshape(shape);
    }
    at::ScalarType outDtype = at::kFloat;
    const Type &resultType = node.result(0)->type();
    if (!quantize && resultType.isTensor())
      if (std::optional<at::ScalarType> type = toScalarType(resultType.dtype());
          type && at::isFloatingType(*type))
        outDtype = *type;
    return std::make_unique<QDQKernel>(quantize, std::move(params), outDtype,
                                       context.operandSlot(0), context.resultSlot(0));
  }

  llvm::Error run(Frame &frame) override {
    const c10::IValue &in = frame[input_];
    if (!in.isTensor())
      return makeError("needs a tensor operand, got " + in.tagKind());
    if (quantize_)
      frame[output_] = qfx::quantize(in.toTensor(), params_);
    else
      frame[output_] = qfx::dequantize(in.toTensor(), params_, outDtype_);
    return llvm::Error::success();
  }

private:
  bool quantize_;
  QuantKernelParams params_;
  at::ScalarType outDtype_;
  unsigned input_, output_;
};

/// prim::ListConstruct: a typed list (int, float, bool, Tensor, or generic)
/// decided by the elements it receives.
class ListConstructKernel final : public Kernel {
public:
  ListConstructKernel(std::vector<unsigned> inputs, unsigned output)
      : inputs_(std::move(inputs)), output_(output) {}

  llvm::Error run(Frame &frame) override {
    bool allInt = true, allDouble = true, allTensor = true, allBool = true;
    for (unsigned slot : inputs_) {
      const c10::IValue &value = frame[slot];
      allInt &= value.isInt();
      allDouble &= value.isDouble();
      allTensor &= value.isTensor();
      allBool &= value.isBool();
    }
    if (inputs_.empty() || allInt) {
      c10::List<int64_t> list;
      list.reserve(inputs_.size());
      for (unsigned slot : inputs_)
        list.push_back(frame[slot].toInt());
      frame[output_] = std::move(list);
    } else if (allTensor) {
      c10::List<at::Tensor> list;
      list.reserve(inputs_.size());
      for (unsigned slot : inputs_)
        list.push_back(frame[slot].toTensor());
      frame[output_] = std::move(list);
    } else if (allDouble) {
      c10::List<double> list;
      for (unsigned slot : inputs_)
        list.push_back(frame[slot].toDouble());
      frame[output_] = std::move(list);
    } else if (allBool) {
      c10::List<bool> list;
      for (unsigned slot : inputs_)
        list.push_back(frame[slot].toBool());
      frame[output_] = std::move(list);
    } else {
      c10::impl::GenericList list(c10::AnyType::get());
      for (unsigned slot : inputs_)
        list.push_back(frame[slot]);
      frame[output_] = std::move(list);
    }
    return llvm::Error::success();
  }

private:
  std::vector<unsigned> inputs_;
  unsigned output_;
};

/// prim::ListUnpack / prim::TupleUnpack: one result per element.
class UnpackKernel final : public Kernel {
public:
  UnpackKernel(unsigned input, std::vector<unsigned> outputs)
      : input_(input), outputs_(std::move(outputs)) {}

  llvm::Error run(Frame &frame) override {
    const c10::IValue &in = frame[input_];
    std::vector<c10::IValue> elements;
    if (in.isList()) {
      c10::List<c10::IValue> list = in.toList();
      elements.assign(list.begin(), list.end());
    } else if (in.isTuple()) {
      const auto &tupleElements = in.toTupleRef().elements();
      elements.assign(tupleElements.begin(), tupleElements.end());
    } else {
      return makeError("unpacks a list or tuple, got " + in.tagKind());
    }
    if (elements.size() != outputs_.size())
      return makeError("unpacks " + std::to_string(outputs_.size()) + " values, got " +
                       std::to_string(elements.size()));
    for (size_t i = 0; i < outputs_.size(); ++i)
      frame[outputs_[i]] = std::move(elements[i]);
    return llvm::Error::success();
  }

private:
  unsigned input_;
  std::vector<unsigned> outputs_;
};

class TupleConstructKernel final : public Kernel {
public:
  TupleConstructKernel(std::vector<unsigned> inputs, unsigned output)
      : inputs_(std::move(inputs)), output_(output) {}
  llvm::Error run(Frame &frame) override {
    std::vector<c10::IValue> elements;
    elements.reserve(inputs_.size());
    for (unsigned slot : inputs_)
      elements.push_back(frame[slot]);
    frame[output_] = c10::ivalue::Tuple::create(std::move(elements));
    return llvm::Error::success();
  }

private:
  std::vector<unsigned> inputs_;
  unsigned output_;
};

/// prim::Constant {value = ...}: its value, converted once.
class ConstantKernel final : public Kernel {
public:
  ConstantKernel(c10::IValue value, unsigned output) : value_(std::move(value)), output_(output) {}
  llvm::Error run(Frame &frame) override {
    frame[output_] = value_;
    return llvm::Error::success();
  }

private:
  c10::IValue value_;
  unsigned output_;
};

//===----------------------------------------------------------------------===//
// The TorchScript operator fallback
//===----------------------------------------------------------------------===//

/// Where one schema argument comes from.
struct Binding {
  enum Kind : uint8_t {
    Slot,       // a value slot (operand or parameter)
    MoveSlot,   // a value slot at its last use: moved onto the stack
    Constant,   // constants_[index]
    Training,   // the interpreter's training override, else constants_[index]
    TensorList, // a Tensor[] of the slots tensorLists_[index] (cat's operands)
  };
  Kind kind;
  unsigned index;
};

/// The argument names of every overload of an op: an attribute that is none
/// of them is metadata of passes (`qat_schedule`), not an argument
/// (docs/TorchScript.md), and does not rule an overload out.
const llvm::StringSet<> &
argumentNamesOf(llvm::StringRef opName,
                const std::vector<std::shared_ptr<torch::jit::Operator>> &operators) {
  static std::mutex mutex;
  static llvm::StringMap<std::unique_ptr<llvm::StringSet<>>> cache;
  std::lock_guard<std::mutex> lock(mutex);
  std::unique_ptr<llvm::StringSet<>> &names = cache[opName];
  if (!names) {
    names = std::make_unique<llvm::StringSet<>>();
    for (const std::shared_ptr<torch::jit::Operator> &op : operators)
      for (const c10::Argument &argument : op->schema().arguments())
        names->insert(argument.name());
  }
  return *names;
}

/// Whether a value of qfx type `type` can be passed for an argument of jit
/// type `argType`; `cost` grows for loose matches.
bool acceptsValue(const c10::TypePtr &argType, const Type &type, unsigned &cost) {
  c10::TypeKind kind = argType->kind();
  if (kind == c10::TypeKind::OptionalType) {
    if (type.kind() == Type::Kind::None)
      return true;
    return acceptsValue(argType->containedType(0), type, cost);
  }
  if (kind == c10::TypeKind::AnyType || kind == c10::TypeKind::VarType) {
    cost += 1;
    return true;
  }
  if (type.kind() == Type::Kind::Any) {
    cost += 2;
    return true;
  }
  switch (kind) {
  case c10::TypeKind::TensorType:
    return type.kind() == Type::Kind::Tensor;
  case c10::TypeKind::IntType:
  case c10::TypeKind::SymIntType:
    return type.kind() == Type::Kind::Int;
  case c10::TypeKind::FloatType:
    return type.kind() == Type::Kind::Float;
  case c10::TypeKind::BoolType:
    return type.kind() == Type::Kind::Bool;
  case c10::TypeKind::NumberType:
    return type.kind() == Type::Kind::Int || type.kind() == Type::Kind::Float ||
           type.kind() == Type::Kind::Bool;
  case c10::TypeKind::StringType:
    return type.kind() == Type::Kind::String;
  case c10::TypeKind::NoneType:
    return type.kind() == Type::Kind::None;
  case c10::TypeKind::ListType: {
    if (type.kind() != Type::Kind::List)
      return false;
    c10::TypePtr element = argType->containedType(0);
    if (element->kind() == c10::TypeKind::OptionalType)
      element = element->containedType(0);
    Type::Kind have = type.listElement();
    if (have == Type::Kind::Any || element->kind() == c10::TypeKind::VarType ||
        element->kind() == c10::TypeKind::AnyType) {
      cost += 1;
      return true;
    }
    switch (element->kind()) {
    case c10::TypeKind::TensorType:
      return have == Type::Kind::Tensor;
    case c10::TypeKind::IntType:
    case c10::TypeKind::SymIntType:
      return have == Type::Kind::Int;
    case c10::TypeKind::FloatType:
      return have == Type::Kind::Float;
    case c10::TypeKind::BoolType:
      return have == Type::Kind::Bool;
    default:
      return false;
    }
  }
  default:
    return false;
  }
}

class DispatchKernel final : public Kernel {
public:
  DispatchKernel(torch::jit::Operation operation, std::vector<Binding> bindings,
                 std::vector<c10::IValue> constants, std::vector<std::vector<unsigned>> tensorLists,
                 std::vector<unsigned> results)
      : operation_(std::move(operation)), bindings_(std::move(bindings)),
        constants_(std::move(constants)), tensorLists_(std::move(tensorLists)),
        results_(std::move(results)) {
    stack_.reserve(std::max(bindings_.size(), results_.size()));
  }

  /// Moves (instead of copies) each slot read at its last use onto the stack,
  /// so an op can reuse or free its input early. `isLastUse(slot)` tells;
  /// only the last binding of a slot used twice is moved.
  void setMoves(const std::function<bool(unsigned)> &isLastUse) {
    for (size_t i = 0; i < bindings_.size(); ++i) {
      Binding &binding = bindings_[i];
      if (binding.kind != Binding::Slot && binding.kind != Binding::MoveSlot)
        continue;
      bool later = false;
      for (size_t j = i + 1; j < bindings_.size(); ++j)
        later |= (bindings_[j].kind == Binding::Slot || bindings_[j].kind == Binding::MoveSlot) &&
                 bindings_[j].index == binding.index;
      binding.kind = !later && isLastUse(binding.index) ? Binding::MoveSlot : Binding::Slot;
    }
  }

  llvm::Error run(Frame &frame) override {
    stack_.clear();
    for (const Binding &binding : bindings_) {
      switch (binding.kind) {
      case Binding::Slot:
        stack_.push_back(frame[binding.index]);
        break;
      case Binding::MoveSlot:
        stack_.push_back(std::move(frame[binding.index]));
        break;
      case Binding::Constant:
        stack_.push_back(constants_[binding.index]);
        break;
      case Binding::Training:
        if (frame.training)
          stack_.emplace_back(*frame.training);
        else
          stack_.push_back(constants_[binding.index]);
        break;
      case Binding::TensorList: {
        const std::vector<unsigned> &slots = tensorLists_[binding.index];
        c10::List<at::Tensor> list;
        list.reserve(slots.size());
        for (unsigned slot : slots)
          list.push_back(frame[slot].toTensor());
        stack_.emplace_back(std::move(list));
        break;
      }
      }
    }
    operation_(stack_);
    if (stack_.size() != results_.size())
      return makeError("the operator returned " + std::to_string(stack_.size()) + " values for " +
                       std::to_string(results_.size()) + " results");
    for (size_t i = 0; i < results_.size(); ++i)
      frame[results_[i]] = std::move(stack_[i]);
    return llvm::Error::success();
  }

private:
  torch::jit::Operation operation_;
  std::vector<Binding> bindings_;
  std::vector<c10::IValue> constants_;
  std::vector<std::vector<unsigned>> tensorLists_;
  std::vector<unsigned> results_;
  torch::jit::Stack stack_;
};

/// A conv, conv_transpose or linear whose weight is a scaled parameter's
/// source (Interpreter::Impl::ScaledParameter): runs the op on the source
/// without bias, then applies the factor and the bias per output channel,
/// out = out * factor[c] + bias[c] -- the one extra pass over the activation
/// the unfolded conv + batch_norm makes, instead of a product weight as big
/// as the model. When the weight slot holds anything else (a fake-quantized
/// or trained weight) the op runs as compiled.
class ScaledWeightKernel final : public Kernel {
public:
  ScaledWeightKernel(std::unique_ptr<DispatchKernel> inner,
                     Interpreter::Impl::ScaledParameter &scaled, unsigned weightSlot,
                     std::optional<unsigned> biasSlot, unsigned outputSlot, bool channelsLast)
      : inner_(std::move(inner)), scaled_(scaled), weightSlot_(weightSlot), biasSlot_(biasSlot),
        outputSlot_(outputSlot), channelsLast_(channelsLast) {}

  DispatchKernel &inner() { return *inner_; }

  llvm::Error run(Frame &frame) override {
    if (!scaled_.isSource(frame[weightSlot_]))
      return inner_->run(frame);
    at::Tensor bias;
    if (biasSlot_) {
      // The bias is added after scaling: the op sees none (restored even
      // when it throws).
      struct Restore {
        c10::IValue &slot;
        c10::IValue saved;
        ~Restore() { slot = std::move(saved); }
      } restore{frame[*biasSlot_], std::move(frame[*biasSlot_])};
      frame[*biasSlot_] = c10::IValue();
      if (restore.saved.isTensor())
        bias = restore.saved.toTensor();
      if (llvm::Error error = inner_->run(frame))
        return error;
    } else if (llvm::Error error = inner_->run(frame)) {
      return error;
    }
    const c10::IValue &result = frame[outputSlot_];
    if (!result.isTensor())
      return makeError("expected a tensor result");
    at::Tensor out = result.toTensor();
    const std::vector<float> &factors = scaled_.form->factors;
    const int64_t channels = static_cast<int64_t>(factors.size());
    const int64_t channelDim = channelsLast_ ? out.dim() - 1 : 1;
    if (out.dim() <= channelDim || out.size(channelDim) != channels)
      return makeError(
          "the output has " +
          (out.dim() > channelDim ? std::to_string(out.size(channelDim)) : std::string("no")) +
          " channels on dim " + std::to_string(channelDim) + ", the folded weight " +
          std::to_string(channels));
    const float *b = bias.defined() ? bias.data_ptr<float>() : nullptr;
    if (out.scalar_type() == at::kFloat && out.is_contiguous() && channels > 0) {
      float *y = out.data_ptr<float>();
      int64_t numel = out.numel();
      if (channelsLast_) {
        for (int64_t row = 0; row < numel / channels; ++row, y += channels)
          for (int64_t c = 0; c < channels; ++c)
            y[c] = y[c] * factors[c] + (b ? b[c] : 0.0f);
      } else {
        int64_t inner = 1;
        for (int64_t d = 2; d < out.dim(); ++d)
          inner *= out.size(d);
        for (int64_t n = 0; n < out.size(0); ++n)
          for (int64_t c = 0; c < channels; ++c, y += inner)
            scaleAndAdd(y, inner, factors[c], b ? b[c] : 0.0f);
      }
      return llvm::Error::success();
    }
    std::vector<int64_t> viewShape(out.dim(), 1);
    viewShape[channelDim] = channels;
    at::Tensor factor =
        at::from_blob(const_cast<float *>(factors.data()), {channels}, at::kFloat).view(viewShape);
    out.mul_(factor.to(out.scalar_type()));
    if (bias.defined())
      out.add_(bias.view(viewShape).to(out.scalar_type()));
    return llvm::Error::success();
  }

private:
  /// y = y * factor + add, four lanes at a time (-O2 leaves it scalar).
  static void scaleAndAdd(float *y, int64_t n, float factor, float add) {
    typedef float Vec __attribute__((vector_size(16)));
    int64_t i = 0;
    for (; i + 4 <= n; i += 4) {
      Vec v;
      std::memcpy(&v, y + i, sizeof v);
      v = v * factor + add;
      std::memcpy(y + i, &v, sizeof v);
    }
    for (; i < n; ++i)
      y[i] = y[i] * factor + add;
  }

  std::unique_ptr<DispatchKernel> inner_;
  Interpreter::Impl::ScaledParameter &scaled_;
  unsigned weightSlot_;
  std::optional<unsigned> biasSlot_;
  unsigned outputSlot_;
  bool channelsLast_;
};

/// One schema tried against a node.
struct CandidatePlan {
  std::vector<Binding> bindings;
  std::vector<c10::IValue> constants;
  std::vector<std::vector<unsigned>> tensorLists;
  std::vector<unsigned> writtenSlots;
  unsigned cost = 0;
};

/// Binds `node` to `schema`; on failure returns why.
std::variant<CandidatePlan, std::string> bindSchema(const c10::FunctionSchema &schema,
                                                    KernelBuildContext &context,
                                                    const llvm::StringSet<> &argumentNames) {
  const Node &node = context.node();
  CandidatePlan plan;
  if (schema.is_vararg() || schema.is_varret())
    return std::string("variadic schema");
  if (schema.returns().size() != node.numResults())
    return "returns " + std::to_string(schema.returns().size()) + " values, the node has " +
           std::to_string(node.numResults()) + " results";
  llvm::SmallVector<bool, 8> usedAttribute(node.attributes().size(), false);
  unsigned nextOperand = 0;
  for (const c10::Argument &argument : schema.arguments()) {
    if (argument.is_out())
      return "writes its result into argument '" + argument.name() + "' (out variant)";
    const c10::TypePtr &realType = argument.real_type();
    bool written = argument.alias_info() && argument.alias_info()->isWrite();
    // 1. An attribute of the argument's name.
    const Attribute *attribute = nullptr;
    for (size_t i = 0; i < node.attributes().size(); ++i)
      if (node.attributes()[i].first == argument.name()) {
        attribute = &node.attributes()[i].second;
        usedAttribute[i] = true;
        break;
      }
    if (attribute) {
      if (attribute->isTensorRef()) {
        std::optional<unsigned> slot = context.parameterSlot(attribute->getTensorRef());
        if (!slot)
          return "attribute '" + argument.name() + "' refers to unknown parameter '" +
                 attribute->getTensorRef() + "'";
        c10::TypePtr type = argument.type();
        if (type->kind() == c10::TypeKind::OptionalType)
          type = type->containedType(0);
        if (type->kind() != c10::TypeKind::TensorType)
          return "argument '" + argument.name() + "' is not a tensor";
        plan.bindings.push_back({Binding::Slot, *slot});
        if (written)
          plan.writtenSlots.push_back(*slot);
        continue;
      }
      std::optional<c10::IValue> value = attributeToIValue(
          *attribute, realType, argument.N() ? std::optional<int64_t>(*argument.N()) : std::nullopt,
          &plan.cost);
      if (!value)
        return "attribute '" + argument.name() + " = " + attribute->str() + "' is not a " +
               realType->str();
      bool isTrainFlag = (argument.name() == "train" || argument.name() == "training") &&
                         realType->kind() == c10::TypeKind::BoolType;
      plan.bindings.push_back({isTrainFlag ? Binding::Training : Binding::Constant,
                               static_cast<unsigned>(plan.constants.size())});
      plan.constants.push_back(std::move(*value));
      continue;
    }
    // 2. The next operand, if its type fits.
    if (nextOperand < node.numOperands()) {
      const Value *operand = node.operand(nextOperand);
      unsigned cost = 0;
      if (acceptsValue(argument.type(), operand->type(), cost)) {
        plan.cost += cost;
        unsigned slot = context.operandSlot(nextOperand);
        plan.bindings.push_back({Binding::Slot, slot});
        if (written && operand->isParameter())
          plan.writtenSlots.push_back(slot);
        ++nextOperand;
        continue;
      }
      // The importer flattens a Tensor[] that is the op's only non-constant
      // argument into the operands (aten::cat(%a, %b) {dim = 0}): all the
      // remaining operands form the list.
      c10::TypePtr listType = argument.type();
      if (listType->kind() == c10::TypeKind::OptionalType)
        listType = listType->containedType(0);
      if (listType->kind() == c10::TypeKind::ListType &&
          listType->containedType(0)->kind() == c10::TypeKind::TensorType) {
        std::vector<unsigned> slots;
        bool allTensors = true;
        for (unsigned i = nextOperand; i < node.numOperands(); ++i) {
          Type::Kind kind = node.operand(i)->type().kind();
          allTensors &= kind == Type::Kind::Tensor || kind == Type::Kind::Any;
          slots.push_back(context.operandSlot(i));
        }
        if (allTensors) {
          plan.cost += 1;
          plan.bindings.push_back(
              {Binding::TensorList, static_cast<unsigned>(plan.tensorLists.size())});
          plan.tensorLists.push_back(std::move(slots));
          nextOperand = node.numOperands();
          continue;
        }
      }
    }
    // 3. The default, or None for an omitted optional argument.
    if (argument.default_value()) {
      bool isTrainFlag = (argument.name() == "train" || argument.name() == "training") &&
                         realType->kind() == c10::TypeKind::BoolType;
      plan.bindings.push_back({isTrainFlag ? Binding::Training : Binding::Constant,
                               static_cast<unsigned>(plan.constants.size())});
      plan.constants.push_back(*argument.default_value());
      continue;
    }
    if (argument.type()->kind() == c10::TypeKind::OptionalType) {
      plan.bindings.push_back({Binding::Constant, static_cast<unsigned>(plan.constants.size())});
      plan.constants.emplace_back();
      continue;
    }
    if (nextOperand < node.numOperands())
      return "operand " + std::to_string(nextOperand) + " (" +
             node.operand(nextOperand)->type().str() + ") does not fit argument '" +
             argument.name() + "' of type " + argument.type()->str();
    return "no operand or attribute for argument '" + argument.name() + "'";
  }
  if (nextOperand != node.numOperands())
    return "takes " + std::to_string(nextOperand) + " operands, the node has " +
           std::to_string(node.numOperands());
  for (size_t i = 0; i < usedAttribute.size(); ++i)
    if (!usedAttribute[i] && argumentNames.count(node.attributes()[i].first))
      return "has no argument '" + node.attributes()[i].first + "'";
  return plan;
}

llvm::Expected<std::unique_ptr<Kernel>> createDispatchKernel(KernelBuildContext &context,
                                                             bool pointwiseConvOnOneDnn) {
  const Node &node = context.node();
  llvm::StringRef name = node.opName();
  // `aten::add.Tensor` names one overload.
  llvm::StringRef overload;
  size_t separator = name.find("::");
  size_t dot = name.find('.', separator == llvm::StringRef::npos ? 0 : separator + 2);
  if (dot != llvm::StringRef::npos) {
    overload = name.substr(dot + 1);
    name = name.substr(0, dot);
  }
  const std::vector<std::shared_ptr<torch::jit::Operator>> *operators = nullptr;
  try {
    operators = &torch::jit::getAllOperatorsFor(c10::Symbol::fromQualString(name.str()));
  } catch (const c10::Error &) {
    operators = nullptr;
  }
  if (!operators || operators->empty())
    return makeError("the TorchScript operator registry has no operator '" + name +
                     "': the op is unknown to LibTorch 1.13 (a newer op, or a custom op whose "
                     "library is not loaded); register a kernel for it "
                     "(runtime/interpreter/Kernel.h) or keep it out of the graph");
  const llvm::StringSet<> &argumentNames = argumentNamesOf(name, *operators);
  // Nodes with the same op, operand kinds and attribute names and kinds
  // resolve to the same overload; remember it (models repeat a handful of
  // signatures thousands of times).
  std::string signature = node.opName().str();
  for (const Value *operand : node.operands()) {
    signature += '|' + kindName(operand->type().kind()).str();
    if (operand->type().kind() == Type::Kind::List)
      signature += kindName(operand->type().listElement()).str();
  }
  for (const NamedAttribute &attribute : node.attributes())
    signature += '|' + attribute.first + '=' + kindName(attribute.second.kind()).str();
  static std::mutex cacheMutex;
  static llvm::StringMap<const torch::jit::Operator *> cache;
  const torch::jit::Operator *best = nullptr;
  CandidatePlan bestPlan;
  {
    std::lock_guard<std::mutex> lock(cacheMutex);
    best = cache.lookup(signature);
  }
  if (best) {
    std::variant<CandidatePlan, std::string> bound =
        bindSchema(best->schema(), context, argumentNames);
    if (auto *plan = std::get_if<CandidatePlan>(&bound))
      bestPlan = std::move(*plan);
    else
      best = nullptr; // e.g. a list element kind only the values tell: search again
  }
  std::vector<std::pair<const c10::FunctionSchema *, std::string>> rejections;
  if (!best) {
    for (const std::shared_ptr<torch::jit::Operator> &op : *operators) {
      if (!op->hasOperation())
        continue;
      const c10::FunctionSchema &schema = op->schema();
      if (!overload.empty() && schema.overload_name() != overload)
        continue;
      std::variant<CandidatePlan, std::string> bound = bindSchema(schema, context, argumentNames);
      if (auto *why = std::get_if<std::string>(&bound)) {
        rejections.emplace_back(&schema, std::move(*why));
        continue;
      }
      CandidatePlan &plan = std::get<CandidatePlan>(bound);
      if (!best || plan.cost < bestPlan.cost) {
        best = op.get();
        bestPlan = std::move(plan);
      }
    }
    if (best) {
      std::lock_guard<std::mutex> lock(cacheMutex);
      cache[signature] = best;
    }
  }
  if (!best) {
    std::string candidates;
    for (const auto &rejection : rejections)
      if (candidates.size() < 4000)
        candidates += "\n  " + c10::toString(*rejection.first) + ": " + rejection.second;
    return makeError("no overload of '" + name + "' fits the node's " +
                     std::to_string(node.numOperands()) +
                     " operands and attributes; candidates:" + candidates);
  }
  for (unsigned slot : bestPlan.writtenSlots)
    context.markParameterWritten(slot);
  std::vector<unsigned> results;
  for (unsigned i = 0; i < node.numResults(); ++i)
    results.push_back(context.resultSlot(i));
  torch::jit::Operation operation = best->getOperation();
  // LibTorch's own kernel choice is wrong for pointwise convs on one thread
  // with Debian's BLAS (ConvChoice.h); opt-in, as it gives up bit-identity
  // with TorchScript.
  if (pointwiseConvOnOneDnn && name == "aten::conv2d" && best->schema().overload_name().empty())
    operation = choosePointwiseConvKernel(std::move(operation));
  return std::make_unique<DispatchKernel>(std::move(operation), std::move(bestPlan.bindings),
                                          std::move(bestPlan.constants),
                                          std::move(bestPlan.tensorLists), std::move(results));
}

/// The build context the interpreter hands factories.
class BuildContext final : public KernelBuildContext {
public:
  BuildContext(Interpreter::Impl &impl, Interpreter &interpreter, const Node &node)
      : impl_(impl), interpreter_(interpreter), node_(node) {}
  const Node &node() const override { return node_; }
  unsigned operandSlot(unsigned index) const override { return impl_.slotOf(node_.operand(index)); }
  unsigned resultSlot(unsigned index) const override { return impl_.slotOf(node_.result(index)); }
  std::optional<unsigned> parameterSlot(llvm::StringRef name) const override {
    const Value *parameter = impl_.graph_.parameter(name);
    if (!parameter)
      return std::nullopt;
    return impl_.slotOf(parameter);
  }
  void markParameterWritten(unsigned slot) override { impl_.writtenParameters_[slot] = true; }
  Interpreter &interpreter() override { return interpreter_; }

private:
  Interpreter::Impl &impl_;
  Interpreter &interpreter_;
  const Node &node_;
};

std::vector<unsigned> operandSlots(KernelBuildContext &context) {
  std::vector<unsigned> slots;
  for (unsigned i = 0; i < context.node().numOperands(); ++i)
    slots.push_back(context.operandSlot(i));
  return slots;
}

std::vector<unsigned> resultSlots(KernelBuildContext &context) {
  std::vector<unsigned> slots;
  for (unsigned i = 0; i < context.node().numResults(); ++i)
    slots.push_back(context.resultSlot(i));
  return slots;
}

/// The built-in non-fake-quant kernels (fake-quants need the Impl).
KernelFactory builtinFactory(const Node &node) {
  switch (node.op().code) {
  case OpCode::Quantize:
    return [](KernelBuildContext &context) { return QDQKernel::create(context, true); };
  case OpCode::Dequantize:
    return [](KernelBuildContext &context) { return QDQKernel::create(context, false); };
  case OpCode::ListConstruct:
    return [](KernelBuildContext &context) -> llvm::Expected<std::unique_ptr<Kernel>> {
      if (context.node().numResults() != 1)
        return makeError("has one result");
      return std::make_unique<ListConstructKernel>(operandSlots(context), context.resultSlot(0));
    };
  default:
    break;
  }
  llvm::StringRef name = node.opName();
  if (name == "prim::ListUnpack" || name == "prim::TupleUnpack")
    return [](KernelBuildContext &context) -> llvm::Expected<std::unique_ptr<Kernel>> {
      if (context.node().numOperands() != 1)
        return makeError("takes one operand");
      return std::make_unique<UnpackKernel>(context.operandSlot(0), resultSlots(context));
    };
  if (name == "prim::TupleConstruct")
    return [](KernelBuildContext &context) -> llvm::Expected<std::unique_ptr<Kernel>> {
      if (context.node().numResults() != 1)
        return makeError("has one result");
      return std::make_unique<TupleConstructKernel>(operandSlots(context), context.resultSlot(0));
    };
  if (name == "prim::Constant")
    return [](KernelBuildContext &context) -> llvm::Expected<std::unique_ptr<Kernel>> {
      const Node &node = context.node();
      const Attribute *value = node.attribute("value");
      if (node.numResults() != 1 || node.numOperands() != 0)
        return makeError("takes no operand and has one result");
      c10::IValue converted;
      if (value && value->isTensorRef()) {
        std::optional<unsigned> slot = context.parameterSlot(value->getTensorRef());
        if (!slot)
          return makeError("refers to unknown parameter '" + value->getTensorRef() + "'");
        // Aliasing a parameter: a one-operand list construct would be odd;
        // an unpack of nothing is not possible, so read it at run time.
        struct ParameterAlias final : Kernel {
          unsigned from, to;
          ParameterAlias(unsigned from, unsigned to) : from(from), to(to) {}
          llvm::Error run(Frame &frame) override {
            frame[to] = frame[from];
            return llvm::Error::success();
          }
        };
        return std::make_unique<ParameterAlias>(*slot, context.resultSlot(0));
      }
      if (value) {
        std::optional<c10::IValue> natural = naturalIValue(*value);
        if (!natural)
          return makeError("value " + value->str() + " has no TorchScript equivalent");
        converted = std::move(*natural);
      }
      return std::make_unique<ConstantKernel>(std::move(converted), context.resultSlot(0));
    };
  return KernelFactory();
}

} // namespace

//===----------------------------------------------------------------------===//
// Compilation
//===----------------------------------------------------------------------===//

llvm::Error Interpreter::Impl::createGroups() {
  SpecTable specs;
  for (const Node *node : graph_.nodes()) {
    if (node->op().role != OpRole::FakeQuant)
      continue;
    auto fail = [&](const llvm::Twine &message) {
      return makeError(node->describe() + ": " + message);
    };
    if (node->numOperands() != 1 || node->numResults() != 1)
      return fail("a fake-quant takes one operand and has one result");
    const Attribute *groupAttr = node->attribute(fqattr::kGroup);
    if (!groupAttr || !groupAttr->isInt())
      return fail("a fake-quant needs an integer 'group' attribute (run share-observers and "
                  "insert-fake-quant to create fake-quants)");
    const Attribute *specAttr = node->attribute(fqattr::kSpec);
    if (!specAttr)
      return fail("a fake-quant needs a 'spec' attribute");
    llvm::Expected<uint32_t> specId = specs.intern(*specAttr);
    if (!specId)
      return fail("invalid spec: " + llvm::toString(specId.takeError()));
    const QuantizationSpec &spec = specs.spec(*specId);
    int64_t id = groupAttr->getInt();
    ObserverGroup *group = groupById_.lookup(id);
    if (!group) {
      QuantTarget target =
          node->operand(0)->isParameter() ? QuantTarget::Weight : QuantTarget::Activation;
      std::string name = "observer group " + std::to_string(id) + " (" + node->describe() + ")";
      llvm::Expected<std::unique_ptr<ObserverGroup>> created =
          ObserverGroup::create(id, spec, target, name);
      if (!created)
        return fail("cannot create the observer: " + llvm::toString(created.takeError()));
      groups_.push_back(std::move(*created));
      group = groups_.back().get();
      groupById_[id] = group;
    } else if (group->spec() != spec) {
      return fail("fake-quants of observer group " + llvm::Twine(id) + " carry different specs (" +
                  group->spec().str() + " and " + spec.str() +
                  "); one group has one observer, hence one spec");
    }
    group->addFakeQuant(node);
    if (const Attribute *schedule = node->attribute(fqattr::kQatSchedule)) {
      llvm::Expected<QatSchedule> parsed = QatSchedule::fromAttribute(*schedule);
      if (!parsed)
        return fail(llvm::toString(parsed.takeError()));
      if (!group->schedule())
        group->setSchedule(*parsed);
    }
  }
  std::sort(groups_.begin(), groups_.end(),
            [](const auto &a, const auto &b) { return a->id() < b->id(); });
  return llvm::Error::success();
}

void Interpreter::Impl::planScaledParameters() {
  // Training and callers that asked for copies get plain tensors.
  if (options_.copyParameters)
    return;
  bool any = false;
  for (const ParameterSlot &parameter : parameters_)
    any |= parameter.value->data() && parameter.value->data()->scaledForm();
  if (!any)
    return;
  // Constants that alias a parameter read its slot: those stay plain.
  llvm::StringSet<> aliased;
  for (const Node *node : graph_.nodes())
    if (node->numOperands() == 0 && node->opName() == "prim::Constant")
      if (const Attribute *value = node->attribute("value"); value && value->isTensorRef())
        aliased.insert(value->getTensorRef());
  auto dispatched = [](const Node &node) {
    return !lookupKernelFactory(node.opName()) && node.op().role != OpRole::FakeQuant &&
           !builtinFactory(node) && node.opName().contains("::");
  };
  // A TorchScript conv / linear reading the weight as its weight operand,
  // with a plain f32 bias of one value per channel or none.
  auto scalesOutput = [&](const Use &use, const TensorData::Scaled &form, int64_t rank) {
    if (use.isGraphOutput())
      return false;
    const Node &node = *use.user;
    const OpInfo &op = node.op();
    if (op.role != OpRole::Conv && op.role != OpRole::ConvTranspose && op.role != OpRole::Linear)
      return false;
    if (static_cast<int>(use.operandIndex) != op.weightOperand || node.numResults() != 1 ||
        op.channelAxis < 0 || op.weightDim(op.channelAxis, rank) != form.axis || !dispatched(node))
      return false;
    if (op.biasOperand >= 0 && op.biasOperand < static_cast<int>(node.numOperands())) {
      const Value *bias = node.operand(op.biasOperand);
      const TensorData *data = bias->data().get();
      if (!bias->isParameter() || bias == node.operand(op.weightOperand) || !data ||
          data->scaledForm() || data->dtype != DType::F32 ||
          data->shape != std::vector<int64_t>{static_cast<int64_t>(form.factors.size())} ||
          data->byteSize() != form.factors.size() * sizeof(float))
        return false;
    }
    return true;
  };
  // A weight fake-quant whose observer needs only the range per unit.
  auto observesRange = [&](const Node &node, const TensorData::Scaled &form, int64_t rank) {
    const Attribute *groupAttribute = node.attribute(fqattr::kGroup);
    ObserverGroup *group = groupAttribute && groupAttribute->isInt()
                               ? groupById_.lookup(groupAttribute->getInt())
                               : nullptr;
    if (!group || node.numResults() != 1)
      return false;
    const QuantizationSpec &spec = group->spec();
    llvm::StringRef key = group->calculatorKey();
    if (spec.rangeCalculator() != spec_keys::kMinMax ||
        (key != spec_keys::kStatic && key != spec_keys::kMovingAverage &&
         key != spec_keys::kGlobalMinMax))
      return false;
    const Granularity &granularity = spec.granularity();
    if (granularity.isPerTensor())
      return true;
    if (!granularity.isPerChannel() || !granularity.axis())
      return false;
    int64_t axis = *granularity.axis() < 0 ? *granularity.axis() + rank : *granularity.axis();
    return axis == form.axis;
  };
  for (ParameterSlot &parameter : parameters_) {
    const Value *value = parameter.value;
    std::shared_ptr<const TensorData> data = value->data();
    const TensorData::Scaled *form = data ? data->scaledForm() : nullptr;
    if (!form || !value->hasUses() || aliased.count(value->name()))
      continue;
    const TensorData &source = *form->source;
    int64_t rank = static_cast<int64_t>(source.shape.size());
    int64_t numel = productOf(source.shape);
    if (source.dtype != DType::F32 || data->dtype != DType::F32 || rank < 2 || numel <= 0 ||
        form->axis < 0 || form->axis >= rank ||
        static_cast<int64_t>(form->factors.size()) != source.shape[form->axis] ||
        source.byteSize() != static_cast<size_t>(numel) * sizeof(float))
      continue;
    bool fused = true;
    for (const Use &use : value->uses()) {
      if (scalesOutput(use, *form, rank))
        continue;
      if (!use.isGraphOutput() && use.user->op().role == OpRole::FakeQuant &&
          observesRange(*use.user, *form, rank)) {
        const Value *result = use.user->result(0);
        bool all = result->hasUses();
        for (const Use &resultUse : result->uses())
          all = all && scalesOutput(resultUse, *form, rank);
        if (all)
          continue;
      }
      fused = false;
      break;
    }
    if (!fused)
      continue;
    scaledParameters_.push_back(std::make_unique<ScaledParameter>());
    ScaledParameter *scaled = scaledParameters_.back().get();
    scaled->data = std::move(data);
    scaled->form = form;
    parameter.scaled = scaled;
    scaledByValue_[value] = scaled;
  }
}

Interpreter::Impl::ScaledParameter *Interpreter::Impl::scaledWeightOf(const Node &node) const {
  if (scaledByValue_.empty())
    return nullptr;
  const OpInfo &op = node.op();
  if ((op.role != OpRole::Conv && op.role != OpRole::ConvTranspose && op.role != OpRole::Linear) ||
      op.weightOperand < 0 || op.weightOperand >= static_cast<int>(node.numOperands()))
    return nullptr;
  const Value *weight = node.operand(op.weightOperand);
  if (weight->isResult() && weight->producer()->op().role == OpRole::FakeQuant &&
      weight->producer()->numOperands() == 1)
    weight = weight->producer()->operand(0);
  return scaledByValue_.lookup(weight);
}

at::Tensor Interpreter::Impl::parameterTensor(const ParameterSlot &parameter) const {
  const c10::IValue &value = frame_[parameter.slot];
  if (parameter.scaled && parameter.scaled->isSource(value)) {
    llvm::Expected<at::Tensor> full = parameter.scaled->full();
    if (full)
      return *full;
    llvm::consumeError(full.takeError());
    return at::Tensor();
  }
  return value.isTensor() ? value.toTensor() : at::Tensor();
}

llvm::Error Interpreter::Impl::compile(Interpreter &self) {
  self_ = &self;
  // Slots: inputs, parameters, then node results.
  unsigned next = 0;
  for (const Value *input : graph_.inputs()) {
    slots_[input] = next;
    inputSlots_.push_back(next++);
  }
  for (const Value *parameter : graph_.parameters()) {
    slots_[parameter] = next;
    parameterIndex_[parameter->name()] = parameters_.size();
    parameters_.push_back({parameter, next++});
  }
  for (const Node *node : graph_.nodes())
    for (unsigned i = 0; i < node->numResults(); ++i)
      slots_[node->result(i)] = next++;
  frame_.resize(next);
  keepSlot_.assign(next, false);
  for (const ParameterSlot &parameter : parameters_)
    keepSlot_[parameter.slot] = true;
  for (const Value *output : graph_.outputs()) {
    unsigned slot = slotOf(output);
    outputSlots_.push_back(slot);
    keepSlot_[slot] = true;
  }

  if (llvm::Error error = createGroups())
    return error;
  planScaledParameters();

  for (const Node *node : graph_.nodes()) {
    BuildContext context(*this, self, *node);
    llvm::Expected<std::unique_ptr<Kernel>> kernel = makeError("unreachable");
    llvm::consumeError(kernel.takeError());
    if (KernelFactory factory = lookupKernelFactory(node->opName())) {
      kernel = factory(context);
    } else if (node->op().role == OpRole::FakeQuant) {
      ObserverGroup *group = groupById_.lookup(node->attribute(fqattr::kGroup)->getInt());
      auto fakeQuant = std::make_unique<FakeQuantKernel>(*this, *group, slotOf(node->operand(0)),
                                                         slotOf(node->result(0)), *node);
      fakeQuant->setScaled(scaledByValue_.lookup(node->operand(0)));
      kernel = std::move(fakeQuant);
    } else if (KernelFactory builtin = builtinFactory(*node)) {
      kernel = builtin(context);
    } else if (node->opName().contains("::")) {
      kernel = createDispatchKernel(context, options_.pointwiseConvOnOneDnn);
    } else {
      kernel = makeError(
          "no kernel for op '" + node->opName() +
          "': the interpreter runs TorchScript ops (namespace::name) through LibTorch's "
          "operator registry and qfx ops through its own kernels; register a KernelFactory for "
          "this op family (runtime/interpreter/Kernel.h)");
    }
    if (!kernel)
      return makeError(node->describe() + ": " + llvm::toString(kernel.takeError()));
    if (ScaledParameter *scaled = scaledWeightOf(*node))
      if (dynamic_cast<DispatchKernel *>(kernel->get())) {
        const OpInfo &op = node->op();
        std::optional<unsigned> biasSlot;
        if (op.biasOperand >= 0 && op.biasOperand < static_cast<int>(node->numOperands()))
          biasSlot = slotOf(node->operand(op.biasOperand));
        std::unique_ptr<DispatchKernel> inner(static_cast<DispatchKernel *>(kernel->release()));
        *kernel = std::make_unique<ScaledWeightKernel>(
            std::move(inner), *scaled, slotOf(node->operand(op.weightOperand)), biasSlot,
            slotOf(node->result(0)), op.role == OpRole::Linear);
      }
    instructions_.push_back({node, std::move(*kernel), {}});
  }

  computeFreeLists();
  return loadParameters(options_.copyParameters);
}

void Interpreter::Impl::computeFreeLists() {
  // Last uses: a value is dropped after the last instruction reading it (or
  // right after its producer when nothing reads it). Kept slots (parameters,
  // graph outputs, taps) are never dropped mid-run.
  std::vector<int64_t> lastUse(frame_.size(), -1);
  for (size_t i = 0; i < instructions_.size(); ++i) {
    const Node *node = instructions_[i].node;
    for (const Value *operand : node->operands())
      lastUse[slotOf(operand)] = static_cast<int64_t>(i);
    for (unsigned r = 0; r < node->numResults(); ++r) {
      unsigned slot = slotOf(node->result(r));
      if (lastUse[slot] < 0)
        lastUse[slot] = static_cast<int64_t>(i);
    }
  }
  transientSlots_.clear();
  for (Instruction &instruction : instructions_)
    instruction.freeAfter.clear();
  for (unsigned slot = 0; slot < frame_.size(); ++slot) {
    if (keepSlot_[slot])
      continue;
    transientSlots_.push_back(slot);
    if (lastUse[slot] >= 0)
      instructions_[lastUse[slot]].freeAfter.push_back(slot);
  }
  for (size_t i = 0; i < instructions_.size(); ++i) {
    Kernel *kernel = instructions_[i].kernel.get();
    auto *dispatch = dynamic_cast<DispatchKernel *>(kernel);
    if (auto *scaled = dynamic_cast<ScaledWeightKernel *>(kernel))
      dispatch = &scaled->inner();
    if (dispatch)
      dispatch->setMoves([&](unsigned slot) {
        return !keepSlot_[slot] && lastUse[slot] == static_cast<int64_t>(i);
      });
  }
}

llvm::Error Interpreter::Impl::loadParameters(bool copyAll) {
  for (ParameterSlot &parameter : parameters_) {
    const Value *value = parameter.value;
    if (!value->data()) {
      if (value->hasUses())
        return makeError("parameter '%" + value->name() +
                         "' has no data: the graph was written by hand or its data was "
                         "dropped; import the model or attach data before running it");
      continue;
    }
    bool copy = copyAll || writtenParameters_.count(parameter.slot);
    if (parameter.scaled && !copy) {
      // The source, which the kernels reading it scale (planScaledParameters).
      llvm::Expected<at::Tensor> source =
          tensorFromData(parameter.scaled->form->source, /*copy=*/false);
      if (!source)
        return makeError("parameter '%" + value->name() +
                         "': " + llvm::toString(source.takeError()));
      parameter.scaled->source = *source;
      frame_[parameter.slot] = std::move(*source);
      continue;
    }
    llvm::Expected<at::Tensor> tensor = tensorFromData(value->data(), copy);
    if (!tensor)
      return makeError("parameter '%" + value->name() + "': " + llvm::toString(tensor.takeError()));
    // tensorFromData copies misaligned data even when asked for a view.
    parameter.owned = copy || tensor->data_ptr() != value->data()->view().data();
    parameter.loadedVersion = tensor->_version();
    frame_[parameter.slot] = std::move(*tensor);
  }
  return llvm::Error::success();
}

void Interpreter::Impl::ensureOwnedParameters() {
  for (ParameterSlot &parameter : parameters_) {
    if (parameter.owned || !frame_[parameter.slot].isTensor())
      continue;
    // A scaled parameter's copy is its product: what training updates.
    at::Tensor copy = parameterTensor(parameter).clone();
    parameter.owned = true;
    parameter.loadedVersion = copy._version();
    frame_[parameter.slot] = std::move(copy);
  }
}

//===----------------------------------------------------------------------===//
// Running
//===----------------------------------------------------------------------===//

llvm::Error Interpreter::Impl::checkInputs(llvm::ArrayRef<at::Tensor> inputs) const {
  llvm::ArrayRef<Value *> expected = graph_.inputs();
  if (inputs.size() != expected.size()) {
    std::string types;
    for (const Value *input : expected)
      types += (types.empty() ? "" : ", ") + valueName(*input) + ": " + input->type().str();
    return makeError("graph @" + graph_.name() + " takes " + llvm::Twine(expected.size()) +
                     " input" + (expected.size() == 1 ? "" : "s") + " (" + types + "), got " +
                     llvm::Twine(inputs.size()) + "; give one tensor per graph input, in order");
  }
  for (size_t i = 0; i < inputs.size(); ++i) {
    const Value &input = *expected[i];
    const Type &type = input.type();
    const at::Tensor &tensor = inputs[i];
    auto mismatch = [&](const llvm::Twine &what) {
      return makeError("input " + llvm::Twine(i) + " (" + valueName(input) + ": " + type.str() +
                       ") got " + describeTensor(tensor) + ": " + what);
    };
    if (!tensor.defined())
      return mismatch("inputs must be defined tensors");
    if (!type.isTensor()) {
      if (tensor.numel() != 1 && type.kind() != Type::Kind::Any)
        return mismatch("a scalar input takes a one-element tensor");
      continue;
    }
    if (type.dtype() != DType::Unknown) {
      std::optional<at::ScalarType> dtype = toScalarType(type.dtype());
      if (dtype && *dtype != tensor.scalar_type())
        return mismatch("wrong dtype; convert the data to " + std::string(c10::toString(*dtype)));
    }
    if (type.hasRank()) {
      if (type.rank() != tensor.dim())
        return mismatch("wrong rank; the model takes " + llvm::Twine(type.rank()) + "-d inputs");
      for (int64_t d = 0; d < type.rank(); ++d)
        if (type.shape()[d] != Type::kDynamic && type.shape()[d] != tensor.size(d))
          return mismatch("dim " + llvm::Twine(d) + " must be " + llvm::Twine(type.shape()[d]) +
                          "; reshape the data (or export the model with that dim dynamic)");
    }
  }
  return llvm::Error::success();
}

llvm::Expected<std::vector<at::Tensor>> Interpreter::Impl::run(llvm::ArrayRef<at::Tensor> inputs) {
  if (llvm::Error error = checkInputs(inputs))
    return std::move(error);
  llvm::ArrayRef<Value *> graphInputs = graph_.inputs();
  for (size_t i = 0; i < inputs.size(); ++i) {
    const Type &type = graphInputs[i]->type();
    switch (type.kind()) {
    case Type::Kind::Int:
      frame_[inputSlots_[i]] = inputs[i].item<int64_t>();
      break;
    case Type::Kind::Float:
      frame_[inputSlots_[i]] = inputs[i].item<double>();
      break;
    case Type::Kind::Bool:
      frame_[inputSlots_[i]] = inputs[i].item<bool>();
      break;
    default:
      frame_[inputSlots_[i]] = inputs[i];
    }
  }
  Frame frame{frame_.data(), training_, self_};
  bool grad = training_ && *training_;
  size_t current = 0;
  auto clearTransient = [&] {
    for (unsigned slot : transientSlots_)
      frame_[slot] = c10::IValue();
  };
  auto fail = [&](const std::string &message) -> llvm::Error {
    clearTransient();
    return makeError(instructions_[current].node->describe() + ": " + message);
  };
  std::vector<at::Tensor> outputs;
  try {
    // No autograd bookkeeping outside training: faster dispatch, no graph.
    std::optional<c10::InferenceMode> inference;
    std::optional<at::AutoGradMode> gradMode;
    if (grad)
      gradMode.emplace(true);
    else
      inference.emplace();
    for (; current < instructions_.size(); ++current) {
      Instruction &instruction = instructions_[current];
      if (llvm::Error error = instruction.kernel->run(frame))
        return fail(llvm::toString(std::move(error)));
      // A copy taken now: a later in-place op (`out += identity`, relu_)
      // may write the very tensor.
      for (unsigned tap : instruction.taps) {
        const c10::IValue &value = frame_[slotOf(instruction.node->result(0))];
        tappedValues_[tap] = value.isTensor() ? value.toTensor().clone() : at::Tensor();
      }
      for (unsigned slot : instruction.freeAfter)
        frame_[slot] = c10::IValue();
    }
    current = instructions_.empty() ? 0 : instructions_.size() - 1;
    for (size_t i = 0; i < outputSlots_.size(); ++i) {
      c10::IValue &value = frame_[outputSlots_[i]];
      if (value.isTensor())
        outputs.push_back(value.toTensor());
      else if (value.isInt())
        outputs.push_back(at::scalar_tensor(value.toInt(), at::kLong));
      else if (value.isDouble())
        outputs.push_back(at::scalar_tensor(value.toDouble(), at::kDouble));
      else if (value.isBool())
        outputs.push_back(at::scalar_tensor(value.toBool(), at::kBool));
      else {
        clearTransient();
        return makeError("graph output " + llvm::Twine(i) + " is a " + value.tagKind() +
                         ", not a tensor or number; return tensors from the model");
      }
    }
  } catch (const c10::Error &error) {
    return fail(error.what_without_backtrace());
  } catch (const std::exception &error) {
    return fail(error.what());
  }
  clearTransient();
  return outputs;
}

//===----------------------------------------------------------------------===//
// Interpreter
//===----------------------------------------------------------------------===//

Interpreter::Interpreter(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Interpreter::~Interpreter() = default;

llvm::Expected<std::unique_ptr<Interpreter>> Interpreter::create(const Graph &graph,
                                                                 InterpreterOptions options) {
  auto impl = std::make_unique<Impl>(graph, std::move(options));
  Impl &ref = *impl;
  std::unique_ptr<Interpreter> interpreter(new Interpreter(std::move(impl)));
  try {
    if (llvm::Error error = ref.compile(*interpreter))
      return std::move(error);
  } catch (const c10::Error &error) {
    return makeError(llvm::Twine("compiling graph @") + graph.name() +
                     " failed: " + error.what_without_backtrace());
  }
  return std::move(interpreter);
}

llvm::Expected<std::vector<at::Tensor>> Interpreter::run(llvm::ArrayRef<at::Tensor> inputs) {
  return impl_->run(inputs);
}

llvm::Error Interpreter::checkInputs(llvm::ArrayRef<at::Tensor> inputs) const {
  return impl_->checkInputs(inputs);
}

const Graph &Interpreter::graph() const { return impl_->graph_; }
size_t Interpreter::numKernels() const { return impl_->instructions_.size(); }

llvm::ArrayRef<std::unique_ptr<ObserverGroup>> Interpreter::groups() const {
  return impl_->groups_;
}

ObserverGroup *Interpreter::group(int64_t id) const { return impl_->groupById_.lookup(id); }

bool Interpreter::hasSchedules() const {
  for (const auto &group : impl_->groups_)
    if (group->schedule())
      return true;
  return false;
}

void Interpreter::setObserversEnabled(bool enabled) {
  for (const auto &group : impl_->groups_)
    group->setObserverEnabled(enabled);
}

void Interpreter::setFakeQuantEnabled(bool enabled) {
  for (const auto &group : impl_->groups_)
    group->setFakeQuantEnabled(enabled);
}

void Interpreter::applySchedule(int64_t step) {
  for (const auto &group : impl_->groups_)
    if (const std::optional<QatSchedule> &schedule = group->schedule()) {
      group->setObserverEnabled(schedule->observerOn(step));
      group->setFakeQuantEnabled(schedule->fakeQuantOn(step));
    }
}

void Interpreter::setTraining(std::optional<bool> training) {
  impl_->training_ = training;
  if (training && *training) {
    impl_->ensureOwnedParameters();
    for (const at::Tensor &parameter : trainableParameters())
      if (!parameter.requires_grad())
        parameter.set_requires_grad(true);
  }
}

std::optional<bool> Interpreter::training() const { return impl_->training_; }

at::Tensor Interpreter::parameter(llvm::StringRef name) const {
  auto found = impl_->parameterIndex_.find(name);
  if (found == impl_->parameterIndex_.end())
    return at::Tensor();
  return impl_->parameterTensor(impl_->parameters_[found->second]);
}

std::vector<std::pair<std::string, at::Tensor>> Interpreter::namedParameters() const {
  std::vector<std::pair<std::string, at::Tensor>> result;
  for (const Impl::ParameterSlot &parameter : impl_->parameters_) {
    result.emplace_back(parameter.value->name().str(), impl_->parameterTensor(parameter));
  }
  return result;
}

std::vector<at::Tensor> Interpreter::trainableParameters() const {
  std::vector<at::Tensor> result;
  for (const Impl::ParameterSlot &parameter : impl_->parameters_) {
    at::Tensor tensor = impl_->parameterTensor(parameter);
    if (!parameter.value->isBuffer() && tensor.defined() &&
        at::isFloatingType(tensor.scalar_type()))
      result.push_back(tensor);
  }
  return result;
}

llvm::Expected<size_t> Interpreter::writeParametersTo(Graph &graph) const {
  size_t written = 0;
  for (const Impl::ParameterSlot &parameter : impl_->parameters_) {
    const c10::IValue &value = impl_->frame_[parameter.slot];
    if (!parameter.owned || !value.isTensor())
      continue;
    const at::Tensor &tensor = value.toTensor();
    if (tensor._version() == parameter.loadedVersion)
      continue;
    Value *target = graph.parameter(parameter.value->name());
    if (!target)
      continue;
    DType dtype = target->data() ? target->data()->dtype : fromScalarType(tensor.scalar_type());
    llvm::Expected<TensorData> data = tensorToData(tensor, dtype);
    if (!data)
      return makeError("parameter '%" + parameter.value->name() +
                       "': " + llvm::toString(data.takeError()));
    target->setData(std::make_shared<TensorData>(std::move(*data)));
    ++written;
  }
  return written;
}

void Interpreter::setTappedNodes(llvm::ArrayRef<const Node *> nodes) {
  Impl &impl = *impl_;
  llvm::DenseMap<const Node *, size_t> position;
  for (size_t i = 0; i < impl.instructions_.size(); ++i) {
    impl.instructions_[i].taps.clear();
    position[impl.instructions_[i].node] = i;
  }
  impl.tappedValues_.assign(nodes.size(), at::Tensor());
  for (size_t tap = 0; tap < nodes.size(); ++tap) {
    auto found = position.find(nodes[tap]);
    if (found != position.end() && nodes[tap]->numResults() > 0)
      impl.instructions_[found->second].taps.push_back(static_cast<unsigned>(tap));
  }
}

at::Tensor Interpreter::tappedValue(size_t index) const {
  if (index >= impl_->tappedValues_.size())
    return at::Tensor();
  return impl_->tappedValues_[index];
}

} // namespace qfx
