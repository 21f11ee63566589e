//===- runtime/interpreter/Quantizer.cc - prepare / calibrate / finalize --===//
//
// The workflow over the pass pipeline and the Interpreter, plus the runtime
// implementation of lower-to-qdq's WeightQuantizer service (static
// calculator and the fused quantize kernel), registered as the process-wide
// default when this library is loaded (the BUILD target is alwayslink) so
// every PassManager in a process that links the runtime finds it.
//
// Passes run one PassManager each (verifier on), so the report can count
// what each did and time it. Pass diagnostics are collected: errors become
// the returned llvm::Error, warnings go to the warning handler.
//
//===----------------------------------------------------------------------===//
#include "runtime/interpreter/Quantizer.h"

#include "passes/BuiltinPasses.h"
#include "passes/PassManager.h"
#include "passes/quant/QuantSupport.h"
#include "passes/quant/WeightQuantizer.h"
#include "runtime/interpreter/Calibration.h"
#include "runtime/kernels/Kernels.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include "llvm/Support/raw_ostream.h"

#include <chrono>

#ifdef __SSE2__
#include <emmintrin.h>
#endif
#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace qfx {

namespace {

llvm::Error makeError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

size_t countFakeQuants(const Graph &graph) {
  size_t count = 0;
  for (const Node *node : graph.nodes())
    count += isFakeQuant(*node);
  return count;
}

size_t countRole(const Graph &graph, OpRole role) {
  size_t count = 0;
  for (const Node *node : graph.nodes())
    count += node->op().role == role;
  return count;
}

/// A tensor over `data` valid for the duration of a call (no ownership).
llvm::Expected<at::Tensor> borrowTensor(const TensorData &data) {
  return tensorFromData(std::shared_ptr<const TensorData>(&data, [](const TensorData *) {}),
                        /*copy=*/false);
}

// Qparam tensors are tiny (one value per unit) and there are thousands of
// them when finalizing: read them directly instead of through tensor ops.
std::vector<double> toDoubles(const at::Tensor &tensor) {
  at::Tensor values = tensor.is_contiguous() ? tensor : tensor.contiguous();
  std::vector<double> result(values.numel());
  if (values.scalar_type() == at::kFloat) {
    const float *data = values.data_ptr<float>();
    std::copy(data, data + result.size(), result.begin());
  } else if (values.scalar_type() == at::kDouble) {
    const double *data = values.data_ptr<double>();
    std::copy(data, data + result.size(), result.begin());
  } else {
    at::Tensor converted = values.to(at::kDouble).contiguous();
    const double *data = converted.data_ptr<double>();
    std::copy(data, data + result.size(), result.begin());
  }
  return result;
}

std::vector<int64_t> toInts(const at::Tensor &tensor) {
  at::Tensor values = tensor.is_contiguous() ? tensor : tensor.contiguous();
  std::vector<int64_t> result(values.numel());
  if (values.scalar_type() == at::kInt) {
    const int32_t *data = values.data_ptr<int32_t>();
    std::copy(data, data + result.size(), result.begin());
  } else {
    at::Tensor converted = values.to(at::kLong).contiguous();
    const int64_t *data = converted.data_ptr<int64_t>();
    std::copy(data, data + result.size(), result.begin());
  }
  return result;
}

/// The qparams of `spec` as the flat values lower-to-qdq reads: the offset
/// the formulation uses and no other.
QParamValues toQParamValues(const QuantizationSpec &spec, const QParams &qparams) {
  QParamValues values;
  values.scale = toDoubles(qparams.scale);
  if (spec.hasOffsets()) {
    if (spec.qformulation() == QFormulation::ZP)
      values.zeroPoint = toInts(qparams.zeroPoint);
    else
      values.minval = toDoubles(qparams.minval);
  }
  return values;
}

/// The runtime side of lower-to-qdq's weight numerics.
class RuntimeWeightQuantizer final : public WeightQuantizer {
public:
  llvm::Expected<QParamValues> computeQParams(const TensorData &weight,
                                              const QuantizationSpec &spec,
                                              llvm::ArrayRef<int64_t> qparamShape) override {
    llvm::Expected<at::Tensor> tensor = borrowTensor(weight);
    if (!tensor)
      return tensor.takeError();
    llvm::Expected<std::unique_ptr<QParamsCalculator>> calculator =
        QParamsCalculator::create(spec, QuantTarget::Weight, "weight quantizer");
    if (!calculator)
      return calculator.takeError();
    try {
      at::NoGradGuard noGrad;
      llvm::Expected<QParams> qparams = (*calculator)->observe(*tensor);
      if (!qparams)
        return qparams.takeError();
      if (qparams->scale.numel() != productOf(qparamShape))
        return makeError("the observer produced " + llvm::Twine(qparams->scale.numel()) +
                         " scales, the qparam shape needs " + llvm::Twine(productOf(qparamShape)));
      return toQParamValues(spec, *qparams);
    } catch (const c10::Error &error) {
      return makeError(error.what_without_backtrace());
    }
  }

