// MLIR runs function passes on several threads: qfx's passes on many
// functions at once give exactly what one thread gives (each function has
// its own graph, qfx pipeline and diagnostics), and a failure is reported at
// the function it happened in.
//
// RUN: qfx-mlir-opt %s -pass-pipeline='builtin.module(func.func(qfx-quantize{pipeline="annotate{config=w8},share-observers,insert-fake-quant,dedup-fake-quant"},qfx-lower-to-qdq))' > %t.threads
// RUN: qfx-mlir-opt %s --mlir-disable-threading -pass-pipeline='builtin.module(func.func(qfx-quantize{pipeline="annotate{config=w8},share-observers,insert-fake-quant,dedup-fake-quant"},qfx-lower-to-qdq))' > %t.serial
// RUN: diff %t.serial %t.threads
// RUN: FileCheck %s < %t.threads
// RUN: mlir-opt %t.threads > /dev/null
// RUN: not qfx-mlir-opt %s -pass-pipeline='builtin.module(func.func(qfx-quantize{pipeline="lower-to-qdq"}))' 2>&1 | FileCheck %s --check-prefix=ERRORS
//
// Every function gets its weight as codes + quant.scast + quant.dcast:
// CHECK-COUNT-8: "quant.scast"
// CHECK-NOT:     "quant.scast"
//
// Without fake-quants plain lower-to-qdq fails (MLIR stops at the first
// failing function):
// ERRORS: threads.mlir:{{[0-9]+}}:1: error: pass 'lower-to-qdq' failed: the graph contains no fake quantization nodes to convert

func.func @layer0(%arg0: tensor<2x4xf32>) -> tensor<2x2xf32> {
  %w = arith.constant dense<[-1.25, -0.50, 0.25, 1.00, -1.00, -0.25, 0.50, 1.25]> : tensor<8xf32>
  %r = "tosa.reshape"(%w) {new_shape = array<i64: 2, 4>} : (tensor<8xf32>) -> tensor<2x4xf32>
  %fw = arith.constant dense<[[-1.25, -0.50, 0.25, 1.00], [-1.00, -0.25, 0.50, 1.25]]> : tensor<2x4xf32>
  %b = arith.constant dense<0.0> : tensor<2xf32>
  %0 = "tosa.fully_connected"(%arg0, %fw, %b) : (tensor<2x4xf32>, tensor<2x4xf32>, tensor<2xf32>) -> tensor<2x2xf32>
  %1 = "tosa.add"(%0, %0) : (tensor<2x2xf32>, tensor<2x2xf32>) -> tensor<2x2xf32>
  return %1 : tensor<2x2xf32>
}

func.func @layer1(%arg0: tensor<2x4xf32>) -> tensor<2x2xf32> {
  %w = arith.constant dense<[0.50, 1.25, -0.75, 0.00, 0.75, -1.25, -0.50, 0.25]> : tensor<8xf32>
  %r = "tosa.reshape"(%w) {new_shape = array<i64: 2, 4>} : (tensor<8xf32>) -> tensor<2x4xf32>
  %fw = arith.constant dense<[[0.50, 1.25, -0.75, 0.00], [0.75, -1.25, -0.50, 0.25]]> : tensor<2x4xf32>
  %b = arith.constant dense<0.0> : tensor<2xf32>
  %0 = "tosa.fully_connected"(%arg0, %fw, %b) : (tensor<2x4xf32>, tensor<2x4xf32>, tensor<2xf32>) -> tensor<2x2xf32>
  %1 = "tosa.add"(%0, %0) : (tensor<2x2xf32>, tensor<2x2xf32>) -> tensor<2x2xf32>
  return %1 : tensor<2x2xf32>
}

func.func @layer2(%arg0: tensor<2x4xf32>) -> tensor<2x2xf32> {
  %w = arith.constant dense<[-0.50, 0.25, 1.00, -1.00, -0.25, 0.50, 1.25, -0.75]> : tensor<8xf32>
  %r = "tosa.reshape"(%w) {new_shape = array<i64: 2, 4>} : (tensor<8xf32>) -> tensor<2x4xf32>
  %fw = arith.constant dense<[[-0.50, 0.25, 1.00, -1.00], [-0.25, 0.50, 1.25, -0.75]]> : tensor<2x4xf32>
  %b = arith.constant dense<0.0> : tensor<2xf32>
  %0 = "tosa.fully_connected"(%arg0, %fw, %b) : (tensor<2x4xf32>, tensor<2x4xf32>, tensor<2xf32>) -> tensor<2x2xf32>
  %1 = "tosa.add"(%0, %0) : (tensor<2x2xf32>, tensor<2x2xf32>) -> tensor<2x2xf32>
  return %1 : tensor<2x2xf32>
}

