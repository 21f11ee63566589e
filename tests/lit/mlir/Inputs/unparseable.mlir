// Not MLIR that parses: an unknown tosa op in custom syntax.
func.func @f(%arg0: tensor<4xf32>) -> tensor<4xf32> {
  %0 = tosa.addd %arg0, %arg0 : tensor<4xf32>
  return %0 : tensor<4xf32>
}
