// A function with control flow between blocks, which qfx does not import.
func.func @two_blocks(%arg0: tensor<4xf32>) -> tensor<4xf32> {
  cf.br ^bb1
^bb1:
  return %arg0 : tensor<4xf32>
}
