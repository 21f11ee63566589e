// The qfx dialect: valid ops parse, verify and print back (in generic form,
// which any MLIR tool reads), and each verifier rule has its diagnostic.
//
// RUN: qfx-mlir-opt %s --split-input-file --verify-diagnostics | FileCheck %s
// RUN: qfx-mlir-opt %s --split-input-file --verify-diagnostics | mlir-opt --allow-unregistered-dialect > /dev/null

// CHECK-LABEL: func.func @valid
// CHECK:         "qfx.quantize"(%arg0) {dtype = "int8", qparam_shape = array<i64: 1, 1>, quant_max = 127 : i64, quant_min = -128 : i64, scale = array<f64: 1.000000e-01>, zero_point = array<i64: 3>} : (tensor<2x4xf32>) -> tensor<2x4xi8>
// CHECK:         "qfx.dequantize"
// CHECK:         "qfx.fake_quant"(%arg0) {group = 2 : i64, spec = {dtype = "int8", granularity = {type = "per_tensor"}, qscheme = "symmetric"}} : (tensor<2x4xf32>) -> tensor<2x4xf32>
func.func @valid(%arg0: tensor<2x4xf32>, %arg1: tensor<2x8xf8E4M3FN>) -> (tensor<2x4xf32>, tensor<2x8xf32>, tensor<2x4xf32>) {
  %0 = "qfx.quantize"(%arg0) {dtype = "int8", quant_min = -128 : i64, quant_max = 127 : i64, scale = array<f64: 0.1>, zero_point = array<i64: 3>, qparam_shape = array<i64: 1, 1>} : (tensor<2x4xf32>) -> tensor<2x4xi8>
  %1 = "qfx.dequantize"(%0) {dtype = "int8", quant_min = -128 : i64, quant_max = 127 : i64, scale = array<f64: 0.1>, zero_point = array<i64: 3>, qparam_shape = array<i64: 1, 1>} : (tensor<2x4xi8>) -> tensor<2x4xf32>
  %2 = "qfx.dequantize"(%arg1) {dtype = "float4_e2m1fn_x2", quant_min = -6.0 : f64, quant_max = 6.0 : f64, scale = array<f64: 0.5, 1.0, 2.0, 0.25>, qparam_shape = array<i64: 2, 2>, block_shape = array<i64: 1, 4>, scale_dtype = "float8_e8m0fnu"} : (tensor<2x8xf8E4M3FN>) -> tensor<2x8xf32>
  %3 = "qfx.fake_quant"(%arg0) {group = 2 : i64, spec = {dtype = "int8", qscheme = "symmetric", granularity = {type = "per_tensor"}}} : (tensor<2x4xf32>) -> tensor<2x4xf32>
  return %1, %2, %3 : tensor<2x4xf32>, tensor<2x8xf32>, tensor<2x4xf32>
}

// -----

func.func @shape_mismatch(%arg0: tensor<2x4xf32>) -> tensor<2x5xi8> {
  // expected-error@+1 {{'qfx.quantize' op operand and result must have the same shape, found 'tensor<2x4xf32>' and 'tensor<2x5xi8>'}}
  %0 = "qfx.quantize"(%arg0) {dtype = "int8", quant_min = -128 : i64, quant_max = 127 : i64, scale = array<f64: 0.1>, zero_point = array<i64: 0>, qparam_shape = array<i64: 1, 1>} : (tensor<2x4xf32>) -> tensor<2x5xi8>
  return %0 : tensor<2x5xi8>
}

// -----

func.func @not_float(%arg0: tensor<4xi32>) -> tensor<4xi8> {
  // expected-error@+1 {{'qfx.quantize' op the real values must be an f16, bf16, f32 or f64 tensor, found 'tensor<4xi32>'}}
  %0 = "qfx.quantize"(%arg0) {dtype = "int8", quant_min = -128 : i64, quant_max = 127 : i64, scale = array<f64: 0.1>, zero_point = array<i64: 0>, qparam_shape = array<i64: 1>} : (tensor<4xi32>) -> tensor<4xi8>
  return %0 : tensor<4xi8>
}

// -----

func.func @unknown_dtype(%arg0: tensor<4xf32>) -> tensor<4xi8> {
  // expected-error@+1 {{'qfx.quantize' op unknown quantized dtype 'float32'; expected an integer, float8 or float4 quantized dtype}}
  %0 = "qfx.quantize"(%arg0) {dtype = "float32", quant_min = -128 : i64, quant_max = 127 : i64, scale = array<f64: 0.1>, zero_point = array<i64: 0>, qparam_shape = array<i64: 1>} : (tensor<4xf32>) -> tensor<4xi8>
  return %0 : tensor<4xi8>
}

