//===- runtime/numerics/QParams.cc - Ranges and qparams on at::Tensor -----===//
//
// The fused min/max reduction and the qparam formulas of QParams.h.
//
// Reduction. The block structure is canonicalized first: every dim d of size
// D splits into (D/B blocks, kept) x (B elements, reduced), size-1 parts are
// dropped and neighbours of the same kind merged. Per-tensor becomes one
// reduced run, per-channel on axis 0 [kept C, reduced rest], per-channel on
// the last axis [reduced rows, kept C], and so on. The innermost part is
// either a contiguous run folded into one accumulator or a row folded
// element-wise into a row of accumulators. Work is split along the flat
// element range; each chunk owns accumulators for every unit so chunks never
// write the same memory, and a short merge combines them. When no reduced
// part lies outside the innermost run, each unit is one run and threads
// write results directly instead; short runs (per-block along the contiguous
// dim) go a vector's width of units at a time, so no per-unit horizontal fold
// is needed.
//
// Min and max are plain minps/maxps; NaNs are caught by a side mask and
// infinities show in the results, so non-finite data is detected without a
// second pass over the tensor. Inner loops use GCC/Clang vector extensions so
// they vectorize at -O2 on any x86-64 (SSE2) target.
//
// Qparam formulas use ATen ops on the (small) qparam tensors, mirroring the
// reference's torch code op by op, so fp16/bf16 rounding matches exactly.
//
//===----------------------------------------------------------------------===//
#include "runtime/numerics/QParams.h"

#include "runtime/spec/SpecError.h"

#include <ATen/ATen.h>
#include <ATen/Dispatch.h>
#include <ATen/Parallel.h>

#include "llvm/ADT/SmallVector.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <limits>

