// qfx-quantize on MLIR models that cannot be calibrated: one message naming
// what is wrong (the op and its location, the input and its type, the MLIR
// diagnostic), exit status 1, and no output file.
//
// A tosa op the interpreter has no kernel for (this file's tosa.argmax):
// RUN: rm -rf %t && mkdir -p %t
// RUN: not qfx-quantize %s -o %t/out.mlir --no-progress 2>&1 | FileCheck %s --check-prefix=NOKERNEL
// RUN: test ! -e %t/out.mlir
//
// A dynamic input shape without data to take the shape from:
// RUN: not qfx-quantize %S/Inputs/dynamic-input.mlir -o %t/out.mlir --no-progress 2>&1 | FileCheck %s --check-prefix=DYNAMIC
// RUN: test ! -e %t/out.mlir
//
// MLIR the bridge does not import, and MLIR that does not parse: the MLIR diagnostics.
// RUN: not qfx-quantize %S/Inputs/two-blocks.mlir -o %t/out.mlir --no-progress 2>&1 | FileCheck %s --check-prefix=BLOCKS
// RUN: not qfx-quantize %S/Inputs/unparseable.mlir -o %t/out.mlir --no-progress 2>&1 | FileCheck %s --check-prefix=PARSE
// RUN: test ! -e %t/out.mlir
//
// Options that do not apply to MLIR models.
// RUN: not qfx-quantize %s --input-type 1x4xf32 -o %t/out.mlir --no-progress 2>&1 | FileCheck %s --check-prefix=OPTION
// RUN: test ! -e %t/out.mlir

// NOKERNEL: qfx-quantize: warning: 'tosa.argmax' (first at 'tosa.argmax' at model.py:7:3) is not in qfx's op table
// NOKERNEL: qfx-quantize: error: 'tosa.argmax' at model.py:7:3: the interpreter has no kernel for 'tosa.argmax', so this model cannot be run or calibrated; the tosa ops it runs are: tosa.abs, tosa.add, tosa.avg_pool2d, tosa.clamp, tosa.concat, tosa.conv2d, tosa.depthwise_conv2d, tosa.exp, tosa.fully_connected, tosa.identity, tosa.log, tosa.matmul, tosa.max_pool2d, tosa.maximum, tosa.minimum, tosa.mul, tosa.negate, tosa.pad, tosa.reciprocal, tosa.reduce_max, tosa.reduce_min, tosa.reduce_prod, tosa.reduce_sum, tosa.reshape, tosa.rsqrt, tosa.sigmoid, tosa.slice, tosa.sub, tosa.tanh, tosa.transpose
// NOKERNEL-NOT: SQNR

// DYNAMIC: qfx-quantize: error: input %arg0 of {{.*}}dynamic-input.mlir has type tensor<?x4x4x2xf32>; synthetic calibration data needs static shapes: pass --data with real batches, or give the function static argument types

// BLOCKS: qfx-quantize: error: cannot import '{{.*}}two-blocks.mlir':
// BLOCKS-NEXT: {{.*}}two-blocks.mlir:2:1: error:

// PARSE: qfx-quantize: error: cannot import '{{.*}}unparseable.mlir':
// PARSE-NEXT: {{.*}}unparseable.mlir:3:8: error:

// OPTION: qfx-quantize: error: --input-type does not apply to MLIR models: the input types are the function's argument types

func.func @argmax(%input: tensor<1x4xf32>) -> tensor<1xi32> {
  %w = "tosa.const"() {value = dense<[[0.5, -0.25, 1.0, 0.75], [0.1, 0.2, 0.3, 0.4]]> : tensor<2x4xf32>} : () -> tensor<2x4xf32>
  %b = "tosa.const"() {value = dense<0.0> : tensor<2xf32>} : () -> tensor<2xf32>
  %0 = "tosa.fully_connected"(%input, %w, %b) : (tensor<1x4xf32>, tensor<2x4xf32>, tensor<2xf32>) -> tensor<1x2xf32> loc("fc"("model.py":6:3))
  %1 = "tosa.argmax"(%0) {axis = 1 : i64} : (tensor<1x2xf32>) -> tensor<1xi32> loc("model.py":7:3)
  return %1 : tensor<1xi32>
}
