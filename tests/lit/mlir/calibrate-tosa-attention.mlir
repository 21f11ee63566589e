// A single-head attention block in tosa as TOSA legalizations write
// softmax (reduce_max, sub, exp, reduce_sum, reciprocal, mul), with a pad and
// a slice, calibrated W8A8 by qfx-quantize on synthetic data: the interpreter
// runs every op, the matmuls' inputs and the projections get calibrated
// scales, and Debian's mlir-opt-16 verifies the result.
//
// RUN: rm -rf %t && mkdir -p %t
// RUN: qfx-quantize %s -o %t/attn_q.mlir --num-batches 2 --no-progress | FileCheck %s --check-prefix=REPORT
// RUN: FileCheck %s < %t/attn_q.mlir
// RUN: mlir-opt %t/attn_q.mlir -verify-each > /dev/null

// REPORT: calibration: 2 batches (2 synthetic batches (random normal, seed 0))
// REPORT: SQNR output 0 (quantized vs float): {{[0-9]+\.[0-9]+}} dB
// REPORT: SQNR per layer (dB):

// CHECK-LABEL: func.func @attention
// CHECK:         "quant.qcast"(%arg0)
// CHECK:         "tosa.matmul"
// CHECK:         "tosa.reduce_max"
// CHECK:         "tosa.reduce_sum"
// CHECK:         "tosa.reciprocal"
// CHECK:         "tosa.matmul"
// CHECK:         "tosa.pad"
// CHECK:         "tosa.slice"
// CHECK-NOT:     qfx.fake_quant

func.func @attention(%x: tensor<1x4x8xf32>) -> tensor<1x4x8xf32> {
  %wq = "tosa.const"() {value = dense<0.125> : tensor<8x8xf32>} : () -> tensor<8x8xf32>
  %wk = "tosa.const"() {value = dense<-0.0625> : tensor<8x8xf32>} : () -> tensor<8x8xf32>
  %b = "tosa.const"() {value = dense<0.01> : tensor<8xf32>} : () -> tensor<8xf32>
  %perms = "tosa.const"() {value = dense<[0, 2, 1]> : tensor<3xi32>} : () -> tensor<3xi32>
  %padding = "tosa.const"() {value = dense<[[0, 0], [0, 1], [0, 0]]> : tensor<3x2xi32>} : () -> tensor<3x2xi32>
  %x2 = "tosa.reshape"(%x) {new_shape = array<i64: 4, 8>} : (tensor<1x4x8xf32>) -> tensor<4x8xf32>
  %q2 = "tosa.fully_connected"(%x2, %wq, %b) : (tensor<4x8xf32>, tensor<8x8xf32>, tensor<8xf32>) -> tensor<4x8xf32> loc("q_proj"("attn.py":3:5))
  %k2 = "tosa.fully_connected"(%x2, %wk, %b) : (tensor<4x8xf32>, tensor<8x8xf32>, tensor<8xf32>) -> tensor<4x8xf32> loc("k_proj"("attn.py":4:5))
  %q = "tosa.reshape"(%q2) {new_shape = array<i64: 1, 4, 8>} : (tensor<4x8xf32>) -> tensor<1x4x8xf32>
  %k = "tosa.reshape"(%k2) {new_shape = array<i64: 1, 4, 8>} : (tensor<4x8xf32>) -> tensor<1x4x8xf32>
  %kt = "tosa.transpose"(%k, %perms) : (tensor<1x4x8xf32>, tensor<3xi32>) -> tensor<1x8x4xf32>
  %s = "tosa.matmul"(%q, %kt) : (tensor<1x4x8xf32>, tensor<1x8x4xf32>) -> tensor<1x4x4xf32> loc("scores"("attn.py":5:5))
  %m = "tosa.reduce_max"(%s) {axis = 2 : i64} : (tensor<1x4x4xf32>) -> tensor<1x4x1xf32>
  %d = "tosa.sub"(%s, %m) : (tensor<1x4x4xf32>, tensor<1x4x1xf32>) -> tensor<1x4x4xf32>
  %e = "tosa.exp"(%d) : (tensor<1x4x4xf32>) -> tensor<1x4x4xf32>
  %z = "tosa.reduce_sum"(%e) {axis = 2 : i64} : (tensor<1x4x4xf32>) -> tensor<1x4x1xf32>
  %r = "tosa.reciprocal"(%z) : (tensor<1x4x1xf32>) -> tensor<1x4x1xf32>
  %p = "tosa.mul"(%e, %r) {shift = 0 : i32} : (tensor<1x4x4xf32>, tensor<1x4x1xf32>) -> tensor<1x4x4xf32>
  %o = "tosa.matmul"(%p, %x) : (tensor<1x4x4xf32>, tensor<1x4x8xf32>) -> tensor<1x4x8xf32> loc("context"("attn.py":6:5))
  %padded = "tosa.pad"(%o, %padding) : (tensor<1x4x8xf32>, tensor<3x2xi32>) -> tensor<1x5x8xf32>
  %y = "tosa.slice"(%padded) {start = array<i64: 0, 0, 0>, size = array<i64: 1, 4, 8>} : (tensor<1x5x8xf32>) -> tensor<1x4x8xf32>
  return %y : tensor<1x4x8xf32>
}