namespace qfx {

char NonFiniteInputError::ID = 0;

void NonFiniteInputError::log(llvm::raw_ostream &os) const {
  os << "observer '" << (observer_.empty() ? "<unnamed>" : observer_) << "' saw "
     << (isNaN_ ? "NaN" : "Inf") << " in its input (tensor of shape " << formatShape(shape_);
  if (flatIndex_ >= 0)
    os << ", first at flat index " << flatIndex_;
  os << "); clean the calibration data or exclude this tensor from quantization (spec null), "
        "since a range with NaN/Inf gives no usable scale";
}

std::error_code NonFiniteInputError::convertToErrorCode() const {
  return std::make_error_code(std::errc::invalid_argument);
}

namespace {

//===----------------------------------------------------------------------===//
// Canonical block layout
//===----------------------------------------------------------------------===//

struct ReducePart {
  int64_t size;
  bool reduced;
};

struct ReduceLayout {
  /// Outer parts, outermost first; the innermost part is separate.
  llvm::SmallVector<int64_t, 8> outerSizes;
  /// Unit-index stride of each outer part (0 for reduced parts).
  llvm::SmallVector<int64_t, 8> outerStrides;
  bool outerHasReduced = false;
  int64_t outerCount = 1;
  int64_t innerSize = 1;
  bool innerReduced = false;
};

ReduceLayout buildLayout(at::IntArrayRef shape, llvm::ArrayRef<int64_t> block) {
  llvm::SmallVector<ReducePart, 16> parts;
  auto push = [&](int64_t size, bool reduced) {
    if (size == 1)
      return;
    if (!parts.empty() && parts.back().reduced == reduced)
      parts.back().size *= size;
    else
      parts.push_back({size, reduced});
  };
  for (size_t d = 0; d < shape.size(); ++d) {
    push(shape[d] / block[d], /*reduced=*/false);
    push(block[d], /*reduced=*/true);
  }
  if (parts.empty())
    parts.push_back({1, false});

  ReduceLayout layout;
  layout.innerSize = parts.back().size;
  layout.innerReduced = parts.back().reduced;
  int64_t unitStride = layout.innerReduced ? 1 : layout.innerSize;
  layout.outerSizes.resize(parts.size() - 1);
  layout.outerStrides.resize(parts.size() - 1);
  for (int64_t i = static_cast<int64_t>(parts.size()) - 2; i >= 0; --i) {
    layout.outerSizes[i] = parts[i].size;
    layout.outerCount *= parts[i].size;
    if (parts[i].reduced) {
      layout.outerStrides[i] = 0;
      layout.outerHasReduced = true;
    } else {
      layout.outerStrides[i] = unitStride;
      unitStride *= parts[i].size;
    }
  }
  return layout;
}

//===----------------------------------------------------------------------===//
// Min/max kernels
//===----------------------------------------------------------------------===//

// 16-byte vectors: SSE2, which every x86-64 has (wider vectors would need
// target flags and a runtime CPU check; the reduction is memory-bound anyway).
template <typename A> struct Vec;
template <> struct Vec<float> {
  typedef float type __attribute__((vector_size(16)));
  typedef int32_t mask __attribute__((vector_size(16)));
  static constexpr int kLanes = 4;
};
template <> struct Vec<double> {
  typedef double type __attribute__((vector_size(16)));
  typedef int64_t mask __attribute__((vector_size(16)));
  static constexpr int kLanes = 2;
};

template <typename A> using VecT = typename Vec<A>::type;
template <typename A> using MaskT = typename Vec<A>::mask;

// `v < acc ? v : acc` is exactly minps(v, acc) (and maxps for max), one
// instruction. NaN never enters the accumulators that way, so NaN is tracked
// on the side: a mask that ORs in `v != v`, checked once per task. Infinities
// show up in the results themselves.
template <typename A> inline VecT<A> vecMin(VecT<A> acc, VecT<A> v) { return v < acc ? v : acc; }
template <typename A> inline VecT<A> vecMax(VecT<A> acc, VecT<A> v) { return v > acc ? v : acc; }
template <typename A> inline A scalarMin(A acc, A v) { return v < acc ? v : acc; }
template <typename A> inline A scalarMax(A acc, A v) { return v > acc ? v : acc; }

template <typename A> inline VecT<A> splat(A value) { return VecT<A>{} + value; }

template <typename A> inline bool anyLane(MaskT<A> mask) {
  for (int k = 0; k < Vec<A>::kLanes; ++k)
    if (mask[k])
      return true;
  return false;
}

/// Loads kLanes elements of T as a vector of A.
template <typename T, typename A> inline VecT<A> load(const T *p) {
  VecT<A> v;
  if constexpr (std::is_same_v<T, A>) {
    std::memcpy(&v, p, sizeof(v));
  } else {
    A tmp[Vec<A>::kLanes];
    for (int k = 0; k < Vec<A>::kLanes; ++k)
      tmp[k] = static_cast<A>(p[k]);
    std::memcpy(&v, tmp, sizeof(v));
  }
  return v;
}

/// The lane-wise result folded to one value (log2(lanes) shuffle steps).
template <typename A> inline A horizontalMin(VecT<A> v) {
  if constexpr (Vec<A>::kLanes == 4) {
    v = vecMin<A>(v, __builtin_shufflevector(v, v, 2, 3, 0, 1));
    v = vecMin<A>(v, __builtin_shufflevector(v, v, 1, 0, 3, 2));
  } else {
    v = vecMin<A>(v, __builtin_shufflevector(v, v, 1, 0));
  }
  return v[0];
}
template <typename A> inline A horizontalMax(VecT<A> v) {
  if constexpr (Vec<A>::kLanes == 4) {
    v = vecMax<A>(v, __builtin_shufflevector(v, v, 2, 3, 0, 1));
    v = vecMax<A>(v, __builtin_shufflevector(v, v, 1, 0, 3, 2));
  } else {
    v = vecMax<A>(v, __builtin_shufflevector(v, v, 1, 0));
  }
  return v[0];
}

/// Folds the contiguous run p[0, n) into (lo, hi); NaNs set `nan`.
template <typename T, typename A>
void reduceRun(const T *p, int64_t n, A &loOut, A &hiOut, MaskT<A> &nanOut) {
  constexpr int kLanes = Vec<A>::kLanes;
  A lo = loOut, hi = hiOut;
  MaskT<A> nan = nanOut;
  int64_t i = 0;
  if (n >= kLanes) {
    VecT<A> l0 = splat(lo), h0 = splat(hi);
    if (n >= 4 * kLanes) {
      // Independent accumulators hide the compare/blend latency.
      VecT<A> l1 = l0, l2 = l0, l3 = l0, h1 = h0, h2 = h0, h3 = h0;
      for (; i + 4 * kLanes <= n; i += 4 * kLanes) {
        VecT<A> a = load<T, A>(p + i), b = load<T, A>(p + i + kLanes);
        VecT<A> c = load<T, A>(p + i + 2 * kLanes), d = load<T, A>(p + i + 3 * kLanes);
        l0 = vecMin<A>(l0, a);
        h0 = vecMax<A>(h0, a);
        l1 = vecMin<A>(l1, b);
        h1 = vecMax<A>(h1, b);
        l2 = vecMin<A>(l2, c);
        h2 = vecMax<A>(h2, c);
        l3 = vecMin<A>(l3, d);
        h3 = vecMax<A>(h3, d);
        nan |= ((a != a) | (b != b)) | ((c != c) | (d != d));
      }
      l0 = vecMin<A>(vecMin<A>(l0, l1), vecMin<A>(l2, l3));
      h0 = vecMax<A>(vecMax<A>(h0, h1), vecMax<A>(h2, h3));
    }
    for (; i + kLanes <= n; i += kLanes) {
      VecT<A> v = load<T, A>(p + i);
      l0 = vecMin<A>(l0, v);
      h0 = vecMax<A>(h0, v);
      nan |= v != v;
    }
    // Short runs (per-block along the contiguous dim) live or die by this
    // fold, so it stays in vector registers.
    lo = horizontalMin<A>(l0);
    hi = horizontalMax<A>(h0);
  }
  for (; i < n; ++i) {
    A v = static_cast<A>(p[i]);
    lo = scalarMin(lo, v);
    hi = scalarMax(hi, v);
    nan[0] |= v != v;
  }
  loOut = lo;
  hiOut = hi;
  nanOut = nan;
}

/// min over lanes of every vector in `v` (kLanes of them), as one vector:
/// result lane k = fold of v[k]. A transpose-and-fold with shuffles.
template <typename A, bool IsMin> inline VecT<A> foldAcross(const VecT<A> *v) {
  auto op = [](VecT<A> a, VecT<A> b) { return IsMin ? vecMin<A>(a, b) : vecMax<A>(a, b); };
  if constexpr (Vec<A>::kLanes == 4) {
    VecT<A> t0 = op(__builtin_shufflevector(v[0], v[1], 0, 1, 4, 5),
                    __builtin_shufflevector(v[0], v[1], 2, 3, 6, 7));
    VecT<A> t1 = op(__builtin_shufflevector(v[2], v[3], 0, 1, 4, 5),
                    __builtin_shufflevector(v[2], v[3], 2, 3, 6, 7));
    return op(__builtin_shufflevector(t0, t1, 0, 2, 4, 6),
              __builtin_shufflevector(t0, t1, 1, 3, 5, 7));
  } else {
    return op(__builtin_shufflevector(v[0], v[1], 0, 2), __builtin_shufflevector(v[0], v[1], 1, 3));
  }
}

/// Units [begin, end) of `inner` contiguous elements each, inner a multiple
/// of kLanes: kLanes units at a time, one accumulator chain per unit, folded
/// together with foldAcross so results are stored as whole vectors. This is
/// the per-block-along-the-contiguous-dim case (B = 32 or so), where a
/// horizontal fold per unit would cost as much as the data.
template <typename T, typename A>
void reduceShortRuns(const T *x, int64_t begin, int64_t end, int64_t inner, A *lo, A *hi,
                     MaskT<A> &nanOut) {
  constexpr int kLanes = Vec<A>::kLanes;
  // Locals (not the references) so everything stays in registers; the unroll
  // pragmas let GCC turn the small arrays into registers too.
  MaskT<A> nan = nanOut;
  int64_t u = begin;
  for (; u + kLanes <= end; u += kLanes) {
    const T *p = x + u * inner;
    VecT<A> l[kLanes], h[kLanes];
#pragma GCC unroll 4
    for (int k = 0; k < kLanes; ++k) {
      l[k] = h[k] = load<T, A>(p + k * inner);
      nan |= l[k] != l[k];
    }
    for (int64_t j = kLanes; j < inner; j += kLanes) {
#pragma GCC unroll 4
      for (int k = 0; k < kLanes; ++k) {
        VecT<A> v = load<T, A>(p + k * inner + j);
        l[k] = vecMin<A>(l[k], v);
        h[k] = vecMax<A>(h[k], v);
        nan |= v != v;
      }
    }
    VecT<A> mins = foldAcross<A, true>(l), maxs = foldAcross<A, false>(h);
    std::memcpy(lo + u, &mins, sizeof(mins));
    std::memcpy(hi + u, &maxs, sizeof(maxs));
  }
  for (; u < end; ++u) {
    A l = std::numeric_limits<A>::infinity(), h = -l;
    reduceRun<T, A>(x + u * inner, inner, l, h, nan);
    lo[u] = l;
    hi[u] = h;
  }
  nanOut = nan;
}

/// Folds `rows` rows of n elements (row r at p + r * stride) element-wise
/// into lo[0, n) / hi[0, n). Several rows per pass cut the accumulator
/// loads and stores, which dominate when a reduced dim lies outside a kept
/// one (per-channel on the last axis, per-block on axis 0).
template <typename T, typename A>
void reduceRows(const T *p, int64_t rows, int64_t stride, int64_t n, A *lo, A *hi,
                MaskT<A> &nanOut) {
  constexpr int kLanes = Vec<A>::kLanes;
  MaskT<A> nan = nanOut;
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    VecT<A> l, h;
    std::memcpy(&l, lo + i, sizeof(l));
    std::memcpy(&h, hi + i, sizeof(h));
    for (int64_t r = 0; r < rows; ++r) {
      VecT<A> v = load<T, A>(p + r * stride + i);
      l = vecMin<A>(l, v);
      h = vecMax<A>(h, v);
      nan |= v != v;
    }
    std::memcpy(lo + i, &l, sizeof(l));
    std::memcpy(hi + i, &h, sizeof(h));
  }
  for (; i < n; ++i) {
    for (int64_t r = 0; r < rows; ++r) {
      A v = static_cast<A>(p[r * stride + i]);
      lo[i] = scalarMin(lo[i], v);
      hi[i] = scalarMax(hi[i], v);
      nan[0] |= v != v;
    }
  }
  nanOut = nan;
}

/// Elements per thread task; below this, threads cost more than they save.
constexpr int64_t kGrain = 32768;

/// Reduces `x` (contiguous, numel > 0) into `lo` / `hi` (numUnits each).
/// Returns whether `x` contains a NaN.
template <typename T, typename A>
bool reduceBlocks(const T *x, int64_t numel, const ReduceLayout &layout, int64_t numUnits, A *lo,
                  A *hi) {
  constexpr A kInf = std::numeric_limits<A>::infinity();
  const int64_t inner = layout.innerSize;
  std::atomic<bool> sawNaN{false};
  auto noteNaN = [&](MaskT<A> mask) {
    if (anyLane<A>(mask))
      sawNaN.store(true, std::memory_order_relaxed);
  };

  if (!layout.outerHasReduced && !layout.innerReduced) {
    // Every unit is one element (block of ones): the range is the data.
    at::parallel_for(0, numel, kGrain, [&](int64_t begin, int64_t end) {
      MaskT<A> nan{};
      for (int64_t i = begin; i < end; ++i) {
        A v = static_cast<A>(x[i]);
        lo[i] = hi[i] = v;
        nan[0] |= v != v;
      }
      noteNaN(nan);
    });
    return sawNaN.load();
  }

  int64_t maxChunks =
      std::max<int64_t>(1, std::min<int64_t>(at::get_num_threads(), (numel + kGrain - 1) / kGrain));
  if (!layout.outerHasReduced && layout.outerCount >= maxChunks) {
    // One contiguous run per unit, units in order: threads own whole units.
    int64_t unitsPerTask = std::max<int64_t>(1, kGrain / inner);
    constexpr int kLanes = Vec<A>::kLanes;
    const bool shortRuns = inner % kLanes == 0 && inner <= 16 * kLanes;
    at::parallel_for(0, layout.outerCount, unitsPerTask, [&](int64_t begin, int64_t end) {
      MaskT<A> nan{};
      if (shortRuns) {
        reduceShortRuns<T, A>(x, begin, end, inner, lo, hi, nan);
        noteNaN(nan);
        return;
      }
      for (int64_t u = begin; u < end; ++u) {
        A l = kInf, h = -kInf;
        reduceRun<T, A>(x + u * inner, inner, l, h, nan);
        lo[u] = l;
        hi[u] = h;
      }
      noteNaN(nan);
    });
    return sawNaN.load();
  }

  // General case: chunks of the flat element range with private accumulators.
  const int64_t numChunks = maxChunks;
  std::vector<A> partialLo(numChunks > 1 ? static_cast<size_t>(numChunks - 1) * numUnits : 0);
  std::vector<A> partialHi(partialLo.size());
  const int numOuter = static_cast<int>(layout.outerSizes.size());
  auto runChunk = [&](int64_t chunk) {
    A *chunkLo = chunk == 0 ? lo : partialLo.data() + (chunk - 1) * numUnits;
    A *chunkHi = chunk == 0 ? hi : partialHi.data() + (chunk - 1) * numUnits;
    std::fill(chunkLo, chunkLo + numUnits, kInf);
    std::fill(chunkHi, chunkHi + numUnits, -kInf);
    const int64_t begin = numel * chunk / numChunks;
    const int64_t end = numel * (chunk + 1) / numChunks;
    if (begin >= end)
      return;
    // Odometer over the outer parts, started at the chunk's first row.
    int64_t outer = begin / inner;
    int64_t offset = begin % inner;
    llvm::SmallVector<int64_t, 8> counter(numOuter);
    int64_t unitBase = 0;
    int64_t rest = outer;
    for (int d = numOuter - 1; d >= 0; --d) {
      counter[d] = rest % layout.outerSizes[d];
      rest /= layout.outerSizes[d];
      unitBase += counter[d] * layout.outerStrides[d];
    }
    // Rows of a kept inner part that a reduced part right outside it folds
    // onto the same accumulators: up to kRowsPerPass of them go together.
    constexpr int64_t kRowsPerPass = 4;
    const bool foldRows =
        !layout.innerReduced && numOuter > 0 && layout.outerStrides[numOuter - 1] == 0;
    MaskT<A> nan{};
    for (int64_t pos = begin; pos < end;) {
      int64_t len = std::min(inner - offset, end - pos);
      int64_t rows = 1;
      if (layout.innerReduced) {
        reduceRun<T, A>(x + pos, len, chunkLo[unitBase], chunkHi[unitBase], nan);
      } else {
        if (foldRows && offset == 0 && len == inner)
          rows = std::min({kRowsPerPass, layout.outerSizes[numOuter - 1] - counter[numOuter - 1],
                           (end - pos) / inner});
        reduceRows<T, A>(x + pos, rows, inner, len, chunkLo + unitBase + offset,
                         chunkHi + unitBase + offset, nan);
      }
      pos += rows == 1 ? len : rows * inner;
      offset = 0;
      for (int64_t step = 0; step < rows; ++step) {
        for (int d = numOuter - 1; d >= 0; --d) {
          unitBase += layout.outerStrides[d];
          if (++counter[d] < layout.outerSizes[d])
            break;
          unitBase -= counter[d] * layout.outerStrides[d];
          counter[d] = 0;
        }
      }
    }
    noteNaN(nan);
  };
  at::parallel_for(0, numChunks, 1, [&](int64_t begin, int64_t end) {
    for (int64_t chunk = begin; chunk < end; ++chunk)
      runChunk(chunk);
  });
  for (int64_t chunk = 1; chunk < numChunks; ++chunk) {
    const A *chunkLo = partialLo.data() + (chunk - 1) * numUnits;
    const A *chunkHi = partialHi.data() + (chunk - 1) * numUnits;
    for (int64_t u = 0; u < numUnits; ++u) {
      lo[u] = scalarMin(lo[u], chunkLo[u]);
      hi[u] = scalarMax(hi[u], chunkHi[u]);
    }
  }
  return sawNaN.load();
}

std::vector<int64_t> toVector(at::IntArrayRef values) {
  return std::vector<int64_t>(values.begin(), values.end());
}

// LibTorch 1.13 lacks CPU clamp and round kernels for fp16, so the formulas
// use these equivalents. Both are exact: max/min against a bound that the
// dtype represents, and rounding an fp16 value through fp32 (every fp16 value
// and every integer result is exact in both).
at::Tensor lowerBound(const at::Tensor &t, double bound) {
  return at::maximum(t, at::full_like(t, bound));
}
at::Tensor upperBound(const at::Tensor &t, double bound) {
  return at::minimum(t, at::full_like(t, bound));
}
at::Tensor roundHalfEven(const at::Tensor &t) {
  if (t.scalar_type() == at::kHalf)
    return at::round(t.to(at::kFloat)).to(at::kHalf);
  return at::round(t);
}

/// The first NaN or Inf of `x` (which is known to contain one).
llvm::Error nonFiniteError(const at::Tensor &x, llvm::StringRef observer) {
  at::Tensor flat = x.reshape({-1});
  at::Tensor bad = at::logical_not(at::isfinite(flat)).nonzero();
  int64_t index = bad.numel() ? bad[0][0].item<int64_t>() : 0;
  bool isNaN = bad.numel() ? at::isnan(flat[index]).item<bool>() : true;
  return llvm::make_error<NonFiniteInputError>(observer.str(), isNaN, toVector(x.sizes()), index);
}

llvm::Error checkFloatTensor(const at::Tensor &x, llvm::StringRef what, llvm::StringRef observer) {
  if (!x.defined())
    return makeSpecError("", "observer '" + observer + "': " + what + " is undefined");
  if (!at::isFloatingType(x.scalar_type()))
    return makeSpecError("", "observer '" + observer + "': " + what +
                                 " must be a floating-point tensor, got " +
                                 c10::toString(x.scalar_type()));
  return llvm::Error::success();
}

} // namespace

