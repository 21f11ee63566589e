#!/usr/bin/python3
"""qfx's end-to-end post-training quantization side by side with PyTorch 1.13's.

For each model -- torchvision's resnet18, resnet50 and mobilenet_v2 (random weights, seed 0,
traced at 1x3x224x224) and the 400-block residual MLP of tools/bench/peer_quant.py -- this script
writes the traced model and the calibration batches (random normal, seed 1, torch.save), runs
qfx's side (tools/bench/e2e_bench.cpp: import, prepare, calibration per batch, our float forward
per batch, convert = finalize + export to a torch::jit::Module, SQNR), then times PyTorch in this
process on the same model and batches:
  quantize_jit  prepare_jit(traced) / calibration forwards / convert_jit
  FX            prepare_fx(eager) / calibration forwards / convert_fx
and prints the times with ratios and the output SQNR of each quantized model against the float
model over the batches.

Both PyTorch flows use the observers qfx's default W8A8 uses: per-tensor moving-average min/max
for activations (quint8 with reduce_range, what fbgemm needs) and per-channel symmetric min/max
for weights. (The stock fbgemm qconfig uses a HistogramObserver, several times slower to
calibrate, which would flatter qfx's calibration figures.)

Both sides run with the same number of intra-op threads (--threads, default 1).

Run: bash tools/bench/run_e2e_bench.sh [--models resnet18,mlp400] [--batches 8]
(Debian's /usr/bin/python3 with torch 1.13 and python3-torchvision). Not a test.
"""
import argparse
import copy
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import warnings

import torch
import torch.nn as nn
from torch.ao.quantization import QConfig, QConfigMapping
from torch.ao.quantization.observer import (MovingAverageMinMaxObserver,
                                            default_per_channel_weight_observer)
from torch.ao.quantization.quantize_fx import convert_fx, prepare_fx
from torch.ao.quantization.quantize_jit import convert_jit, prepare_jit

QCONFIG = QConfig(
    activation=MovingAverageMinMaxObserver.with_args(dtype=torch.quint8, reduce_range=True),
    weight=default_per_channel_weight_observer)


class Block(nn.Module):
    def __init__(self, hidden):
        super().__init__()
        self.fc1 = nn.Linear(hidden, hidden)
        self.relu = nn.ReLU()
        self.fc2 = nn.Linear(hidden, hidden)

    def forward(self, x):
        return self.fc2(self.relu(self.fc1(x))) + x


class ResidualMLP(nn.Module):
    def __init__(self, blocks, hidden=64):
        super().__init__()
        self.blocks = nn.Sequential(*[Block(hidden) for _ in range(blocks)])

    def forward(self, x):
        return self.blocks(x)


def build(name, blocks):
    torch.manual_seed(0)
    if name == "mlp%d" % blocks:
        return ResidualMLP(blocks).eval(), (1, 64)
    import torchvision
    model = getattr(torchvision.models, name)()
    # Freshly initialized batch norms (mean 0, var 1) leave activations unnormalized; with
    # random weights mobilenet_v2 then saturates every ReLU6 and its logits are constant noise,
    # which makes any SQNR meaningless. A few training-mode forwards on random images give the
    # batch norms the statistics of the data, as a trained model has them.
    model.train()
    with torch.no_grad():
        for _ in range(8):
            model(torch.randn(4, 3, 224, 224))
    return model.eval(), (1, 3, 224, 224)


def sqnr(reference, outputs):
    signal = sum(float(r.double().pow(2).sum()) for r in reference)
    noise = sum(float((r.double() - o.double()).pow(2).sum()) for r, o in zip(reference, outputs))
    return float("inf") if noise == 0 else 10 * torch.log10(torch.tensor(signal / noise)).item()


def per_batch(model, batches):
    times, outputs = [], []
    with torch.no_grad():
        for batch in batches:
            start = time.perf_counter()
            outputs.append(model(*batch))
            times.append(time.perf_counter() - start)
    return statistics.median(times), outputs


def paired_calibration(prepared, eager, batches):
    """Median calibration forward, and the median ratio to an eager float forward on the same
    batch run right after it (a ratio that drifting load on a shared machine does not bias)."""
    times, ratios = [], []
    with torch.no_grad():
        for batch in batches:
            start = time.perf_counter()
            prepared(*batch)
            calibration = time.perf_counter() - start
            start = time.perf_counter()
            eager(*batch)
            times.append(calibration)
            ratios.append(calibration / (time.perf_counter() - start))
    return statistics.median(times), statistics.median(ratios)


