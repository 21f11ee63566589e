// A small CNN in tosa (conv2d, clamp, max_pool2d, conv2d, clamp, reshape,
// fully_connected) quantized W8A8 end to end by qfx-quantize: imported from
// MLIR, annotated, calibrated by running the tosa ops on the interpreter
// (runtime/tosa), lowered to quantize/dequantize and written back as MLIR
// with the quant dialect, verified by Debian's mlir-opt-16.
//
// Calibration data as .npy files: 4 batches of a ramp in [0, 100/101], so the
// input's symmetric int8 scale is (100/101) / 127.5 = 0.0077654826...; the
// weight scales per output channel are max|w| / 127.5 (conv1 channel 0:
// 0.498 / 127.5). Activation scales of later layers are pinned values.
// RUN: rm -rf %t && mkdir -p %t
// RUN: python3 %S/Inputs/write-npy-batches.py %t/npy 4 1x8x8x3
// RUN: qfx-quantize %s --data %t/npy -o %t/cnn_q.mlir --no-progress | FileCheck %s --check-prefix=REPORT
// RUN: FileCheck %s --check-prefix=NPY < %t/cnn_q.mlir
// RUN: mlir-opt %t/cnn_q.mlir -verify-each > /dev/null
// The exported module is a fixed point of the bridge's import/export.
// RUN: qfx-mlir-opt %t/cnn_q.mlir > %t/expected.mlir
// RUN: qfx-mlir-opt %t/cnn_q.mlir -pass-pipeline='builtin.module(func.func(qfx-roundtrip))' | diff %t/expected.mlir -
//
// Synthetic data (random normal, shaped like the function's arguments).
// RUN: qfx-quantize %s -o %t/cnn_synthetic.mlir --num-batches 3 --no-progress | FileCheck %s --check-prefix=SYNTH-REPORT
// RUN: FileCheck %s --check-prefix=SYNTH < %t/cnn_synthetic.mlir
// RUN: mlir-opt %t/cnn_synthetic.mlir -verify-each > /dev/null
//
// A dynamic batch dimension runs with real data (same scales as above).
// RUN: sed -e 's/tensor<1x/tensor<?x/g' -e 's/array<i64: 1, 32>/array<i64: -1, 32>/' %s > %t/dynamic.mlir
// RUN: qfx-quantize %t/dynamic.mlir --data %t/npy -o %t/dynamic_q.mlir --no-progress > /dev/null
// RUN: FileCheck %s --check-prefix=DYNAMIC < %t/dynamic_q.mlir
// RUN: mlir-opt %t/dynamic_q.mlir -verify-each > /dev/null

// REPORT:      qfx-quantize: {{.*}}calibrate-tosa-cnn.mlir -> {{.*}}cnn_q.mlir (config w8a8)
// REPORT:      6 quantize/dequantize pairs, 3 weights stored quantized
// REPORT-NEXT: calibration: 4 batches (4 files in {{.*}}npy)
// REPORT:      SQNR per layer (dB):
// REPORT-NEXT:   {{[0-9]+\.[0-9]+}}  conv1 (tosa.conv2d)
// REPORT-NEXT:   {{[0-9]+\.[0-9]+}}  conv2 (tosa.conv2d)
// REPORT-NEXT:   {{[0-9]+\.[0-9]+}}  fc (tosa.fully_connected)