  llvm::Expected<TensorData> quantize(const TensorData &weight, const QuantizationSpec &spec,
                                      const QParamValues &values,
                                      llvm::ArrayRef<int64_t> qparamShape) override {
    std::optional<DType> codeType = toIRDType(spec.targetDType());
    if (!codeType)
      return makeError("no IR element type stores " + quantDTypeName(spec.targetDType()));
    try {
      at::NoGradGuard noGrad;
      QParams qparams;
      at::IntArrayRef shape(qparamShape.data(), qparamShape.size());
      std::vector<float> scale(values.scale.begin(), values.scale.end());
      qparams.scale = at::tensor(scale, at::kFloat).reshape(shape);
      if (!values.zeroPoint.empty()) {
        std::vector<int32_t> zeroPoint(values.zeroPoint.begin(), values.zeroPoint.end());
        qparams.zeroPoint = at::tensor(zeroPoint, at::kInt).reshape(shape);
      }
      if (!values.minval.empty()) {
        std::vector<float> minval(values.minval.begin(), values.minval.end());
        qparams.minval = at::tensor(minval, at::kFloat).reshape(shape);
      }
      QuantKernelParams params = kernelParamsFor(spec, qparams);
      std::optional<at::ScalarType> codeScalar = toScalarType(*codeType);
      if (codeScalar && *codeScalar == codeDtype(params))
        if (std::optional<TensorData> codes =
                quantizeScaled(weight, spec, values, qparams, qparamShape, *codeType, *codeScalar))
          return std::move(*codes);

      llvm::Expected<at::Tensor> tensor = borrowTensor(weight);
      if (!tensor)
        return tensor.takeError();
      at::Tensor input = *tensor;
      if (!at::isFloatingType(input.scalar_type()))
        return makeError("weight data of dtype " + dtypeName(weight.dtype) + " is not float");
      if (input.scalar_type() == at::kDouble)
        input = input.to(at::kFloat);
      if (input.numel() == 0 || !codeScalar || *codeScalar != codeDtype(params))
        return tensorToData(qfx::quantize(input, params), *codeType);
      // The codes are written straight into the data the graph keeps (and
      // export shares with the module): no intermediate tensor to copy.
      // writtenBy: quantizeOut writes every code, no zero-fill before it.
      return TensorData::writtenBy(
          *codeType, std::vector<int64_t>(input.sizes().begin(), input.sizes().end()),
          input.numel() * c10::elementSize(*codeScalar), [&](uint8_t *out) {
            qfx::quantizeOut(
                input, params,
                at::from_blob(out, input.sizes(), at::TensorOptions().dtype(*codeScalar)));
          });
    } catch (const c10::Error &error) {
      return makeError(error.what_without_backtrace());
    }
  }

private:
  /// The common case of quantizeScaled in one pass: integer codes of one
  /// byte with qparams per tensor or per channel of the scaled axis, so that
  /// the factor and the qparams are constant over each run of `inner`
  /// elements. Each element is multiplied by its factor and quantized right
  /// away with the kernels' formula (quantizeWithQParams': fp32 reciprocal,
  /// multiply, round half to even, clamp in float; NaN codes 0.0), four
  /// lanes at a time: the product weight is neither written nor re-read, and
  /// the loop stays bound by reading the source. Runs are spread over the
  /// intra-op threads. False (nothing written) for other specs.
  static bool quantizeScaledRuns(const TensorData::Scaled &form, const QuantizationSpec &spec,
                                 const QParamValues &values, llvm::ArrayRef<int64_t> qparamShape,
                                 size_t codeSize, uint8_t *out) {
    const std::vector<int64_t> &shape = form.source->shape;
    const int64_t rank = static_cast<int64_t>(shape.size());
    if (codeSize != 1 || !spec.hasOffsets() || static_cast<int64_t>(qparamShape.size()) != rank)
      return false;
    bool perTensor = true, perChannel = true;
    for (int64_t d = 0; d < rank; ++d) {
      perTensor = perTensor && qparamShape[d] == 1;
      perChannel = perChannel && qparamShape[d] == (d == form.axis ? shape[d] : 1);
    }
    if (!perTensor && !perChannel)
      return false;
    const bool zp = spec.qformulation() == QFormulation::ZP;
    const float quantMin = static_cast<float>(spec.quantMin());
    const float quantMax = static_cast<float>(spec.quantMax());
    const int64_t channels = shape[form.axis];
    const size_t units = perTensor ? 1 : static_cast<size_t>(channels);
    if (values.scale.size() != units ||
        (zp ? values.zeroPoint.size() : values.minval.size()) != units)
      return false;
    std::vector<float> inv(units), quantOffset(units), floatOffset(units);
    for (size_t u = 0; u < units; ++u) {
      inv[u] = 1.0f / static_cast<float>(values.scale[u]);
      quantOffset[u] = zp ? static_cast<float>(values.zeroPoint[u]) : quantMin;
      floatOffset[u] = zp ? 0.0f : static_cast<float>(values.minval[u]);
      // Beyond +-2^22 the branch-free rounding is not exact (32-bit codes).
      double lo = spec.quantMin() - quantOffset[u] - 1.0,
             hi = spec.quantMax() - quantOffset[u] + 1.0;
      if (std::abs(lo) >= 4194304.0 || std::abs(hi) >= 4194304.0)
        return false;
    }
    const bool isSigned = spec.quantMin() < 0;
    int64_t inner = 1;
    for (int64_t d = form.axis + 1; d < rank; ++d)
      inner *= shape[d];
    const int64_t runs = productOf(shape) / std::max<int64_t>(inner, 1);
    const float *w = reinterpret_cast<const float *>(form.source->bytes().data());
    const int64_t grain = std::max<int64_t>(1, (64 << 10) / std::max<int64_t>(inner, 1));
    at::parallel_for(0, runs, grain, [&](int64_t begin, int64_t end) {
      for (int64_t run = begin; run < end; ++run) {
        const int64_t c = run % channels;
        const size_t u = perTensor ? 0 : static_cast<size_t>(c);
        quantizeProductRun(w + run * inner, form.factors[c], inner, inv[u], quantOffset[u],
                           floatOffset[u], quantMin, quantMax, isSigned, out + run * inner);
      }
    });
    return true;
  }