func.func @layer3(%arg0: tensor<2x4xf32>) -> tensor<2x2xf32> {
  %w = arith.constant dense<[1.25, -0.75, 0.00, 0.75, -1.25, -0.50, 0.25, 1.00]> : tensor<8xf32>
  %r = "tosa.reshape"(%w) {new_shape = array<i64: 2, 4>} : (tensor<8xf32>) -> tensor<2x4xf32>
  %fw = arith.constant dense<[[1.25, -0.75, 0.00, 0.75], [-1.25, -0.50, 0.25, 1.00]]> : tensor<2x4xf32>
  %b = arith.constant dense<0.0> : tensor<2xf32>
  %0 = "tosa.fully_connected"(%arg0, %fw, %b) : (tensor<2x4xf32>, tensor<2x4xf32>, tensor<2xf32>) -> tensor<2x2xf32>
  %1 = "tosa.add"(%0, %0) : (tensor<2x2xf32>, tensor<2x2xf32>) -> tensor<2x2xf32>
  return %1 : tensor<2x2xf32>
}

func.func @layer4(%arg0: tensor<2x4xf32>) -> tensor<2x2xf32> {
  %w = arith.constant dense<[0.25, 1.00, -1.00, -0.25, 0.50, 1.25, -0.75, 0.00]> : tensor<8xf32>
  %r = "tosa.reshape"(%w) {new_shape = array<i64: 2, 4>} : (tensor<8xf32>) -> tensor<2x4xf32>
  %fw = arith.constant dense<[[0.25, 1.00, -1.00, -0.25], [0.50, 1.25, -0.75, 0.00]]> : tensor<2x4xf32>
  %b = arith.constant dense<0.0> : tensor<2xf32>
  %0 = "tosa.fully_connected"(%arg0, %fw, %b) : (tensor<2x4xf32>, tensor<2x4xf32>, tensor<2xf32>) -> tensor<2x2xf32>
  %1 = "tosa.add"(%0, %0) : (tensor<2x2xf32>, tensor<2x2xf32>) -> tensor<2x2xf32>
  return %1 : tensor<2x2xf32>
}

func.func @layer5(%arg0: tensor<2x4xf32>) -> tensor<2x2xf32> {
  %w = arith.constant dense<[-0.75, 0.00, 0.75, -1.25, -0.50, 0.25, 1.00, -1.00]> : tensor<8xf32>
  %r = "tosa.reshape"(%w) {new_shape = array<i64: 2, 4>} : (tensor<8xf32>) -> tensor<2x4xf32>
  %fw = arith.constant dense<[[-0.75, 0.00, 0.75, -1.25], [-0.50, 0.25, 1.00, -1.00]]> : tensor<2x4xf32>
  %b = arith.constant dense<0.0> : tensor<2xf32>
  %0 = "tosa.fully_connected"(%arg0, %fw, %b) : (tensor<2x4xf32>, tensor<2x4xf32>, tensor<2xf32>) -> tensor<2x2xf32>
  %1 = "tosa.add"(%0, %0) : (tensor<2x2xf32>, tensor<2x2xf32>) -> tensor<2x2xf32>
  return %1 : tensor<2x2xf32>
}

func.func @layer6(%arg0: tensor<2x4xf32>) -> tensor<2x2xf32> {
  %w = arith.constant dense<[1.00, -1.00, -0.25, 0.50, 1.25, -0.75, 0.00, 0.75]> : tensor<8xf32>
  %r = "tosa.reshape"(%w) {new_shape = array<i64: 2, 4>} : (tensor<8xf32>) -> tensor<2x4xf32>
  %fw = arith.constant dense<[[1.00, -1.00, -0.25, 0.50], [1.25, -0.75, 0.00, 0.75]]> : tensor<2x4xf32>
  %b = arith.constant dense<0.0> : tensor<2xf32>
  %0 = "tosa.fully_connected"(%arg0, %fw, %b) : (tensor<2x4xf32>, tensor<2x4xf32>, tensor<2xf32>) -> tensor<2x2xf32>
  %1 = "tosa.add"(%0, %0) : (tensor<2x2xf32>, tensor<2x2xf32>) -> tensor<2x2xf32>
  return %1 : tensor<2x2xf32>
}

func.func @layer7(%arg0: tensor<2x4xf32>) -> tensor<2x2xf32> {
  %w = arith.constant dense<[0.00, 0.75, -1.25, -0.50, 0.25, 1.00, -1.00, -0.25]> : tensor<8xf32>
  %r = "tosa.reshape"(%w) {new_shape = array<i64: 2, 4>} : (tensor<8xf32>) -> tensor<2x4xf32>
  %fw = arith.constant dense<[[0.00, 0.75, -1.25, -0.50], [0.25, 1.00, -1.00, -0.25]]> : tensor<2x4xf32>
  %b = arith.constant dense<0.0> : tensor<2xf32>
  %0 = "tosa.fully_connected"(%arg0, %fw, %b) : (tensor<2x4xf32>, tensor<2x4xf32>, tensor<2xf32>) -> tensor<2x2xf32>
  %1 = "tosa.add"(%0, %0) : (tensor<2x2xf32>, tensor<2x2xf32>) -> tensor<2x2xf32>
  return %1 : tensor<2x2xf32>
}