// NPY-LABEL: func.func @small_cnn(%arg0: tensor<1x8x8x3xf32>) -> tensor<1x10xf32>
// NPY-NOT:     qfx.
// NPY:         %[[Q0:.*]] = "quant.qcast"(%arg0) : (tensor<1x8x8x3xf32>) -> tensor<1x8x8x3x!quant.uniform<i8:f32, 0.0077654826454818249>>
// NPY-NEXT:    %[[X0:.*]] = "quant.dcast"(%[[Q0]]) : (tensor<1x8x8x3x!quant.uniform<i8:f32, 0.0077654826454818249>>) -> tensor<1x8x8x3xf32>
// NPY:         %[[S1:.*]] = "quant.scast"(%{{.*}}) : (tensor<4x3x3x3xi8>) -> tensor<4x3x3x3x!quant.uniform<i8:f32:0, {0.0039058823604136705,0.0038666666951030493,0.0037882353644818068,0.0038745095953345299}>>
// NPY-NEXT:    %[[W1:.*]] = "quant.dcast"(%[[S1]])
// NPY:         %[[C1:.*]] = "tosa.conv2d"(%[[X0]], %[[W1]], %{{.*}}) {dilation = array<i64: 1, 1>, pad = array<i64: 1, 1, 1, 1>, stride = array<i64: 1, 1>}
// NPY-NEXT:    %[[R1:.*]] = "tosa.clamp"(%[[C1]])
// NPY-NEXT:    %[[Q1:.*]] = "quant.qcast"(%[[R1]]) : (tensor<1x8x8x4xf32>) -> tensor<1x8x8x4x!quant.uniform<i8:f32, 0.012480497360229492>>
// NPY-NEXT:    %[[X1:.*]] = "quant.dcast"(%[[Q1]])
// NPY-NEXT:    %[[P1:.*]] = "tosa.max_pool2d"(%[[X1]])
// The pool shares its input's observer: same scale.
// NPY-NEXT:    "quant.qcast"(%[[P1]]) : (tensor<1x4x4x4xf32>) -> tensor<1x4x4x4x!quant.uniform<i8:f32, 0.012480497360229492>>
// NPY:         "quant.scast"(%{{.*}}) : (tensor<8x3x3x4xi8>) -> tensor<8x3x3x4x!quant.uniform<i8:f32:0, {{[{]}}{{([0-9.e-]+,){7}[0-9.e-]+}}}>>
// NPY:         %[[C2:.*]] = "tosa.conv2d"
// NPY-NEXT:    %[[R2:.*]] = "tosa.clamp"(%[[C2]])
// NPY-NEXT:    "quant.qcast"(%[[R2]]) : (tensor<1x2x2x8xf32>) -> tensor<1x2x2x8x!quant.uniform<i8:f32, 0.015663018450140953>>
// NPY:         %[[F:.*]] = "tosa.reshape"
// NPY-NEXT:    "quant.qcast"(%[[F]]) : (tensor<1x32xf32>) -> tensor<1x32x!quant.uniform<i8:f32, 0.015663018450140953>>
// NPY:         "quant.scast"(%{{.*}}) : (tensor<10x32xi8>) -> tensor<10x32x!quant.uniform<i8:f32:0,
// NPY:         %[[FC:.*]] = "tosa.fully_connected"
// NPY-NEXT:    %[[QO:.*]] = "quant.qcast"(%[[FC]]) : (tensor<1x10xf32>) -> tensor<1x10x!quant.uniform<i8:f32, 0.0058847484178841114>>
// NPY-NEXT:    %[[XO:.*]] = "quant.dcast"(%[[QO]])
// NPY-NEXT:    return %[[XO]] : tensor<1x10xf32>
// The float weights are gone.
// NPY-NOT:     tensor<4x3x3x3xf32>}

// SYNTH-REPORT: calibration: 3 batches (3 synthetic batches (random normal, seed 0))
// SYNTH-LABEL: func.func @small_cnn(
// SYNTH:         "quant.qcast"(%arg0) : (tensor<1x8x8x3xf32>) -> tensor<1x8x8x3x!quant.uniform<i8:f32, {{[0-9]\.[0-9]+(e-[0-9]+)?}}>>
// SYNTH:         "quant.qcast"(%{{.*}}) : (tensor<1x8x8x4xf32>) -> tensor<1x8x8x4x!quant.uniform<i8:f32, {{[0-9]\.[0-9]+(e-[0-9]+)?}}>>
// SYNTH:         "quant.qcast"(%{{.*}}) : (tensor<1x10xf32>) -> tensor<1x10x!quant.uniform<i8:f32, {{[0-9]\.[0-9]+(e-[0-9]+)?}}>>

// DYNAMIC-LABEL: func.func @small_cnn(%arg0: tensor<?x8x8x3xf32>) -> tensor<?x10xf32>
// DYNAMIC:         "quant.qcast"(%arg0) : (tensor<?x8x8x3xf32>) -> tensor<?x8x8x3x!quant.uniform<i8:f32, 0.0077654826454818249>>
// DYNAMIC:         "quant.qcast"(%{{.*}}) : (tensor<?x10xf32>) -> tensor<?x10x!quant.uniform<i8:f32, 0.0058847484178841114>>