  /// The code of fl(in[i] * factor) for one vector of lanes (4 with SSE, 8
  /// with AVX2): the scalar tail's operations lane by lane -- NaN codes 0,
  /// std::min(std::max(x, lo), hi), roundHalfEvenSmall's magic-number
  /// rounding, the code range -- so every width gives the same codes. One
  /// definition for both widths; always inlined, so in the AVX2 function it
  /// compiles to AVX2 (vectors go by pointer and reference: no vector is
  /// passed by value across the target boundary).
  template <typename Vec> struct CodeLanes {
    Vec factor, inv, qo, fo, lo, hi, quantMin, quantMax;
    CodeLanes(float factor, float inv, float qo, float fo, float quantMin, float quantMax) {
      const Vec zero = {};
      this->factor = zero + factor;
      this->inv = zero + inv;
      this->qo = zero + qo;
      this->fo = zero + fo;
      lo = zero + (quantMin - qo - 1.0f);
      hi = zero + (quantMax - qo + 1.0f);
      this->quantMin = zero + quantMin;
      this->quantMax = zero + quantMax;
    }
    template <typename IntVec>
    __attribute__((always_inline)) void run(const float *at, IntVec *codes) const {
      constexpr float kMagic = 12582912.0f; // roundHalfEvenSmall's 1.5 * 2^23
      const Vec zero = {};
      Vec v;
      std::memcpy(&v, at, sizeof v);
      v = v * factor;
      v = v == v ? v : zero; // NaN codes 0.0, as in the kernels
      Vec t = (v - fo) * inv;
      t = t < lo ? lo : t;
      t = hi < t ? hi : t;
      Vec q = ((t + kMagic) - kMagic) + qo;
      q = q < quantMin ? quantMin : q;
      q = quantMax < q ? quantMax : q;
      *codes = __builtin_convertvector(q, IntVec);
    }
  };

#if defined(__x86_64__)
  /// quantizeProductRun's leading multiple of 32 elements with eight lanes
  /// (AVX2, chosen at run time like the kernels' loops): the same IEEE f32
  /// operations in the same order (no FMA is enabled, so nothing contracts),
  /// hence the same codes. Returns how many elements it wrote.
  __attribute__((target("avx2"))) static int64_t
  quantizeProductRunAvx2(const float *in, float factor, int64_t n, float inv, float qo, float fo,
                         float quantMin, float quantMax, bool isSigned, uint8_t *out) {
    typedef float Vec __attribute__((vector_size(32)));
    typedef int32_t IntVec __attribute__((vector_size(32)));
    const CodeLanes<Vec> code(factor, inv, qo, fo, quantMin, quantMax);
    auto lanes = [&](const float *at) __attribute__((target("avx2"))) {
      IntVec codes;
      code.run(at, &codes);
      return __m256i(codes);
    };
    // The packs work within 128-bit halves; the permute puts the four
    // groups of eight codes back in order.
    const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
      __m256i ab = _mm256_packs_epi32(lanes(in + i), lanes(in + i + 8));
      __m256i cd = _mm256_packs_epi32(lanes(in + i + 16), lanes(in + i + 24));
      __m256i bytes = isSigned ? _mm256_packs_epi16(ab, cd) : _mm256_packus_epi16(ab, cd);
      _mm256_storeu_si256(reinterpret_cast<__m256i *>(out + i),
                          _mm256_permutevar8x32_epi32(bytes, order));
    }
    return i;
  }
#endif

