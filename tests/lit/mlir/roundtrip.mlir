// Import -> export without passes gives the same module, for what qfx's IR
// has no words for: ops of unknown dialects with all their attributes
// (dialect attributes, types, symbol references, i32/f16/unit attributes,
// arrays), result types qfx cannot spell, ops with regions (kept as their MLIR
// text, including values they capture from outside), every kind of location,
// constants qfx does not hold (dense_resource, scalars) or holds (i1, f16,
// bf16, f8, ui8, splats) wherever they stand, function attributes, external
// functions and several functions per module. Checked with locations, and
// re-read by Debian's mlir-opt-16.
//
// RUN: qfx-mlir-opt %s --allow-unregistered-dialect -mlir-print-debuginfo > %t.expected
// RUN: qfx-mlir-opt %s --allow-unregistered-dialect -mlir-print-debuginfo -pass-pipeline='builtin.module(func.func(qfx-roundtrip))' > %t.roundtrip
// RUN: diff %t.expected %t.roundtrip
// RUN: mlir-opt %t.roundtrip --allow-unregistered-dialect -mlir-print-debuginfo | mlir-opt --allow-unregistered-dialect -mlir-print-debuginfo > %t.reparsed
// RUN: mlir-opt %t.expected --allow-unregistered-dialect -mlir-print-debuginfo | mlir-opt --allow-unregistered-dialect -mlir-print-debuginfo | diff %t.reparsed -
// RUN: qfx-mlir-opt %s --allow-unregistered-dialect -pass-pipeline='builtin.module(func.func(qfx-roundtrip))' | FileCheck %s
// RUN: qfx-mlir-translate --mlir-to-qfx --allow-unregistered-dialect %s | FileCheck %s --check-prefix=GRAPH