// -----

func.func @wrong_storage(%arg0: tensor<4xf32>) -> tensor<4xi16> {
  // expected-error@+1 {{'qfx.quantize' op codes of dtype 'int4' are stored as int8, not in 'tensor<4xi16>'}}
  %0 = "qfx.quantize"(%arg0) {dtype = "int4", quant_min = -8 : i64, quant_max = 7 : i64, scale = array<f64: 0.1>, zero_point = array<i64: 0>, qparam_shape = array<i64: 1>} : (tensor<4xf32>) -> tensor<4xi16>
  return %0 : tensor<4xi16>
}

// -----

func.func @float_bounds_for_integers(%arg0: tensor<4xf32>) -> tensor<4xi8> {
  // expected-error@+1 {{'qfx.quantize' op quant_min and quant_max of an integer dtype must be integers}}
  %0 = "qfx.quantize"(%arg0) {dtype = "int8", quant_min = -128.0 : f64, quant_max = 127.0 : f64, scale = array<f64: 0.1>, zero_point = array<i64: 0>, qparam_shape = array<i64: 1>} : (tensor<4xf32>) -> tensor<4xi8>
  return %0 : tensor<4xi8>
}

// -----

func.func @bounds_outside_dtype(%arg0: tensor<4xf32>) -> tensor<4xi8> {
  // expected-error@+1 {{'qfx.quantize' op [quant_min, quant_max] = [-8, 8] exceeds the range of int4 [-8, 7]}}
  %0 = "qfx.quantize"(%arg0) {dtype = "int4", quant_min = -8 : i64, quant_max = 8 : i64, scale = array<f64: 0.1>, zero_point = array<i64: 0>, qparam_shape = array<i64: 1>} : (tensor<4xf32>) -> tensor<4xi8>
  return %0 : tensor<4xi8>
}

// -----

func.func @empty_range(%arg0: tensor<4xf32>) -> tensor<4xi8> {
  // expected-error@+1 {{'qfx.quantize' op quant_min must be less than quant_max}}
  %0 = "qfx.quantize"(%arg0) {dtype = "int8", quant_min = 5 : i64, quant_max = 5 : i64, scale = array<f64: 0.1>, zero_point = array<i64: 5>, qparam_shape = array<i64: 1>} : (tensor<4xf32>) -> tensor<4xi8>
  return %0 : tensor<4xi8>
}

// -----

func.func @qparam_rank(%arg0: tensor<2x4xf32>) -> tensor<2x4xi8> {
  // expected-error@+1 {{'qfx.quantize' op qparam_shape has 1 dimensions but the tensor has rank 2}}
  %0 = "qfx.quantize"(%arg0) {dtype = "int8", quant_min = -128 : i64, quant_max = 127 : i64, scale = array<f64: 0.1>, zero_point = array<i64: 0>, qparam_shape = array<i64: 1>} : (tensor<2x4xf32>) -> tensor<2x4xi8>
  return %0 : tensor<2x4xi8>
}

// -----

func.func @qparams_do_not_tile(%arg0: tensor<2x4xf32>) -> tensor<2x4xi8> {
  // expected-error@+1 {{'qfx.quantize' op qparam_shape[1] = 3 does not divide dimension 4}}
  %0 = "qfx.quantize"(%arg0) {dtype = "int8", quant_min = -128 : i64, quant_max = 127 : i64, scale = array<f64: 0.1, 0.1, 0.1>, zero_point = array<i64: 0, 0, 0>, qparam_shape = array<i64: 1, 3>} : (tensor<2x4xf32>) -> tensor<2x4xi8>
  return %0 : tensor<2x4xi8>
}

// -----

func.func @scale_count(%arg0: tensor<2x4xf32>) -> tensor<2x4xi8> {
  // expected-error@+1 {{'qfx.quantize' op expected 2 scales (the product of qparam_shape), found 1}}
  %0 = "qfx.quantize"(%arg0) {dtype = "int8", quant_min = -128 : i64, quant_max = 127 : i64, scale = array<f64: 0.1>, zero_point = array<i64: 0>, qparam_shape = array<i64: 2, 1>, axis = 0 : i64} : (tensor<2x4xf32>) -> tensor<2x4xi8>
  return %0 : tensor<2x4xi8>
}

// -----

func.func @negative_scale(%arg0: tensor<4xf32>) -> tensor<4xi8> {
  // expected-error@+1 {{'qfx.quantize' op scales must be positive and finite, found -0.1}}
  %0 = "qfx.quantize"(%arg0) {dtype = "int8", quant_min = -128 : i64, quant_max = 127 : i64, scale = array<f64: -0.1>, zero_point = array<i64: 0>, qparam_shape = array<i64: 1>} : (tensor<4xf32>) -> tensor<4xi8>
  return %0 : tensor<4xi8>
}