  /// out[i] = code of fl(in[i] * factor), for quantizeScaledRuns.
  static void quantizeProductRun(const float *in, float factor, int64_t n, float inv, float qo,
                                 float fo, float quantMin, float quantMax, bool isSigned,
                                 uint8_t *out) {
#if defined(__x86_64__)
    static const bool hasAvx2 = __builtin_cpu_supports("avx2");
    if (hasAvx2) {
      int64_t done =
          quantizeProductRunAvx2(in, factor, n, inv, qo, fo, quantMin, quantMax, isSigned, out);
      in += done;
      out += done;
      n -= done;
    }
#endif
    const float lo = quantMin - qo - 1.0f, hi = quantMax - qo + 1.0f;
    typedef float Vec __attribute__((vector_size(16)));
    typedef int32_t IntVec __attribute__((vector_size(16)));
    const CodeLanes<Vec> code(factor, inv, qo, fo, quantMin, quantMax);
    // Codes of four lanes as int32 (integral values within the code range).
    auto lanes = [&](const float *at) {
      IntVec codes;
      code.run(at, &codes);
      return codes;
    };
    int64_t i = 0;
#ifdef __SSE2__
    // Sixteen codes per store: the values are in range, so the saturating
    // packs are exact narrowing (a byte store per lane went through memory).
    for (; i + 16 <= n; i += 16) {
      __m128i low = _mm_packs_epi32(__m128i(lanes(in + i)), __m128i(lanes(in + i + 4)));
      __m128i high = _mm_packs_epi32(__m128i(lanes(in + i + 8)), __m128i(lanes(in + i + 12)));
      __m128i bytes = isSigned ? _mm_packs_epi16(low, high) : _mm_packus_epi16(low, high);
      _mm_storeu_si128(reinterpret_cast<__m128i *>(out + i), bytes);
    }
#endif
    for (; i + 4 <= n; i += 4) {
      IntVec codes = lanes(in + i);
      for (int lane = 0; lane < 4; ++lane)
        out[i + lane] = isSigned ? static_cast<uint8_t>(static_cast<int8_t>(codes[lane]))
                                 : static_cast<uint8_t>(codes[lane]);
    }
    for (; i < n; ++i) {
      float v = in[i] * factor;
      v = v == v ? v : 0.0f;
      float t = std::min(std::max((v - fo) * inv, lo), hi);
      float q = roundHalfEvenSmall(t) + qo;
      q = std::min(std::max(q, quantMin), quantMax);
      out[i] = isSigned ? static_cast<uint8_t>(static_cast<int8_t>(q)) : static_cast<uint8_t>(q);
    }
  }

