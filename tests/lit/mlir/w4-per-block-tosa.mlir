// The w4_per_block preset on tosa weights. Specs speak of weights in
// PyTorch's layout ([C_out, C_in, k...]: per-block axis 1 = C_in, blocks of
// one output channel x block_size input channels x the whole kernel); tosa
// convolution weights are OHWI, so the op table's layout trait
// (WeightChannelsLast) maps the block to [1, KH, KW, block_size] on the
// tosa weight. fully_connected weights are [C_out, C_in] in both.
//
// Scales are max|w| / 7.5 per block (int4 symmetric); the conv weights are
// scaled by (o + 1) / 4 and by 1/2 for input channels 4..7, so the 8 blocks
// of the conv have the distinct scales below (computed independently from
// the constants).
//
// RUN: qfx-mlir-opt %s -pass-pipeline='builtin.module(func.func(qfx-quantize{pipeline="annotate{config=w4_per_block block-size=4},share-observers,insert-fake-quant,dedup-fake-quant"},qfx-lower-to-qdq))' > %t.mlir
// RUN: FileCheck %s < %t.mlir
// RUN: mlir-opt %t.mlir --allow-unregistered-dialect -verify-each > /dev/null
//
// The annotation carries the mapped granularity, and annotating in a separate
// pass (annotations travel as qfx.annotation) gives the same module.
// RUN: qfx-mlir-opt %s -mlir-print-debuginfo -pass-pipeline='builtin.module(func.func(qfx-quantize{pipeline="annotate{config=w4_per_block block-size=4}"}))' > %t.annotated.mlir
// RUN: FileCheck %s --check-prefix=ANNOTATED < %t.annotated.mlir
// RUN: qfx-mlir-opt %t.annotated.mlir -pass-pipeline='builtin.module(func.func(qfx-quantize{pipeline="annotate{config=w4_per_block block-size=4},share-observers,insert-fake-quant,dedup-fake-quant"},qfx-lower-to-qdq))' | diff %t.mlir -
//
// The preset's default block size (32) divides neither C_in = 8 nor 16: both
// weights stay float with the reference's warning, and the run succeeds.
// RUN: qfx-mlir-opt %s -pass-pipeline='builtin.module(func.func(qfx-quantize{config=w4_per_block},qfx-lower-to-qdq))' 2> %t.warnings | FileCheck %s --check-prefix=DEFAULT
// RUN: FileCheck %s --check-prefix=WARNINGS < %t.warnings

// CHECK-LABEL: func.func @conv_fc(
// CHECK:         %[[W:.*]] = "qfx.dequantize"(%{{.*}}) {block_shape = array<i64: 1, 3, 3, 4>, dtype = "int4", qparam_shape = array<i64: 4, 1, 1, 2>, quant_max = 7 : i64, quant_min = -8 : i64, scale = array<f64: 0.026666667312383652, 0.013333333656191826, 0.053333334624767303, 0.026666667312383652, 0.080000005662441253, 0.040000002831220627, 0.10666666924953461, 0.053333334624767303>, zero_point = array<i64: 0, 0, 0, 0, 0, 0, 0, 0>} : (tensor<4x3x3x8xi8>) -> tensor<4x3x3x8xf32>
// CHECK:         "tosa.conv2d"(%arg0, %[[W]],
// CHECK:         %[[WF:.*]] = "qfx.dequantize"(%{{.*}}) {block_shape = array<i64: 1, 4>, dtype = "int4", qparam_shape = array<i64: 6, 4>, quant_max = 7 : i64, quant_min = -8 : i64, scale = array<f64: 0.080000005662441253, 0.080000005662441253, 0.066666670143604279, 0.080000005662441253, 0.066666670143604279, {{.*}}>, zero_point = array<i64: {{(0, )+}}0>} : (tensor<6x16xi8>) -> tensor<6x16xf32>
// CHECK-NEXT:    "tosa.fully_connected"(%{{.*}}, %[[WF]],
// CHECK-NOT:     tensor<4x3x3x8xf32>}

