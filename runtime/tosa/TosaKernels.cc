//===- runtime/tosa/TosaKernels.cc - tosa ops as interpreter kernels ------===//
//
// One Kernel class per op family. Factories run once per node when the
// interpreter is built: they check the arity, read the attributes (pad,
// stride, dilation, kernel, shift, axis, new_shape, clamp bounds, slice
// boxes) and the constant operands (transpose perms, pad amounts and value),
// and decide the ATen call (native
// symmetric padding or an explicit pad, pooling divisors). run() only
// permutes activations between TOSA's NHWC and ATen's NCHW (views; ATen's
// channels-last kernels make the way back a free view too) and calls ATen.
// Constant weights are permuted to ATen's layout once and cached per source
// tensor (identity and version counter, where the tensor has one: inference
// tensors do not), so a weight parameter is converted
// on the first batch only; a weight that changes (a fake-quant's output,
// training) is converted again, and tensors that require gradients are never
// cached so autograd sees the permute.
//
//===----------------------------------------------------------------------===//
#include "runtime/tosa/TosaKernels.h"

#include "ir/Graph.h"
#include "runtime/interpreter/Interpreter.h"
#include "runtime/interpreter/Kernel.h"

#include <ATen/ATen.h>

#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/Twine.h"

#include <algorithm>
#include <array>
#include <functional>
#include <limits>
#include <map>
#include <mutex>
#include <utility>

namespace qfx {

namespace {

llvm::Error makeError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

using Factory = std::function<llvm::Expected<std::unique_ptr<Kernel>>(KernelBuildContext &)>;

//===----------------------------------------------------------------------===//
// Attribute reading (build time)
//===----------------------------------------------------------------------===//

llvm::Error checkOperands(const Node &node, unsigned min, unsigned max) {
  unsigned n = node.numOperands();
  if (n < min || n > max || node.numResults() != 1)
    return makeError(
        "'" + node.opName() + "' expects " +
        (min == max ? llvm::Twine(min) : llvm::Twine(min) + " to " + llvm::Twine(max)) +
        " operands and one result, found " + llvm::Twine(n) + " operands");
  return llvm::Error::success();
}

llvm::Expected<std::vector<int64_t>> intList(const Node &node, llvm::StringRef name, size_t size) {
  const Attribute *attribute = node.attribute(name);
  if (!attribute)
    return makeError("'" + node.opName() + "' needs attribute '" + name + "'");
  std::optional<std::vector<int64_t>> values = attribute->asIntList();
  if (!values || values->size() != size)
    return makeError("attribute '" + name + "' of '" + node.opName() + "' must be a list of " +
                     llvm::Twine(size) + " integers, found " + attribute->str());
  return std::move(*values);
}

llvm::Expected<int64_t> intAttr(const Node &node, llvm::StringRef name) {
  const Attribute *attribute = node.attribute(name);
  if (!attribute || !attribute->isInt())
    return makeError("'" + node.opName() + "' needs an integer attribute '" + name + "'" +
                     (attribute ? ", found " + attribute->str() : std::string()));
  return attribute->getInt();
}

llvm::Expected<double> numberAttr(const Node &node, llvm::StringRef name) {
  const Attribute *attribute = node.attribute(name);
  std::optional<double> value = attribute ? attribute->asNumber() : std::nullopt;
  if (!value)
    return makeError("'" + node.opName() + "' needs a numeric attribute '" + name + "'");
  return *value;
}

/// Whether the node's result is a float tensor (what the compute kernels
/// support); an unknown element type is given the benefit of the doubt.
llvm::Error requireFloat(const Node &node) {
  const Type &type = node.result(0)->type();
  if (type.isTensor() && type.dtype() != DType::Unknown && !type.isFloatTensor())
    return makeError("'" + node.opName() + "' on " + type.str() +
                     ": the interpreter runs float tosa compute ops only (quantized integer "
                     "tosa models cannot be calibrated; import the float model)");
  return llvm::Error::success();
}

/// TOSA pads are [top, bottom, left, right]. Symmetric pads ATen can do
/// natively become `native` ({top, left}); others an explicit
/// constant_pad_nd argument (`{left, right, top, bottom}`, NCHW's last dim
/// first).
struct Padding {
  std::array<int64_t, 2> native = {0, 0};
  std::vector<int64_t> explicitPad; // empty: none needed