  /// The codes of a scaled weight whose product was never computed (a
  /// weight fold-conv-bn deferred), without computing it whole: rows of the
  /// source (dim 0) are taken a chunk of ~256 KB at a time, multiplied by
  /// their factors into a scratch buffer that stays in cache -- the same
  /// f32 product per element the whole tensor would hold -- and quantized
  /// from there by the same kernel, with the qparams of the chunk's rows. So
  /// the codes are those of the product bit for bit, while the weight is
  /// read once and only the codes are written. Chunks are independent:
  /// at::parallel_for spreads them over the intra-op threads
  /// (at::get_num_threads, the tools' --threads). std::nullopt when the
  /// weight is not such a weight (the caller reads bytes()).
  static std::optional<TensorData>
  quantizeScaled(const TensorData &weight, const QuantizationSpec &spec, const QParamValues &values,
                 const QParams &qparams, llvm::ArrayRef<int64_t> qparamShape, DType codeType,
                 at::ScalarType codeScalar) {
    const TensorData::Scaled *form = weight.scaledForm();
    if (!form || !weight.needsMaterializing() || weight.dtype != DType::F32)
      return std::nullopt;
    const TensorData &source = *form->source;
    const std::vector<int64_t> &shape = source.shape;
    const int64_t rank = static_cast<int64_t>(shape.size());
    const int64_t numel = productOf(shape);
    if (source.dtype != DType::F32 || rank == 0 || numel <= 0 ||
        source.byteSize() != static_cast<size_t>(numel) * sizeof(float) || form->axis < 0 ||
        form->axis >= rank || static_cast<int64_t>(form->factors.size()) != shape[form->axis] ||
        static_cast<int64_t>(qparamShape.size()) != rank || qparamShape[0] <= 0 ||
        shape[0] % qparamShape[0] != 0)
      return std::nullopt;
    const int64_t channels = shape[form->axis];
    int64_t inner = 1;
    for (int64_t d = form->axis + 1; d < rank; ++d)
      inner *= shape[d];
    const int64_t rowElements = numel / shape[0];
    // Chunks are whole rows, and whole qparam blocks along dim 0 when the
    // qparams vary along it (their slice then goes with the chunk).
    const bool sliceQParams = qparamShape[0] > 1;
    const int64_t rowBlock = sliceQParams ? shape[0] / qparamShape[0] : 1;
    constexpr int64_t kChunkBytes = 256 << 10;
    int64_t chunkRows = std::max<int64_t>(1, kChunkBytes / (rowElements * int64_t(sizeof(float))));
    chunkRows = std::min(shape[0], (chunkRows + rowBlock - 1) / rowBlock * rowBlock);
    const int64_t numChunks = (shape[0] + chunkRows - 1) / chunkRows;

    const size_t codeSize = c10::elementSize(codeScalar);
    const float *w = reinterpret_cast<const float *>(source.bytes().data());
    const float *factors = form->factors.data();
    // Both paths below write every code: writtenBy skips the zero-fill.
    return TensorData::writtenBy(
        codeType, shape, static_cast<size_t>(numel) * codeSize, [&](uint8_t *out) {
          if (quantizeScaledRuns(*form, spec, values, qparamShape, codeSize, out))
            return;
          QuantKernelParams base = kernelParamsFor(spec, qparams);
          at::parallel_for(0, numChunks, 1, [&](int64_t begin, int64_t end) {
            // One scratch buffer per thread for the process: a fresh one per
            // weight would be a fresh mapping (beyond malloc's mmap threshold),
            // zero-filled and page-faulted every time.
            thread_local std::vector<float> scratch;
            if (scratch.size() < static_cast<size_t>(chunkRows * rowElements))
              scratch.resize(static_cast<size_t>(chunkRows * rowElements));
            for (int64_t chunk = begin; chunk < end; ++chunk) {
              const int64_t row0 = chunk * chunkRows, rows = std::min(chunkRows, shape[0] - row0);
              const int64_t first = row0 * rowElements, count = rows * rowElements;
              // Runs of `inner` elements share a factor; chunks start on a run.
              for (int64_t run = first / inner; run < (first + count) / inner; ++run) {
                TensorData::multiplyRun(w + run * inner, factors[run % channels],
                                        scratch.data() + (run * inner - first), inner);
              }
              std::vector<int64_t> chunkShape(shape);
              chunkShape[0] = rows;
              QuantKernelParams params = base;
              if (sliceQParams) {
                int64_t from = row0 / rowBlock, to = (row0 + rows) / rowBlock;
                params.scale = base.scale.slice(0, from, to);
                if (base.zeroPoint.defined())
                  params.zeroPoint = base.zeroPoint.slice(0, from, to);
                if (base.minVal.defined())
                  params.minVal = base.minVal.slice(0, from, to);
              }
              qfx::quantizeOut(at::from_blob(scratch.data(), chunkShape, at::kFloat), params,
                               at::from_blob(out + first * codeSize, chunkShape,
                                             at::TensorOptions().dtype(codeScalar)));
            }
          });
        });
  }
};

