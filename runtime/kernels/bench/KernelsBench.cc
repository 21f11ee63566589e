//===- runtime/kernels/bench/KernelsBench.cc - Fused kernel benchmark -----===//
//
// Measures the fused kernels of runtime/kernels on 16M-element fp32 tensors
// ([4096, 4096]) with 2 threads and prints one markdown table: per row
// (per-tensor int8, per-channel int8 on the outer and on the inner dim,
// per-block(32) int4, fp8 e4m3, fp4 with power-of-two (e8m0) block scales)
// and direction (forward with mask, forward without mask, forward + backward)
// the bandwidth achieved (bytes read + written / time), the speed-up over
// ATen's op of the same kind in the same run and thread count where one
// exists, and the fraction of memcpy bandwidth (a 2-thread std::memcpy of
// 64 MB, measured interleaved with the same row).
//
// Timing on a machine shared with compile jobs: runs are interleaved (ours,
// memcpy, ATen, ours, ...) so all see the same conditions, and each is
// reported as the best of kRepeats. The primary time is process CPU time
// divided by the thread count: it does not advance while a thread is
// descheduled by a neighbour, so it estimates the time on an idle machine
// (memory stalls still count). For that, idle OpenMP workers must sleep
// rather than spin, so the program re-executes itself with
// OMP_WAIT_POLICY=PASSIVE (libgomp reads it before main). The best wall time
// of ours is printed as well.
//
// By default glibc serves large blocks from its heap and keeps them
// (mallopt), so repeated 64 MB allocations reuse memory instead of taking
// fresh page faults on every call, for ATen and us alike. `--fresh-pages`
// keeps glibc's default (every output a new mmap); `--no-streaming` turns off
// the non-temporal stores the kernels use for outputs larger than the LLC.
//
// Not a test: `bazel run //runtime/kernels/bench:kernels_bench`.
//
//===----------------------------------------------------------------------===//
#include "runtime/kernels/Kernels.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <malloc.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <limits>
#include <string>
#include <tuple>
#include <vector>

using namespace qfx;

namespace {

constexpr int64_t kRows = 4096, kCols = 4096, kNumel = kRows * kCols;
constexpr int kRepeats = 41;

double processCpuSeconds() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
}

struct Timing {
  double cpu;  // best process CPU time / threads
  double wall; // best wall time
};

// Best times of several functions, measured round-robin.
std::vector<Timing> interleaved(const std::vector<std::function<void()>> &fns) {
  for (const auto &fn : fns) // warm up: first-touch pages, caches, thread pool
    fn(), fn();
  std::vector<Timing> best(fns.size(), Timing{1e30, 1e30});
  for (int r = 0; r < kRepeats; ++r) {
    for (size_t i = 0; i < fns.size(); ++i) {
      const double cpu0 = processCpuSeconds();
      const auto wall0 = std::chrono::steady_clock::now();
      fns[i]();
      const std::chrono::duration<double> wall = std::chrono::steady_clock::now() - wall0;
      const double cpu = (processCpuSeconds() - cpu0) / at::get_num_threads();
      best[i].cpu = std::min(best[i].cpu, cpu);
      best[i].wall = std::min(best[i].wall, wall.count());
    }
  }
  return best;
}

using MaskedOp = std::function<std::tuple<at::Tensor, at::Tensor>(const at::Tensor &)>;

struct Row {
  std::string name;
  QuantKernelParams params;
  // ATen's op of the same kind (forward with mask, forward, backward); unset
  // when ATen has none.
  MaskedOp atenForwardMask;
  std::function<at::Tensor(const at::Tensor &)> atenForward;
  std::function<at::Tensor(const at::Tensor &, const at::Tensor &)> atenBackward;
};