//===----------------------------------------------------------------------===//
// Ranges
//===----------------------------------------------------------------------===//

TensorRange computeMinMaxWithATen(const at::Tensor &x, llvm::ArrayRef<int64_t> blockShape) {
  // [D0/B0, B0, D1/B1, B1, ...] and reduce over the B parts.
  std::vector<int64_t> split, reduceDims, qshape;
  for (size_t d = 0; d < blockShape.size(); ++d) {
    int64_t blocks = x.size(d) / blockShape[d];
    split.push_back(blocks);
    split.push_back(blockShape[d]);
    reduceDims.push_back(static_cast<int64_t>(2 * d + 1));
    qshape.push_back(blocks);
  }
  at::Tensor view = x.reshape(split);
  if (reduceDims.empty())
    return {x.clone(), x.clone()};
  return {at::amin(view, reduceDims).reshape(qshape), at::amax(view, reduceDims).reshape(qshape)};
}

llvm::Expected<TensorRange> computeMinMax(const at::Tensor &x, llvm::ArrayRef<int64_t> blockShape,
                                          llvm::StringRef observer) {
  if (llvm::Error error = checkFloatTensor(x, "the observed tensor", observer))
    return std::move(error);
  if (static_cast<int64_t>(blockShape.size()) != x.dim())
    return makeSpecError("", "observer '" + observer + "': block shape " + formatShape(blockShape) +
                                 " does not match tensor rank " + std::to_string(x.dim()));
  if (x.numel() == 0)
    return makeSpecError("", "observer '" + observer +
                                 "': cannot measure the range of an empty "
                                 "tensor of shape " +
                                 formatShape(toVector(x.sizes())));
  std::vector<int64_t> qshape = numBlocksPerDim(toVector(x.sizes()), blockShape);
  for (size_t d = 0; d < blockShape.size(); ++d)
    if (blockShape[d] <= 0 || x.size(d) % blockShape[d] != 0)
      return makeSpecError("", "observer '" + observer + "': block shape " +
                                   formatShape(blockShape) + " does not tile shape " +
                                   formatShape(toVector(x.sizes())));

  TensorRange range;
  if (!x.device().is_cpu()) {
    range = computeMinMaxWithATen(x, blockShape);
    if (!at::isfinite(range.min).all().item<bool>() || !at::isfinite(range.max).all().item<bool>())
      return nonFiniteError(x, observer);
    return range;
  }

  at::Tensor input = x.contiguous();
  ReduceLayout layout = buildLayout(input.sizes(), blockShape);
  int64_t numUnits = 1;
  for (int64_t count : qshape)
    numUnits *= count;
  range.min = at::empty(qshape, input.options());
  range.max = at::empty(qshape, input.options());
  bool finite = true;
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, input.scalar_type(), "qfx_minmax", [&] {
    using A = std::conditional_t<std::is_same_v<scalar_t, double>, double, float>;
    std::vector<A> lo(numUnits), hi(numUnits);
    finite = !reduceBlocks<scalar_t, A>(input.data_ptr<scalar_t>(), input.numel(), layout, numUnits,
                                        lo.data(), hi.data());
    scalar_t *minOut = range.min.data_ptr<scalar_t>();
    scalar_t *maxOut = range.max.data_ptr<scalar_t>();
    for (int64_t u = 0; u < numUnits; ++u) {
      finite &= std::isfinite(lo[u]) && std::isfinite(hi[u]);
      // Exact: every min/max is one of the input values.
      minOut[u] = static_cast<scalar_t>(lo[u]);
      maxOut[u] = static_cast<scalar_t>(hi[u]);
    }
  });
  if (!finite)
    return nonFiniteError(input, observer);
  return range;
}

