#!/usr/bin/env bash
# Runs the quantization pipeline benchmark (tools/bench/quant_bench.cpp) and PyTorch 1.13's own
# graph-mode quantization on the same residual MLP (tools/bench/peer_quant.py, Debian's
# /usr/bin/python3), then prints them side by side with the ratios: how many times faster qfx's
# whole pipeline (annotate .. lower-to-qdq) is than prepare_fx+convert_fx and than
# prepare_jit+convert_jit, next to the targets (>= 100x FX, >= 20x quantize_jit, 1M nodes < 5 s,
# linear scaling). Not a test.
#
#   bash tools/bench/run_quant_bench.sh              # 400 blocks (FX takes minutes)
#   bash tools/bench/run_quant_bench.sh --blocks 50  # a quick run
#   bash tools/bench/run_quant_bench.sh --sizes 100000,1000000 --blocks 400
set -euo pipefail
cd "$(dirname "$0")/../.."

blocks=400
sizes=100000,1000000
while [[ $# -gt 0 ]]; do
  case "$1" in
    --blocks) blocks="$2"; shift 2 ;;
    --sizes) sizes="$2"; shift 2 ;;
    *) echo "usage: $0 [--blocks N] [--sizes N,M,...]" >&2; exit 2 ;;
  esac
done

bazel build -c opt //tools/bench:quant_bench >&2
qfx_out=$(mktemp)
peer_out=$(mktemp)
trap 'rm -f "$qfx_out" "$peer_out"' EXIT

echo "== qfx: bazel-bin/tools/bench/quant_bench --blocks $blocks --sizes $sizes"
bazel-bin/tools/bench/quant_bench --blocks "$blocks" --sizes "$sizes" | tee "$qfx_out"
echo
echo "== PyTorch: /usr/bin/python3 tools/bench/peer_quant.py --blocks $blocks"
/usr/bin/python3 tools/bench/peer_quant.py --blocks "$blocks" | tee "$peer_out"
echo

/usr/bin/python3 - "$qfx_out" "$peer_out" <<'PY'
import re, sys

def results(path):
    values = {}
    for line in open(path):
        if line.startswith("RESULT"):
            for key, value in re.findall(r"(\w+)=([\d.]+)", line):
                values.setdefault(key, []).append(float(value))
    return values

qfx, peer = results(sys.argv[1]), results(sys.argv[2])
blocks = int(qfx["mlp_blocks"][0])
ours, ours_cpu = qfx["qfx_total_s"][0], qfx["qfx_cpu_s"][0]
print(f"== Residual MLP, {blocks} blocks: the whole pipeline vs. PyTorch's prepare + convert")
print(f"  {'':<34}{'seconds':>10}{'qfx faster by':>16}{'target':>10}")
print(f"  {'qfx annotate..lower-to-qdq (wall)':<34}{ours:>10.4f}")
print(f"  {'qfx annotate..lower-to-qdq (cpu)':<34}{ours_cpu:>10.4f}")
for name, keys, target in (("FX prepare_fx+convert_fx", ("prepare_fx_s", "convert_fx_s"), 100),
                           ("quantize_jit prepare+convert", ("prepare_jit_s", "convert_jit_s"), 20)):
    if all(k in peer for k in keys):
        seconds = sum(peer[k][0] for k in keys)
        ratio = seconds / ours
        verdict = "ok" if ratio >= target else "MISSED"
        print(f"  {name:<34}{seconds:>10.3f}{ratio:>15.0f}x{'>= %dx ' % target + verdict:>14}")
sizes = list(zip(qfx.get("generated_nodes", []), qfx.get("qfx_total_s", [])[1:],
                 qfx.get("qfx_cpu_s", [])[1:]))
if sizes:
    print("== Generated graphs (whole pipeline)")
    for nodes, wall, cpu in sizes:
        note = ""
        if nodes >= 1e6:
            note = "  (target < 5 s: " + ("ok" if wall < 5 else "MISSED") + ")"
        print(f"  {int(nodes):>9} nodes {wall:>9.3f} s wall {cpu:>9.3f} s cpu "
              f"{cpu / nodes * 1e9:>9.0f} ns/node{note}")
    if len(sizes) >= 2:
        (n0, _, c0), (n1, _, c1) = sizes[0], sizes[-1]
        print(f"  scaling x{n1 / n0:.0f} nodes -> x{c1 / c0:.1f} cpu time "
              f"(linear = x{n1 / n0:.0f})")
PY
