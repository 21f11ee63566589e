// Import of every tosa op of the op table, arith.constant and tosa.const:
// each op becomes a node of the same name (so it gets the traits of its
// table row), its attributes plain qfx attributes; dense constants become
// parameters with their data, named <op type><N>.weight / .bias when they are
// the weight or bias of a weighted op. The second half of the RUN lines checks
// that exporting the imported functions gives the same module, and that
// Debian's mlir-opt-16 reads the result identically.
//
// RUN: qfx-mlir-translate --mlir-to-qfx %s | FileCheck %s
// RUN: qfx-mlir-opt %s -mlir-print-debuginfo > %t.expected
// RUN: qfx-mlir-opt %s -mlir-print-debuginfo -pass-pipeline='builtin.module(func.func(qfx-roundtrip))' > %t.roundtrip
// RUN: diff %t.expected %t.roundtrip
// RUN: mlir-opt %t.roundtrip -mlir-print-debuginfo | diff %t.expected -

// CHECK-LABEL: graph @conv2d(%arg0: tensor<1x8x8x3xf32>) {
// CHECK-NEXT:    param %conv2d0.weight : tensor<4x3x3x3xf32>
// CHECK-NEXT:    param %conv2d0.bias : tensor<4xf32>
// CHECK-NEXT:    %0 = tosa.conv2d(%arg0, %conv2d0.weight, %conv2d0.bias) {dilation = [1, 1], pad = [1, 1, 1, 1], stride = [1, 1], mlir.before = [{name = "conv2d0.weight", op = "tosa.const", loc = "loc(\"{{.*}}import-tosa.mlir\":[[@LINE+4]]:8)"}, {name = "conv2d0.bias", op = "arith.constant", loc = "loc(\"{{.*}}import-tosa.mlir\":[[@LINE+5]]:8)"}]} : tensor<1x8x8x4xf32> loc("{{.*}}import-tosa.mlir":[[@LINE+6]]:8)
// CHECK-NEXT:    return %0
// CHECK-NEXT:  }
func.func @conv2d(%arg0: tensor<1x8x8x3xf32>) -> tensor<1x8x8x4xf32> {
  %w = "tosa.const"() {value = dense<0.5> : tensor<4x3x3x3xf32>} : () -> tensor<4x3x3x3xf32>
  %b = arith.constant dense<[0.0, 1.0, 2.0, 3.0]> : tensor<4xf32>
  %0 = "tosa.conv2d"(%arg0, %w, %b) {pad = array<i64: 1, 1, 1, 1>, stride = array<i64: 1, 1>, dilation = array<i64: 1, 1>} : (tensor<1x8x8x3xf32>, tensor<4x3x3x3xf32>, tensor<4xf32>) -> tensor<1x8x8x4xf32>
  return %0 : tensor<1x8x8x4xf32>
}

