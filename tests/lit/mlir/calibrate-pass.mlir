// The `calibrate` pass inside an MLIR pipeline: qfx-mlir-opt prepares a tosa
// MLP, calibrates it by running the function on the interpreter (the tosa
// kernels of runtime/tosa) and lowers it, all in one -pass-pipeline. It is
// qfx-quantize's calibration step as a pass, so both give the same module on
// the same data: .npy batches and synthetic data (seed 0).
//
// RUN: rm -rf %t && mkdir -p %t
// RUN: python3 %S/Inputs/write-npy-batches.py %t/npy 4 1x4
// RUN: qfx-quantize %s --data %t/npy -o %t/tool.mlir --no-progress > /dev/null
// RUN: qfx-mlir-opt %s -pass-pipeline='builtin.module(func.func(qfx-quantize{pipeline="annotate{config=w8a8},share-observers,insert-fake-quant,dedup-fake-quant,calibrate{data=%t/npy},lower-to-qdq"}))' -o %t/pass.mlir
// RUN: diff -B %t/tool.mlir %t/pass.mlir
// RUN: FileCheck %s < %t/pass.mlir
// RUN: mlir-opt %t/pass.mlir -verify-each > /dev/null
//
// RUN: qfx-quantize %s --num-batches 3 -o %t/tool-synthetic.mlir --no-progress > /dev/null
// RUN: qfx-mlir-opt %s -pass-pipeline='builtin.module(func.func(qfx-quantize{pipeline="annotate{config=w8a8},share-observers,insert-fake-quant,dedup-fake-quant,calibrate{num-batches=3},lower-to-qdq"}))' -o %t/pass-synthetic.mlir 2>&1 | FileCheck %s --check-prefix=SYNTHETIC
// RUN: diff -B %t/tool-synthetic.mlir %t/pass-synthetic.mlir
//
// Errors: missing data, NaN in a batch; nothing is written.
// RUN: python3 %S/Inputs/write-npy-batches.py %t/nan 2 1x4 nan
// RUN: not qfx-mlir-opt %s -pass-pipeline='builtin.module(func.func(qfx-quantize{pipeline="annotate{config=w8a8},share-observers,insert-fake-quant,dedup-fake-quant,calibrate{data=%t/nowhere},lower-to-qdq"}))' -o %t/missing.mlir 2>&1 | FileCheck %s --check-prefix=MISSING
// RUN: test ! -e %t/missing.mlir
// RUN: not qfx-mlir-opt %s -pass-pipeline='builtin.module(func.func(qfx-quantize{pipeline="annotate{config=w8a8},share-observers,insert-fake-quant,dedup-fake-quant,calibrate{data=%t/nan},lower-to-qdq"}))' -o %t/nan.mlir 2>&1 | FileCheck %s --check-prefix=NAN
// RUN: test ! -e %t/nan.mlir

// The input, the ReLU's output (shared by fc2's input) and fc2's output get
// calibrated scales; the two weights are stored as i8 with per-channel scales.
// CHECK-LABEL: func.func @mlp(%arg0: tensor<1x4xf32>) -> tensor<1x3xf32>
// CHECK:         "quant.qcast"(%arg0) : (tensor<1x4xf32>) -> tensor<1x4x!quant.uniform<i8:f32, {{[0-9.e-]+}}>>
// CHECK:         "quant.scast"(%{{.*}}) : (tensor<5x4xi8>) -> tensor<5x4x!quant.uniform<i8:f32:0, {{.*}}>>
// CHECK:         "tosa.fully_connected"
// CHECK:         "quant.qcast"(%{{.*}}) : (tensor<1x5xf32>) -> tensor<1x5x!quant.uniform<i8:f32, {{[0-9.e-]+}}>>
// CHECK:         "quant.scast"(%{{.*}}) : (tensor<3x5xi8>) -> tensor<3x5x!quant.uniform<i8:f32:0, {{.*}}>>
// CHECK:         "quant.qcast"(%{{.*}}) : (tensor<1x3xf32>) -> tensor<1x3x!quant.uniform<i8:f32, {{[0-9.e-]+}}>>
// CHECK-NOT:     qfx.fake_quant

// SYNTHETIC: warning: calibrate: no `data` given, so the observers see 3 batches of synthetic noise; the qparams do not reflect the model's real activation ranges (pass data=<calibration data>)
// MISSING: error: pass 'calibrate' failed: calibration data '{{.*}}nowhere' does not exist
// NAN: error: pass 'calibrate' failed: calibration batch 1 (2 files in {{.*}}nan), input 0, contains NaN; clean the calibration data (observers cannot use non-finite values)

func.func @mlp(%input: tensor<1x4xf32>) -> tensor<1x3xf32> {
  %w1 = "tosa.const"() {value = dense<[[0.5, -0.25, 0.125, 0.75], [-0.5, 0.25, 0.375, -0.125], [0.25, 0.5, -0.75, 0.5], [0.125, -0.375, 0.25, -0.5], [0.625, 0.125, -0.25, 0.375]]> : tensor<5x4xf32>} : () -> tensor<5x4xf32>
  %b1 = "tosa.const"() {value = dense<[0.1, -0.2, 0.05, 0.0, 0.15]> : tensor<5xf32>} : () -> tensor<5xf32>
  %w2 = "tosa.const"() {value = dense<[[0.25, -0.5, 0.75, 0.125, -0.25], [0.5, 0.25, -0.125, 0.375, 0.5], [-0.75, 0.125, 0.25, -0.5, 0.625]]> : tensor<3x5xf32>} : () -> tensor<3x5xf32>
  %b2 = "tosa.const"() {value = dense<[0.0, 0.1, -0.1]> : tensor<3xf32>} : () -> tensor<3xf32>
  %0 = "tosa.fully_connected"(%input, %w1, %b1) : (tensor<1x4xf32>, tensor<5x4xf32>, tensor<5xf32>) -> tensor<1x5xf32> loc("fc1"("mlp.py":3:5))
  %1 = "tosa.clamp"(%0) {min_int = 0 : i64, max_int = 2147483647 : i64, min_fp = 0.0 : f32, max_fp = 3.40282347E+38 : f32} : (tensor<1x5xf32>) -> tensor<1x5xf32> loc("relu"("mlp.py":4:5))
  %2 = "tosa.fully_connected"(%1, %w2, %b2) : (tensor<1x5xf32>, tensor<3x5xf32>, tensor<3xf32>) -> tensor<1x3xf32> loc("fc2"("mlp.py":5:5))
  return %2 : tensor<1x3xf32>
}