llvm::Expected<TensorRange> computeMinMax(const at::Tensor &x, const Granularity &granularity,
                                          llvm::StringRef observer) {
  if (!x.defined())
    return makeSpecError("", "observer '" + observer + "': the observed tensor is undefined");
  llvm::Expected<std::vector<int64_t>> block = computeBlockShape(granularity, toVector(x.sizes()));
  if (!block)
    return block.takeError();
  return computeMinMax(x, *block, observer);
}

TensorRange applyFloatRange(const TensorRange *observed, const FloatRange &floatRange,
                            at::IntArrayRef qparamShape, at::ScalarType dtype) {
  at::TensorOptions options = at::TensorOptions().dtype(dtype);
  if (observed)
    options = options.device(observed->min.device());
  TensorRange result;
  // Without an observation a missing bound is 0, the value the zero clamp
  // would give for any data.
  if (floatRange.min)
    result.min = at::full(qparamShape, *floatRange.min, options);
  else
    result.min = observed ? upperBound(observed->min, 0) : at::zeros(qparamShape, options);
  if (floatRange.max)
    result.max = at::full(qparamShape, *floatRange.max, options);
  else
    result.max = observed ? lowerBound(observed->max, 0) : at::zeros(qparamShape, options);
  return result;
}

//===----------------------------------------------------------------------===//
// Qparams
//===----------------------------------------------------------------------===//

