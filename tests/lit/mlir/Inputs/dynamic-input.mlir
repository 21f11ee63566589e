// A tosa model whose input has a dynamic batch dimension (for calibrate-errors.mlir).
func.func @dynamic(%input: tensor<?x4x4x2xf32>) -> tensor<?x4x4x2xf32> {
  %w = "tosa.const"() {value = dense<[[[[0.5, -0.25]]], [[[0.125, 1.0]]]]> : tensor<2x1x1x2xf32>} : () -> tensor<2x1x1x2xf32>
  %b = "tosa.const"() {value = dense<0.0> : tensor<2xf32>} : () -> tensor<2xf32>
  %0 = "tosa.conv2d"(%input, %w, %b) {pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>, dilation = array<i64: 1, 1>} : (tensor<?x4x4x2xf32>, tensor<2x1x1x2xf32>, tensor<2xf32>) -> tensor<?x4x4x2xf32>
  return %0 : tensor<?x4x4x2xf32>
}