// -----

func.func @e8m0_not_power_of_two(%arg0: tensor<4xf32>) -> tensor<4xf8E4M3FN> {
  // expected-error@+1 {{'qfx.quantize' op e8m0 scales must be powers of two, found 0.3}}
  %0 = "qfx.quantize"(%arg0) {dtype = "float8_e4m3fn", quant_min = -448.0 : f64, quant_max = 448.0 : f64, scale = array<f64: 0.3>, qparam_shape = array<i64: 1>, scale_dtype = "float8_e8m0fnu"} : (tensor<4xf32>) -> tensor<4xf8E4M3FN>
  return %0 : tensor<4xf8E4M3FN>
}

// -----

func.func @unknown_scale_dtype(%arg0: tensor<4xf32>) -> tensor<4xf8E4M3FN> {
  // expected-error@+1 {{'qfx.quantize' op scale_dtype must be "float8_e8m0fnu", found "float16"}}
  %0 = "qfx.quantize"(%arg0) {dtype = "float8_e4m3fn", quant_min = -448.0 : f64, quant_max = 448.0 : f64, scale = array<f64: 0.5>, qparam_shape = array<i64: 1>, scale_dtype = "float16"} : (tensor<4xf32>) -> tensor<4xf8E4M3FN>
  return %0 : tensor<4xf8E4M3FN>
}

// -----

func.func @integer_needs_an_offset(%arg0: tensor<4xf32>) -> tensor<4xi8> {
  // expected-error@+1 {{'qfx.quantize' op an integer dtype needs exactly one of zero_point and minval}}
  %0 = "qfx.quantize"(%arg0) {dtype = "int8", quant_min = -128 : i64, quant_max = 127 : i64, scale = array<f64: 0.1>, qparam_shape = array<i64: 1>} : (tensor<4xf32>) -> tensor<4xi8>
  return %0 : tensor<4xi8>
}

// -----

func.func @float_takes_no_offset(%arg0: tensor<4xf32>) -> tensor<4xf8E5M2> {
  // expected-error@+1 {{'qfx.quantize' op a float dtype takes neither zero_point nor minval}}
  %0 = "qfx.quantize"(%arg0) {dtype = "float8_e5m2", quant_min = -57344.0 : f64, quant_max = 57344.0 : f64, scale = array<f64: 0.1>, zero_point = array<i64: 0>, qparam_shape = array<i64: 1>} : (tensor<4xf32>) -> tensor<4xf8E5M2>
  return %0 : tensor<4xf8E5M2>
}

// -----

func.func @zero_point_count(%arg0: tensor<2x4xf32>) -> tensor<2x4xi8> {
  // expected-error@+1 {{'qfx.quantize' op expected one zero point per scale (2), found 1}}
  %0 = "qfx.quantize"(%arg0) {dtype = "int8", quant_min = -128 : i64, quant_max = 127 : i64, scale = array<f64: 0.1, 0.2>, zero_point = array<i64: 0>, qparam_shape = array<i64: 2, 1>, axis = 0 : i64} : (tensor<2x4xf32>) -> tensor<2x4xi8>
  return %0 : tensor<2x4xi8>
}

// -----

