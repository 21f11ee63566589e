// What the importer rejects, each as an MLIR diagnostic at the offending op
// (or function), with a failing exit code and no output written.
//
// RUN: qfx-mlir-opt %s --allow-unregistered-dialect --split-input-file --verify-diagnostics -pass-pipeline='builtin.module(func.func(qfx-roundtrip))'
// RUN: not qfx-mlir-opt %S/Inputs/two-blocks.mlir -pass-pipeline='builtin.module(func.func(qfx-roundtrip))' -o %t.out 2>&1 | FileCheck %s --check-prefix=STDERR
// RUN: test ! -e %t.out
// RUN: not qfx-mlir-translate --mlir-to-qfx %S/Inputs/unparseable.mlir -o %t.qfx 2>&1 | FileCheck %s --check-prefix=PARSE
// RUN: test ! -e %t.qfx
//
// STDERR: two-blocks.mlir:2:1: error: qfx imports functions of one block; '@two_blocks' has 2 (control flow between blocks is not supported)
// STDERR-NEXT: func.func @two_blocks(%arg0: tensor<4xf32>) -> tensor<4xf32> {
// STDERR-NEXT: ^
// PARSE: unparseable.mlir:3:8: error: custom op 'tosa.addd' is unknown

// Control flow between blocks.
// expected-error@+1 {{qfx imports functions of one block; '@two_blocks' has 2 (control flow between blocks is not supported)}}
func.func @two_blocks(%arg0: tensor<4xf32>) -> tensor<4xf32> {
  "cf.br"()[^bb1] : () -> ()
^bb1:
  return %arg0 : tensor<4xf32>
}

// -----

func.func @other_terminator(%arg0: tensor<4xf32>) {
  // expected-error@+1 {{qfx imports functions that end in 'func.return', not 'foo.return'}}
  "foo.return"(%arg0) : (tensor<4xf32>) -> ()
}

// -----

// A weight whose shape is not static cannot be quantized per channel.
func.func @dynamic_weight(%arg0: tensor<1x8x8x3xf32>, %arg1: tensor<?x3x3x3xf32>, %arg2: tensor<4xf32>) -> tensor<1x8x8x4xf32> {
  // expected-error@+1 {{'tosa.conv2d' needs a static shape for its weight (operand 1) to be quantized, found 'tensor<?x3x3x3xf32>'}}
  %0 = "tosa.conv2d"(%arg0, %arg1, %arg2) {pad = array<i64: 1, 1, 1, 1>, stride = array<i64: 1, 1>, dilation = array<i64: 1, 1>} : (tensor<1x8x8x3xf32>, tensor<?x3x3x3xf32>, tensor<4xf32>) -> tensor<1x8x8x4xf32>
  return %0 : tensor<1x8x8x4xf32>
}

// -----

func.func @unranked_bias(%arg0: tensor<2x16xf32>, %arg1: tensor<5x16xf32>, %arg2: tensor<*xf32>) -> tensor<2x5xf32> {
  // expected-error@+1 {{'tosa.fully_connected' needs a static shape for its bias (operand 2) to be quantized, found 'tensor<*xf32>'}}
  %0 = "tosa.fully_connected"(%arg0, %arg1, %arg2) : (tensor<2x16xf32>, tensor<5x16xf32>, tensor<*xf32>) -> tensor<2x5xf32>
  return %0 : tensor<2x5xf32>
}

// -----

func.func @reserved_attribute(%arg0: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error@+1 {{attribute name 'mlir.kinds' is reserved by qfx's MLIR importer}}
  %0 = "tosa.tanh"(%arg0) {mlir.kinds = {}} : (tensor<4xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @malformed_annotation(%arg0: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error@+1 {{malformed 'qfx.annotation': expected a dictionary {inputs = [...], output = ...}}}
  %0 = "tosa.tanh"(%arg0) {qfx.annotation = {inputs = 3 : i64, output}} : (tensor<4xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @annotation_with_unknown_key(%arg0: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error@+1 {{malformed 'qfx.annotation': unknown key 'outputs'}}
  %0 = "tosa.tanh"(%arg0) {qfx.annotation = {inputs = [unit], output, outputs}} : (tensor<4xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

// The graph verifier runs on the imported graph: an op the table knows
// (torch-mlir's name of aten::relu) with the wrong number of operands is
// reported at the op.
func.func @verifier(%arg0: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error@+1 {{takes 1 operand but has 2}}
  %0 = "torch.aten.relu"(%arg0, %arg0) : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}