// ANNOTATED: "tosa.conv2d"{{.*}}qfx.annotation = {inputs = [unit, {dtype = "int4", granularity = {axis, block_size = array<i64: 1, -1, -1, 4>, type = "per_block"}
// ANNOTATED: "tosa.fully_connected"{{.*}}qfx.annotation = {inputs = [unit, {dtype = "int4", granularity = {axis = 1 : i64, block_size = 4 : i64, type = "per_block"}

// DEFAULT-LABEL: func.func @conv_fc(
// DEFAULT-NOT:     qfx.dequantize
// DEFAULT:         "tosa.conv2d"(%arg0, %{{.*}}, %{{.*}}) {{.*}} : (tensor<1x2x2x8xf32>, tensor<4x3x3x8xf32>, tensor<4xf32>)
// WARNINGS: net.py:3:5: warning: Tensor (target: %conv.weight) incompatible with block size configuration: tensor of shape [4, 3, 3, 8] is incompatible with block size configuration per_block(block_size=[1, -1, -1, 32])
// WARNINGS: net.py:5:5: warning: Tensor (target: %fc.weight) incompatible with block size configuration: tensor of shape [6, 16] is incompatible with block size configuration per_block(axis=1, block_size=32)

func.func @conv_fc(%input: tensor<1x2x2x8xf32>) -> tensor<1x6xf32> {
  %w = "tosa.const"() {value = dense<[[[[-0.200, -0.175, -0.150, -0.125, -0.050, -0.037, -0.025, -0.013], [-0.125, -0.100, -0.075, -0.050, -0.013, 0.000, 0.013, 0.025], [-0.050, -0.025, 0.000, 0.025, 0.025, 0.037, 0.050, 0.062]], [[-0.075, -0.050, -0.025, 0.000, 0.013, 0.025, 0.037, 0.050], [0.000, 0.025, 0.050, 0.075, 0.050, 0.062, 0.075, 0.087], [0.075, 0.100, 0.125, 0.150, 0.087, 0.100, -0.100, -0.087]], [[0.050, 0.075, 0.100, 0.125, 0.075, 0.087, 0.100, -0.100], [0.125, 0.150, 0.175, 0.200, -0.100, -0.087, -0.075, -0.062], [0.200, -0.200, -0.175, -0.150, -0.062, -0.050, -0.037, -0.025]]], [[[-0.050, 0.000, 0.050, 0.100, 0.075, 0.100, 0.125, 0.150], [0.100, 0.150, 0.200, 0.250, 0.150, 0.175, 0.200, -0.200], [0.250, 0.300, 0.350, 0.400, -0.200, -0.175, -0.150, -0.125]], [[0.200, 0.250, 0.300, 0.350, 0.200, -0.200, -0.175, -0.150], [0.350, 0.400, -0.400, -0.350, -0.150, -0.125, -0.100, -0.075], [-0.350, -0.300, -0.250, -0.200, -0.075, -0.050, -0.025, 0.000]], [[-0.400, -0.350, -0.300, -0.250, -0.100, -0.075, -0.050, -0.025], [-0.250, -0.200, -0.150, -0.100, -0.025, 0.000, 0.025, 0.050], [-0.100, -0.050, 0.000, 0.050, 0.050, 0.075, 0.100, 0.125]]], [[[0.450, 0.525, 0.600, -0.600, -0.262, -0.225, -0.188, -0.150], [-0.600, -0.525, -0.450, -0.375, -0.150, -0.112, -0.075, -0.038], [-0.375, -0.300, -0.225, -0.150, -0.038, 0.000, 0.038, 0.075]], [[-0.450, -0.375, -0.300, -0.225, -0.075, -0.038, 0.000, 0.038], [-0.225, -0.150, -0.075, 0.000, 0.038, 0.075, 0.112, 0.150], [0.000, 0.075, 0.150, 0.225, 0.150, 0.188, 0.225, 0.262]], [[-0.075, 0.000, 0.075, 0.150, 0.112, 0.150, 0.188, 0.225], [0.150, 0.225, 0.300, 0.375, 0.225, 0.262, 0.300, -0.300], [0.375, 0.450, 0.525, 0.600, -0.300, -0.262, -0.225, -0.188]]], [[[-0.400, -0.300, -0.200, -0.100, 0.000, 0.050, 0.100, 0.150], [-0.100, 0.000, 0.100, 0.200, 0.150, 0.200, 0.250, 0.300], [0.200, 0.300, 0.400, 0.500, 0.300, 0.350, 0.400, -0.400]], [[0.100, 0.200, 0.300, 0.400, 0.250, 0.300, 0.350, 0.400], [0.400, 0.500, 0.600, 0.700, 0.400, -0.400, -0.350, -0.300], [0.700, 0.800, -0.800, -0.700, -0.300, -0.250, -0.200, -0.150]], [[0.600, 0.700, 0.800, -0.800, -0.350, -0.300, -0.250, -0.200], [-0.800, -0.700, -0.600, -0.500, -0.200, -0.150, -0.100, -0.050], [-0.500, -0.400, -0.300, -0.200, -0.050, 0.000, 0.050, 0.100]]]]> : tensor<4x3x3x8xf32>} : () -> tensor<4x3x3x8xf32>
  %b = "tosa.const"() {value = dense<[0.1, -0.1, 0.2, 0.0]> : tensor<4xf32>} : () -> tensor<4xf32>
  %wf = "tosa.const"() {value = dense<[[-0.600, -0.300, 0.000, 0.300, 0.600, -0.400, -0.100, 0.200, 0.500, -0.500, -0.200, 0.100, 0.400, -0.600, -0.300, 0.000], [-0.100, 0.200, 0.500, -0.500, -0.200, 0.100, 0.400, -0.600, -0.300, 0.000, 0.300, 0.600, -0.400, -0.100, 0.200, 0.500], [0.400, -0.600, -0.300, 0.000, 0.300, 0.600, -0.400, -0.100, 0.200, 0.500, -0.500, -0.200, 0.100, 0.400, -0.600, -0.300], [-0.400, -0.100, 0.200, 0.500, -0.500, -0.200, 0.100, 0.400, -0.600, -0.300, 0.000, 0.300, 0.600, -0.400, -0.100, 0.200], [0.100, 0.400, -0.600, -0.300, 0.000, 0.300, 0.600, -0.400, -0.100, 0.200, 0.500, -0.500, -0.200, 0.100, 0.400, -0.600], [0.600, -0.400, -0.100, 0.200, 0.500, -0.500, -0.200, 0.100, 0.400, -0.600, -0.300, 0.000, 0.300, 0.600, -0.400, -0.100]]> : tensor<6x16xf32>} : () -> tensor<6x16xf32>
  %bf = "tosa.const"() {value = dense<0.0> : tensor<6xf32>} : () -> tensor<6xf32>
  %0 = "tosa.conv2d"(%input, %w, %b) {pad = array<i64: 1, 1, 1, 1>, stride = array<i64: 1, 1>, dilation = array<i64: 1, 1>} : (tensor<1x2x2x8xf32>, tensor<4x3x3x8xf32>, tensor<4xf32>) -> tensor<1x2x2x4xf32> loc("conv"("net.py":3:5))
  %1 = "tosa.reshape"(%0) {new_shape = array<i64: 1, 16>} : (tensor<1x2x2x4xf32>) -> tensor<1x16xf32>
  %2 = "tosa.fully_connected"(%1, %wf, %bf) : (tensor<1x16xf32>, tensor<6x16xf32>, tensor<6xf32>) -> tensor<1x6xf32> loc("fc"("net.py":5:5))
  return %2 : tensor<1x6xf32>
}