def run_flow(prepare, convert, batches, floats, rounds, eager):
    """Median prepare and convert times over `rounds`; calibration and SQNR of the first."""
    prepare_times, convert_times, result = [], [], {}
    for round in range(rounds):
        start = time.perf_counter()
        prepared = prepare()
        prepare_times.append(time.perf_counter() - start)
        if round == 0:
            result["calibrate_batch_s"], result["calibrate_over_float"] = paired_calibration(
                prepared, eager, batches)
        else:
            per_batch(prepared, batches[:1])  # observers need one forward before convert
        start = time.perf_counter()
        converted = convert(prepared)
        convert_times.append(time.perf_counter() - start)
        if round == 0:
            _, outputs = per_batch(converted, batches)
            result["sqnr_db"] = sqnr(floats, outputs)
    result["prepare_s"] = statistics.median(prepare_times)
    result["convert_s"] = statistics.median(convert_times)
    return result


def run_pytorch(eager, traced, batches, floats, skip_fx, rounds):
    results = {}
    jit = run_flow(lambda: prepare_jit(traced, {"": QCONFIG}, inplace=False),
                   lambda prepared: convert_jit(prepared, inplace=False), batches, floats, rounds,
                   eager)
    results.update({"jit_" + k: v for k, v in jit.items()})
    if not skip_fx:
        fx = run_flow(lambda: prepare_fx(copy.deepcopy(eager), QConfigMapping().set_global(QCONFIG),
                                         batches[0]),
                      convert_fx, batches, floats, rounds, eager)
        results.update({"fx_" + k: v for k, v in fx.items()})
    return results


def run_qfx(binary, model_path, data_path, rounds, threads):
    text = subprocess.run([binary, "--model", model_path, "--data", data_path,
                           "--repeat", str(rounds), "--num-threads", str(threads)],
                          check=True, capture_output=True, text=True).stdout
    for line in text.splitlines():
        if line.startswith("RESULT"):
            return {k: float(v) for k, v in re.findall(r"(\w+)=([-\w.+]+)", line)}
    raise RuntimeError("no RESULT line from %s: %s" % (binary, text))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--qfx", required=True, help="path of the e2e_bench binary")
    parser.add_argument("--models", default="resnet18,resnet50,mobilenet_v2,mlp400")
    parser.add_argument("--batches", type=int, default=8, help="calibration batches per model")
    parser.add_argument("--skip-fx", action="store_true")
    parser.add_argument("--workdir", help="keep the traced models and batches in this directory "
                        "(for running e2e_bench alone, e.g. under a profiler); models and batches "
                        "already there (same --batches) are reused instead of traced again")
    parser.add_argument("--rounds", type=int, default=3,
                        help="rounds of prepare + convert per flow (median; MLPs: 1 round)")
    parser.add_argument("--threads", type=int, default=1,
                        help="intra-op threads on both sides: torch.set_num_threads here, "
                             "e2e_bench --num-threads for qfx (default 1: on a shared 2-core "
                             "machine a second OpenMP thread spins against other jobs and makes "
                             "timings erratic)")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    torch.set_num_threads(args.threads)
    os.environ["OMP_NUM_THREADS"] = str(args.threads)

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        if args.workdir:
            os.makedirs(args.workdir, exist_ok=True)
            tmp = args.workdir
        for name in args.models.split(","):
            blocks = int(name[3:]) if name.startswith("mlp") else 0
            eager, shape = build(name, blocks)
            torch.manual_seed(1)
            batches = [(torch.randn(shape),) for _ in range(args.batches)]
            model_path = os.path.join(tmp, name + ".pt")
            data_path = os.path.join(tmp, name + "_data.pt")
            # The eager model and the batches are deterministic (seeds); a
            # traced model a previous run left in --workdir is the same one.
            reuse = (args.workdir and os.path.exists(model_path) and os.path.exists(data_path)
                     and len(torch.load(data_path)) == len(batches))
            if reuse:
                traced = torch.jit.load(model_path)
            else:
                with torch.no_grad():
                    traced = torch.jit.trace(eager, batches[0])
                traced.save(model_path)
                torch.save(batches, data_path)
            print("== %s: %d batches of %s, %d intra-op thread(s) on both sides%s"
                  % (name, len(batches), "x".join(map(str, shape)), args.threads,
                     " (traced model reused)" if reuse else ""), flush=True)
            qfx = run_qfx(args.qfx, model_path, data_path, max(args.rounds, 3), args.threads)
            float_batch, floats = per_batch(eager, batches)
            # FX on the 400-block MLP takes minutes per round: one round for the MLPs.
            rounds = 1 if blocks else args.rounds
            peers = run_pytorch(eager, traced, batches, floats, args.skip_fx, rounds)
            rows.append((name, qfx, peers, float_batch))
            print_model(name, qfx, peers, float_batch)
    print_summary(rows)


