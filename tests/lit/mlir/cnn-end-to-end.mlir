// End to end in MLIR: a small tosa CNN (conv2d + relu, depthwise conv2d +
// relu6, residual add, max pool, 1x1 conv2d + relu, avg pool, reshape, fully
// connected) quantized weight-only -- no calibration data needed: the
// runtime's weight quantizer linked into qfx-mlir-opt computes qparams and
// codes from the constants -- then lowered, and verified by Debian's
// mlir-opt-16. Weight-only presets keep activations float; each weight
// becomes integer (or fp8) codes + a dequantize, and the float constants are
// gone.
//
// RUN: qfx-mlir-opt %s -pass-pipeline='builtin.module(func.func(qfx-quantize{pipeline="annotate{config=w8},share-observers,insert-fake-quant,dedup-fake-quant"},qfx-lower-to-qdq))' > %t.w8.mlir
// RUN: FileCheck %s --check-prefix=W8 < %t.w8.mlir
// RUN: mlir-opt %t.w8.mlir -verify-each > /dev/null
// RUN: qfx-mlir-opt %t.w8.mlir > %t.w8.expected
// RUN: qfx-mlir-opt %t.w8.mlir -pass-pipeline='builtin.module(func.func(qfx-roundtrip))' | diff %t.w8.expected -
//
// One scheme per layer (Inputs/cnn-weight-schemes.yaml): both dialects.
// RUN: qfx-mlir-opt %s -pass-pipeline='builtin.module(func.func(qfx-quantize{pipeline="annotate{config=%S/Inputs/cnn-weight-schemes.yaml},share-observers,insert-fake-quant,dedup-fake-quant"},qfx-lower-to-qdq))' > %t.mixed.mlir
// RUN: FileCheck %s --check-prefix=MIXED < %t.mixed.mlir
// RUN: mlir-opt %t.mixed.mlir --allow-unregistered-dialect > /dev/null
// RUN: qfx-mlir-opt %s -pass-pipeline='builtin.module(func.func(qfx-quantize{config=%S/Inputs/cnn-weight-schemes.yaml},qfx-lower-to-qdq))' | diff %t.mixed.mlir -
//
// Activations need calibration, which qfx-mlir-opt does not do (qfx-quantize
// does: calibrate-tosa-cnn.mlir): W8A8 stops at lowering with a diagnostic at
// the first activation fake-quant.
// RUN: not qfx-mlir-opt %s -pass-pipeline='builtin.module(func.func(qfx-quantize,qfx-lower-to-qdq))' 2>&1 | FileCheck %s --check-prefix=W8A8

// W8-LABEL: func.func @cnn(%arg0: tensor<1x8x8x3xf32>) -> tensor<1x10xf32>
// W8-NOT:     tensor<4x3x3x3xf32>}
// W8:         %[[C1:.*]] = arith.constant {qfx.name = "conv1.weight_quantized"} dense<"0x{{[0-9A-F]+}}"> : tensor<4x3x3x3xi8>
// W8-NEXT:    %[[S1:.*]] = "quant.scast"(%[[C1]]) : (tensor<4x3x3x3xi8>) -> tensor<4x3x3x3x!quant.uniform<i8:f32:0, {0.0075843138620257378,0.0055529410019516945,0.0071607842110097408,0.0057176467962563038}>>
// W8-NEXT:    %[[W1:.*]] = "quant.dcast"(%[[S1]])
// W8:         "tosa.conv2d"(%arg0, %[[W1]],
// W8:         %[[CD:.*]] = arith.constant {qfx.name = "dw.weight_quantized"} dense<{{.*}}> : tensor<3x3x4x1xi8>
// W8-NEXT:    %[[SD:.*]] = "quant.scast"(%[[CD]]) : (tensor<3x3x4x1xi8>) -> tensor<3x3x4x1x!quant.uniform<i8:f32:2, {{.*}}>>
// W8-NEXT:    %[[WD:.*]] = "quant.dcast"(%[[SD]])
// W8-NEXT:    "tosa.depthwise_conv2d"(%{{.*}}, %[[WD]],
// W8:         %[[C2:.*]] = arith.constant {qfx.name = "conv2.weight_quantized"} dense<{{\[\[\[\[}}-127, 68, -52, -111]]], {{\[\[\[}}-6, -77, -34, -128]]], {{.*}}> : tensor<8x1x1x4xi8>
// W8-NEXT:    %[[S2:.*]] = "quant.scast"(%[[C2]]) : (tensor<8x1x1x4xi8>) -> tensor<8x1x1x4x!quant.uniform<i8:f32:0, {{.*}}>>
// W8-NEXT:    %[[W2:.*]] = "quant.dcast"(%[[S2]])
// W8-NEXT:    "tosa.conv2d"(%{{.*}}, %[[W2]],
// W8:         %[[CF:.*]] = arith.constant {qfx.name = "fc.weight_quantized"} dense<{{\[\[}}-128, 85, -53, 102, -106, -16, 81, -71], {{.*}}> : tensor<10x8xi8>
// W8-NEXT:    %[[SF:.*]] = "quant.scast"(%[[CF]]) : (tensor<10x8xi8>) -> tensor<10x8x!quant.uniform<i8:f32:0, {{.*}}>>
// W8-NEXT:    %[[WF:.*]] = "quant.dcast"(%[[SF]])
// W8-NEXT:    %[[FC:.*]] = "tosa.fully_connected"(%{{.*}}, %[[WF]],
// W8-NEXT:    return %[[FC]]
// W8-NOT:     qfx.