  static Padding fromTosa(llvm::ArrayRef<int64_t> pad, bool nativeAllowed) {
    Padding padding;
    if (pad[0] == pad[1] && pad[2] == pad[3] && nativeAllowed)
      padding.native = {pad[0], pad[2]};
    else if (pad[0] || pad[1] || pad[2] || pad[3])
      padding.explicitPad = {pad[2], pad[3], pad[0], pad[1]};
    return padding;
  }
};

llvm::Error checkNonNegative(const Node &node, llvm::StringRef name, llvm::ArrayRef<int64_t> values,
                             int64_t minimum) {
  for (int64_t v : values)
    if (v < minimum)
      return makeError("attribute '" + name + "' of '" + node.opName() + "' must hold values >= " +
                       llvm::Twine(minimum) + ", found " + llvm::Twine(v));
  return llvm::Error::success();
}

at::Tensor toNCHW(const at::Tensor &x) { return x.permute({0, 3, 1, 2}); }
at::Tensor toNHWC(const at::Tensor &x) { return x.permute({0, 2, 3, 1}).contiguous(); }

/// A tensor derived from a weight (permuted to ATen's layout), recomputed only
/// when the weight is another tensor or was modified in place.
class DerivedWeight {
public:
  explicit DerivedWeight(std::function<at::Tensor(const at::Tensor &)> derive)
      : derive_(std::move(derive)) {}

  at::Tensor get(const at::Tensor &weight) {
    if (weight.requires_grad())
      return derive_(weight);
    // Inference tensors (made under c10::InferenceMode) have no version
    // counter: identity alone decides for them.
    uint32_t version = weight.is_inference() ? 0 : weight._version();
    if (!result_.defined() || !weight.is_same(source_) || version != version_) {
      source_ = weight;
      version_ = version;
      result_ = derive_(weight).contiguous();
    }
    return result_;
  }

private:
  std::function<at::Tensor(const at::Tensor &)> derive_;
  at::Tensor source_;
  uint32_t version_ = 0;
  at::Tensor result_;
};

//===----------------------------------------------------------------------===//
// Convolutions and fully connected
//===----------------------------------------------------------------------===//

/// The bias as ATen wants it: one value per output channel (TOSA allows a
/// single broadcast value).
at::Tensor biasFor(const at::Tensor &bias, int64_t channels) {
  if (bias.dim() == 1 && bias.size(0) == channels)
    return bias;
  return bias.reshape({-1}).expand({channels});
}

class Conv2dKernel : public Kernel {
public:
  Conv2dKernel(unsigned input, unsigned weight, unsigned bias, unsigned output, bool depthwise,
               Padding padding, std::vector<int64_t> stride, std::vector<int64_t> dilation)
      : input_(input), weight_(weight), bias_(bias), output_(output), depthwise_(depthwise),
        padding_(std::move(padding)), stride_(std::move(stride)), dilation_(std::move(dilation)),
        aten_(depthwise ? DerivedWeight([](const at::Tensor &w) {
          // [KH, KW, C, M] -> [C, M, KH, KW] -> [C * M, 1, KH, KW]: output
          // channel c * M + m reads input channel c, as in TOSA.
          return w.permute({2, 3, 0, 1}).reshape({w.size(2) * w.size(3), 1, w.size(0), w.size(1)});
        })
                        : DerivedWeight([](const at::Tensor &w) {
                            return w.permute({0, 3, 1, 2}); // OHWI -> OIHW
                          })) {}

