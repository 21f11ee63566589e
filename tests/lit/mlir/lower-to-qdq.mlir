// qfx-lower-to-qdq on fake-quants that carry qparams (as calibration leaves
// them): activations become quant.qcast + quant.dcast, the weight integer
// codes (an i8 constant) + quant.scast + quant.dcast, per channel along the
// tosa weight's output-channel axis; the float weight the codes replace is
// dropped. Functions without fake-quants are left alone. Errors point at the
// fake-quant op. The result verifies with Debian's mlir-opt-16.
//
// RUN: qfx-mlir-opt %s --split-input-file --verify-diagnostics -pass-pipeline='builtin.module(func.func(qfx-lower-to-qdq))' | FileCheck %s
// RUN: qfx-mlir-opt %s --split-input-file --verify-diagnostics -pass-pipeline='builtin.module(func.func(qfx-lower-to-qdq))' | mlir-opt > /dev/null

// CHECK-LABEL: func.func @fully_connected(%arg0: tensor<2x4xf32>) -> tensor<2x3xf32>
// CHECK-NEXT:    %[[QX:.*]] = "quant.qcast"(%arg0) : (tensor<2x4xf32>) -> tensor<2x4x!quant.uniform<i8:f32, 5.000000e-01:1>>
// CHECK-NEXT:    %[[X:.*]] = "quant.dcast"(%[[QX]])
// CHECK-NEXT:    %[[C:.*]] = arith.constant {qfx.name = "linear0.weight_quantized"} dense<{{\[\[}}10, -20, 30, -40], [-2, 4, -6, 8], [127, -127, 0, 1]]> : tensor<3x4xi8>
// CHECK-NEXT:    %[[S:.*]] = "quant.scast"(%[[C]]) : (tensor<3x4xi8>) -> tensor<3x4x!quant.uniform<i8<-127:127>:f32:0, {1.000000e-01,5.000000e-01,1.000000e+00}>>
// CHECK-NEXT:    %[[W:.*]] = "quant.dcast"(%[[S]]) : (tensor<3x4x!quant.uniform<i8<-127:127>:f32:0, {1.000000e-01,5.000000e-01,1.000000e+00}>>) -> tensor<3x4xf32>
// CHECK-NEXT:    %[[B:.*]] = arith.constant dense<[1.000000e+00, 2.000000e+00, 3.000000e+00]> : tensor<3xf32>
// CHECK-NEXT:    "tosa.fully_connected"(%[[X]], %[[W]], %[[B]])
// CHECK-NOT:     arith.constant
func.func @fully_connected(%arg0: tensor<2x4xf32>) -> tensor<2x3xf32> {
  %x = "qfx.fake_quant"(%arg0) {group = 0 : i64, spec = {dtype = "int8", qscheme = "asymmetric", granularity = {type = "per_tensor"}}, qparams = {scale = [0.5], zero_point = [1]}} : (tensor<2x4xf32>) -> tensor<2x4xf32>
  %w = arith.constant dense<[[1.0, -2.0, 3.0, -4.0], [-1.0, 2.0, -3.0, 4.0], [127.0, -200.0, 0.0, 1.0]]> : tensor<3x4xf32>
  %fw = "qfx.fake_quant"(%w) {group = 1 : i64, spec = {dtype = "int8", qscheme = "symmetric_with_clipping", granularity = {type = "per_channel", axis = 0}}, qparams = {scale = [0.1, 0.5, 1.0], zero_point = [0, 0, 0]}} : (tensor<3x4xf32>) -> tensor<3x4xf32>
  %b = arith.constant dense<[1.0, 2.0, 3.0]> : tensor<3xf32>
  %0 = "tosa.fully_connected"(%x, %fw, %b) : (tensor<2x4xf32>, tensor<3x4xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

// CHECK-LABEL: func.func @nothing_to_lower(
// CHECK-NEXT:    "tosa.tanh"
func.func @nothing_to_lower(%arg0: tensor<4xf32>) -> tensor<4xf32> {
  %0 = "tosa.tanh"(%arg0) : (tensor<4xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @no_qparams(%arg0: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error@+1 {{pass 'lower-to-qdq' failed on 'qfx.fake_quant'}}
  %0 = "qfx.fake_quant"(%arg0) {group = 0 : i64, spec = {dtype = "int8"}} : (tensor<4xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}