// MIXED-LABEL: func.func @cnn(
// MIXED:         "quant.scast"(%{{.*}}) : (tensor<4x3x3x3xi8>) -> tensor<4x3x3x3x!quant.uniform<i8:f32:0,
// MIXED:         "quant.scast"(%{{.*}}) : (tensor<3x3x4x1xi8>) -> tensor<3x3x4x1x!quant.uniform<i8<-7:7>:f32:2,
// conv2's per_block axis 0, block 2 means blocks of 2 output channels x 1
// input channel x the kernel (the spec's OIHW view of the OHWI weight).
// MIXED:         "qfx.dequantize"(%{{.*}}) {block_shape = array<i64: 2, 1, 1, 1>, dtype = "int4", minval = array<f64: {{.*}}>, qparam_shape = array<i64: 4, 1, 1, 4>, quant_max = 7 : i64, quant_min = -8 : i64, scale = array<f64: {{.*}}>} : (tensor<8x1x1x4xi8>) -> tensor<8x1x1x4xf32>
// MIXED:         %[[F8:.*]] = arith.constant {qfx.name = "fc.weight_quantized"} dense<{{.*}}> : tensor<10x8xf8E4M3FN>
// MIXED-NEXT:    "qfx.dequantize"(%[[F8]]) {dtype = "float8_e4m3fn", qparam_shape = array<i64: 1, 1>, quant_max = 4.480000e+02 : f64, quant_min = -4.480000e+02 : f64, scale = array<f64: 0.001953125>, scale_dtype = "float8_e8m0fnu"} : (tensor<10x8xf8E4M3FN>) -> tensor<10x8xf32>

// W8A8: cnn.py:10:5: error: pass 'lower-to-qdq' failed on 'qfx.fake_quant' in module 'conv1' at cnn.py:10:5: the fake-quant has no qparams: run calibration or provide qparams