// CHECK-LABEL: func.func @unknown_ops
// CHECK:         "foo.bar"(%{{.*}}, %arg1) {t = f16, u, x = #foo.attr<1>, y = 3 : i32, z = [1, 2]} : (tensor<2x3xf32>, i32) -> !foo.type
// CHECK:         "foo.sink"(%{{.*}}) {d = {a = [1.000000e+00], b = 2 : i32}, w = [5.000000e-01]} : (!foo.type) -> ()
// GRAPH-LABEL: graph @unknown_ops(%arg0: tensor<2x3xf32>, %arg1: any) {
// GRAPH:         %1 = foo.bar(%0, %arg1) {t = "f16", u = none, x = "#foo.attr<1>", y = 3, z = [1, 2], mlir.loc = "loc(fused[\"a.py\":1:1, \"b.py\":2:2])", mlir.kinds = {t = "type", x = "attr", y = "i32", z = "list"}, mlir.result_types = ["!foo.type"]} : any loc("a.py":1:1)
// An ArrayAttr of floats (not array<f64>) has kind "list"; a dictionary whose
// entries need kinds of their own keeps its MLIR text beside the value passes
// read.
// GRAPH-NEXT:    foo.sink(%1) {d = {a = [1.0], b = 2}, w = [0.5], mlir.loc = "{{.*}}", mlir.kinds = {w = "list"}, mlir.texts = {d = "{a = [1.000000e+00], b = 2 : i32}"}}
func.func @unknown_ops(%arg0: tensor<2x3xf32>, %arg1: i32) -> (tensor<2x3xf32>, i32) attributes {foo.entry, llvm.emit_c_interface} {
  %a = "tosa.add"(%arg0, %arg0) : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32> loc("layer1"("m.py":3:4))
  %r = "foo.bar"(%a, %arg1) {x = #foo.attr<1>, y = 3 : i32, z = [1, 2], t = f16, u} : (tensor<2x3xf32>, i32) -> !foo.type loc(fused["a.py":1:1, "b.py":2:2])
  "foo.sink"(%r) {d = {a = [1.0], b = 2 : i32}, w = [0.5]} : (!foo.type) -> () loc(callsite("f"("x.py":1:2) at "y.py":3:4))
  %m:2 = "foo.multi"(%a) : (tensor<2x3xf32>) -> (tensor<2x3xf32>, tensor<6xi8>) loc(unknown)
  return %m#0, %arg1 : tensor<2x3xf32>, i32
}

// The region's use of %d from outside becomes an operand of the node.
// CHECK-LABEL: func.func @regions
// CHECK:         "scf.execute_region"() ({
// GRAPH-LABEL: graph @regions(
// GRAPH:         %2 = scf.execute_region(%1, %0) {mlir.op = "{{.*}}"} : tensor<2x3xf32>
func.func @regions(%arg0: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %d = "tosa.exp"(%arg0) : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %m = "tosa.mul"(%d, %d) {shift = 0 : i32} : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  %k = "scf.execute_region"() ({
    %z = "tosa.add"(%m, %d) : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
    "scf.yield"(%z) : (tensor<2x3xf32>) -> ()
  }) : () -> tensor<2x3xf32> loc("region.py":7:1)
  return %k : tensor<2x3xf32>
}

// GRAPH-LABEL: graph @constants(
// GRAPH-NEXT:    param %w : tensor<2x2xf16>
// GRAPH-NEXT:    param %const0 : tensor<3xu8>
// GRAPH-NEXT:    param %const1 : tensor<2x3xbf16>
// GRAPH-NEXT:    param %named_const : tensor<2x3xf32>
// GRAPH-NEXT:    param %const2 : tensor<2xi1>
// GRAPH-NEXT:    param %const3 : tensor<4xf8E4M3FN>
// GRAPH-NEXT:    %0 = arith.constant() {qfx.name = "w2", value = "dense_resource<__elided__> : tensor<2x3xf32>", mlir.kinds = {value = "attr"}, mlir.before = [{name = "w", op = "arith.constant", loc = {{.*}}, attrs = "{qfx.name = \"w\"}"}]} : tensor<2x3xf32>
// GRAPH-NEXT:    %1 = arith.constant() {value = 1.5, mlir.kinds = {value = "f32"}, mlir.result_types = ["f32"]} : any
func.func @constants(%arg0: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %h = arith.constant {qfx.name = "w"} dense<[[1.0, 2.0], [3.0, 4.0]]> : tensor<2x2xf16>
  %r = arith.constant {qfx.name = "w2"} dense_resource<__elided__> : tensor<2x3xf32>
  %s = arith.constant 1.5 : f32
  %u = arith.constant dense<[1, 200, 3]> : tensor<3xui8>
  %a = "tosa.add"(%r, %arg0) : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  %bf = arith.constant dense<[[1.0, 2.0, 3.0], [4.0, 5.0, 6.5]]> : tensor<2x3xbf16>
  %late = "tosa.const"() {value = dense<2.5> : tensor<2x3xf32>} : () -> tensor<2x3xf32> loc("named_const")
  %q = "tosa.add"(%a, %late) : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  %tail = arith.constant dense<[true, false]> : tensor<2xi1>
  %f8 = arith.constant dense<[1.0, -2.0, 0.5, 448.0]> : tensor<4xf8E4M3FN>
  return %q : tensor<2x3xf32>
}

// CHECK-LABEL: func.func private @external(tensor<2xf32>) -> tensor<2xf32>
func.func private @external(tensor<2xf32>) -> tensor<2xf32>

// A function of constants only, and one with nothing in it.
// CHECK-LABEL: func.func @only_constants() -> (tensor<2xf32>, tensor<2xi32>)
// CHECK-NEXT:    %[[A:.*]] = arith.constant dense<[1.000000e+00, 2.000000e+00]> : tensor<2xf32>
// CHECK-NEXT:    %[[B:.*]] = arith.constant dense<[3, 4]> : tensor<2xi32>
// CHECK-NEXT:    return %[[A]], %[[B]]
func.func @only_constants() -> (tensor<2xf32>, tensor<2xi32>) {
  %a = arith.constant dense<[1.0, 2.0]> : tensor<2xf32>
  %b = arith.constant dense<[3, 4]> : tensor<2xi32>
  return %a, %b : tensor<2xf32>, tensor<2xi32>
}

// CHECK-LABEL: func.func @empty(%arg0: tensor<f32>) -> tensor<f32>
// CHECK-NEXT:    return %arg0 : tensor<f32>
func.func @empty(%arg0: tensor<f32>) -> tensor<f32> {
  return %arg0 : tensor<f32>
}

// A module of its own attributes and other top-level ops stays as it is.
"foo.global"() {sym_name = "g", value = 3 : i64} : () -> ()