// Convolution quantization info of an integer convolution (a tosa struct
// attribute) has no qfx equivalent: it is kept as its MLIR text, with kind
// "attr".
// CHECK-LABEL: graph @conv3d_and_depthwise(
// CHECK-NEXT:    param %conv3d0.weight : tensor<2x1x1x1x3xf32>
// CHECK-NEXT:    param %conv3d0.bias : tensor<2xf32>
// CHECK-NEXT:    param %conv2d0.weight : tensor<3x3x3x1xi8>
// CHECK-NEXT:    param %conv2d0.bias : tensor<3xi32>
// CHECK-NEXT:    %0 = tosa.conv3d(%arg0, %conv3d0.weight, %conv3d0.bias) {dilation = [1, 1, 1], pad = [0, 0, 0, 0, 0, 0], stride = [1, 1, 1], mlir.before = [
// CHECK-NEXT:    %1 = tosa.depthwise_conv2d(%arg1, %conv2d0.weight, %conv2d0.bias) {dilation = [1, 1], pad = [1, 1, 1, 1], quantization_info = "#tosa.conv_quant<input_zp = -128, weight_zp = 0>", stride = [1, 1], mlir.kinds = {quantization_info = "attr"}, mlir.before = [
// CHECK-NEXT:    return %0, %1
func.func @conv3d_and_depthwise(%arg0: tensor<1x4x4x4x3xf32>, %arg1: tensor<1x8x8x3xi8>) -> (tensor<1x4x4x4x2xf32>, tensor<1x8x8x3xi32>) {
  %w3 = arith.constant dense<1.0> : tensor<2x1x1x1x3xf32>
  %b3 = arith.constant dense<0.0> : tensor<2xf32>
  %0 = "tosa.conv3d"(%arg0, %w3, %b3) {pad = array<i64: 0, 0, 0, 0, 0, 0>, stride = array<i64: 1, 1, 1>, dilation = array<i64: 1, 1, 1>} : (tensor<1x4x4x4x3xf32>, tensor<2x1x1x1x3xf32>, tensor<2xf32>) -> tensor<1x4x4x4x2xf32>
  %wd = arith.constant dense<[[[[1], [2], [3]], [[4], [5], [6]], [[7], [8], [9]]], [[[1], [2], [3]], [[4], [5], [6]], [[7], [8], [9]]], [[[-1], [-2], [-3]], [[-4], [-5], [-6]], [[-7], [-8], [-9]]]]> : tensor<3x3x3x1xi8>
  %bd = arith.constant dense<[1, -2, 3]> : tensor<3xi32>
  %1 = "tosa.depthwise_conv2d"(%arg1, %wd, %bd) {pad = array<i64: 1, 1, 1, 1>, stride = array<i64: 1, 1>, dilation = array<i64: 1, 1>, quantization_info = #tosa.conv_quant<input_zp = -128, weight_zp = 0>} : (tensor<1x8x8x3xi8>, tensor<3x3x3x1xi8>, tensor<3xi32>) -> tensor<1x8x8x3xi32>
  return %0, %1 : tensor<1x4x4x4x2xf32>, tensor<1x8x8x3xi32>
}

// CHECK-LABEL: graph @transpose_conv2d_fully_connected_matmul(
// CHECK-NEXT:    param %conv_transpose2d0.weight : tensor<2x3x3x4xf32>
// CHECK-NEXT:    param %conv_transpose2d0.bias : tensor<2xf32>
// CHECK-NEXT:    param %linear0.weight : tensor<5x16xf32>
// CHECK-NEXT:    param %linear0.bias : tensor<5xf32>
// CHECK-NEXT:    %0 = tosa.transpose_conv2d(%arg0, %conv_transpose2d0.weight, %conv_transpose2d0.bias) {out_pad = [0, 0, 0, 0], out_shape = [1, 10, 10, 2], stride = [1, 1], mlir.before = [
// CHECK-NEXT:    %1 = tosa.fully_connected(%arg1, %linear0.weight, %linear0.bias) {mlir.before = [
// CHECK-NEXT:    %2 = tosa.matmul(%arg2, %arg3) : tensor<1x4x6xf32>
func.func @transpose_conv2d_fully_connected_matmul(%arg0: tensor<1x8x8x4xf32>, %arg1: tensor<2x16xf32>, %arg2: tensor<1x4x5xf32>, %arg3: tensor<1x5x6xf32>) -> (tensor<1x10x10x2xf32>, tensor<2x5xf32>, tensor<1x4x6xf32>) {
  %w = arith.constant dense<1.0> : tensor<2x3x3x4xf32>
  %b = arith.constant dense<0.0> : tensor<2xf32>
  %0 = "tosa.transpose_conv2d"(%arg0, %w, %b) {out_pad = array<i64: 0, 0, 0, 0>, out_shape = array<i64: 1, 10, 10, 2>, stride = array<i64: 1, 1>} : (tensor<1x8x8x4xf32>, tensor<2x3x3x4xf32>, tensor<2xf32>) -> tensor<1x10x10x2xf32>
  %fw = arith.constant dense<0.25> : tensor<5x16xf32>
  %fb = arith.constant dense<0.0> : tensor<5xf32>
  %1 = "tosa.fully_connected"(%arg1, %fw, %fb) : (tensor<2x16xf32>, tensor<5x16xf32>, tensor<5xf32>) -> tensor<2x5xf32>
  %2 = "tosa.matmul"(%arg2, %arg3) : (tensor<1x4x5xf32>, tensor<1x5x6xf32>) -> tensor<1x4x6xf32>
  return %0, %1, %2 : tensor<1x10x10x2xf32>, tensor<2x5xf32>, tensor<1x4x6xf32>
}

// tosa.clamp's float bounds are f32 attributes and tosa.mul's shift an i32:
// the op's definition says so (the exporter knows), so no kind is recorded.
// CHECK-LABEL: graph @elementwise(
// CHECK-NEXT:    %0 = tosa.add(%arg0, %arg1) : tensor<2x3xf32>
// CHECK-NEXT:    %1 = tosa.sub(%0, %arg1) : tensor<2x3xf32>
// CHECK-NEXT:    %2 = tosa.mul(%1, %arg1) {shift = 0} : tensor<2x3xf32>
// CHECK-NEXT:    %3 = tosa.clamp(%2) {max_fp = 6.0, max_int = 6, min_fp = 0.0, min_int = 0} : tensor<2x3xf32>
// CHECK-NEXT:    %4 = tosa.sigmoid(%3) : tensor<2x3xf32>
// CHECK-NEXT:    %5 = tosa.tanh(%4) : tensor<2x3xf32>
// CHECK-NEXT:    %6 = tosa.identity(%5) : tensor<2x3xf32>
// CHECK-NEXT:    return %6
func.func @elementwise(%arg0: tensor<2x3xf32>, %arg1: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %0 = "tosa.add"(%arg0, %arg1) : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  %1 = "tosa.sub"(%0, %arg1) : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  %2 = "tosa.mul"(%1, %arg1) {shift = 0 : i32} : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  %3 = "tosa.clamp"(%2) {min_int = 0 : i64, max_int = 6 : i64, min_fp = 0.0 : f32, max_fp = 6.0 : f32} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %4 = "tosa.sigmoid"(%3) : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %5 = "tosa.tanh"(%4) : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %6 = "tosa.identity"(%5) : (tensor<2x3xf32>) -> tensor<2x3xf32>
  return %6 : tensor<2x3xf32>
}

// CHECK-LABEL: graph @movement(
// CHECK-NEXT:    param %const0 : tensor<4xi32>
// CHECK-NEXT:    %0 = tosa.max_pool2d(%arg0) {kernel = [2, 2], pad = [0, 0, 0, 0], stride = [2, 2]} : tensor<1x4x4x8xf32>
// CHECK-NEXT:    %1 = tosa.avg_pool2d(%0) {kernel = [2, 2], pad = [0, 0, 0, 0], stride = [2, 2]} : tensor<1x2x2x8xf32>
// CHECK-NEXT:    %2 = tosa.reshape(%1) {new_shape = [1, 32]} : tensor<1x32xf32>
// CHECK-NEXT:    %3 = tosa.transpose(%0, %const0) {mlir.before = [{name = "const0", op = "tosa.const", loc = {{.*}}}]} : tensor<1x8x4x4xf32>
// CHECK-NEXT:    %4 = tosa.concat(%2, %2) {axis = 1} : tensor<1x64xf32>
// CHECK-NEXT:    return %4, %3
func.func @movement(%arg0: tensor<1x8x8x8xf32>) -> (tensor<1x64xf32>, tensor<1x8x4x4xf32>) {
  %0 = "tosa.max_pool2d"(%arg0) {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>, pad = array<i64: 0, 0, 0, 0>} : (tensor<1x8x8x8xf32>) -> tensor<1x4x4x8xf32>
  %1 = "tosa.avg_pool2d"(%0) {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>, pad = array<i64: 0, 0, 0, 0>} : (tensor<1x4x4x8xf32>) -> tensor<1x2x2x8xf32>
  %2 = "tosa.reshape"(%1) {new_shape = array<i64: 1, 32>} : (tensor<1x2x2x8xf32>) -> tensor<1x32xf32>
  %perms = "tosa.const"() {value = dense<[0, 3, 1, 2]> : tensor<4xi32>} : () -> tensor<4xi32>
  %3 = "tosa.transpose"(%0, %perms) : (tensor<1x4x4x8xf32>, tensor<4xi32>) -> tensor<1x8x4x4xf32>
  %4 = "tosa.concat"(%2, %2) {axis = 1 : i64} : (tensor<1x32xf32>, tensor<1x32xf32>) -> tensor<1x64xf32>
  return %4, %3 : tensor<1x64xf32>, tensor<1x8x4x4xf32>
}

// Tosa ops outside the op table import the same way (opaque to passes).
// CHECK-LABEL: graph @other_tosa_ops(
// CHECK-NEXT:    %0 = tosa.rsqrt(%arg0) : tensor<2x3xf32>
// CHECK-NEXT:    %1 = tosa.reduce_sum(%0) {axis = 1} : tensor<2x1xf32>
// CHECK-NEXT:    %2 = tosa.rescale(%arg1) {double_round = false, input_zp = 0, multiplier = [1073741824], output_zp = 0, per_channel = false, scale32 = true, shift = [30]} : tensor<2x3xi8>
func.func @other_tosa_ops(%arg0: tensor<2x3xf32>, %arg1: tensor<2x3xi8>) -> (tensor<2x1xf32>, tensor<2x3xi8>) {
  %0 = "tosa.rsqrt"(%arg0) : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %1 = "tosa.reduce_sum"(%0) {axis = 1 : i64} : (tensor<2x3xf32>) -> tensor<2x1xf32>
  %2 = "tosa.rescale"(%arg1) {input_zp = 0 : i32, output_zp = 0 : i32, multiplier = array<i32: 1073741824>, shift = array<i32: 30>, scale32 = true, double_round = false, per_channel = false} : (tensor<2x3xi8>) -> tensor<2x3xi8>
  return %1, %2 : tensor<2x1xf32>, tensor<2x3xi8>
}