llvm::Expected<at::Tensor> computeE8M0Scale(const at::Tensor &maxAbs, QuantDType dtype) {
  int targetMaxPow2;
  switch (dtype) {
  case QuantDType::Float4E2M1FNx2:
    targetMaxPow2 = 2; // 6.0 = 1.5 * 2^2
    break;
  case QuantDType::Float8E4M3FN:
    targetMaxPow2 = 8; // 448 = 1.75 * 2^8
    break;
  case QuantDType::Float8E5M2:
    targetMaxPow2 = 15; // 57344 = 1.75 * 2^15
    break;
  default:
    return makeSpecError("scale_dtype",
                         "Unsupported dtype for e8m0 scale computation: " + quantDTypeName(dtype) +
                             ". Supported: float4_e2m1fn_x2, float8_e4m3fn, "
                             "float8_e5m2");
  }
  at::Tensor in = maxAbs.to(at::kFloat).contiguous();
  at::Tensor out = at::empty_like(in);
  const float *src = in.data_ptr<float>();
  float *dst = out.data_ptr<float>();
  for (int64_t i = 0, n = in.numel(); i < n; ++i) {
    uint32_t bits;
    std::memcpy(&bits, &src[i], sizeof(bits));
    // Unbiased exponent field: floor(log2 |x|) for normals, -127 for zero and
    // denormals (the MX spec's FLOOR mode, computed from bits, not log2).
    int exponent = static_cast<int>((bits >> 23) & 0xFF) - 127;
    int scaleExponent = std::clamp(exponent - targetMaxPow2, -127, 128);
    uint32_t scaleBits = static_cast<uint32_t>(scaleExponent + 127) << 23;
    float scale;
    std::memcpy(&scale, &scaleBits, sizeof(scale));
    dst[i] = std::max(scale, kE8M0MinScale); // 2^-127 is an fp32 denormal
  }
  return out;
}