RuntimeWeightQuantizer &runtimeWeightQuantizer() {
  static RuntimeWeightQuantizer instance;
  return instance;
}

// Linking this library makes lower-to-qdq use the runtime's numerics.
const bool kWeightQuantizerRegistered = [] {
  setDefaultPassService<WeightQuantizer>(&runtimeWeightQuantizer());
  return true;
}();

} // namespace

//===----------------------------------------------------------------------===//
// Quantizer
//===----------------------------------------------------------------------===//

Quantizer::Quantizer(std::unique_ptr<Graph> graph, QuantizerOptions options)
    : graph_(std::move(graph)), options_(std::move(options)) {
  (void)kWeightQuantizerRegistered;
}

Quantizer::~Quantizer() = default;

void Quantizer::warn(const std::string &message) const {
  if (options_.warningHandler)
    options_.warningHandler(message);
  else
    llvm::errs() << "qfx: warning: " << message << "\n";
}

llvm::Error Quantizer::runPass(llvm::StringRef name,
                               llvm::ArrayRef<std::pair<std::string, std::string>> passOptions) {
  std::unique_ptr<Pass> pass = builtinPassRegistry().create(name);
  if (!pass)
    return makeError("the pass registry has no pass '" + name + "'");
  for (const auto &option : passOptions)
    if (llvm::Error error = pass->setOption(option.first, option.second))
      return makeError("pass '" + name + "': " + llvm::toString(std::move(error)));
  DiagnosticEngine diagnostics;
  std::string errors;
  diagnostics.setHandler([&](const Diagnostic &diagnostic) {
    std::string text = diagnostic.message;
    for (const Diagnostic &note : diagnostic.notes)
      text += "\n  note: " + note.message;
    if (diagnostic.severity == Severity::Error)
      errors += (errors.empty() ? "" : "\n") + text;
    else if (diagnostic.severity == Severity::Warning)
      warn(text);
  });
  PassManager manager(diagnostics);
  manager.addPass(std::move(pass));
  auto start = std::chrono::steady_clock::now();
  PassResult result = manager.run(*graph_);
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  report_.phaseSeconds.emplace_back(name.str(), seconds);
  if (result == PassResult::Failed || diagnostics.hadErrors())
    return makeError("pass '" + name +
                     "' failed: " + (errors.empty() ? std::string("no diagnostic") : errors));
  return llvm::Error::success();
}

llvm::Error Quantizer::buildInterpreter() {
  InterpreterOptions options;
  options.copyParameters = options_.qat;
  // Calibration is many forwards: the fast pointwise convs (Interpreter.h).
  options.pointwiseConvOnOneDnn = true;
  options.warningHandler = [this](const std::string &message) { warn(message); };
  llvm::Expected<std::unique_ptr<Interpreter>> interpreter =
      Interpreter::create(*graph_, std::move(options));
  if (!interpreter)
    return interpreter.takeError();
  interpreter_ = std::move(*interpreter);
  return llvm::Error::success();
}