func.func @small_cnn(%input: tensor<1x8x8x3xf32>) -> tensor<1x10xf32> {
  %w1 = "tosa.const"() {value = dense<[[[[-0.366, 0.347, 0.264], [-0.245, -0.005, -0.051], [0.152, 0.289, -0.406]], [[-0.472, 0.336, -0.067], [0.262, -0.498, -0.055], [0.222, -0.271, 0.445]], [[0.401, -0.469, -0.475], [0.041, 0.439, -0.119], [-0.283, -0.078, -0.471]]], [[[-0.278, -0.062, -0.004], [-0.267, -0.269, -0.281], [-0.040, -0.210, -0.479]], [[0.338, 0.056, 0.142], [-0.314, 0.493, 0.360], [-0.379, -0.167, 0.221]], [[0.211, 0.436, -0.078], [0.330, 0.170, -0.197], [0.088, 0.382, 0.346]]], [[[0.005, 0.089, -0.465], [-0.257, 0.297, -0.086], [-0.327, 0.049, 0.203]], [[0.174, -0.125, -0.061], [0.008, 0.278, 0.021], [-0.107, -0.010, -0.470]], [[-0.457, 0.203, 0.483], [0.093, -0.106, -0.330], [0.002, 0.482, 0.271]]], [[[0.040, 0.360, -0.268], [0.014, 0.452, 0.078], [-0.041, -0.231, 0.048]], [[0.457, -0.494, 0.284], [0.320, 0.386, 0.241], [0.309, 0.019, 0.061]], [[-0.074, -0.444, 0.370], [0.070, -0.300, 0.005], [-0.015, -0.143, -0.154]]]]> : tensor<4x3x3x3xf32>} : () -> tensor<4x3x3x3xf32>
  %b1 = "tosa.const"() {value = dense<[0.015, 0.049, 0.045, -0.017]> : tensor<4xf32>} : () -> tensor<4xf32>
  %w2 = "tosa.const"() {value = dense<[[[[-0.378, -0.216, -0.258, 0.068], [0.289, 0.239, 0.238, 0.253], [-0.196, 0.273, 0.138, -0.333]], [[-0.387, -0.388, 0.204, -0.200], [-0.312, 0.100, -0.124, -0.344], [-0.272, 0.022, -0.265, -0.182]], [[0.169, -0.036, -0.142, -0.021], [-0.381, -0.091, -0.063, -0.250], [-0.313, 0.320, 0.008, -0.233]]], [[[0.085, 0.254, -0.383, -0.386], [-0.283, 0.175, -0.272, 0.164], [0.143, 0.036, -0.224, 0.380]], [[0.238, 0.013, -0.221, 0.119], [-0.084, 0.061, -0.143, 0.105], [-0.353, -0.161, 0.374, 0.300]], [[-0.155, 0.287, -0.152, 0.351], [0.195, -0.067, -0.198, -0.393], [0.303, -0.370, 0.256, 0.370]]], [[[0.056, -0.263, 0.294, 0.379], [0.163, 0.007, -0.098, -0.122], [-0.235, 0.139, -0.054, -0.245]], [[-0.316, 0.133, -0.163, -0.000], [-0.140, 0.297, 0.320, -0.386], [-0.239, -0.138, 0.390, 0.226]], [[-0.129, -0.230, 0.140, 0.270], [0.346, -0.125, 0.306, 0.150], [-0.012, 0.388, -0.212, 0.180]]], [[[-0.332, -0.264, 0.329, -0.230], [0.207, 0.080, 0.273, -0.106], [-0.128, -0.167, 0.294, 0.083]], [[0.363, 0.310, -0.292, 0.041], [-0.317, -0.369, -0.341, 0.293], [0.230, 0.263, -0.127, 0.092]], [[0.226, -0.098, 0.057, -0.221], [-0.335, -0.187, 0.313, 0.052], [0.340, -0.034, -0.178, 0.230]]], [[[0.262, -0.390, 0.136, -0.327], [-0.308, 0.308, -0.368, -0.208], [0.391, -0.063, -0.308, -0.266]], [[-0.207, 0.195, -0.318, 0.329], [-0.097, 0.376, 0.327, -0.165], [-0.197, -0.018, -0.320, 0.122]], [[-0.368, -0.392, 0.386, -0.164], [0.077, -0.040, -0.149, -0.350], [0.331, 0.376, 0.376, -0.311]]], [[[-0.228, 0.094, 0.384, 0.034], [0.151, 0.129, -0.193, 0.033], [-0.154, -0.203, -0.335, -0.175]], [[0.387, -0.042, 0.122, 0.115], [0.353, -0.088, -0.155, -0.138], [-0.147, 0.278, 0.315, -0.158]], [[-0.133, 0.035, 0.063, 0.077], [-0.204, -0.384, -0.205, -0.342], [0.041, -0.343, -0.340, 0.108]]], [[[-0.167, 0.234, -0.005, 0.290], [-0.277, 0.001, 0.236, -0.338], [0.359, -0.261, 0.221, 0.388]], [[0.257, -0.144, -0.314, 0.011], [0.335, -0.165, 0.315, -0.287], [0.328, -0.375, -0.147, 0.322]], [[0.243, 0.326, 0.273, 0.197], [0.152, -0.257, -0.054, -0.274], [0.172, 0.134, -0.198, -0.348]]], [[[0.371, 0.247, 0.039, 0.033], [0.281, -0.037, -0.083, -0.129], [-0.194, -0.380, 0.117, -0.067]], [[0.056, -0.350, -0.116, -0.289], [-0.300, -0.193, 0.263, -0.082], [-0.079, 0.090, -0.213, -0.394]], [[0.023, 0.001, 0.119, -0.049], [0.149, 0.185, -0.209, -0.004], [-0.017, -0.220, -0.070, 0.048]]]]> : tensor<8x3x3x4xf32>} : () -> tensor<8x3x3x4xf32>
  %b2 = "tosa.const"() {value = dense<[0.163, 0.167, -0.090, 0.059, -0.181, -0.171, 0.005, 0.151]> : tensor<8xf32>} : () -> tensor<8xf32>
  %wf = "tosa.const"() {value = dense<[[-0.204, 0.160, 0.230, -0.113, 0.116, 0.209, -0.077, 0.121, 0.142, 0.057, 0.214, 0.238, 0.276, 0.043, -0.194, -0.150, -0.169, 0.042, 0.155, -0.269, 0.109, 0.130, -0.091, 0.009, -0.201, 0.138, -0.276, 0.289, 0.185, 0.077, -0.139, 0.248], [0.276, -0.217, 0.165, 0.205, 0.096, 0.120, -0.033, 0.255, 0.283, -0.071, 0.182, -0.040, -0.201, -0.105, -0.224, 0.245, 0.276, -0.228, 0.060, -0.055, -0.229, -0.123, -0.151, 0.150, -0.298, -0.186, -0.037, -0.287, 0.077, 0.063, 0.201, -0.176], [-0.129, 0.025, -0.136, 0.051, -0.149, 0.110, 0.175, 0.185, 0.284, 0.027, -0.006, 0.213, 0.161, 0.042, -0.070, -0.130, -0.235, 0.185, -0.229, 0.148, 0.027, 0.279, 0.157, 0.284, -0.218, 0.000, 0.044, -0.113, 0.002, -0.086, 0.017, -0.299], [-0.035, -0.030, -0.117, -0.060, 0.170, 0.110, -0.005, 0.089, -0.073, -0.178, -0.298, -0.133, 0.059, 0.229, 0.198, 0.007, 0.292, -0.023, 0.201, -0.055, 0.147, 0.293, -0.117, -0.198, 0.072, 0.019, -0.084, -0.298, -0.067, -0.044, -0.057, 0.217], [0.051, 0.140, 0.239, 0.149, -0.004, 0.147, 0.084, 0.089, 0.078, -0.056, 0.078, 0.080, 0.262, 0.169, 0.208, 0.160, 0.189, 0.063, -0.090, -0.141, 0.125, 0.224, 0.027, -0.209, 0.200, -0.009, -0.020, -0.273, 0.006, 0.147, -0.046, -0.087], [0.094, -0.288, 0.004, 0.268, 0.114, -0.059, 0.113, 0.063, -0.175, -0.175, 0.232, -0.139, -0.255, 0.198, 0.014, -0.079, 0.007, 0.142, -0.199, 0.092, 0.128, 0.189, -0.138, 0.066, -0.161, 0.037, -0.197, 0.174, 0.220, -0.102, -0.167, 0.278], [0.124, 0.206, -0.282, 0.240, 0.073, -0.110, -0.041, 0.157, 0.171, -0.186, 0.076, -0.201, 0.284, -0.034, 0.248, 0.137, 0.064, -0.143, 0.016, -0.217, -0.217, 0.129, -0.083, 0.151, -0.156, 0.131, 0.131, -0.117, -0.236, -0.062, -0.005, -0.240], [-0.188, -0.267, 0.059, 0.233, -0.170, -0.279, 0.122, 0.189, 0.278, 0.068, -0.095, 0.203, -0.229, 0.116, -0.243, -0.060, -0.003, -0.073, -0.199, -0.161, 0.192, -0.022, 0.048, -0.173, 0.129, -0.102, 0.056, 0.246, 0.297, -0.272, 0.178, 0.215], [-0.108, -0.070, 0.048, 0.251, -0.060, 0.228, 0.155, -0.209, 0.248, -0.291, -0.213, 0.099, -0.266, -0.072, -0.222, -0.022, 0.204, 0.244, -0.279, -0.263, 0.204, -0.274, -0.136, -0.230, -0.245, -0.283, 0.083, 0.147, 0.112, 0.207, 0.098, -0.066], [0.079, 0.282, 0.085, -0.154, -0.264, 0.261, 0.054, -0.090, 0.063, 0.036, 0.013, -0.264, -0.088, -0.052, -0.180, 0.228, -0.046, 0.097, 0.128, 0.146, 0.133, 0.151, -0.149, 0.286, -0.209, 0.251, 0.213, 0.211, -0.268, -0.245, 0.188, -0.018]]> : tensor<10x32xf32>} : () -> tensor<10x32xf32>
  %bf = "tosa.const"() {value = dense<[-0.052, 0.194, -0.184, 0.013, -0.023, -0.149, -0.042, 0.083, 0.153, -0.190]> : tensor<10xf32>} : () -> tensor<10xf32>
  %0 = "tosa.conv2d"(%input, %w1, %b1) {pad = array<i64: 1, 1, 1, 1>, stride = array<i64: 1, 1>, dilation = array<i64: 1, 1>} : (tensor<1x8x8x3xf32>, tensor<4x3x3x3xf32>, tensor<4xf32>) -> tensor<1x8x8x4xf32> loc("conv1"("small_cnn.py":10:5))
  %1 = "tosa.clamp"(%0) {min_int = 0 : i64, max_int = 2147483647 : i64, min_fp = 0.0 : f32, max_fp = 3.40282347E+38 : f32} : (tensor<1x8x8x4xf32>) -> tensor<1x8x8x4xf32> loc("relu1"("small_cnn.py":11:5))
  %2 = "tosa.max_pool2d"(%1) {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>, pad = array<i64: 0, 0, 0, 0>} : (tensor<1x8x8x4xf32>) -> tensor<1x4x4x4xf32> loc("pool1"("small_cnn.py":12:5))
  %3 = "tosa.conv2d"(%2, %w2, %b2) {pad = array<i64: 1, 1, 1, 1>, stride = array<i64: 2, 2>, dilation = array<i64: 1, 1>} : (tensor<1x4x4x4xf32>, tensor<8x3x3x4xf32>, tensor<8xf32>) -> tensor<1x2x2x8xf32> loc("conv2"("small_cnn.py":13:5))
  %4 = "tosa.clamp"(%3) {min_int = 0 : i64, max_int = 6 : i64, min_fp = 0.0 : f32, max_fp = 6.0 : f32} : (tensor<1x2x2x8xf32>) -> tensor<1x2x2x8xf32> loc("relu2"("small_cnn.py":14:5))
  %5 = "tosa.reshape"(%4) {new_shape = array<i64: 1, 32>} : (tensor<1x2x2x8xf32>) -> tensor<1x32xf32> loc("flatten"("small_cnn.py":15:5))
  %6 = "tosa.fully_connected"(%5, %wf, %bf) : (tensor<1x32xf32>, tensor<10x32xf32>, tensor<10xf32>) -> tensor<1x10xf32> loc("fc"("small_cnn.py":16:5))
  return %6 : tensor<1x10xf32>
}