func.func @zero_point_out_of_range(%arg0: tensor<4xi8>) -> tensor<4xf32> {
  // expected-error@+1 {{'qfx.dequantize' op zero point 128 is outside [quant_min, quant_max] = [-127, 127]}}
  %0 = "qfx.dequantize"(%arg0) {dtype = "int8", quant_min = -127 : i64, quant_max = 127 : i64, scale = array<f64: 0.1>, zero_point = array<i64: 128>, qparam_shape = array<i64: 1>} : (tensor<4xi8>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @minval_count(%arg0: tensor<4xf32>) -> tensor<4xi8> {
  // expected-error@+1 {{'qfx.quantize' op expected one minval per scale (1), found 2}}
  %0 = "qfx.quantize"(%arg0) {dtype = "int8", quant_min = -128 : i64, quant_max = 127 : i64, scale = array<f64: 0.1>, minval = array<f64: 0.0, 1.0>, qparam_shape = array<i64: 1>} : (tensor<4xf32>) -> tensor<4xi8>
  return %0 : tensor<4xi8>
}

// -----

func.func @axis_out_of_range(%arg0: tensor<2x4xf32>) -> tensor<2x4xi8> {
  // expected-error@+1 {{'qfx.quantize' op axis 2 is not a dimension of 'tensor<2x4xf32>'}}
  %0 = "qfx.quantize"(%arg0) {dtype = "int8", quant_min = -128 : i64, quant_max = 127 : i64, scale = array<f64: 0.1>, zero_point = array<i64: 0>, qparam_shape = array<i64: 1, 1>, axis = 2 : i64} : (tensor<2x4xf32>) -> tensor<2x4xi8>
  return %0 : tensor<2x4xi8>
}

// -----

func.func @axis_and_blocks(%arg0: tensor<2x4xf32>) -> tensor<2x4xi8> {
  // expected-error@+1 {{'qfx.quantize' op axis (per channel) and block_shape (per block) exclude each other}}
  %0 = "qfx.quantize"(%arg0) {dtype = "int8", quant_min = -128 : i64, quant_max = 127 : i64, scale = array<f64: 0.1, 0.1>, zero_point = array<i64: 0, 0>, qparam_shape = array<i64: 2, 1>, axis = 0 : i64, block_shape = array<i64: 1, 4>} : (tensor<2x4xf32>) -> tensor<2x4xi8>
  return %0 : tensor<2x4xi8>
}

// -----

func.func @per_channel_shape(%arg0: tensor<2x4xf32>) -> tensor<2x4xi8> {
  // expected-error@+1 {{'qfx.quantize' op per-channel qparams along axis 1 need qparam_shape[0] = 1, found 2}}
  %0 = "qfx.quantize"(%arg0) {dtype = "int8", quant_min = -128 : i64, quant_max = 127 : i64, scale = array<f64: 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1>, zero_point = array<i64: 0, 0, 0, 0, 0, 0, 0, 0>, qparam_shape = array<i64: 2, 4>, axis = 1 : i64} : (tensor<2x4xf32>) -> tensor<2x4xi8>
  return %0 : tensor<2x4xi8>
}

// -----

func.func @blocks_do_not_tile(%arg0: tensor<2x8xf32>) -> tensor<2x8xi8> {
  // expected-error@+1 {{'qfx.quantize' op block_shape[1] * qparam_shape[1] must equal dimension 1 of the tensor}}
  %0 = "qfx.quantize"(%arg0) {dtype = "int8", quant_min = -128 : i64, quant_max = 127 : i64, scale = array<f64: 0.1, 0.1, 0.1, 0.1>, zero_point = array<i64: 0, 0, 0, 0>, qparam_shape = array<i64: 2, 2>, block_shape = array<i64: 1, 2>} : (tensor<2x8xf32>) -> tensor<2x8xi8>
  return %0 : tensor<2x8xi8>
}

// -----

func.func @fake_quant_of_integers(%arg0: tensor<4xi8>) -> tensor<4xi8> {
  // expected-error@+1 {{'qfx.fake_quant' op fake-quantizes float tensors, found 'tensor<4xi8>'}}
  %0 = "qfx.fake_quant"(%arg0) {group = 0 : i64, spec = {dtype = "int8"}} : (tensor<4xi8>) -> tensor<4xi8>
  return %0 : tensor<4xi8>
}

// -----

func.func @invalid_spec(%arg0: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error@+1 {{'qfx.fake_quant' op invalid spec: }}
  %0 = "qfx.fake_quant"(%arg0) {group = 0 : i64, spec = {dtype = "int9"}} : (tensor<4xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @qparams_without_scale(%arg0: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error@+1 {{'qfx.fake_quant' op qparams must give a scale}}
  %0 = "qfx.fake_quant"(%arg0) {group = 0 : i64, spec = {dtype = "int8"}, qparams = {zero_point = array<i64: 0>}} : (tensor<4xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @fake_quant_changes_type(%arg0: tensor<4xf32>) -> tensor<4xf16> {
  // expected-error@+1 {{'qfx.fake_quant' op requires the same type for all operands and results}}
  %0 = "qfx.fake_quant"(%arg0) {group = 0 : i64, spec = {dtype = "int8"}} : (tensor<4xf32>) -> tensor<4xf16>
  return %0 : tensor<4xf16>
}

// -----

func.func @missing_attribute(%arg0: tensor<4xf32>) -> tensor<4xi8> {
  // expected-error@+1 {{'qfx.quantize' op requires attribute 'qparam_shape'}}
  %0 = "qfx.quantize"(%arg0) {dtype = "int8", quant_min = -128 : i64, quant_max = 127 : i64, scale = array<f64: 0.1>, zero_point = array<i64: 0>} : (tensor<4xf32>) -> tensor<4xi8>
  return %0 : tensor<4xi8>
}