std::vector<Row> makeRows() {
  std::vector<Row> rows;
  {
    Row r;
    r.name = "per-tensor int8";
    r.params.scale = at::full({1, 1}, 0.05f);
    r.params.zeroPoint = at::zeros({1, 1}, at::kInt);
    r.atenForwardMask = [](const at::Tensor &t) {
      return at::fake_quantize_per_tensor_affine_cachemask(t, 0.05f, 0, -128, 127);
    };
    r.atenForward = [](const at::Tensor &t) {
      return at::fake_quantize_per_tensor_affine(t, 0.05f, 0, -128, 127);
    };
    r.atenBackward = [](const at::Tensor &g, const at::Tensor &m) {
      return at::fake_quantize_per_tensor_affine_cachemask_backward(g, m);
    };
    rows.push_back(r);
  }
  for (int64_t axis : {0, 1}) {
    const at::Tensor s1 = at::rand({4096}) * 0.05f + 0.01f;
    const at::Tensor z1 = at::zeros({4096}, at::kInt);
    Row r;
    r.name = axis == 0 ? "per-channel int8 (axis 0)" : "per-channel int8 (axis 1)";
    r.params.scale = axis == 0 ? s1.reshape({4096, 1}) : s1.reshape({1, 4096});
    r.params.zeroPoint = axis == 0 ? z1.reshape({4096, 1}) : z1.reshape({1, 4096});
    r.atenForwardMask = [=](const at::Tensor &t) {
      return at::fake_quantize_per_channel_affine_cachemask(t, s1, z1, axis, -128, 127);
    };
    r.atenForward = [=](const at::Tensor &t) {
      return at::fake_quantize_per_channel_affine(t, s1, z1, axis, -128, 127);
    };
    r.atenBackward = [](const at::Tensor &g, const at::Tensor &m) {
      return at::fake_quantize_per_channel_affine_cachemask_backward(g, m);
    };
    rows.push_back(r);
  }
  {
    // Blocks of 32 along the last axis. ATen has no per-block op; its nearest
    // equivalent is per-channel over a [rows * cols / 32, 32] view.
    const at::Tensor s = at::rand({kRows, kCols / 32}) * 0.3f + 0.05f;
    const at::Tensor z = at::randint(-8, 8, {kRows, kCols / 32}, at::kInt);
    const at::Tensor s1 = s.reshape({-1}), z1 = z.reshape({-1});
    Row r;
    r.name = "per-block(32) int4";
    r.params.quantMin = -8;
    r.params.quantMax = 7;
    r.params.scale = s;
    r.params.zeroPoint = z;
    r.atenForwardMask = [=](const at::Tensor &t) {
      auto [o, m] =
          at::fake_quantize_per_channel_affine_cachemask(t.view({-1, 32}), s1, z1, 0, -8, 7);
      return std::make_tuple(o.view({kRows, kCols}), m.view({kRows, kCols}));
    };
    r.atenForward = [=](const at::Tensor &t) {
      return at::fake_quantize_per_channel_affine(t.view({-1, 32}), s1, z1, 0, -8, 7)
          .view({kRows, kCols});
    };
    r.atenBackward = [](const at::Tensor &g, const at::Tensor &m) {
      return at::fake_quantize_per_channel_affine_cachemask_backward(g, m);
    };
    rows.push_back(r);
  }
  {
    Row r;
    r.name = "fp8 e4m3 (per-tensor)";
    r.params.format = ElementFormat::Float8E4M3FN;
    r.params.scale = at::full({1, 1}, 12.0f / 448.0f);
    rows.push_back(r);
  }
  {
    // MXFP4-style: blocks of 32 on the last axis, power-of-two scales.
    Row r;
    r.name = "fp4 e2m1, e8m0 block(32) scales";
    r.params.format = ElementFormat::Float4E2M1;
    r.params.scale = at::exp2(at::randint(-3, 1, {kRows, kCols / 32}).to(at::kFloat));
    rows.push_back(r);
  }
  return rows;
}

} // namespace