  llvm::Error run(Frame &frame) override {
    at::Tensor x = toNCHW(frame[input_].toTensor());
    if (!padding_.explicitPad.empty())
      x = at::constant_pad_nd(x, padding_.explicitPad, 0);
    at::Tensor weight = aten_.get(frame[weight_].toTensor());
    at::Tensor bias = biasFor(frame[bias_].toTensor(), weight.size(0));
    int64_t groups = depthwise_ ? x.size(1) : 1;
    at::Tensor y = at::conv2d(x, weight, bias, stride_, padding_.native, dilation_, groups);
    frame[output_] = toNHWC(y);
    return llvm::Error::success();
  }

private:
  unsigned input_, weight_, bias_, output_;
  bool depthwise_;
  Padding padding_;
  std::vector<int64_t> stride_, dilation_;
  DerivedWeight aten_;
};

llvm::Expected<std::unique_ptr<Kernel>> makeConv2d(KernelBuildContext &context, bool depthwise) {
  const Node &node = context.node();
  if (llvm::Error error = checkOperands(node, 3, 3))
    return std::move(error);
  if (llvm::Error error = requireFloat(node))
    return std::move(error);
  llvm::Expected<std::vector<int64_t>> pad = intList(node, "pad", 4);
  if (!pad)
    return pad.takeError();
  llvm::Expected<std::vector<int64_t>> stride = intList(node, "stride", 2);
  if (!stride)
    return stride.takeError();
  llvm::Expected<std::vector<int64_t>> dilation = intList(node, "dilation", 2);
  if (!dilation)
    return dilation.takeError();
  if (llvm::Error error = checkNonNegative(node, "pad", *pad, 0))
    return std::move(error);
  if (llvm::Error error = checkNonNegative(node, "stride", *stride, 1))
    return std::move(error);
  if (llvm::Error error = checkNonNegative(node, "dilation", *dilation, 1))
    return std::move(error);
  return std::make_unique<Conv2dKernel>(context.operandSlot(0), context.operandSlot(1),
                                        context.operandSlot(2), context.resultSlot(0), depthwise,
                                        Padding::fromTosa(*pad, /*nativeAllowed=*/true),
                                        std::move(*stride), std::move(*dilation));
}

class FullyConnectedKernel : public Kernel {
public:
  FullyConnectedKernel(unsigned input, unsigned weight, unsigned bias, unsigned output)
      : input_(input), weight_(weight), bias_(bias), output_(output) {}
  llvm::Error run(Frame &frame) override {
    // Weights are [OC, IC] in TOSA as in ATen: no permute.
    at::Tensor weight = frame[weight_].toTensor();
    frame[output_] = at::linear(frame[input_].toTensor(), weight,
                                biasFor(frame[bias_].toTensor(), weight.size(0)));
    return llvm::Error::success();
  }

private:
  unsigned input_, weight_, bias_, output_;
};

llvm::Expected<std::unique_ptr<Kernel>> makeFullyConnected(KernelBuildContext &context) {
  const Node &node = context.node();
  if (llvm::Error error = checkOperands(node, 3, 3))
    return std::move(error);
  if (llvm::Error error = requireFloat(node))
    return std::move(error);
  return std::make_unique<FullyConnectedKernel>(context.operandSlot(0), context.operandSlot(1),
                                                context.operandSlot(2), context.resultSlot(0));
}

class MatmulKernel : public Kernel {
public:
  MatmulKernel(unsigned a, unsigned b, unsigned output) : a_(a), b_(b), output_(output) {}
  llvm::Error run(Frame &frame) override {
    // [N, H, C] x [N, C, W] -> [N, H, W].
    frame[output_] = at::bmm(frame[a_].toTensor(), frame[b_].toTensor());
    return llvm::Error::success();
  }

private:
  unsigned a_, b_, output_;
};

llvm::Expected<std::unique_ptr<Kernel>> makeMatmul(KernelBuildContext &context) {
  const Node &node = context.node();
  if (llvm::Error error = checkOperands(node, 2, 2))
    return std::move(error);
  if (llvm::Error error = requireFloat(node))
    return std::move(error);
  return std::make_unique<MatmulKernel>(context.operandSlot(0), context.operandSlot(1),
                                        context.resultSlot(0));
}

//===----------------------------------------------------------------------===//
// Pooling
//===----------------------------------------------------------------------===//

class MaxPool2dKernel : public Kernel {
public:
  MaxPool2dKernel(unsigned input, unsigned output, std::vector<int64_t> kernel,
                  std::vector<int64_t> stride, Padding padding)
      : input_(input), output_(output), kernel_(std::move(kernel)), stride_(std::move(stride)),
        padding_(std::move(padding)) {}
  llvm::Error run(Frame &frame) override {
    at::Tensor x = toNCHW(frame[input_].toTensor());
    // Padding never wins a max: pad with -inf (ATen's native padding does).
    if (!padding_.explicitPad.empty())
      x = at::constant_pad_nd(x, padding_.explicitPad, -std::numeric_limits<double>::infinity());
    frame[output_] = toNHWC(at::max_pool2d(x, kernel_, stride_, padding_.native));
    return llvm::Error::success();
  }

private:
  unsigned input_, output_;
  std::vector<int64_t> kernel_, stride_;
  Padding padding_;
};

/// TOSA's average divides by the number of window elements inside the input
/// (padding is not counted, like count_include_pad=false), for any padding,
/// symmetric or not. With padding: sums over the zero-padded input divided by
/// a per-position count, computed once per input size.
class AvgPool2dKernel : public Kernel {
public:
  AvgPool2dKernel(unsigned input, unsigned output, std::vector<int64_t> kernel,
                  std::vector<int64_t> stride, std::vector<int64_t> pad)
      : input_(input), output_(output), kernel_(std::move(kernel)), stride_(std::move(stride)),
        pad_(Padding::fromTosa(pad, /*nativeAllowed=*/false).explicitPad) {}
  llvm::Error run(Frame &frame) override {
    at::Tensor x = toNCHW(frame[input_].toTensor());
    if (pad_.empty()) {
      frame[output_] = toNHWC(at::avg_pool2d(x, kernel_, stride_));
      return llvm::Error::success();
    }
    at::Tensor sums = at::avg_pool2d(at::constant_pad_nd(x, pad_, 0), kernel_, stride_, {0, 0},
                                     /*ceil_mode=*/false, /*count_include_pad=*/true,
                                     /*divisor_override=*/1);
    frame[output_] = toNHWC(sums / countsFor(x));
    return llvm::Error::success();
  }

private:
  const at::Tensor &countsFor(const at::Tensor &x) {
    std::pair<int64_t, int64_t> key(x.size(2), x.size(3));
    auto found = counts_.find(key);
    if (found != counts_.end() && found->second.scalar_type() == x.scalar_type())
      return found->second;
    at::Tensor ones = at::ones({1, 1, key.first, key.second}, x.options());
    at::Tensor counts = at::avg_pool2d(at::constant_pad_nd(ones, pad_, 0), kernel_, stride_, {0, 0},
                                       false, true, /*divisor_override=*/1);
    return counts_[key] = counts;
  }