def fmt(seconds):
    return "%9.4f s" % seconds


def compiler_seconds(qfx):
    """qfx's prepare + convert without model execution (the init forward)."""
    return qfx["prepare_passes_s"] + qfx["convert_s"]


def print_model(name, qfx, peers, torch_float):
    ours = compiler_seconds(qfx)
    print("  %-30s %12s %12s %12s %10s" % ("", "prepare", "convert", "prep+conv", "SQNR"))
    print("  %-30s %12s %12s %12s %8.2f dB   (%d nodes, %d fake-quants)"
          % ("qfx", fmt(qfx["prepare_passes_s"]), fmt(qfx["convert_s"]),
             fmt(ours), qfx["sqnr_db"], qfx["nodes"], qfx["fake_quants"]))
    print("  %-30s %s import, %s init forward (model execution, not in prep+conv)"
          % ("", fmt(qfx["import_s"]), fmt(qfx["init_forward_s"])))
    for flow in ("jit", "fx"):
        if flow + "_prepare_s" not in peers:
            continue
        total = peers[flow + "_prepare_s"] + peers[flow + "_convert_s"]
        print("  %-30s %12s %12s %12s %8.2f dB   qfx faster by %.0fx (%.1fx counting import and "
              "init forward)"
              % ("quantize_jit" if flow == "jit" else "FX", fmt(peers[flow + "_prepare_s"]),
                 fmt(peers[flow + "_convert_s"]), fmt(total), peers[flow + "_sqnr_db"],
                 total / ours, total / (qfx["prepare_s"] + qfx["convert_s"] + qfx["import_s"])))
    print("  calibration per batch: qfx %s, our float forward %s; calibration / float forward "
          "on the same batch (paired): x%.2f"
          % (fmt(qfx["calibrate_batch_s"]), fmt(qfx["float_batch_s"]),
             qfx["calibrate_over_float"]))
    for flow in ("jit", "fx"):
        if flow + "_calibrate_batch_s" in peers:
            print("      %-26s %s (qfx faster by x%.2f); / PyTorch eager float (paired): x%.2f"
                  % ("quantize_jit" if flow == "jit" else "FX",
                     fmt(peers[flow + "_calibrate_batch_s"]),
                     peers[flow + "_calibrate_batch_s"] / qfx["calibrate_batch_s"],
                     peers[flow + "_calibrate_over_float"]))
    print("      %-26s %s" % ("PyTorch eager float", fmt(torch_float)), flush=True)


def print_summary(rows):
    print("== Summary (targets: prepare+convert >= 20x quantize_jit, >= 50x FX; calibration per "
          "batch < quantize_jit's and <= 1.3x our float forward; SQNR >= quantize_jit's).")
    print("   qfx prepare+convert = passes, interpreter build, finalize, export; without import and "
          "the init forward (both printed per model above). calib/float: each flow's calibration "
          "forward over a float forward run right after it on the same batch (qfx: our "
          "interpreter; PyTorch: eager).")
    print("  %-13s %7s %7s %9s %8s %11s %10s %9s %9s %9s %9s"
          % ("model", "vs jit", "vs FX", "calib qfx", "calib/jit", "calib/float", "jit/float",
             "FX/float", "SQNR qfx", "SQNR jit", "SQNR FX"))
    nan = float("nan")
    for name, qfx, peers, _ in rows:
        ours = compiler_seconds(qfx)
        jit = (peers["jit_prepare_s"] + peers["jit_convert_s"]) / ours
        fx = ((peers["fx_prepare_s"] + peers["fx_convert_s"]) / ours
              if "fx_prepare_s" in peers else nan)
        print("  %-13s %6.0fx %6.0fx %8.4fs %8.2fx %10.2fx %9.2fx %8.2fx %9.2f %9.2f %9.2f"
              % (name, jit, fx, qfx["calibrate_batch_s"],
                 qfx["calibrate_batch_s"] / peers["jit_calibrate_batch_s"],
                 qfx["calibrate_over_float"], peers["jit_calibrate_over_float"],
                 peers.get("fx_calibrate_over_float", nan), qfx["sqnr_db"],
                 peers["jit_sqnr_db"], peers.get("fx_sqnr_db", nan)))


if __name__ == "__main__":
    sys.exit(main())