int main(int argc, char **argv) {
  if (!std::getenv("OMP_WAIT_POLICY")) {
    setenv("OMP_WAIT_POLICY", "PASSIVE", 1);
    execv("/proc/self/exe", argv);
    std::perror("execv /proc/self/exe"); // reached only on failure
    return 1;
  }
  bool freshPages = false, streaming = true;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--fresh-pages") == 0) {
      freshPages = true;
    } else if (std::strcmp(argv[i], "--no-streaming") == 0) {
      streaming = false;
    } else {
      std::fprintf(stderr, "usage: %s [--fresh-pages] [--no-streaming]\n", argv[0]);
      return 2;
    }
  }
  if (!freshPages) {
    mallopt(M_MMAP_MAX, 0);             // large blocks from the heap...
    mallopt(M_TRIM_THRESHOLD, 1 << 30); // ...which is kept after free
  }
  if (!streaming)
    setStreamingStoreThreshold(std::numeric_limits<int64_t>::max());
  at::set_num_threads(2);
  at::manual_seed(0);

  const at::Tensor x = at::randn({kRows, kCols}) * 3.0f;
  const at::Tensor grad = at::randn({kRows, kCols});
  const int64_t bytes = kNumel * 4;

  // The memcpy baseline: 64 MB copied by 2 threads (128 MB of traffic).
  // glibc's memcpy uses non-temporal stores at this size, as the kernels do.
  at::Tensor dst = at::empty_like(x);
  const auto *src = static_cast<const char *>(x.data_ptr());
  auto *dstPtr = static_cast<char *>(dst.data_ptr());
  const std::function<void()> memcpy2 = [&] {
    at::parallel_for(0, bytes, 1 << 20, [&](int64_t b, int64_t e) {
      std::memcpy(dstPtr + b, src + b, size_t(e - b));
    });
  };
  const std::vector<Timing> copy = interleaved({memcpy2, [&] { dst.copy_(x); }});

  std::printf("qfx fused kernels, [%lld, %lld] fp32 (16M elements), %d threads, kernels: %s, "
              "streaming stores %s, %s\n",
              (long long)kRows, (long long)kCols, at::get_num_threads(),
              activeKernelIsa() == KernelIsa::Avx2 ? "avx2" : "scalar", streaming ? "on" : "off",
              freshPages ? "fresh pages per allocation" : "allocations reuse memory");
  std::printf("64 MB copy at start: 2-thread std::memcpy %.2f ms (%.1f GB/s), "
              "Tensor::copy_ %.2f ms (%.1f GB/s)\n",
              copy[0].cpu * 1e3, 2.0 * double(bytes) / copy[0].cpu / 1e9, copy[1].cpu * 1e3,
              2.0 * double(bytes) / copy[1].cpu / 1e9);
  std::printf("ms = best CPU time / threads; GB/s = (bytes read + written) / ms; memcpy = its "
              "GB/s in the same interleaved runs; wall = best wall time of ours\n\n");
  std::printf("| %-32s | %-8s | %6s | %5s | %7s | %6s | %6s | %7s | %7s |\n", "kernel", "direction",
              "ms", "GB/s", "ATen ms", "x ATen", "memcpy", "%memcpy", "wall ms");
  std::printf("|%s|%s|%s|%s|%s|%s|%s|%s|%s|\n", std::string(34, '-').c_str(),
              std::string(10, '-').c_str(), std::string(8, '-').c_str(),
              std::string(7, '-').c_str(), std::string(9, '-').c_str(), std::string(8, '-').c_str(),
              std::string(8, '-').c_str(), std::string(9, '-').c_str(),
              std::string(9, '-').c_str());

  auto report = [&](const Row &row, const char *direction, double bytesMoved,
                    const std::function<void()> &ours, const std::function<void()> &aten) {
    std::vector<std::function<void()>> fns = {ours, memcpy2};
    if (aten)
      fns.push_back(aten);
    const std::vector<Timing> t = interleaved(fns);
    const double gbs = bytesMoved / t[0].cpu / 1e9;
    const double memcpyGBs = 2.0 * double(bytes) / t[1].cpu / 1e9;
    char atenMs[32] = "n/a", ratio[32] = "n/a";
    if (aten) {
      std::snprintf(atenMs, sizeof(atenMs), "%.2f", t[2].cpu * 1e3);
      std::snprintf(ratio, sizeof(ratio), "%.2fx", t[2].cpu / t[0].cpu);
    }
    std::printf("| %-32s | %-8s | %6.2f | %5.1f | %7s | %6s | %6.1f | %6.0f%% | %7.2f |\n",
                row.name.c_str(), direction, t[0].cpu * 1e3, gbs, atenMs, ratio, memcpyGBs,
                100.0 * gbs / memcpyGBs, t[0].wall * 1e3);
    std::fflush(stdout);
  };

  const double n = double(kNumel);
  for (const Row &row : makeRows()) {
    const bool hasAten = bool(row.atenForwardMask);
    // Forward producing output and mask (what QAT runs): 4 B read, 4 + 1 B
    // written per element.
    report(
        row, "fwd+mask", 9 * n, [&] { fakeQuantizeForward(x, row.params, true); },
        hasAten ? std::function<void()>([&] { row.atenForwardMask(x); }) : nullptr);
    // Forward alone (calibration, inference). ATen's forward op computes the
    // mask internally anyway: that is its cost.
    report(
        row, "fwd", 8 * n, [&] { fakeQuantizeForward(x, row.params, false); },
        hasAten ? std::function<void()>([&] { row.atenForward(x); }) : nullptr);
    // Forward with mask, then the backward from the mask: 9 + 9 B per element.
    report(
        row, "fwd+bwd", 18 * n,
        [&] {
          FakeQuantizeResult r = fakeQuantizeForward(x, row.params, true);
          fakeQuantizeBackward(grad, r.mask);
        },
        hasAten ? std::function<void()>([&] {
          auto [o, m] = row.atenForwardMask(x);
          row.atenBackward(grad, m);
        })
                : nullptr);
  }
  return 0;
}