llvm::Error Quantizer::prepare(llvm::ArrayRef<at::Tensor> exampleInputs) {
  if (finalized_)
    return makeError("the quantizer was finalized; create a new one");
  if (prepared_)
    return makeError("the model is prepared already");
  report_ = PrepareReport();
  report_.nodesBefore = graph_->numNodes();
  size_t batchNorms = countRole(*graph_, OpRole::BatchNorm);
  if (!options_.qat) {
    if (llvm::Error error = runPass("fold-conv-bn", {}))
      return error;
    report_.batchNormsFolded = batchNorms - countRole(*graph_, OpRole::BatchNorm);
  }
  if (llvm::Error error = runPass("annotate", {{"config", options_.config}}))
    return error;
  for (const Node *node : graph_->nodes())
    report_.annotatedNodes += node->quant() != nullptr;
  if (llvm::Error error = runPass("share-observers", {}))
    return error;
  size_t before = countFakeQuants(*graph_);
  if (llvm::Error error = runPass("insert-fake-quant", {}))
    return error;
  size_t inserted = countFakeQuants(*graph_);
  report_.fakeQuantsInserted = inserted - before;
  if (llvm::Error error = runPass("dedup-fake-quant", {}))
    return error;
  report_.fakeQuantsRemoved = inserted - countFakeQuants(*graph_);

  auto seconds = [](std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  auto start = std::chrono::steady_clock::now();
  if (llvm::Error error = buildInterpreter())
    return error;
  report_.phaseSeconds.emplace_back("build-interpreter", seconds(start));
  start = std::chrono::steady_clock::now();
  // §1.10: one forward in eval mode, observers on, fake-quant off.
  interpreter_->setTraining(false);
  interpreter_->setObserversEnabled(true);
  interpreter_->setFakeQuantEnabled(false);
  llvm::Expected<std::vector<at::Tensor>> outputs = interpreter_->run(exampleInputs);
  if (!outputs)
    return makeError("the initializing forward with the example inputs failed: " +
                     llvm::toString(outputs.takeError()));

  // Fake-quants the forward disabled are removed, as the reference's prepare
  // does; the interpreter is rebuilt for the smaller graph, keeping state.
  std::vector<Node *> disabled;
  for (const auto &group : interpreter_->groups())
    if (group->disabled())
      for (const Node *node : group->fakeQuants())
        disabled.push_back(const_cast<Node *>(node));
  if (!disabled.empty()) {
    for (Node *node : disabled) {
      node->result(0)->replaceAllUsesWith(node->operand(0));
      graph_->erase(node);
    }
    report_.fakeQuantsDisabled = disabled.size();
    std::unique_ptr<Interpreter> old = std::move(interpreter_);
    if (llvm::Error error = buildInterpreter())
      return error;
    for (const auto &group : interpreter_->groups())
      if (ObserverGroup *previous = old->group(group->id()))
        group->takeStateFrom(*previous);
  }
  interpreter_->setObserversEnabled(false);
  interpreter_->setFakeQuantEnabled(true);
  interpreter_->setTraining(std::nullopt);
  report_.phaseSeconds.emplace_back("init-forward", seconds(start));
  report_.fakeQuants = countFakeQuants(*graph_);
  report_.observerGroups = interpreter_->groups().size();
  report_.nodesAfter = graph_->numNodes();
  prepared_ = true;
  return llvm::Error::success();
}

llvm::Expected<std::vector<at::Tensor>> Quantizer::forward(llvm::ArrayRef<at::Tensor> inputs) {
  if (!prepared_ || finalized_)
    return makeError(finalized_ ? "the quantizer was finalized; run the returned graph with an "
                                  "Interpreter"
                                : "prepare the model before running it");
  return interpreter_->run(inputs);
}

void Quantizer::Mode::exit() {
  if (quantizer_)
    quantizer_->exitMode(kind_);
  quantizer_ = nullptr;
}

void Quantizer::exitMode(Mode::Kind kind) {
  if (!activeMode_ || *activeMode_ != kind || !interpreter_)
    return;
  interpreter_->setObserversEnabled(false);
  interpreter_->setFakeQuantEnabled(true);
  interpreter_->setTraining(trainingBeforeMode_);
  activeMode_.reset();
}

llvm::Expected<Quantizer::Mode> Quantizer::calibrationMode() {
  if (!prepared_ || finalized_)
    return makeError("calibration_mode needs a prepared (and not finalized) model");
  if (activeMode_)
    return makeError("calibration_mode cannot be entered inside another mode");
  activeMode_ = Mode::Kind::Calibration;
  trainingBeforeMode_ = interpreter_->training();
  interpreter_->setObserversEnabled(true);
  interpreter_->setFakeQuantEnabled(false);
  interpreter_->setTraining(false);
  return Mode(this, Mode::Kind::Calibration);
}

llvm::Expected<Quantizer::Mode> Quantizer::trainingMode() {
  if (!prepared_ || finalized_)
    return makeError("training_mode needs a prepared (and not finalized) model");
  if (activeMode_)
    return makeError("training_mode cannot be entered inside another mode");
  activeMode_ = Mode::Kind::Training;
  trainingBeforeMode_ = interpreter_->training();
  interpreter_->setObserversEnabled(true);
  interpreter_->setFakeQuantEnabled(true);
  interpreter_->setTraining(true);
  interpreter_->applySchedule(steps_);
  return Mode(this, Mode::Kind::Training);
}

llvm::Error Quantizer::step() {
  if (!activeMode_ || *activeMode_ != Mode::Kind::Training)
    return makeError("step() can only be called inside training_mode()");
  ++steps_;
  if (!interpreter_->hasSchedules()) {
    warn("step(): no QAT schedule is configured; nothing to update");
    return llvm::Error::success();
  }
  interpreter_->applySchedule(steps_);
  return llvm::Error::success();
}

llvm::Error Quantizer::enableObserver(bool enabled) {
  if (!prepared_ || finalized_)
    return makeError("the model is not prepared");
  if (interpreter_->hasSchedules())
    return makeError("observers follow the QAT schedule configured for this model; manual "
                     "enable/disable is not allowed with a schedule");
  interpreter_->setObserversEnabled(enabled);
  return llvm::Error::success();
}

llvm::Error Quantizer::enableFakeQuant(bool enabled) {
  if (!prepared_ || finalized_)
    return makeError("the model is not prepared");
  if (interpreter_->hasSchedules())
    return makeError("fake-quants follow the QAT schedule configured for this model; manual "
                     "enable/disable is not allowed with a schedule");
  interpreter_->setFakeQuantEnabled(enabled);
  return llvm::Error::success();
}

llvm::Expected<size_t> Quantizer::calibrate(DataSource &data, size_t maxBatches,
                                            ProgressBar *progress) {
  llvm::Expected<Mode> mode = calibrationMode();
  if (!mode)
    return mode.takeError();
  return runCalibrationBatches(*interpreter_, data, maxBatches, progress);
}

llvm::Expected<size_t> writeObserverQParams(const Interpreter &interpreter, Graph &graph) {
  std::vector<ObserverGroup *> groups;
  for (const auto &group : interpreter.groups())
    groups.push_back(group.get());
  if (llvm::Error error = ObserverGroup::refreshQParams(groups))
    return std::move(error);
  size_t written = 0;
  for (const auto &group : interpreter.groups()) {
    if (!group->hasQParams() || group->disabled())
      continue;
    llvm::Expected<const QParams *> qparams = group->qparams();
    if (!qparams)
      return makeError(group->name() + ": " + llvm::toString(qparams.takeError()));
    Attribute attribute = qparamsToAttribute(toQParamValues(group->spec(), **qparams));
    for (const Node *node : group->fakeQuants()) {
      // The interpreter runs `graph`: its nodes are the graph's.
      const_cast<Node *>(node)->setAttribute(fqattr::kQParams, attribute);
      ++written;
    }
  }
  (void)graph;
  return written;
}

llvm::Expected<std::unique_ptr<Graph>> Quantizer::finalize() {
  if (!prepared_)
    return makeError("finalize needs a prepared model (call prepare first)");
  if (finalized_)
    return makeError("the model was finalized already");
  if (activeMode_)
    return makeError("leave calibration_mode / training_mode before finalize");
  if (options_.qat) {
    llvm::Expected<size_t> written = interpreter_->writeParametersTo(*graph_);
    if (!written)
      return written.takeError();
  }
  auto start = std::chrono::steady_clock::now();
  llvm::Expected<size_t> written = writeObserverQParams(*interpreter_, *graph_);
  if (!written)
    return written.takeError();
  report_.phaseSeconds.emplace_back(
      "write-qparams",
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  // The interpreter points into nodes lower-to-qdq erases.
  interpreter_.reset();
  finalized_ = true;
  std::vector<std::pair<std::string, std::string>> lowerOptions;
  if (options_.stockOps)
    lowerOptions.emplace_back("stock-ops", "true");
  if (llvm::Error error = runPass("lower-to-qdq", lowerOptions))
    return std::move(error);
  return std::move(graph_);
}

} // namespace qfx