func.func @cnn(%input: tensor<1x8x8x3xf32>) -> tensor<1x10xf32> {
  %w1 = "tosa.const"() {value = dense<[[[[0.014, -0.324, -0.191], [0.035, 0.448, -0.328], [0.202, -0.41, -0.008]], [[-0.563, -0.624, -0.166], [-0.334, -0.198, 0.967], [0.071, 0.531, 0.293]], [[0.534, 0.56, 0.646], [-0.348, 0.125, -0.185], [-0.153, 0.417, 0.02]]], [[[-0.099, 0.16, 0.428], [0.647, 0.555, 0.55], [0.262, 0.388, 0.164]], [[-0.222, -0.289, -0.6], [0.654, -0.168, -0.073], [0.479, -0.374, -0.287]], [[0.458, 0.237, -0.091], [0.28, 0.387, 0.685], [-0.708, -0.272, 0.385]]], [[[-0.386, 0.134, -0.913], [0.912, -0.362, -0.881], [-0.116, 0.83, 0.144]], [[-0.381, 0.07, -0.248], [-0.004, -0.263, -0.023], [-0.094, 0.559, -0.11]], [[-0.213, -0.177, -0.685], [-0.509, 0.034, 0.393], [-0.806, -0.198, 0.547]]], [[[-0.51, -0.314, -0.54], [-0.202, -0.195, 0.387], [-0.463, 0.151, -0.101]], [[0.176, 0.349, 0.657], [-0.4, 0.508, 0.701], [0.418, -0.103, 0.348]], [[0.619, -0.682, -0.44], [-0.729, 0.728, 0.5], [-0.292, -0.36, -0.205]]]]> : tensor<4x3x3x3xf32>} : () -> tensor<4x3x3x3xf32>
  %b1 = "tosa.const"() {value = dense<[-0.472, 0.196, -0.188, -0.106]> : tensor<4xf32>} : () -> tensor<4xf32>
  %wd = "tosa.const"() {value = dense<[[[[0.042], [-0.283], [-0.184], [-0.246]], [[0.129], [-0.018], [-0.373], [-0.038]], [[0.367], [0.541], [0.005], [0.027]]], [[[-0.021], [0.013], [0.327], [-0.946]], [[-0.357], [-0.323], [-0.254], [-0.475]], [[-0.564], [0.456], [-0.031], [0.011]]], [[[-0.418], [-0.406], [0.168], [0.287]], [[-0.239], [-0.734], [0.395], [-0.683]], [[0.026], [0.493], [0.426], [0.266]]]]> : tensor<3x3x4x1xf32>} : () -> tensor<3x3x4x1xf32>
  %bd = "tosa.const"() {value = dense<0.0> : tensor<4xf32>} : () -> tensor<4xf32>
  %w2 = "tosa.const"() {value = dense<[[[[-0.445, 0.238, -0.18, -0.387]]], [[[-0.03, -0.363, -0.16, -0.603]]], [[[0.554, 0.343, -0.43, -0.627]]], [[[0.136, 0.118, -0.994, 0.545]]], [[[-0.801, -0.632, 0.352, 0.008]]], [[[-0.169, 0.358, -0.11, -0.39]]], [[[-0.051, 0.182, 0.243, -0.021]]], [[[-0.439, 0.185, 0.268, -0.552]]]]> : tensor<8x1x1x4xf32>} : () -> tensor<8x1x1x4xf32>
  %b2 = "tosa.const"() {value = dense<[0.069, -0.242, -0.176, 0.473, -0.189, 0.292, 0.052, 0.333]> : tensor<8xf32>} : () -> tensor<8xf32>
  %wf = "tosa.const"() {value = dense<[[-0.417, 0.279, -0.172, 0.332, -0.348, -0.052, 0.265, -0.231], [-0.572, -0.053, 0.199, -0.435, 0.45, 0.329, 0.366, -0.472], [0.31, 0.752, -0.437, 0.973, 0.62, 0.162, -0.267, -0.193], [-0.316, 0.358, 0.391, 0.365, 0.662, 0.523, 0.016, -0.29], [0.74, -0.66, -0.267, 0.418, 0.519, -0.707, -0.423, 0.464], [0.825, -0.487, -0.482, 0.086, -0.175, -0.274, 0.297, -0.084], [0.435, -0.678, -0.418, -0.474, 0.376, -0.076, -0.184, 0.244], [0.425, 0.87, -0.872, 0.214, 0.266, -0.741, -0.99, 0.228], [0.427, 0.266, 0.031, 0.039, -0.138, -0.33, 0.293, 0.265], [0.054, 0.097, -0.301, 0.438, -0.289, -0.852, 0.563, 0.214]]> : tensor<10x8xf32>} : () -> tensor<10x8xf32>
  %bf = "tosa.const"() {value = dense<[0.097, -0.201, -0.168, 0.192, 0.493, -0.397, 0.478, 0.705, -0.384, -0.25]> : tensor<10xf32>} : () -> tensor<10xf32>
  %0 = "tosa.conv2d"(%input, %w1, %b1) {pad = array<i64: 1, 1, 1, 1>, stride = array<i64: 1, 1>, dilation = array<i64: 1, 1>} : (tensor<1x8x8x3xf32>, tensor<4x3x3x3xf32>, tensor<4xf32>) -> tensor<1x8x8x4xf32> loc("conv1"("cnn.py":10:5))
  %1 = "tosa.clamp"(%0) {min_int = 0 : i64, max_int = 2147483647 : i64, min_fp = 0.0 : f32, max_fp = 3.40282347E+38 : f32} : (tensor<1x8x8x4xf32>) -> tensor<1x8x8x4xf32>
  %2 = "tosa.depthwise_conv2d"(%1, %wd, %bd) {pad = array<i64: 1, 1, 1, 1>, stride = array<i64: 1, 1>, dilation = array<i64: 1, 1>} : (tensor<1x8x8x4xf32>, tensor<3x3x4x1xf32>, tensor<4xf32>) -> tensor<1x8x8x4xf32> loc("dw"("cnn.py":11:5))
  %3 = "tosa.clamp"(%2) {min_int = 0 : i64, max_int = 6 : i64, min_fp = 0.0 : f32, max_fp = 6.0 : f32} : (tensor<1x8x8x4xf32>) -> tensor<1x8x8x4xf32>
  %4 = "tosa.add"(%3, %1) : (tensor<1x8x8x4xf32>, tensor<1x8x8x4xf32>) -> tensor<1x8x8x4xf32>
  %5 = "tosa.max_pool2d"(%4) {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>, pad = array<i64: 0, 0, 0, 0>} : (tensor<1x8x8x4xf32>) -> tensor<1x4x4x4xf32>
  %6 = "tosa.conv2d"(%5, %w2, %b2) {pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>, dilation = array<i64: 1, 1>} : (tensor<1x4x4x4xf32>, tensor<8x1x1x4xf32>, tensor<8xf32>) -> tensor<1x4x4x8xf32> loc("conv2"("cnn.py":13:5))
  %7 = "tosa.clamp"(%6) {min_int = 0 : i64, max_int = 2147483647 : i64, min_fp = 0.0 : f32, max_fp = 3.40282347E+38 : f32} : (tensor<1x4x4x8xf32>) -> tensor<1x4x4x8xf32>
  %8 = "tosa.avg_pool2d"(%7) {kernel = array<i64: 4, 4>, stride = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>} : (tensor<1x4x4x8xf32>) -> tensor<1x1x1x8xf32>
  %9 = "tosa.reshape"(%8) {new_shape = array<i64: 1, 8>} : (tensor<1x1x1x8xf32>) -> tensor<1x8xf32>
  %10 = "tosa.fully_connected"(%9, %wf, %bf) : (tensor<1x8xf32>, tensor<10x8xf32>, tensor<10xf32>) -> tensor<1x10xf32> loc("fc"("cnn.py":15:5))
  return %10 : tensor<1x10xf32>
}
