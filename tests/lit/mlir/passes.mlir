// qfx pipelines inside MLIR pipelines: qfx-quantize runs any qfx pipeline on
// the graph of each func.func and writes it back; qfx-lower-to-qdq lowers
// fake-quants. Split runs give what one run gives (annotations travel as
// `qfx.annotation`); pipeline errors fail before any function changes; pass
// errors point at the op.
//
// RUN: qfx-mlir-opt %s --split-input-file -pass-pipeline='builtin.module(func.func(qfx-quantize{pipeline="canonicalize,cse,dce"}))' | FileCheck %s --check-prefix=CLEAN
// RUN: qfx-mlir-opt %s --split-input-file -pass-pipeline='builtin.module(func.func(qfx-quantize{pipeline="annotate{config=w8a8},share-observers,insert-fake-quant,dedup-fake-quant"}))' > %t.one
// RUN: qfx-mlir-opt %s --split-input-file -pass-pipeline='builtin.module(func.func(qfx-quantize{pipeline="annotate{config=w8a8}"},qfx-quantize{pipeline="share-observers"},qfx-quantize{pipeline="insert-fake-quant,dedup-fake-quant"}))' > %t.split
// RUN: diff %t.one %t.split
// RUN: qfx-mlir-opt %s --split-input-file -pass-pipeline='builtin.module(func.func(qfx-quantize{config=w8a8}))' | diff %t.one -
// RUN: qfx-mlir-opt %s --split-input-file -pass-pipeline='builtin.module(func.func(qfx-quantize))' | diff %t.one -
// RUN: FileCheck %s --check-prefix=FQ < %t.one
// RUN: mlir-opt --allow-unregistered-dialect %t.one > /dev/null
// RUN: qfx-mlir-opt %s --split-input-file -pass-pipeline='builtin.module(func.func(qfx-quantize{pipeline="annotate{config=w8a8}"}))' | FileCheck %s --check-prefix=ANNOTATED
// RUN: not qfx-mlir-opt %s -pass-pipeline='builtin.module(func.func(qfx-quantize{pipeline="canonicalize,nonsense"}))' -o %t.out 2>&1 | FileCheck %s --check-prefix=BAD-PIPELINE
// RUN: test ! -e %t.out
// RUN: not qfx-mlir-opt %s -pass-pipeline='builtin.module(func.func(qfx-quantize{config=w8 pipeline=dce}))' 2>&1 | FileCheck %s --check-prefix=BOTH

// BAD-PIPELINE: error: in the qfx pipeline of 'qfx-quantize': unknown pass 'nonsense'; registered passes: annotate, calibrate, canonicalize, cse, dce,
// BOTH: error: invalid options of 'qfx-quantize': give either 'pipeline' or 'config' (the config of the default pipeline's annotate)

// canonicalize drops tosa.identity, cse merges the two sigmoids, dce drops the
// unused tanh.
// CLEAN-LABEL: func.func @activations(%arg0: tensor<4xf32>) -> tensor<4xf32>
// CLEAN-NEXT:    %[[S:.*]] = "tosa.sigmoid"(%arg0)
// CLEAN-NEXT:    %[[A:.*]] = "tosa.add"(%[[S]], %[[S]])
// CLEAN-NEXT:    return %[[A]]

// W8A8 quantizes the add (inputs and output); the sigmoids' outputs are its
// inputs. One fake-quant per observer group.
// FQ-LABEL: func.func @activations(
// FQ:         %[[S1:.*]] = "tosa.sigmoid"
// FQ-NEXT:    %[[F1:.*]] = "qfx.fake_quant"(%[[S1]]) {group = 0 : i64, spec = {dtype = "int8", granularity = {type = "per_tensor"}, qparam_calculator_cls = "moving_average", qscheme = "symmetric"}}
// FQ-NEXT:    %[[S2:.*]] = "tosa.sigmoid"
// FQ-NEXT:    %[[F2:.*]] = "qfx.fake_quant"(%[[S2]]) {group = 1 : i64
// FQ-NEXT:    %[[A:.*]] = "tosa.add"(%[[F1]], %[[F2]])
// FQ-NEXT:    %[[F3:.*]] = "qfx.fake_quant"(%[[A]]) {group = 2 : i64
// FQ-NEXT:    "tosa.tanh"(%[[F3]])
// FQ-NEXT:    return %[[F3]]

// ANNOTATED-LABEL: func.func @activations(
// ANNOTATED: "tosa.add"(%{{.*}}, %{{.*}}) {qfx.annotation = {inputs = [{dtype = "int8", granularity = {type = "per_tensor"}, qparam_calculator_cls = "moving_average", qscheme = "symmetric"}, {dtype = "int8", granularity = {type = "per_tensor"}, qparam_calculator_cls = "moving_average", qscheme = "symmetric"}], output = {dtype = "int8", granularity = {type = "per_tensor"}, qparam_calculator_cls = "moving_average", qscheme = "symmetric"}}}
func.func @activations(%arg0: tensor<4xf32>) -> tensor<4xf32> {
  %0 = "tosa.identity"(%arg0) : (tensor<4xf32>) -> tensor<4xf32>
  %1 = "tosa.sigmoid"(%0) : (tensor<4xf32>) -> tensor<4xf32>
  %2 = "tosa.sigmoid"(%0) : (tensor<4xf32>) -> tensor<4xf32>
  %3 = "tosa.add"(%1, %2) : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %4 = "tosa.tanh"(%3) : (tensor<4xf32>) -> tensor<4xf32>
  return %3 : tensor<4xf32>
}

// -----

// A function qfx has nothing to do with comes back unchanged, and functions
// without a body are skipped.
// CLEAN-LABEL: func.func private @declaration(tensor<4xf32>) -> tensor<4xf32>
// FQ-LABEL: func.func private @declaration(tensor<4xf32>) -> tensor<4xf32>
func.func private @declaration(tensor<4xf32>) -> tensor<4xf32>