  unsigned input_, output_;
  std::vector<int64_t> kernel_, stride_, pad_;
  std::map<std::pair<int64_t, int64_t>, at::Tensor> counts_;
};

llvm::Expected<std::unique_ptr<Kernel>> makePool2d(KernelBuildContext &context, bool max) {
  const Node &node = context.node();
  if (llvm::Error error = checkOperands(node, 1, 1))
    return std::move(error);
  if (llvm::Error error = requireFloat(node))
    return std::move(error);
  llvm::Expected<std::vector<int64_t>> kernel = intList(node, "kernel", 2);
  if (!kernel)
    return kernel.takeError();
  llvm::Expected<std::vector<int64_t>> stride = intList(node, "stride", 2);
  if (!stride)
    return stride.takeError();
  llvm::Expected<std::vector<int64_t>> pad = intList(node, "pad", 4);
  if (!pad)
    return pad.takeError();
  if (llvm::Error error = checkNonNegative(node, "kernel", *kernel, 1))
    return std::move(error);
  if (llvm::Error error = checkNonNegative(node, "stride", *stride, 1))
    return std::move(error);
  if (llvm::Error error = checkNonNegative(node, "pad", *pad, 0))
    return std::move(error);
  if (max) {
    // ATen pads natively only up to half the kernel.
    bool native = (*pad)[0] * 2 <= (*kernel)[0] && (*pad)[2] * 2 <= (*kernel)[1];
    return std::make_unique<MaxPool2dKernel>(context.operandSlot(0), context.resultSlot(0),
                                             std::move(*kernel), std::move(*stride),
                                             Padding::fromTosa(*pad, native));
  }
  return std::make_unique<AvgPool2dKernel>(context.operandSlot(0), context.resultSlot(0),
                                           std::move(*kernel), std::move(*stride), std::move(*pad));
}

//===----------------------------------------------------------------------===//
// Elementwise
//===----------------------------------------------------------------------===//

/// Any elementwise or data-movement op given as a function of its operands.
class FunctionKernel : public Kernel {
public:
  using Function = std::function<at::Tensor(llvm::ArrayRef<at::Tensor>)>;
  FunctionKernel(std::vector<unsigned> operands, unsigned output, Function function)
      : operands_(std::move(operands)), output_(output), function_(std::move(function)) {
    tensors_.resize(operands_.size());
  }
  llvm::Error run(Frame &frame) override {
    for (size_t i = 0; i < operands_.size(); ++i)
      tensors_[i] = frame[operands_[i]].toTensor();
    frame[output_] = function_(tensors_);
    for (at::Tensor &tensor : tensors_)
      tensor.reset();
    return llvm::Error::success();
  }

private:
  std::vector<unsigned> operands_;
  unsigned output_;
  Function function_;
  std::vector<at::Tensor> tensors_;
};

std::unique_ptr<Kernel> functionKernel(KernelBuildContext &context,
                                       FunctionKernel::Function function) {
  std::vector<unsigned> operands;
  for (unsigned i = 0; i < context.node().numOperands(); ++i)
    operands.push_back(context.operandSlot(i));
  return std::make_unique<FunctionKernel>(std::move(operands), context.resultSlot(0),
                                          std::move(function));
}

Factory unary(at::Tensor (*function)(const at::Tensor &)) {
  return [function](KernelBuildContext &context) -> llvm::Expected<std::unique_ptr<Kernel>> {
    if (llvm::Error error = checkOperands(context.node(), 1, 1))
      return std::move(error);
    return functionKernel(context,
                          [function](llvm::ArrayRef<at::Tensor> x) { return function(x[0]); });
  };
}

/// add / sub / mul broadcast as TOSA does (equal ranks, dims of 1 stretch),
/// which ATen's broadcasting covers.
Factory binary(at::Tensor (*function)(const at::Tensor &, const at::Tensor &)) {
  return [function](KernelBuildContext &context) -> llvm::Expected<std::unique_ptr<Kernel>> {
    if (llvm::Error error = checkOperands(context.node(), 2, 2))
      return std::move(error);
    return functionKernel(
        context, [function](llvm::ArrayRef<at::Tensor> x) { return function(x[0], x[1]); });
  };
}

at::Tensor addTensors(const at::Tensor &a, const at::Tensor &b) { return at::add(a, b); }
at::Tensor subTensors(const at::Tensor &a, const at::Tensor &b) { return at::sub(a, b); }
at::Tensor identity(const at::Tensor &x) { return x; }
at::Tensor rsqrt(const at::Tensor &x) { return at::rsqrt(x); }
at::Tensor exp(const at::Tensor &x) { return at::exp(x); }
at::Tensor tanh(const at::Tensor &x) { return at::tanh(x); }
at::Tensor sigmoid(const at::Tensor &x) { return at::sigmoid(x); }
at::Tensor reciprocal(const at::Tensor &x) { return at::reciprocal(x); }
at::Tensor negate(const at::Tensor &x) { return at::neg(x); }
at::Tensor absolute(const at::Tensor &x) { return at::abs(x); }
at::Tensor logarithm(const at::Tensor &x) { return at::log(x); }
at::Tensor maximumTensors(const at::Tensor &a, const at::Tensor &b) { return at::maximum(a, b); }
at::Tensor minimumTensors(const at::Tensor &a, const at::Tensor &b) { return at::minimum(a, b); }

/// tosa.mul: a product; on int32 with shift > 0 the TOSA rounding right
/// shift (product + 2^(shift-1)) >> shift, computed in 64 bits.
llvm::Expected<std::unique_ptr<Kernel>> makeMul(KernelBuildContext &context) {
  const Node &node = context.node();
  if (llvm::Error error = checkOperands(node, 2, 2))
    return std::move(error);
  int64_t shift = 0;
  if (node.attribute("shift")) {
    llvm::Expected<int64_t> value = intAttr(node, "shift");
    if (!value)
      return value.takeError();
    shift = *value;
  }
  const Type &type = node.result(0)->type();
  if (shift < 0 || shift > 63)
    return makeError("attribute 'shift' of 'tosa.mul' must be in [0, 63], found " +
                     llvm::Twine(shift));
  if (shift != 0 && type.isFloatTensor())
    return makeError("'tosa.mul' with shift " + llvm::Twine(shift) +
                     " on a float tensor: TOSA allows a shift on integer tensors only");
  if (shift == 0)
    return functionKernel(context,
                          [](llvm::ArrayRef<at::Tensor> x) { return at::mul(x[0], x[1]); });
  return functionKernel(context, [shift](llvm::ArrayRef<at::Tensor> x) {
    at::Tensor product = x[0].to(at::kLong) * x[1].to(at::kLong);
    at::Tensor rounded = (product + (int64_t(1) << (shift - 1))).__rshift__(shift);
    return rounded.to(at::result_type(x[0], x[1]));
  });
}

llvm::Expected<std::unique_ptr<Kernel>> makeClamp(KernelBuildContext &context) {
  const Node &node = context.node();
  if (llvm::Error error = checkOperands(node, 1, 1))
    return std::move(error);
  // Which pair of bounds applies depends on the data: float tensors use
  // min_fp / max_fp, integer ones min_int / max_int. Both are read now.
  llvm::Expected<double> minFp = numberAttr(node, "min_fp");
  if (!minFp)
    return minFp.takeError();
  llvm::Expected<double> maxFp = numberAttr(node, "max_fp");
  if (!maxFp)
    return maxFp.takeError();
  llvm::Expected<int64_t> minInt = intAttr(node, "min_int");
  if (!minInt)
    return minInt.takeError();
  llvm::Expected<int64_t> maxInt = intAttr(node, "max_int");
  if (!maxInt)
    return maxInt.takeError();
  at::Scalar loF(*minFp), hiF(*maxFp), loI(*minInt), hiI(*maxInt);
  return functionKernel(context, [=](llvm::ArrayRef<at::Tensor> x) {
    return x[0].is_floating_point() ? at::clamp(x[0], loF, hiF) : at::clamp(x[0], loI, hiI);
  });
}

//===----------------------------------------------------------------------===//
// Data movement
//===----------------------------------------------------------------------===//

llvm::Expected<std::unique_ptr<Kernel>> makeReshape(KernelBuildContext &context) {
  const Node &node = context.node();
  if (llvm::Error error = checkOperands(node, 1, 1))
    return std::move(error);
  const Attribute *attribute = node.attribute("new_shape");
  std::optional<std::vector<int64_t>> shape =
      attribute ? attribute->asIntList() : std::optional<std::vector<int64_t>>();
  if (!shape)
    return makeError("'tosa.reshape' needs an integer list attribute 'new_shape'");
  return functionKernel(context, [shape = std::move(*shape)](llvm::ArrayRef<at::Tensor> x) {
    return at::reshape(x[0], shape);
  });
}

/// The integer data of constant operand `index` (a graph parameter).
llvm::Expected<std::vector<int64_t>> constantInts(const Node &node, unsigned index,
                                                  llvm::StringRef what) {
  const Value *value = node.operand(index);
  if (!value->isParameter() || !value->data())
    return makeError("the " + what + " of '" + node.opName() + "' (operand " + llvm::Twine(index) +
                     ") must be a constant (tosa.const / arith.constant), not a computed value");
  llvm::Expected<at::Tensor> tensor = tensorFromData(value->data(), /*copy=*/true);
  if (!tensor)
    return tensor.takeError();
  if (tensor->is_floating_point())
    return makeError("the " + what + " of '" + node.opName() + "' must be integers");
  at::Tensor longs = tensor->to(at::kLong).contiguous().reshape({-1});
  return std::vector<int64_t>(longs.data_ptr<int64_t>(), longs.data_ptr<int64_t>() + longs.numel());
}

llvm::Expected<std::unique_ptr<Kernel>> makeTranspose(KernelBuildContext &context) {
  const Node &node = context.node();
  if (llvm::Error error = checkOperands(node, 2, 2))
    return std::move(error);
  llvm::Expected<std::vector<int64_t>> perms = constantInts(node, 1, "perms");
  if (!perms)
    return perms.takeError();
  std::vector<bool> seen(perms->size(), false);
  for (int64_t p : *perms) {
    if (p < 0 || p >= static_cast<int64_t>(perms->size()) || seen[p])
      return makeError("the perms of 'tosa.transpose' are not a permutation of 0.." +
                       llvm::Twine(perms->size() - 1));
    seen[p] = true;
  }
  std::vector<unsigned> operands = {context.operandSlot(0)};
  return std::make_unique<FunctionKernel>(
      std::move(operands), context.resultSlot(0),
      [perms = std::move(*perms)](llvm::ArrayRef<at::Tensor> x) {
        return x[0].permute(perms).contiguous();
      });
}

llvm::Expected<std::unique_ptr<Kernel>> makeConcat(KernelBuildContext &context) {
  const Node &node = context.node();
  if (llvm::Error error = checkOperands(node, 1, std::numeric_limits<unsigned>::max()))
    return std::move(error);
  llvm::Expected<int64_t> axis = intAttr(node, "axis");
  if (!axis)
    return axis.takeError();
  return functionKernel(context, [axis = *axis](llvm::ArrayRef<at::Tensor> x) {
    return at::cat(at::TensorList(x.data(), x.size()), axis);
  });
}

/// reduce_sum / reduce_max / reduce_min / reduce_prod along `axis`, keeping
/// it as a dimension of 1 (TOSA's reductions keep the rank); softmax and
/// layer norm arrive from TOSA as these plus elementwise ops.
enum class Reduction { Sum, Max, Min, Prod };

Factory reduction(Reduction kind) {
  return [kind](KernelBuildContext &context) -> llvm::Expected<std::unique_ptr<Kernel>> {
    const Node &node = context.node();
    if (llvm::Error error = checkOperands(node, 1, 1))
      return std::move(error);
    llvm::Expected<int64_t> axis = intAttr(node, "axis");
    if (!axis)
      return axis.takeError();
    const Type &type = node.operand(0)->type();
    if (type.hasRank() && (*axis < 0 || *axis >= type.rank()))
      return makeError("the axis of '" + node.opName() + "' is " + llvm::Twine(*axis) +
                       ", outside the " + llvm::Twine(type.rank()) + " dims of its input");
    return functionKernel(context, [kind, axis = *axis](llvm::ArrayRef<at::Tensor> x) {
      switch (kind) {
      case Reduction::Sum:
        return at::sum(x[0], {axis}, /*keepdim=*/true);
      case Reduction::Max:
        return at::amax(x[0], {axis}, /*keepdim=*/true);
      case Reduction::Min:
        return at::amin(x[0], {axis}, /*keepdim=*/true);
      case Reduction::Prod:
        return at::prod(x[0], axis, /*keepdim=*/true);
      }
      return at::Tensor();
    });
  };
}

/// tosa.pad(input, padding[, pad_const]): `padding` is a constant [rank, 2]
/// of (before, after) per dim, in dim order; ATen's constant_pad_nd wants
/// them last dim first. The pad value (0 by default) is a constant too, read
/// once here.
llvm::Expected<std::unique_ptr<Kernel>> makePad(KernelBuildContext &context) {
  const Node &node = context.node();
  if (llvm::Error error = checkOperands(node, 2, 3))
    return std::move(error);
  llvm::Expected<std::vector<int64_t>> padding = constantInts(node, 1, "padding");
  if (!padding)
    return padding.takeError();
  const Type &type = node.operand(0)->type();
  if (padding->size() % 2 || (type.hasRank() && padding->size() != 2 * size_t(type.rank())))
    return makeError("the padding of '" + node.opName() +
                     "' must hold (before, after) for each of " +
                     (type.hasRank() ? llvm::Twine(type.rank()) : llvm::Twine("its")) +
                     " dims, found " + llvm::Twine(padding->size()) + " values");
  if (llvm::Error error = checkNonNegative(node, "padding", *padding, 0))
    return std::move(error);
  std::vector<int64_t> atenPad;
  for (size_t dim = padding->size() / 2; dim-- > 0;) {
    atenPad.push_back((*padding)[2 * dim]);
    atenPad.push_back((*padding)[2 * dim + 1]);
  }
  double value = 0;
  if (node.numOperands() == 3) {
    const Value *padConst = node.operand(2);
    if (!padConst->isParameter() || !padConst->data())
      return makeError("the pad_const of '" + node.opName() +
                       "' (operand 2) must be a constant (tosa.const), not a computed value");
    llvm::Expected<at::Tensor> tensor = tensorFromData(padConst->data(), /*copy=*/true);
    if (!tensor)
      return tensor.takeError();
    if (tensor->numel() != 1)
      return makeError("the pad_const of '" + node.opName() + "' must be one value, found " +
                       llvm::Twine(tensor->numel()));
    value = tensor->to(at::kDouble).item<double>();
  }
  std::vector<unsigned> operands = {context.operandSlot(0)};
  return std::make_unique<FunctionKernel>(
      std::move(operands), context.resultSlot(0),
      [atenPad = std::move(atenPad), value](llvm::ArrayRef<at::Tensor> x) {
        return at::constant_pad_nd(x[0], atenPad, value);
      });
}

/// tosa.slice {start, size}: a box of the input, per dim [start, start + size).
llvm::Expected<std::unique_ptr<Kernel>> makeSlice(KernelBuildContext &context) {
  const Node &node = context.node();
  if (llvm::Error error = checkOperands(node, 1, 1))
    return std::move(error);
  const Type &type = node.operand(0)->type();
  if (!type.hasStaticShape())
    return makeError("'" + node.opName() + "' needs a static input shape, found " + type.str());
  size_t rank = static_cast<size_t>(type.rank());
  llvm::Expected<std::vector<int64_t>> start = intList(node, "start", rank);
  if (!start)
    return start.takeError();
  llvm::Expected<std::vector<int64_t>> size = intList(node, "size", rank);
  if (!size)
    return size.takeError();
  for (size_t dim = 0; dim < rank; ++dim)
    if ((*start)[dim] < 0 || (*size)[dim] < 0 || (*start)[dim] + (*size)[dim] > type.shape()[dim])
      return makeError("the slice of '" + node.opName() + "' in dim " + llvm::Twine(dim) +
                       " (start " + llvm::Twine((*start)[dim]) + ", size " +
                       llvm::Twine((*size)[dim]) + ") is outside its size " +
                       llvm::Twine(type.shape()[dim]));
  return functionKernel(
      context, [start = std::move(*start), size = std::move(*size)](llvm::ArrayRef<at::Tensor> x) {
        at::Tensor result = x[0];
        for (size_t dim = 0; dim < start.size(); ++dim)
          result = result.narrow(static_cast<int64_t>(dim), start[dim], size[dim]);
        return result.contiguous();
      });
}

//===----------------------------------------------------------------------===//
// Registry
//===----------------------------------------------------------------------===//

const llvm::StringMap<Factory> &factories() {
  static const llvm::StringMap<Factory> *map = [] {
    auto *m = new llvm::StringMap<Factory>();
    (*m)["tosa.conv2d"] = [](KernelBuildContext &c) { return makeConv2d(c, false); };
    (*m)["tosa.depthwise_conv2d"] = [](KernelBuildContext &c) { return makeConv2d(c, true); };
    (*m)["tosa.fully_connected"] = makeFullyConnected;
    (*m)["tosa.matmul"] = makeMatmul;
    (*m)["tosa.max_pool2d"] = [](KernelBuildContext &c) { return makePool2d(c, true); };
    (*m)["tosa.avg_pool2d"] = [](KernelBuildContext &c) { return makePool2d(c, false); };
    (*m)["tosa.add"] = binary(addTensors);
    (*m)["tosa.sub"] = binary(subTensors);
    (*m)["tosa.mul"] = makeMul;
    (*m)["tosa.clamp"] = makeClamp;
    (*m)["tosa.rsqrt"] = unary(rsqrt);
    (*m)["tosa.exp"] = unary(exp);
    (*m)["tosa.tanh"] = unary(tanh);
    (*m)["tosa.sigmoid"] = unary(sigmoid);
    (*m)["tosa.identity"] = unary(identity);
    (*m)["tosa.reshape"] = makeReshape;
    (*m)["tosa.transpose"] = makeTranspose;
    (*m)["tosa.concat"] = makeConcat;
    (*m)["tosa.reciprocal"] = unary(reciprocal);
    (*m)["tosa.negate"] = unary(negate);
    (*m)["tosa.abs"] = unary(absolute);
    (*m)["tosa.log"] = unary(logarithm);
    (*m)["tosa.maximum"] = binary(maximumTensors);
    (*m)["tosa.minimum"] = binary(minimumTensors);
    (*m)["tosa.reduce_sum"] = reduction(Reduction::Sum);
    (*m)["tosa.reduce_max"] = reduction(Reduction::Max);
    (*m)["tosa.reduce_min"] = reduction(Reduction::Min);
    (*m)["tosa.reduce_prod"] = reduction(Reduction::Prod);
    (*m)["tosa.pad"] = makePad;
    (*m)["tosa.slice"] = makeSlice;
    return m;
  }();
  return *map;
}

std::string supportedList() {
  std::string text;
  for (llvm::StringRef name : supportedTosaOps())
    text += (text.empty() ? "" : ", ") + name.str();
  return text;
}

llvm::Expected<std::unique_ptr<Kernel>> createTosaKernel(KernelBuildContext &context) {
  llvm::StringRef name = context.node().opName();
  auto found = factories().find(name);
  if (found == factories().end())
    return makeError("the interpreter has no kernel for '" + name +
                     "', so this model cannot be run or calibrated; the tosa ops it runs are: " +
                     supportedList());
  return found->second(context);
}

struct Registrar {
  Registrar() { registerTosaKernels(); }
} registrar;

} // namespace

void registerTosaKernels() {
  static std::once_flag once;
  std::call_once(once, [] { registerKernelFactory("tosa.*", createTosaKernel); });
}

llvm::ArrayRef<llvm::StringRef> supportedTosaOps() {
  static const std::vector<llvm::StringRef> names = [] {
    std::vector<llvm::StringRef> sorted;
    for (const auto &entry : factories())
      sorted.push_back(entry.getKey());
    std::sort(sorted.begin(), sorted.end());
    return sorted;
  }();
  return names;
}

} // namespace qfx