llvm::Expected<QParams> computeQParams(const QuantizationSpec &spec, const at::Tensor &minVal,
                                       const at::Tensor &maxVal) {
  if (llvm::Error error = checkFloatTensor(minVal, "min_val", "qparams"))
    return std::move(error);
  if (llvm::Error error = checkFloatTensor(maxVal, "max_val", "qparams"))
    return std::move(error);
  if (minVal.sizes() != maxVal.sizes() || minVal.scalar_type() != maxVal.scalar_type())
    return makeSpecError("", "min_val and max_val must have the same shape and dtype, got " +
                                 formatShape(toVector(minVal.sizes())) + " " +
                                 c10::toString(minVal.scalar_type()) + " and " +
                                 formatShape(toVector(maxVal.sizes())) + " " +
                                 c10::toString(maxVal.scalar_type()));
  QParams qparams;
  if (spec.usesE8M0Scale()) {
    at::Tensor maxAbs = at::maximum(at::abs(minVal), at::abs(maxVal));
    llvm::Expected<at::Tensor> scale = computeE8M0Scale(maxAbs, spec.dtype());
    if (!scale)
      return scale.takeError();
    qparams.scale = *scale;
    return qparams;
  }

  // torchao's choose_qparams_affine_with_min_max, op by op.
  const double quantMin = spec.quantMin(), quantMax = spec.quantMax();
  at::Tensor minNeg = at::minimum(minVal, at::zeros_like(minVal));
  at::Tensor maxPos = at::maximum(maxVal, at::zeros_like(maxVal));
  at::Tensor scale;
  if (spec.qscheme() == QScheme::Asymmetric) {
    scale = at::div(at::sub(maxPos, minNeg), quantMax - quantMin);
    scale = lowerBound(scale, kScaleEps);
    at::Tensor zeroPoint = at::rsub(roundHalfEven(at::div(minNeg, scale)), quantMin);
    qparams.zeroPoint = upperBound(lowerBound(zeroPoint, quantMin), quantMax).to(at::kInt);
    qparams.minval = at::minimum(minVal, at::zeros_like(minVal));
  } else {
    // symmetric and symmetric_with_clipping (the latter via its clipped range)
    at::Tensor maxAbs = at::maximum(minNeg.neg(), maxPos);
    scale = at::div(maxAbs, (quantMax - quantMin) / 2);
    // Python's int((qmax + qmin + 1) / 2): true division, truncation.
    int64_t zeroPoint = static_cast<int64_t>(std::trunc((quantMax + quantMin + 1) / 2));
    qparams.zeroPoint = at::full(scale.sizes(), zeroPoint, scale.options().dtype(at::kInt));
    scale = lowerBound(scale, kScaleEps);
    qparams.minval = at::maximum(at::abs(minVal), at::abs(maxVal)).neg();
  }
  qparams.scale = scale;
  if (spec.isFloatingPoint()) {
    qparams.zeroPoint = at::Tensor();
    qparams.minval = at::Tensor();
  }
  return qparams;
}

} // namespace qfx
